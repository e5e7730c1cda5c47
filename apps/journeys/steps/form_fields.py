"""Form fields the step kinds' builder fields are made of (and the journey form reuses)."""

import json
import re

from django import forms
from django.core.exceptions import ValidationError
from django.forms.fields import InvalidJSONInput

from apps.contacts.models import validate_event_type
from apps.core.text import StorableJSONField

STEP_KEY = re.compile(r"^[-a-zA-Z0-9_]+$")


class StepKeyField(forms.CharField):
    """The key of another step of this journey, or empty (the journey ends)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("widget", forms.TextInput(attrs={"size": 16}))
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if value and not STEP_KEY.match(value):
            raise ValidationError("A step key has letters, digits, - and _ only.")


class ListTextField(forms.CharField):
    """A list typed as text. Changed means a different list: an empty box is no change to a
    form that had none (Django's own comparison sees [] against "", so a blank step form
    would be validated and refused for its missing key)."""

    def has_changed(self, initial, data) -> bool:
        try:
            return self.to_python(initial or []) != self.to_python(data)
        except ValidationError:
            return True


class EventTypesField(ListTextField):
    """Event types, comma-separated in the form, a list in the model."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        types = [part.strip() for part in re.split(r"[,\s]+", value or "") if part.strip()]
        for event_type in types:
            try:
                validate_event_type(event_type)
            except ValidationError as error:
                raise ValidationError(f"{event_type!r}: {error.messages[0]}") from error
        return types


class JSONTextField(StorableJSONField):
    """JSON shown indented; empty input is None."""

    def prepare_value(self, value):
        if isinstance(value, InvalidJSONInput) or value in (None, ""):
            return value or ""
        return json.dumps(value, indent=2, ensure_ascii=False)
