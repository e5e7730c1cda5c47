"""JSON in and out of Cue's intake paths, fast where the input allows and exact always.

orjson parses and encodes several times faster than the standard library, which matters
where a request carries a thousand events. It is used only where its answer is the one the
standard library would give; everything else (a refusal and its message, a lone surrogate
the parser cleans, an integer past 64 bits that orjson would turn into a float) goes
through the standard library as before, so the fast path changes speed, never outcomes.
"""

import json
import math

import orjson

# orjson reads an integer past 64 bits as a float: a run of 19 digits may be one. Found by
# mapping every digit to one and searching for the run: a regular expression takes about
# fifteen times longer over a 500 KB body, and longer than orjson takes to parse it.
_DIGITS_AS_NINES = str.maketrans("0123456789", "9" * 10)
_LONG_DIGITS = "9" * 19
# How Python code hands properties in: keys need not be strings (json.dumps writes 1 as
# "1"); datetimes and dataclasses are refused, as the standard encoder refuses them.
_DUMPS_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
_DUMPS_OPTIONS |= orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def json_strict_loads(text: str) -> object:
    """The value of a JSON text; raises ValueError (or RecursionError, for nesting deeper
    than Python's stack) for what is not plain JSON: NaN, Infinity, numbers that overflow
    to infinity."""
    if _LONG_DIGITS not in text.translate(_DIGITS_AS_NINES):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # the standard parser gives the reason, or reads what orjson refuses
    return json.loads(text, parse_constant=_constant_refuse, parse_float=_float_finite)


def json_dumps_bytes(value: object) -> bytes:
    """The compact UTF-8 JSON of `value`; raises TypeError or ValueError for a value that
    is not plain JSON."""
    try:
        return orjson.dumps(value, option=_DUMPS_OPTIONS)
    except TypeError:  # an integer past 64 bits, or a type only the standard encoder takes
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _constant_refuse(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _float_finite(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError(f"the number {literal[:20]} is out of range")
    return value
