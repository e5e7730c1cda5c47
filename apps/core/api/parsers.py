"""A JSON parser for which any body is a 400 at worst, never a 500."""

import json
import math

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class StrictJSONParser(JSONParser):
    """Plain JSON, minus what a database or the JSON renderer cannot hold.

    Python's json accepts numbers that overflow to infinity (1e400), nesting deep enough to
    exhaust the stack, and escapes for NUL or lone UTF-16 surrogates. PostgreSQL refuses
    NUL and infinity, UTF-8 refuses lone surrogates, and an error message that echoes one
    of them would fail to render. They are refused here, once, for every field.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
            data = json.loads(text, parse_constant=_constant_refuse, parse_float=_float_finite)
        except (ValueError, RecursionError) as error:
            raise ParseError(f"JSON parse error - {error}") from error
        # NUL and surrogates can only arrive as \u escapes, so most bodies skip the walk.
        if "\\u" in text and _has_unstorable_text(data):
            raise ParseError(
                "JSON parse error - text may not contain NUL (\\u0000) or unpaired surrogates."
            )
        return data


def _constant_refuse(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _float_finite(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError(f"the number {literal[:20]} is out of range")
    return value


def _has_unstorable_text(data) -> bool:
    pending = [data]
    while pending:
        node = pending.pop()
        if isinstance(node, str):
            if "\x00" in node or not _encodes(node):
                return True
        elif isinstance(node, dict):
            pending.extend(node.keys())
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return False


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
