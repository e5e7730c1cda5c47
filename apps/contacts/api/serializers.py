from django.conf import settings
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from apps.accounts.models import User
from apps.contacts.api.fields import AwareDateTimeField, PhoneField, StageField, choice_field
from apps.contacts.attributes import AttributesError, attributes_validate
from apps.contacts.errors import ContactsError
from apps.contacts.external_ids import external_id_source_unknown
from apps.contacts.models import (
    AttributeObject,
    BuyingRole,
    Company,
    Contact,
    ContactKind,
    ExternalIdSource,
    Opportunity,
    Pipeline,
    validate_time_zone,
)
from apps.contacts.regions import country_normalize
from apps.contacts.stages import (
    lifecycle_keys,
    pipeline_default,
    pipeline_stage,
    pipeline_stage_keys,
)

# --- Events: these document the shapes; `event_input.py` reads them (much faster).


class EventContactSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, min_value=1)
    external_id = serializers.CharField(required=False, max_length=100)
    source = serializers.ChoiceField(
        choices=ExternalIdSource.values,
        required=False,
        help_text='Whose id external_id is: "api" (Cue\'s own, the default), or "segment",'
        ' "hubspot", "salesforce" for that system\'s id. A contact the event creates keeps'
        " the id under its source.",
    )
    email = serializers.EmailField(required=False)
    phone = serializers.CharField(required=False, help_text="Any common form; stored as E.164.")
    first_name = serializers.CharField(required=False, max_length=100)
    last_name = serializers.CharField(required=False, max_length=100)
    time_zone = serializers.CharField(required=False, help_text="IANA, e.g. America/Chicago.")
    region = serializers.CharField(
        required=False, max_length=64, help_text='Stored as its postal code: "Florida" is FL.'
    )
    country = serializers.CharField(
        required=False, max_length=64, help_text='Stored as its ISO code: "USA" is US.'
    )
    lifecycle_stage = StageField(keys=lifecycle_keys, noun="lifecycle stage", required=False)
    buying_role = serializers.ChoiceField(choices=BuyingRole.choices, required=False)


class EventSerializer(serializers.Serializer):
    type = serializers.RegexField(r"^[a-z][a-z0-9_]{1,62}$", help_text="e.g. pricing_view")
    occurred_at = serializers.DateTimeField(help_text="ISO 8601 with an offset; not future.")
    idempotency_key = serializers.CharField(max_length=200)
    properties = serializers.DictField(required=False, help_text="A JSON object, up to 16 KB.")
    source = serializers.CharField(required=False, max_length=64)
    contact = EventContactSerializer(
        help_text="Named by one of id, external_id, email, phone (tried in that order). "
        "The other fields are used only when the event creates the contact."
    )
    create_contact = serializers.BooleanField(
        required=False, help_text="Create an unknown contact as a prospect (default: no)."
    )


class EventBatchSerializer(serializers.Serializer):
    events = EventSerializer(many=True, min_length=1, max_length=settings.EVENTS_BATCH_LIMIT)
    create_contact = serializers.BooleanField(
        required=False, help_text="The default of create_contact for every event in the batch."
    )


class EventResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["created", "duplicate"])
    id = serializers.IntegerField(help_text="The stored event; for a duplicate, the original.")


class EventBatchItemSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "duplicate", "error"])
    id = serializers.IntegerField(allow_null=True)
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class EventBatchResultSerializer(serializers.Serializer):
    results = EventBatchItemSerializer(many=True)
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    errors = serializers.IntegerField()


EVENT_REQUEST = PolymorphicProxySerializer(
    component_name="EventOrBatch",
    serializers=[EventSerializer, EventBatchSerializer],
    resource_type_field_name=None,
)

FIELD_ERRORS = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "description": "Messages by field name; non_field_errors for the body as a whole.",
}

# --- Contacts


ATTRIBUTES_SCHEMA = {
    "type": "object",
    "additionalProperties": {
        "oneOf": [
            {"type": "string"},
            {"type": "number"},
            {"type": "boolean"},
            {"type": "array", "items": {"type": "string"}},
        ],
        "nullable": True,
    },
    "description": (
        "Custom attributes by key, as an admin defined them (Attribute definitions). By "
        "type: text and choice are strings (a choice is one of its options), number a "
        "number, boolean true or false, date YYYY-MM-DD, datetime ISO 8601 with an offset "
        "(stored in UTC), list an array of strings. On write only the keys given change, "
        "and null clears one. A bad value answers 400 with "
        '{"attributes": {"<key>": ["message"]}}.'
    ),
    "example": {"plan": "pro", "seats": 12, "renewal_on": "2026-09-30"},
}


@extend_schema_field(ATTRIBUTES_SCHEMA)
class AttributesField(serializers.Field):
    """The custom attributes of a contact (or another object), checked against the
    definitions."""

    def __init__(self, *args, object_type: str = AttributeObject.CONTACT, **kwargs):
        super().__init__(*args, **kwargs)
        self.object_type = object_type

    def to_internal_value(self, data):
        try:
            attributes_validate(object_type=self.object_type, values=data, partial=True)
        except AttributesError as error:
            raise serializers.ValidationError(error.errors) from error
        return data  # the service checks again, and merges, in its transaction

    def to_representation(self, value):
        return value


EXTERNAL_IDS_SCHEMA = {
    "type": "object",
    "properties": {
        source: {"type": "string", "maxLength": 100, "nullable": True, "description": label}
        for source, label in ExternalIdSource.choices
    },
    "additionalProperties": False,
    "description": (
        "The contact's id in each system that knows it, by source; one per source, and an"
        " id names one contact within its source. The api id is external_id. On write only"
        " the sources given change: an id replaces the contact's id in that source, null"
        " clears it. An id that already names another contact answers 400 naming it, e.g."
        ' {"external_ids": {"hubspot": ["hubspot id \'123\' already names contact #5, not'
        ' contact #9. They are not merged."]}}.'
    ),
    "example": {"api": "crm-42", "hubspot": "9876501"},
}


@extend_schema_field(EXTERNAL_IDS_SCHEMA)
class ExternalIdsField(serializers.Field):
    """{source: id} read from the contact's ContactExternalId rows; on write {source: id or
    null}, checked here for shape, and by the service against other contacts."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError('Give an object, e.g. {"hubspot": "123"}.')
        errors, ids = {}, {}
        for source, value in data.items():
            if source not in ExternalIdSource.values:
                errors[source] = [external_id_source_unknown(source)]
            elif value is not None and not (
                isinstance(value, str) and 0 < len(value.strip()) <= 100
            ):
                errors[source] = ["Give an id of 1–100 characters, or null to clear it."]
            else:
                ids[source] = value.strip() if value is not None else None
        if errors:
            raise serializers.ValidationError(errors)
        return ids

    def to_representation(self, contact):
        """Read from the contact itself (source="*"): its api id is its external_id."""
        ids = {row.source: row.value for row in contact.external_ids.all()}
        ids.pop(ExternalIdSource.API, None)
        return {ExternalIdSource.API: contact.external_id, **ids} if contact.external_id else ids


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}]})
class OwnerField(serializers.Field):
    """A user named by id or username."""

    default_error_messages = {"unknown": 'No active user has the id or username "{value}".'}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("unknown", value=data)
        lookup = {"pk": data} if isinstance(data, int) else {"username": data}
        user = User.objects.filter(is_active=True, **lookup).first()
        if user is None:
            self.fail("unknown", value=data)
        return user

    def to_representation(self, value):
        return value.pk


class ContactWriteSerializer(serializers.Serializer):
    """What a contact upsert or change may set. Blank clears a field."""

    first_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    phone = PhoneField(required=False, allow_blank=True)
    external_id = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=100
    )
    time_zone = serializers.CharField(
        required=False, allow_blank=True, max_length=64, validators=[validate_time_zone]
    )
    region = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text='A state or province, stored as its postal code: "Florida" or "Fla." is FL.',
    )
    country = serializers.CharField(
        required=False, max_length=64, help_text='Stored as its ISO code: "USA" is US.'
    )
    company = serializers.PrimaryKeyRelatedField(
        queryset=Company.objects.all(), required=False, allow_null=True
    )
    company_name = serializers.CharField(
        required=False, max_length=200, help_text="Instead of company: found by name, or created."
    )
    owner = OwnerField(required=False, allow_null=True, help_text="A user id or username.")
    kind = choice_field(ContactKind, required=False)
    lifecycle_stage = StageField(keys=lifecycle_keys, noun="lifecycle stage", required=False)
    lifecycle_stage_changed_at = AwareDateTimeField(
        required=False,
        help_text="When the lifecycle stage changed in your system (default: now); "
        "attribution windows are measured from it.",
    )
    buying_role = choice_field(BuyingRole, required=False, allow_blank=True)
    source = serializers.CharField(required=False, allow_blank=True, max_length=100)
    attributes = AttributesField(required=False)
    external_ids = ExternalIdsField(required=False)

    def validate_email(self, value: str) -> str:
        return value.strip()

    def validate_country(self, value: str) -> str:
        try:
            return country_normalize(value)
        except ContactsError as error:
            raise serializers.ValidationError(error.message) from error

    def validate(self, attrs: dict) -> dict:
        if "company" in attrs and "company_name" in attrs:
            raise serializers.ValidationError({"company_name": ["Give company or company_name."]})
        return attrs


class ContactUpsertSerializer(ContactWriteSerializer):
    def validate(self, attrs: dict) -> dict:
        ids = attrs.get("external_ids", {}).values()
        if not any(attrs.get(key) for key in ("external_id", "email", "phone")) and not any(ids):
            raise serializers.ValidationError(
                {
                    "non_field_errors": [
                        "Give an external_id (or an id in external_ids), email or phone to"
                        " match the contact."
                    ]
                }
            )
        return super().validate(attrs)


class ContactSerializer(serializers.ModelSerializer):
    phone = PhoneField(read_only=True)
    attributes = AttributesField(read_only=True)
    external_ids = ExternalIdsField(source="*", read_only=True)
    company_name = serializers.CharField(source="company.name", read_only=True, default="")
    owner_username = serializers.CharField(source="owner.username", read_only=True, default="")

    class Meta:
        model = Contact
        fields = [
            "id", "first_name", "last_name", "email", "phone", "external_id", "time_zone",
            "region", "country", "company", "company_name", "owner", "owner_username", "kind",
            "lifecycle_stage", "lifecycle_stage_changed_at", "buying_role", "intent_score",
            "intent_band", "source", "attributes", "external_ids", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


# --- Opportunities


class OpportunityWriteSerializer(serializers.Serializer):
    """An upsert by external_id. `contact` is required (null for none): the service sets it
    on every upsert, so leaving it out would silently detach the deal from its contact."""

    external_id = serializers.CharField(max_length=100)
    name = serializers.CharField(max_length=200)
    pipeline = serializers.SlugRelatedField(
        slug_field="key",
        queryset=Pipeline.objects.all(),
        required=False,
        allow_null=True,
        help_text="The pipeline's key; empty: the default pipeline.",
    )
    stage = StageField(keys=pipeline_stage_keys, noun="opportunity stage")
    stage_changed_at = AwareDateTimeField(
        required=False,
        help_text="When the stage changed in your system (default: now); attribution "
        "windows are measured from it.",
    )
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    currency = serializers.RegexField(
        r"^[A-Z]{3}$",
        required=False,
        error_messages={"invalid": "Use a three-letter ISO 4217 code, e.g. USD."},
    )
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all(), allow_null=True)
    company = serializers.PrimaryKeyRelatedField(
        queryset=Company.objects.all(), required=False, allow_null=True
    )
    attributes = AttributesField(required=False, object_type=AttributeObject.OPPORTUNITY)

    def validate(self, attrs: dict) -> dict:
        pipeline = attrs.get("pipeline")
        if pipeline_stage(pipeline_id=getattr(pipeline, "pk", None), key=attrs["stage"]) is None:
            named = pipeline or pipeline_default()
            raise serializers.ValidationError(
                {"stage": [f'"{attrs["stage"]}" is not a stage of the pipeline "{named}".']}
            )
        return attrs


class OpportunitySerializer(serializers.ModelSerializer):
    pipeline = serializers.SerializerMethodField()
    attributes = AttributesField(read_only=True, object_type=AttributeObject.OPPORTUNITY)

    class Meta:
        model = Opportunity
        fields = [
            "id", "external_id", "name", "pipeline", "stage", "stage_changed_at", "amount",
            "currency", "contact", "company", "opened_at", "closed_at", "attributes",
        ]  # fmt: skip
        read_only_fields = fields

    def get_pipeline(self, obj: Opportunity) -> str | None:
        """The pipeline's key; an opportunity with none is in the default pipeline."""
        if obj.pipeline_id:
            return obj.pipeline.key
        if not hasattr(self, "_default_key"):  # once per list, not once per row
            self._default_key = getattr(pipeline_default(), "key", None)
        return self._default_key
