"""North American numbers read without `phonenumbers.parse`, with the same answer.

A CRM's full sync reads a hundred thousand numbers, nearly all of them "+1" and ten digits
(or ten digits in a North American default region). Parsing one and checking it against
the metadata of every region of country code 1 costs ~0.1 ms, several times that on a
busy machine. Which of those numbers are valid is decided by their first few digits: each
number pattern of the 25 regions sharing code 1 constrains at most its first seven
digits and allows any digit after them (`_prefix_digits` reads how many from the
patterns themselves when first asked, and turns the fast path off if it cannot). So
validity is asked of phonenumbers once per prefix and kept. Anything else (other
country codes, "1" or "0" after "+1", spaces, extensions, a region whose own prefix rule
is not a plain "1") is not read here, and the caller falls back to phonenumbers.
"""

import re
import warnings
from functools import cache, lru_cache

import phonenumbers
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

with warnings.catch_warnings():  # the regex parser's public names, deprecated but kept
    warnings.simplefilter("ignore", DeprecationWarning)
    import sre_constants
    import sre_parse

NATIONAL_DIGITS = 10
# ASCII digits only: phonenumbers reads other scripts' digits too, and writes them as ASCII.
_E164 = re.compile(r"\+1([2-9][0-9]{9})")
_NATIONAL = re.compile(r"[2-9][0-9]{9}")
_DESCRIPTIONS = (
    "general_desc",
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "voip",
    "pager",
    "uan",
    "voicemail",
)


def nanp_e164(value: str, region: str) -> str | bool | None:
    """The number in E.164 form, None when it is a North American number phonenumbers
    calls invalid, or False when this fast path does not read it (ask phonenumbers)."""
    found = _E164.fullmatch(value)
    if found:
        national = found.group(1)
    elif _NATIONAL.fullmatch(value) and _plain_nanp_region(region):
        national = value
    else:
        return False
    depth = _prefix_digits()
    if depth is None:
        return False
    return f"+1{national}" if _prefix_valid(national[:depth]) else None


def nanp_region(e164: str) -> str | bool | None:
    """The region phonenumbers names for a number written "+1" and ten digits from 2-9
    (region_code_for_number: the first region of code 1 whose patterns the number fits,
    None when none does), read from its first digits as validity is; False when this fast
    path does not read it (ask phonenumbers)."""
    found = _E164.fullmatch(e164)
    depth = _prefix_digits()
    if found is None or depth is None:
        return False
    return _prefix_region(found.group(1)[:depth])


def nanp_written_as_e164(text: str) -> bool:
    """Whether `text` is "+1" and ten digits from 2-9 that phonenumbers writes back as they
    are (the main region of code 1 strips only a plain "1" prefix, with no rewriting)."""
    return _E164.fullmatch(text) is not None and _plain_nanp_region(
        COUNTRY_CODE_TO_REGION_CODE[1][0]
    )


@lru_cache(maxsize=256)  # the regions callers name: a handful
def _plain_nanp_region(region: str) -> bool:
    """A region of country code 1 whose numbers lose only a leading "1" when read
    nationally: ten digits starting 2–9 are then the national number as they are."""
    metadata = PhoneMetadata.metadata_for_region(region, None) if region else None
    return (
        metadata is not None
        and metadata.country_code == 1
        and metadata.national_prefix_for_parsing in (None, "1")
        and metadata.national_prefix_transform_rule is None
    )


@lru_cache(maxsize=200_000)  # a few thousand prefixes in practice
def _prefix_valid(prefix: str) -> bool:
    """Every number starting so is valid, or none is: one of them, asked of phonenumbers."""
    national = prefix + "0" * (NATIONAL_DIGITS - len(prefix))
    number = phonenumbers.PhoneNumber(country_code=1, national_number=int(national))
    return phonenumbers.is_valid_number(number)


@lru_cache(maxsize=200_000)
def _prefix_region(prefix: str) -> str | None:
    """The region of every number starting so: one of them, asked of phonenumbers. (Which
    region a number fits is decided by the same patterns as whether it is valid.)"""
    national = prefix + "0" * (NATIONAL_DIGITS - len(prefix))
    number = phonenumbers.PhoneNumber(country_code=1, national_number=int(national))
    return phonenumbers.region_code_for_number(number)


@cache
def _prefix_digits() -> int | None:
    """How many leading digits the metadata of country code 1 constrains in a ten-digit
    number, or None if some pattern could not be read (the fast path is then off)."""
    deepest = 0
    for region in COUNTRY_CODE_TO_REGION_CODE[1]:
        metadata = PhoneMetadata.metadata_for_region(region)
        for name in _DESCRIPTIONS:
            description = getattr(metadata, name, None)
            pattern = getattr(description, "national_number_pattern", None)
            if pattern is None:
                continue
            depth = _constrained_digits(pattern)
            if depth is None:
                return None
            deepest = max(deepest, depth)
        if metadata.leading_digits:
            depth = _constrained_digits(f"(?:{metadata.leading_digits})", prefix=True)
            if depth is None:
                return None
            deepest = max(deepest, depth)
    return deepest if deepest <= NATIONAL_DIGITS else None


def _constrained_digits(pattern: str, prefix: bool = False) -> int | None:
    """The furthest position (1-based) any path through `pattern` constrains to less than
    any digit; None when the pattern has something this reading does not know. A pattern
    matched as a prefix (leading digits) constrains all it reads."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return None
    ends = _walk(list(parsed), {0}, prefix)
    return None if ends is None else ends[1]


def _walk(items: list, starts: set[int], prefix: bool):
    """(positions a path may end at, the deepest constrained position) for a sequence."""
    deepest = 0
    positions = set(starts)
    for op, arg in items:
        step = _step(op, arg, positions, prefix)
        if step is None:
            return None
        positions, depth = step
        deepest = max(deepest, depth)
        if max(positions, default=0) > 4 * NATIONAL_DIGITS:
            return None
    return positions, deepest


def _step(op, arg, positions: set[int], prefix: bool):
    if op in (sre_constants.LITERAL, sre_constants.IN, sre_constants.ANY):
        any_digit = op == sre_constants.IN and _is_any_digit_class(arg)
        moved = {p + 1 for p in positions}
        return moved, (0 if any_digit and not prefix else max(moved))
    if op == sre_constants.SUBPATTERN:
        return _walk(list(arg[-1]), positions, prefix)
    if op == sre_constants.BRANCH:
        ends, deepest = set(), 0
        for branch in arg[1]:
            walked = _walk(list(branch), positions, prefix)
            if walked is None:
                return None
            ends |= walked[0]
            deepest = max(deepest, walked[1])
        return ends, deepest
    if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
        low, high, body = arg
        if high == sre_constants.MAXREPEAT or high > 2 * NATIONAL_DIGITS:
            return None
        ends, deepest, current = set(), 0, set(positions)
        for count in range(high + 1):
            if count >= low:
                ends |= current
            if count == high:
                break
            walked = _walk(list(body), current, prefix)
            if walked is None:
                return None
            current, depth = walked
            deepest = max(deepest, depth)
        return ends, deepest
    return None  # anchors, look-arounds, back-references: not read here


def _is_any_digit_class(arg) -> bool:
    return list(arg) in (
        [(sre_constants.CATEGORY, sre_constants.CATEGORY_DIGIT)],
        [(sre_constants.RANGE, (ord("0"), ord("9")))],
    )
