"""Text every database and encoder can hold, made so at the edge where it arrives.

PostgreSQL refuses NUL in text and jsonb ("A string literal cannot contain NUL"), and a
lone UTF-16 surrogate (a JSON "\\ud800" escape) cannot be encoded as UTF-8 at all. Both can
reach us from anyone: a form field, a query string, a URL path, a cookie, a Twilio reply, a
JSON body. Refusing them would lose what they came with (a STOP, a batch of events), so
they are cleaned instead. Other control characters are storable and kept as received.
"""

import json

from django import forms
from django.http import QueryDict

NUL = "\x00"


def text_storable(value: str) -> str:
    """`value` without NUL characters, each lone surrogate replaced by U+FFFD."""
    value = value.replace(NUL, "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # A round trip through UTF-16 pairs what can be paired and replaces the rest.
        value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return value


def text_is_storable(value: str) -> bool:
    if value.isascii():  # constant time in CPython: no surrogate can hide in ASCII
        return NUL not in value
    return NUL not in value and value == text_storable(value)


def data_storable(data):
    """Decoded JSON (dicts, lists, strings, numbers) with every string, keys included,
    made storable. Two keys that differ only by NUL become one; the later value wins,
    as it would for a key repeated in the JSON text."""
    if isinstance(data, str):
        return text_storable(data)
    if isinstance(data, dict):
        return {text_storable(key): data_storable(value) for key, value in data.items()}
    if isinstance(data, list):
        return [data_storable(item) for item in data]
    return data


def querydict_storable(params: QueryDict) -> QueryDict:
    """`params` itself when it is storable already (the usual case), else a cleaned copy."""
    if all(
        text_is_storable(key) and all(map(text_is_storable, values))
        for key, values in params.lists()
    ):
        return params
    cleaned = QueryDict(mutable=True, encoding=params.encoding)
    for key, values in params.lists():
        for value in values:
            cleaned.appendlist(text_storable(key), text_storable(value))
    cleaned._mutable = False
    return cleaned


class StorableJSONDecoder(json.JSONDecoder):
    """json.loads(..., cls=StorableJSONDecoder): JSON whose strings are made storable."""

    def decode(self, s, *args, **kwargs):
        return data_storable(super().decode(s, *args, **kwargs))


class StorableJSONField(forms.JSONField):
    """A form's JSON field whose strings are made storable as the JSON is read."""

    def __init__(self, **kwargs):
        super().__init__(**{**kwargs, "decoder": StorableJSONDecoder})
