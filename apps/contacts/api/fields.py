"""Serializer fields that say exactly what they accept when they refuse a value."""

from datetime import UTC, datetime

from django.db.models import TextChoices
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.contacts.identity import PHONE_INVALID, phone_e164


def choices_invalid_message(choices: type[TextChoices], value: object) -> str:
    return f'"{value}" is not one of: {", ".join(choices.values)}.'


def choice_field(choices: type[TextChoices], **kwargs) -> serializers.ChoiceField:
    """A choice field whose error names every allowed value."""
    message = choices_invalid_message(choices, "{input}")
    return serializers.ChoiceField(
        choices=choices.choices, error_messages={"invalid_choice": message}, **kwargs
    )


@extend_schema_field(OpenApiTypes.STR)
class PhoneField(serializers.CharField):
    """A phone number in any common form in; E.164 out."""

    default_error_messages = {"invalid_phone": PHONE_INVALID}

    def to_internal_value(self, data):
        value = super().to_internal_value(data).strip()
        if not value:
            return ""
        try:
            return phone_e164(value)
        except ValueError:
            self.fail("invalid_phone")

    def to_representation(self, value):
        return str(value) if value else ""


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 moment that must carry its offset and must not lie in the future."""

    default_error_messages = {
        "naive": "Give the time zone offset, e.g. 2025-03-01T14:30:00-05:00.",
        "future": "This moment is in the future.",
    }

    def enforce_timezone(self, value: datetime) -> datetime:
        if timezone.is_naive(value):
            self.fail("naive")
        try:
            value = value.astimezone(UTC)
        except OverflowError:
            self.fail("overflow")
        if value > timezone.now():
            self.fail("future")
        return value


@extend_schema_field(OpenApiTypes.STR)
class StageField(serializers.CharField):
    """The key of one of the customer's stages (they are data, read at validation time);
    a refusal names every allowed key."""

    def __init__(self, *, keys, noun: str, **kwargs):
        self.keys, self.noun = keys, noun
        super().__init__(max_length=64, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        allowed = self.keys()
        if value not in allowed:
            raise serializers.ValidationError(f'"{value}" is not one of: {", ".join(allowed)}.')
        return value
