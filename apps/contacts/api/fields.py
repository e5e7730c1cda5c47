"""Serializer fields that say exactly what they accept when they refuse a value."""

from datetime import UTC, datetime
from functools import lru_cache

import phonenumbers
from django.conf import settings
from django.db.models import TextChoices
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

PHONE_INVALID = "Enter a valid phone number, e.g. +14155550123."


def phone_e164(value: str) -> str:
    """The number in E.164 form; raises ValueError when it is not a valid phone number."""
    e164 = _phone_e164(value, settings.PHONENUMBER_DEFAULT_REGION)
    if e164 is None:
        raise ValueError(PHONE_INVALID)
    return e164


@lru_cache(maxsize=8192)  # validating a number costs ~50 µs; batches repeat numbers
def _phone_e164(value: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


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
            raise serializers.ValidationError(
                f'"{value}" is not one of: {", ".join(allowed)}.'
            )
        return value
