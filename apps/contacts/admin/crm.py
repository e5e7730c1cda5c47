from django import forms
from django.contrib import admin

from apps.contacts.admin.attributes import (
    FIELD_PREFIX,
    ContactAttributesAdminMixin,
    ContactAttributesFormMixin,
)
from apps.contacts.admin.data_subject import ContactDataSubjectAdminMixin
from apps.contacts.admin.merge import ContactMergeAdminMixin
from apps.contacts.errors import ContactsError
from apps.contacts.external_ids import external_id_api_sync
from apps.contacts.models import (
    Company,
    Contact,
    Event,
    EventWeight,
    Opportunity,
    OpportunityStageChange,
)
from apps.contacts.regions import country_normalize, region_normalize
from apps.contacts.selectors import contact_timeline
from apps.contacts.services import (
    CONTACT_FIELDS,
    contact_update,
    opportunity_create,
    opportunity_update,
)
from apps.contacts.stages import lifecycle_choices
from apps.core.admin import CappedCountPaginator, HistoryAdmin, indexed_values_filter


class ContactAdminForm(ContactAttributesFormMixin, forms.ModelForm):
    """Region and country as people write them ("Florida", "USA"), stored as their codes."""

    region = forms.CharField(
        required=False, max_length=64, help_text='A state or province: "Florida" is stored as FL.'
    )
    country = forms.CharField(
        max_length=64,
        initial=Contact._meta.get_field("country").default,
        help_text='A country: "USA" is stored as US.',
    )
    lifecycle_stage = forms.ChoiceField(
        choices=lifecycle_choices,
        initial=Contact._meta.get_field("lifecycle_stage").default,
        help_text="The customer's lifecycle stages (admin: Lifecycle stage definitions).",
    )

    class Meta:
        model = Contact
        fields = CONTACT_FIELDS

    def clean(self):
        cleaned = super().clean()
        if {"region", "country"} & set(self.changed_data):  # an old value never blocks a save
            try:
                self._place_normalize(cleaned)
            except ContactsError as error:
                self.add_error(error.field, error.message)
        return cleaned

    def _place_normalize(self, cleaned: dict) -> None:
        if cleaned.get("country"):
            cleaned["country"] = country_normalize(cleaned["country"])
        if cleaned.get("region") and cleaned.get("country"):
            cleaned["region"] = region_normalize(cleaned["region"], cleaned["country"])


@admin.register(Contact)
class ContactAdmin(
    ContactAttributesAdminMixin, ContactDataSubjectAdminMixin, ContactMergeAdminMixin, HistoryAdmin
):
    form = ContactAdminForm
    actions = [*ContactMergeAdminMixin.actions, *ContactDataSubjectAdminMixin.actions]
    list_display = [
        "__str__",
        "email",
        "phone",
        "company",
        "owner",
        "kind",
        "lifecycle_stage",
        "intent_band",
        "created_at",
    ]
    list_filter = ["kind", "lifecycle_stage", "intent_band", "buying_role", "owner"]
    list_select_related = ["company", "owner"]
    search_fields = ["=id", "email", "phone", "external_id", "last_name", "first_name"]
    readonly_fields = [
        "other_ids", "intent_score", "intent_band", "created_at", "updated_at", "erased_at"
    ]  # fmt: skip
    autocomplete_fields = ["company"]
    raw_id_fields = ["owner"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    change_form_template = "admin/contacts/contact/change_form.html"
    fieldsets = [
        (
            None,
            {"fields": ["first_name", "last_name", "email", "phone", "external_id", "other_ids"]},
        ),
        ("Where they are", {"fields": ["time_zone", "region", "country", "company", "owner"]}),
        (
            "Journey",
            {
                "fields": [
                    "kind",
                    "lifecycle_stage",
                    "buying_role",
                    "source",
                    "intent_score",
                    "intent_band",
                    "created_at",
                    "updated_at",
                    "erased_at",
                ]
            },
        ),
    ]

    @admin.display(description="Ids by system")
    def other_ids(self, obj: Contact) -> str:
        """Read-only: the "api" id is External id above; the others are written by their
        intake (Segment, the CRM connectors), never typed in here."""
        if obj.pk is None:
            return "-"
        rows = obj.external_ids.values_list("source", "value")
        return "; ".join(f"{source}: {value}" for source, value in rows) or "-"

    def save_model(self, request, obj, form, change):
        """A change goes through the service, so that what a change sets off (a lifecycle
        event; consent ending for a new phone number or email) happens here too."""
        attribute_changes = self.attributes_for_save(obj, form)
        if not change:
            super().save_model(request, obj, form, change)
            return external_id_api_sync(obj)
        fields = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if not name.startswith(FIELD_PREFIX)
        }
        if attribute_changes:
            fields["attributes"] = attribute_changes
        contact_update(contact=Contact.objects.get(pk=obj.pk), fields=fields)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        contact = self.get_object(request, object_id)
        extra_context = {**(extra_context or {})}
        if contact is not None:
            extra_context["timeline"] = contact_timeline(contact=contact, limit=200)
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Company)
class CompanyAdmin(HistoryAdmin):
    list_display = ["name", "domain", "industry", "region", "employee_count"]
    search_fields = ["name", "domain", "external_id"]
    # Written through the API and integrations, where each value is checked by its type.
    readonly_fields = ["attributes"]


class StageChangeInline(admin.TabularInline):
    model = OpportunityStageChange
    extra = 0
    can_delete = False
    readonly_fields = ["from_stage", "to_stage", "changed_at", "received_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Opportunity)
class OpportunityAdmin(HistoryAdmin):
    list_display = [
        "name", "contact", "company", "pipeline", "stage", "amount", "currency", "opened_at"
    ]  # fmt: skip
    list_filter = ["pipeline", "stage", "currency"]
    list_select_related = ["contact", "company", "pipeline"]
    search_fields = ["name", "external_id"]
    raw_id_fields = ["contact", "company"]
    readonly_fields = ["attributes"]  # written through the API, checked by each value's type
    inlines = [StageChangeInline]

    def save_model(self, request, obj, form, change):
        """Adding creates, changing updates this row: the admin never makes up a key, so
        two deals with one name stay two deals, and a deal without an external id keeps
        being itself."""
        names = (
            "name", "pipeline", "stage", "contact", "amount", "currency", "company", "opened_at"
        )  # fmt: skip
        values = {name: form.cleaned_data[name] for name in names if name in form.cleaned_data}
        values["external_id"] = obj.external_id or None
        if change:
            stored = Opportunity.objects.select_for_update().get(pk=obj.pk)
            saved = opportunity_update(opportunity=stored, **values)
        else:
            saved = opportunity_create(**values)
        obj.pk = saved.pk


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """Events are facts: they are read here, never edited."""

    list_display = ["type", "contact", "occurred_at", "source", "received_at", "handled_at"]
    list_filter = [
        indexed_values_filter("type", "type"),
        indexed_values_filter("source", "source"),
        "occurred_at",
    ]
    list_select_related = ["contact"]
    search_fields = ["=contact__id", "idempotency_key"]
    raw_id_fields = ["contact"]
    show_full_result_count = False
    paginator = CappedCountPaginator

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(EventWeight)
class EventWeightAdmin(HistoryAdmin):
    list_display = ["type", "weight", "half_life_days"]
