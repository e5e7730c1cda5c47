"""Admin for contact imports (apps.core.csv_import_admin's pages), wired to the services in
apps.consent.imports."""

from django.contrib import admin

from apps.consent import imports
from apps.consent.services import ConsentError
from apps.contacts.models import ContactImport
from apps.core.csv_import_admin import CsvImportAdmin


@admin.register(ContactImport)
class ContactImportAdmin(CsvImportAdmin):
    noun = "contacts"
    max_upload_bytes = imports.MAX_UPLOAD_BYTES
    import_error = ConsentError

    def import_create(self, *, upload, user):
        return imports.contact_import_create(upload=upload, user=user)

    def import_preview(self, record, *, rows=3):
        return imports.contact_import_preview(contact_import=record, rows=rows)

    def import_mapping_choices(self):
        return imports.target_choices()

    def import_mapping_suggest(self, columns):
        return imports.mapping_suggest(columns=columns)

    def import_start(self, record, *, mapping):
        imports.contact_import_start(contact_import=record, mapping=mapping)

    def import_rejections(self, record):
        return imports.contact_import_rejections(contact_import=record)

    def import_progress(self, record):
        return imports.contact_import_progress(contact_import=record)

    def import_notes(self, record):
        return imports.contact_import_notes(contact_import=record)

    def import_rejected_csv(self, record):
        return imports.contact_import_rejected_csv(contact_import=record)
