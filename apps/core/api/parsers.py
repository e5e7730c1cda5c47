"""Parsers for which any body is a 400 at worst, never a 500, and any text is storable."""

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, FormParser, JSONParser, MultiPartParser

from apps.core.jsonio import json_strict_loads
from apps.core.text import data_storable, querydict_storable


class StrictJSONParser(JSONParser):
    """Plain JSON, minus what a database or the JSON renderer cannot hold.

    Python's json accepts numbers that overflow to infinity (1e400) and nesting deep enough
    to exhaust the stack: PostgreSQL refuses infinity, so both are refused here with a 400.
    It also decodes escapes for NUL and lone UTF-16 surrogates, which PostgreSQL and UTF-8
    refuse: those are cleaned (apps.core.text), not refused, so that one stray escape does
    not cost a batch of events.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
            data = json_strict_loads(text)
        except (ValueError, RecursionError) as error:
            raise ParseError(f"JSON parse error - {error}") from error
        # NUL and surrogates can only arrive as \u escapes, so most bodies skip the walk.
        return data_storable(data) if "\\u" in text else data


class StorableFormParser(FormParser):
    """A form body, its keys and values made storable."""

    def parse(self, stream, media_type=None, parser_context=None):
        return querydict_storable(super().parse(stream, media_type, parser_context))


class StorableMultiPartParser(MultiPartParser):
    """A multipart body, its fields made storable (files are read by whoever stores them)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        return DataAndFiles(querydict_storable(parsed.data), parsed.files)
