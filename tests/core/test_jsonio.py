"""The fast JSON path gives exactly the standard library's outcomes, only sooner."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.core.jsonio import json_dumps_bytes, json_strict_loads

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(values)
def test_reading_gives_what_the_standard_parser_gives(value):
    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False)):
        assert json_strict_loads(text) == json.loads(text)


@settings(max_examples=300, deadline=None)
@given(values)
def test_writing_reads_back_as_the_same_value(value):
    assert json.loads(json_dumps_bytes(value)) == value


@pytest.mark.parametrize(
    "text",
    [
        "NaN",
        "[Infinity]",
        "-Infinity",
        "1e400",
        '{"a": [1e999]}',
        "[" * 5000 + "]" * 5000,
        "{'a': 1}",
    ],
)
def test_it_refuses_what_is_not_plain_json(text):
    with pytest.raises((ValueError, RecursionError)):
        json_strict_loads(text)


def test_an_integer_past_64_bits_stays_exact():
    assert json_strict_loads('{"order": 123456789012345678901234567890}') == {
        "order": 123456789012345678901234567890
    }
    assert json_dumps_bytes({"order": 2**70}) == b'{"order":1180591620717411303424}'


def test_a_lone_surrogate_escape_is_read_as_the_standard_parser_reads_it():
    # orjson refuses it; the caller cleans it (apps.core.text) instead of losing the batch
    assert json_strict_loads('{"a": "x\\ud800y"}') == {"a": "x\ud800y"}


def test_a_nul_escape_is_read():
    assert json_strict_loads('"a\\u0000b"') == "a\x00b"


def test_the_last_of_two_equal_keys_wins_as_in_the_standard_parser():
    assert json_strict_loads('{"a": 1, "a": 2}') == {"a": 2}


def test_writing_is_compact_utf8_and_takes_non_string_keys_as_the_standard_encoder_does():
    assert json_dumps_bytes({"é": 1, 2: [True, None]}) == '{"é":1,"2":[true,null]}'.encode()


@dataclass
class _Point:
    x: int


@pytest.mark.parametrize(
    "value", [{"at": datetime(2026, 1, 1, tzinfo=UTC)}, {"p": _Point(1)}, {1, 2}]
)
def test_writing_refuses_what_the_standard_encoder_refuses(value):
    with pytest.raises(TypeError):
        json.dumps(value)
    with pytest.raises(TypeError):
        json_dumps_bytes(value)
