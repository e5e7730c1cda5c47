"""Admin for opportunity imports (apps.core.csv_import_admin's pages, as for contacts),
wired to the services in apps.contacts.opportunity_imports."""

from django.contrib import admin

from apps.contacts import opportunity_imports as imports
from apps.contacts.errors import ContactsError
from apps.contacts.models import OpportunityImport
from apps.core.csv_import_admin import CsvImportAdmin


@admin.register(OpportunityImport)
class OpportunityImportAdmin(CsvImportAdmin):
    noun = "opportunities"
    file_prefix = "opportunity-import"
    max_upload_bytes = imports.MAX_UPLOAD_BYTES
    import_error = ContactsError

    def import_create(self, *, upload, user):
        return imports.opportunity_import_create(upload=upload, user=user)

    def import_preview(self, record, *, rows=3):
        return imports.opportunity_import_preview(opportunity_import=record, rows=rows)

    def import_mapping_choices(self):
        return imports.target_choices(imports.ImportCatalog.load())

    def import_mapping_suggest(self, columns):
        return imports.mapping_suggest(columns=columns, catalog=imports.ImportCatalog.load())

    def import_start(self, record, *, mapping):
        imports.opportunity_import_start(opportunity_import=record, mapping=mapping)

    def import_rejections(self, record):
        return imports.opportunity_import_rejections(opportunity_import=record)

    def import_progress(self, record):
        return imports.opportunity_import_progress(opportunity_import=record)

    def import_notes(self, record):
        return imports.opportunity_import_notes(opportunity_import=record)

    def import_rejected_csv(self, record):
        return imports.opportunity_import_rejected_csv(opportunity_import=record)
