from rest_framework import serializers

from apps.consent.models import (
    Channel,
    ConsentAction,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    Purpose,
)
from apps.consent.selectors import consent_device_evidence_visible
from apps.contacts.api.fields import AwareDateTimeField, choice_field


class EvidenceSerializer(serializers.Serializer):
    """What proves the change: where it happened and the exact words the person saw."""

    ip_address = serializers.IPAddressField(required=False, allow_null=True)
    user_agent = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    page_url = serializers.URLField(required=False, allow_blank=True, max_length=500)
    disclosure_text = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


def _choice_among(choices, *left_out: str) -> serializers.ChoiceField:
    """A choice of `choices` but those only Cue itself records."""
    allowed = [(value, label) for value, label in choices.choices if value not in left_out]
    names = ", ".join(value for value, _ in allowed)
    return serializers.ChoiceField(
        choices=allowed, error_messages={"invalid_choice": f'"{{input}}" is not one of: {names}.'}
    )


class ConsentRecordWriteSerializer(serializers.Serializer):
    channel = choice_field(Channel)
    purpose = choice_field(Purpose)
    # An address change is Cue's own row (written when a contact's phone or email changes).
    action = _choice_among(ConsentAction, ConsentAction.NEW_ADDRESS)
    # Cue's own and the CRM syncs' rows: an API caller cannot claim to be either.
    source = _choice_among(
        ConsentSource,
        ConsentSource.SYSTEM,
        ConsentSource.CRM_HUBSPOT,
        ConsentSource.CRM_SALESFORCE,
    )
    occurred_at = AwareDateTimeField(
        required=False, help_text="ISO 8601 with an offset, not in the future. Default: now."
    )
    evidence = EvidenceSerializer(required=False)


class RecordedEvidenceSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(
        source="actor.username", default=None, allow_null=True, read_only=True
    )

    class Meta:
        model = ConsentRecord
        fields = [
            "ip_address", "user_agent", "page_url", "disclosure", "disclosure_text", "form",
            "actor", "inbound_message_sid", "keyword", "note",
        ]  # fmt: skip
        read_only_fields = fields

    def to_representation(self, instance):
        """The device evidence (IP, user agent) only for Compliance and Admin: the others
        see None and "" (least privilege; the admin hides them alike)."""
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not consent_device_evidence_visible(request.user):
            data.update(ip_address=None, user_agent="")
        return data


class ConsentRecordSerializer(serializers.ModelSerializer):
    """One row of the append-only ledger."""

    evidence = RecordedEvidenceSerializer(source="*", read_only=True)

    class Meta:
        model = ConsentRecord
        fields = [
            "id", "contact", "address", "channel", "purpose", "action", "source",
            "occurred_at", "recorded_at", "evidence",
        ]  # fmt: skip
        read_only_fields = fields


class ConsentStateSerializer(serializers.ModelSerializer):
    """The current consent for one channel and purpose, derived from the ledger."""

    class Meta:
        model = ConsentState
        fields = [
            "channel", "purpose", "status", "address", "last_record", "opted_in_at",
            "confirmed_at", "opted_out_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ContactConsentSerializer(serializers.Serializer):
    state = ConsentStateSerializer(many=True)
    ledger = ConsentRecordSerializer(many=True)
