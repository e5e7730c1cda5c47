"""SMS encoding and segment arithmetic, counted the way carriers and Twilio bill it.

A body is sent as GSM-7 when every character is in the GSM 03.38 default alphabet or its
extension table, otherwise the whole body falls back to UCS-2 (UTF-16 on the wire).
One segment is 140 octets: 160 septets or 70 UTF-16 code units. Once a body needs more
than one segment, each part carries a 6-octet concatenation header, leaving 153 septets
or 67 code units.

Segments are packed greedily, never splitting anything a handset must reassemble:

* a GSM-7 extension character is ESC + char, two septets that must travel together;
* in UCS-2 a user-perceived character (extended grapheme cluster, UAX #29) is kept whole,
  which covers surrogate pairs (emoji outside the BMP) as well as skin-tone modifiers,
  flags, keycaps and ZWJ sequences. That is what Twilio's own segment calculator does.
  Carriers strictly only need surrogate pairs kept whole; packing whole clusters can add
  a segment at a boundary but never saves one, so estimates err on the side of cost.
  A cluster too long for any segment (e.g. stacked combining marks) falls back to being
  split between code points, still never inside a surrogate pair.

Pure Python, no Django: usable from models, forms, API serializers and tasks alike.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum, auto
from functools import lru_cache
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

GSM_7: Encoding = "GSM-7"
UCS_2: Encoding = "UCS-2"

# GSM 03.38 default alphabet, in table order 0x00-0x7F. ESC (0x1B) is left out: it is the
# switch to the extension table, not a character anyone can type into a message.
GSM_BASIC_CHARACTERS = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)

# Default extension table: each is sent as ESC + char and costs two septets.
GSM_EXTENSION_CHARACTERS = frozenset("\f^{}\\[~]|€")

GSM_CHARACTERS = GSM_BASIC_CHARACTERS | GSM_EXTENSION_CHARACTERS


@dataclass(frozen=True)
class SegmentLimits:
    """Capacity of one segment, in the encoding's own units."""

    single: int
    concatenated: int


# 140 octets = 1120 bits: 160 septets or 70 code units. The 6-octet concatenation header
# leaves 1072 bits: 153 septets (1071 bits) or 67 code units.
GSM_7_LIMITS = SegmentLimits(single=160, concatenated=153)
UCS_2_LIMITS = SegmentLimits(single=70, concatenated=67)


@dataclass(frozen=True)
class SmsAnalysis:
    """How an SMS body will be encoded, segmented and billed.

    encoding: "GSM-7" if every character is in the GSM 03.38 default alphabet or its
        extension table, otherwise "UCS-2".
    segments: billed message parts. An empty body still reports one (empty) segment,
        as Twilio's calculator does.
    characters: the characters a person reads: user-perceived characters (extended
        grapheme clusters), so "€" counts 1 (it costs 2 units) and an emoji such as "👍🏽"
        counts 1. CR and LF always count separately. (Twilio's calculator reports septets
        as its numberOfCharacters for GSM-7; here those are `units_used`.)
    units_used: what the body costs against the segment limits: septets for GSM-7 (an
        extension character costs 2), UTF-16 code units for UCS-2.
    units_per_segment: capacity of each segment: 160 / 70 while the body fits in one,
        153 / 67 once it is concatenated.
    non_gsm_characters: the distinct characters that force UCS-2, in order of first
        appearance, each as the whole user-perceived character (e.g. "👍🏽", "é" written
        as e + combining accent). Empty for GSM-7.
    units_remaining: units still free in the last segment before another one is needed.
    """

    encoding: Encoding
    segments: int
    characters: int
    units_used: int
    units_per_segment: int
    non_gsm_characters: tuple[str, ...]
    units_remaining: int


def sms_analyze(body: str) -> SmsAnalysis:
    """Encoding, segment count and character counts for an SMS body."""
    plan = _plan(body)
    return SmsAnalysis(
        encoding=plan.encoding,
        segments=len(plan.packing.fills),
        characters=plan.characters,
        units_used=sum(plan.packing.fills),
        units_per_segment=plan.packing.capacity,
        non_gsm_characters=plan.non_gsm_characters,
        units_remaining=plan.packing.capacity - plan.packing.fills[-1],
    )


def sms_segments(body: str) -> tuple[str, ...]:
    """The body cut into the parts it will be sent as (one empty part for an empty body)."""
    return _plan(body).packing.segments


def is_gsm_encodable(body: str) -> bool:
    """True when the body can be sent as GSM-7."""
    return all(char in GSM_CHARACTERS for char in body)


def gsm_septets(char: str) -> int:
    """Septets a GSM-7 character costs: two for ESC + char from the extension table."""
    return 2 if char in GSM_EXTENSION_CHARACTERS else 1


def utf16_units(text: str) -> int:
    """UTF-16 code units: characters outside the BMP need a surrogate pair."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


# --- planning -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Packing:
    segments: tuple[str, ...]
    fills: tuple[int, ...]  # units used in each segment
    capacity: int  # units each segment can hold


@dataclass(frozen=True)
class _Plan:
    encoding: Encoding
    packing: _Packing
    characters: int
    non_gsm_characters: tuple[str, ...]


def _plan(body: str) -> _Plan:
    if is_gsm_encodable(body):
        return _plan_gsm_7(body)
    return _plan_ucs_2(body)


def _plan_gsm_7(body: str) -> _Plan:
    # Every GSM character is its own user-perceived character, so characters are atoms.
    atoms = list(body)
    return _Plan(
        encoding=GSM_7,
        packing=_pack(atoms, gsm_septets, GSM_7_LIMITS),
        characters=len(atoms),
        non_gsm_characters=(),
    )


def _plan_ucs_2(body: str) -> _Plan:
    clusters = user_perceived_characters(body)
    atoms = list(_unsplittable_units(clusters, UCS_2_LIMITS.concatenated))
    return _Plan(
        encoding=UCS_2,
        packing=_pack(atoms, utf16_units, UCS_2_LIMITS),
        characters=len(clusters),
        non_gsm_characters=tuple(dict.fromkeys(c for c in clusters if c not in GSM_CHARACTERS)),
    )


def _unsplittable_units(clusters: Iterable[str], capacity: int) -> Iterator[str]:
    # A cluster that cannot fit any segment has to be cut somewhere; code points are the
    # finest cut that keeps surrogate pairs intact.
    for cluster in clusters:
        if utf16_units(cluster) > capacity:
            yield from cluster
        else:
            yield cluster


def _pack(atoms: list[str], cost: Callable[[str], int], limits: SegmentLimits) -> _Packing:
    """Greedy packing: start a new segment whenever the next atom would not fit whole."""
    costs = list(map(cost, atoms))
    total = sum(costs)
    if total <= limits.single:
        return _Packing(segments=("".join(atoms),), fills=(total,), capacity=limits.single)
    segments: list[list[str]] = [[]]
    fills = [0]
    for atom, units in zip(atoms, costs, strict=True):
        if fills[-1] + units > limits.concatenated:
            segments.append([])
            fills.append(0)
        segments[-1].append(atom)
        fills[-1] += units
    return _Packing(
        segments=tuple(map("".join, segments)),
        fills=tuple(fills),
        capacity=limits.concatenated,
    )


# --- replacements ---------------------------------------------------------------------

# Characters that word processors and phones substitute for plain ones, each forcing the
# whole message into UCS-2 (70 instead of 160 per segment) for no visible gain. Only
# unambiguous look-alikes: letters with accents and emoji are meaning, not typography.
GSM_REPLACEMENTS: dict[str, str] = {
    "\u2018": "'",  # left single quotation mark
    "\u2019": "'",  # right single quotation mark / typographic apostrophe
    "\u201a": "'",  # single low-9 quotation mark
    "\u201b": "'",  # single high-reversed-9 quotation mark
    "\u2032": "'",  # prime
    "\u02bc": "'",  # modifier letter apostrophe
    "\u00b4": "'",  # acute accent used as an apostrophe
    "`": "'",  # grave accent used as an apostrophe (not in the GSM alphabet)
    "\u201c": '"',  # left double quotation mark
    "\u201d": '"',  # right double quotation mark
    "\u201e": '"',  # double low-9 quotation mark
    "\u201f": '"',  # double high-reversed-9 quotation mark
    "\u2033": '"',  # double prime
    "\u00ab": '"',  # left-pointing double angle quotation mark
    "\u00bb": '"',  # right-pointing double angle quotation mark
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # figure dash
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2015": "-",  # horizontal bar
    "\u2212": "-",  # minus sign
    "\u2022": "-",  # bullet
    "\u2023": "-",  # triangular bullet
    "\u2043": "-",  # hyphen bullet
    "\u2219": "-",  # bullet operator
    "\u25e6": "-",  # white bullet
    "\u2026": "...",  # horizontal ellipsis
    "\u00a0": " ",  # no-break space
    "\u2002": " ",  # en space
    "\u2003": " ",  # em space
    "\u2007": " ",  # figure space
    "\u2009": " ",  # thin space
    "\u200a": " ",  # hair space
    "\u202f": " ",  # narrow no-break space
    "\t": " ",  # tab (no GSM equivalent; handsets show it as a space at best)
    "\u2028": "\n",  # line separator
    "\u2029": "\n",  # paragraph separator
    "\u200b": "",  # zero-width space (invisible)
    "\u2060": "",  # word joiner (invisible)
    "\ufeff": "",  # byte order mark / zero-width no-break space (invisible)
    "\u00ad": "",  # soft hyphen (invisible unless a line breaks there)
}

_GSM_TRANSLATION = str.maketrans(GSM_REPLACEMENTS)


def gsm_replacements(body: str) -> dict[str, str]:
    """The replaceable characters present in the body, in order of first appearance."""
    return {
        char: GSM_REPLACEMENTS[char] for char in dict.fromkeys(body) if char in GSM_REPLACEMENTS
    }


def gsm_normalize(body: str) -> str:
    """The body with typographic look-alikes swapped for their GSM equivalents.

    Characters without a safe equivalent (emoji, most accented letters) are kept, so the
    result is not necessarily GSM-7. Nor is it always cheaper: "…" is one UCS-2 unit but
    three septets. Compare sms_analyze before and after before offering the swap.
    """
    return body.translate(_GSM_TRANSLATION)


# --- user-perceived characters (UAX #29 extended grapheme clusters) -------------------


class _Break(Enum):
    """Grapheme_Cluster_Break property values (UAX #29)."""

    CR = auto()
    LF = auto()
    CONTROL = auto()
    EXTEND = auto()
    ZWJ = auto()
    REGIONAL_INDICATOR = auto()
    PREPEND = auto()
    SPACING_MARK = auto()
    L = auto()
    V = auto()
    T = auto()
    LV = auto()
    LVT = auto()
    OTHER = auto()


_CONTROLS = frozenset({_Break.CR, _Break.LF, _Break.CONTROL})


def user_perceived_characters(text: str) -> list[str]:
    """Split text into extended grapheme clusters (UAX #29), CR and LF kept apart.

    Rule GB3 (CR x LF) is deliberately not applied: a CRLF is two characters on the wire
    and Twilio counts it as two. Nor is GB9c (Unicode 15.1 Indic conjuncts): Twilio's
    calculator predates it and Python's unicodedata has no Indic_Conjunct_Break.
    """
    clusters: list[str] = []
    start = 0
    previous = _Break.CONTROL
    regional_run = 0  # regional indicators ending at the previous character
    pictographic_tail = False  # previous character ends "ExtPict Extend*"
    joins_pictographic = False  # previous character is a ZWJ after "ExtPict Extend*"
    for index, char in enumerate(text):
        current, pictographic = _character_class(char)
        # Two plain characters always break; checking that first keeps long texts fast.
        if index and (
            previous is current is _Break.OTHER
            or _is_boundary(previous, current, pictographic, regional_run, joins_pictographic)
        ):
            clusters.append(text[start:index])
            start = index
        joins_pictographic = current is _Break.ZWJ and pictographic_tail
        pictographic_tail = pictographic or (current is _Break.EXTEND and pictographic_tail)
        regional_run = regional_run + 1 if current is _Break.REGIONAL_INDICATOR else 0
        previous = current
    if text:
        clusters.append(text[start:])
    return clusters


def _is_boundary(
    previous: _Break,
    current: _Break,
    pictographic: bool,
    regional_run: int,
    joins_pictographic: bool,
) -> bool:
    if previous in _CONTROLS or current in _CONTROLS:  # GB4, GB5 (and no GB3, see above)
        return True
    if _joins_hangul(previous, current):  # GB6-GB8
        return False
    if current in (_Break.EXTEND, _Break.ZWJ, _Break.SPACING_MARK):  # GB9, GB9a
        return False
    if previous is _Break.PREPEND:  # GB9b
        return False
    if pictographic and joins_pictographic:  # GB11: emoji ZWJ sequences
        return False
    # GB12, GB13: flags are pairs of regional indicators.
    both_regional = previous is current is _Break.REGIONAL_INDICATOR
    return not (both_regional and regional_run % 2 == 1)


def _joins_hangul(previous: _Break, current: _Break) -> bool:
    if previous is _Break.L:
        return current in (_Break.L, _Break.V, _Break.LV, _Break.LVT)
    if previous in (_Break.LV, _Break.V):
        return current in (_Break.V, _Break.T)
    if previous in (_Break.LVT, _Break.T):
        return current is _Break.T
    return False


def _in_ranges(code_point: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    index = bisect_right(ranges, (code_point, 0x10FFFF)) - 1
    return index >= 0 and ranges[index][0] <= code_point <= ranges[index][1]


@lru_cache(maxsize=4096)
def _character_class(char: str) -> tuple[_Break, bool]:
    """Grapheme_Cluster_Break and Extended_Pictographic, looked up once per character."""
    return _break_property(char), _is_extended_pictographic(ord(char))


def _break_property(char: str) -> _Break:
    """Grapheme_Cluster_Break, derived from the general category as UAX #29 defines it."""
    code_point = ord(char)
    special = _SPECIAL_BREAKS.get(code_point)
    if special is not None:
        return special
    if _in_ranges(code_point, _PREPEND_RANGES):
        return _Break.PREPEND
    if _in_ranges(code_point, _OTHER_EXTEND_RANGES):
        return _Break.EXTEND
    hangul = _hangul_break(code_point)
    if hangul is not None:
        return hangul
    return _break_from_category(code_point, unicodedata.category(char))


def _break_from_category(code_point: int, category: str) -> _Break:
    if category in ("Cc", "Cf", "Cs", "Zl", "Zp"):
        return _Break.CONTROL
    if category in ("Mn", "Me"):
        return _Break.EXTEND
    if category == "Mc" and not _in_ranges(code_point, _NOT_SPACING_MARK_RANGES):
        return _Break.SPACING_MARK
    return _Break.OTHER


def _hangul_break(code_point: int) -> _Break | None:
    if 0xAC00 <= code_point <= 0xD7A3:
        # Precomposed syllables come in blocks of 28: the first has no trailing consonant.
        return _Break.LV if (code_point - 0xAC00) % 28 == 0 else _Break.LVT
    if 0x1100 <= code_point <= 0x115F or 0xA960 <= code_point <= 0xA97C:
        return _Break.L
    if 0x1160 <= code_point <= 0x11A7 or 0xD7B0 <= code_point <= 0xD7C6:
        return _Break.V
    if 0x11A8 <= code_point <= 0x11FF or 0xD7CB <= code_point <= 0xD7FB:
        return _Break.T
    return None


def _is_extended_pictographic(code_point: int) -> bool:
    # Fast exit: below U+00A9 nothing is pictographic, and that covers most Latin text.
    return code_point >= 0xA9 and _in_ranges(code_point, _EXTENDED_PICTOGRAPHIC_RANGES)


_SPECIAL_BREAKS = {
    0x000D: _Break.CR,
    0x000A: _Break.LF,
    0x200C: _Break.EXTEND,  # ZWNJ is Other_Grapheme_Extend despite being a format char
    0x200D: _Break.ZWJ,
    0x0E33: _Break.SPACING_MARK,  # Thai SARA AM
    0x0EB3: _Break.SPACING_MARK,  # Lao VOWEL SIGN AM
    **dict.fromkeys(range(0x1F1E6, 0x1F200), _Break.REGIONAL_INDICATOR),
}


def _code_point_ranges(table: str) -> tuple[tuple[int, int], ...]:
    """Parse "00A9 2194-2199 ..." (hex, as in the Unicode data files) into sorted ranges."""
    ranges = []
    for item in table.split():
        first, _, last = item.partition("-")
        ranges.append((int(first, 16), int(last or first, 16)))
    return tuple(sorted(ranges))


# Prepended_Concatenation_Mark and Indic prefixed / preceding-repha consonants.
_PREPEND_RANGES = _code_point_ranges(
    """
    0600-0605 06DD 070F 0890-0891 08E2 0D4E 110BD 110CD 111C2-111C3 1193F 11941 11A3A
    11A84-11A89 11D46 11F02
    """
)

# Other_Grapheme_Extend (marks that are Mc or letters by category, and the emoji tag
# characters) plus the emoji skin-tone modifiers, which UAX #29 treats as Extend.
_OTHER_EXTEND_RANGES = _code_point_ranges(
    """
    09BE 09D7 0B3E 0B57 0BBE 0BD7 0CC2 0CD5-0CD6 0D3E 0D57 0DCF 0DDF 1B35 302E-302F
    FF9E-FF9F 1133E 11357 114B0 114BD 115AF 11930 1D165 1D16E-1D172 1F3FB-1F3FF
    E0020-E007F
    """
)

# Spacing combining marks that UAX #29 explicitly excludes from SpacingMark.
_NOT_SPACING_MARK_RANGES = _code_point_ranges(
    """
    102B-102C 1038 1062-1064 1067-106D 1083 1087-108C 108F 109A-109C 1A61 1A63-1A64
    AA7B AA7D 11720-11721
    """
)

# Extended_Pictographic from Unicode 17 emoji-data.txt. It covers the blocks reserved
# for future emoji too, so emoji newer than Python's unicodedata still cluster right.
_EXTENDED_PICTOGRAPHIC_RANGES = _code_point_ranges(
    """
    00A9 00AE 203C 2049 2122 2139 2194-2199 21A9-21AA 231A-231B 2328 23CF 23E9-23F3
    23F8-23FA 24C2 25AA-25AB 25B6 25C0 25FB-25FE 2600-2604 260E 2611 2614-2615 2618 261D
    2620 2622-2623 2626 262A 262E-262F 2638-263A 2640 2642 2648-2653 265F-2660 2663
    2665-2666 2668 267B 267E-267F 2692-2697 2699 269B-269C 26A0-26A1 26A7 26AA-26AB
    26B0-26B1 26BD-26BE 26C4-26C5 26C8 26CE-26CF 26D1 26D3-26D4 26E9-26EA 26F0-26F5
    26F7-26FA 26FD 2702 2705 2708-270D 270F 2712 2714 2716 271D 2721 2728 2733-2734 2744
    2747 274C 274E 2753-2755 2757 2763-2764 2795-2797 27A1 27B0 27BF 2934-2935 2B05-2B07
    2B1B-2B1C 2B50 2B55 3030 303D 3297 3299 1F004 1F02C-1F02F 1F094-1F09F 1F0AF-1F0B0
    1F0C0 1F0CF-1F0D0 1F0F6-1F0FF 1F170-1F171 1F17E-1F17F 1F18E 1F191-1F19A 1F1AE-1F1E5
    1F201-1F20F 1F21A 1F22F 1F232-1F23A 1F23C-1F23F 1F249-1F25F 1F266-1F321 1F324-1F393
    1F396-1F397 1F399-1F39B 1F39E-1F3F0 1F3F3-1F3F5 1F3F7-1F3FA 1F400-1F4FD 1F4FF-1F53D
    1F549-1F54E 1F550-1F567 1F56F-1F570 1F573-1F57A 1F587 1F58A-1F58D 1F590 1F595-1F596
    1F5A4-1F5A5 1F5A8 1F5B1-1F5B2 1F5BC 1F5C2-1F5C4 1F5D1-1F5D3 1F5DC-1F5DE 1F5E1 1F5E3
    1F5E8 1F5EF 1F5F3 1F5FA-1F64F 1F680-1F6C5 1F6CB-1F6D2 1F6D5-1F6E5 1F6E9 1F6EB-1F6F0
    1F6F3-1F6FF 1F7DA-1F7FF 1F80C-1F80F 1F848-1F84F 1F85A-1F85F 1F888-1F88F 1F8AE-1F8AF
    1F8BC-1F8BF 1F8C2-1F8CF 1F8D9-1F8FF 1F90C-1F93A 1F93C-1F945 1F947-1F9FF 1FA58-1FA5F
    1FA6E-1FAFF 1FC00-1FFFD
    """
)
