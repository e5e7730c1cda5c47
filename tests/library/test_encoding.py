"""SMS encoding and segment counting, checked by hand and against Twilio's own calculator.

The oracle is Twilio's message-segment-calculator (npm `sms-segments-calculator`, pinned in
tests/oracle/package.json), driven through tests/oracle/segments.js in one subprocess.
"""

import dataclasses
import json
import os
import random
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.library.encoding import (
    GSM_REPLACEMENTS,
    SmsAnalysis,
    gsm_normalize,
    gsm_replacements,
    is_gsm_encodable,
    sms_analyze,
    sms_segments,
)

ORACLE_DIR = Path(__file__).resolve().parents[1] / "oracle"

# Written out independently of the module's tables on purpose.
GSM_SAMPLE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,!?'\"@£$¥èéÄÖÑÜ§¿àΔ_"
EXTENSION = "^{}\\[~]|€\f"
EMOJI = "😜"  # one code point, two UTF-16 units


def units(text):
    return len(text.encode("utf-16-le")) // 2


# --- hand vectors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "encoding", "segments"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("{" + "a" * 158, "GSM-7", 1),
        ("{" + "a" * 159, "GSM-7", 2),
        (EMOJI + "a" * 68, "UCS-2", 1),
        (EMOJI + "a" * 69, "UCS-2", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("中" * 70, "UCS-2", 1),
        ("中" * 71, "UCS-2", 2),
        ("中" * 134, "UCS-2", 2),
        ("中" * 135, "UCS-2", 3),
    ],
)
def test_it_counts_segments_at_the_boundaries(body, encoding, segments):
    analysis = sms_analyze(body)

    assert (analysis.encoding, analysis.segments) == (encoding, segments)


def test_it_reports_every_field_of_a_concatenated_gsm_message():
    assert sms_analyze("a" * 161) == SmsAnalysis(
        encoding="GSM-7",
        segments=2,
        characters=161,
        units_used=161,
        units_per_segment=153,
        non_gsm_characters=(),
        units_remaining=145,
    )


def test_it_reports_every_field_of_a_single_ucs2_message():
    assert sms_analyze("Hi 👋 José, ça va?") == SmsAnalysis(
        encoding="UCS-2",
        segments=1,
        characters=17,
        units_used=18,
        units_per_segment=70,
        non_gsm_characters=("👋", "ç"),
        units_remaining=52,
    )


def test_an_empty_body_is_one_empty_gsm_segment():
    analysis = sms_analyze("")

    assert (analysis.encoding, analysis.segments, analysis.units_remaining) == ("GSM-7", 1, 160)


def test_the_analysis_is_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        sms_analyze("hi").segments = 3


# --- GSM-7 extension table --------------------------------------------------------------


@pytest.mark.parametrize("char", list(EXTENSION))
def test_an_extension_character_costs_two_septets(char):
    analysis = sms_analyze("a" + char)

    assert (analysis.encoding, analysis.units_used, analysis.characters) == ("GSM-7", 3, 2)


@pytest.mark.parametrize("char", list(EXTENSION))
def test_an_extension_character_fills_the_last_two_septets(char):
    assert sms_analyze("a" * 158 + char).segments == 1
    assert sms_analyze("a" * 159 + char).segments == 2


def test_an_extension_character_costs_one_unit_once_the_message_is_ucs2():
    # Twilio bills this as one segment: UCS-2 has no escape mechanism.
    analysis = sms_analyze(EMOJI + "{" * 68)

    assert (analysis.encoding, analysis.units_used, analysis.segments) == ("UCS-2", 70, 1)


def test_an_escape_pair_is_never_split_across_segments():
    # 152 septets, then ESC + "{" would straddle 152|153: the pair moves on whole.
    parts = sms_segments("a" * 152 + "{" + "a" * 10)

    assert parts == ("a" * 152, "{" + "a" * 10)
    assert sms_analyze("a" * 152 + "{" + "a" * 10).units_remaining == 153 - 12


def test_an_escape_pair_that_fits_exactly_stays_in_the_segment():
    assert sms_segments("a" * 151 + "{" + "a" * 10) == ("a" * 151 + "{", "a" * 10)


def test_escape_pairs_waste_a_septet_per_segment():
    # 153 "]" are 306 septets, but only 76 pairs fit in 153 septets: three segments
    # (what Twilio bills, see TwilioDevEd/message-segment-calculator#39).
    analysis = sms_analyze("]" * 153)

    assert (analysis.units_used, analysis.segments) == (306, 3)


# --- UCS-2: surrogate pairs and user-perceived characters -------------------------------


def test_a_surrogate_pair_is_never_split_across_segments():
    body = "a" * 66 + EMOJI + "a" * 10

    assert sms_segments(body) == ("a" * 66, EMOJI + "a" * 10)
    assert sms_analyze(body).segments == 2


def test_a_surrogate_pair_that_fits_exactly_stays_in_the_segment():
    assert sms_segments("a" * 65 + EMOJI + "a" * 10) == ("a" * 65 + EMOJI, "a" * 10)


@pytest.mark.parametrize(
    "emoji",
    ["👍🏽", "🇺🇸", "1️⃣", "❤️", "👨‍👩‍👧‍👦", "👩‍❤️‍💋‍👨", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"],
)
def test_a_multi_code_point_emoji_moves_to_the_next_segment_whole(emoji):
    body = "a" * (67 - units(emoji) + 1) + emoji + "a" * 10

    first, second = sms_segments(body)

    assert second.startswith(emoji)
    assert units(first) == 67 - units(emoji) + 1


@pytest.mark.parametrize(
    ("body", "characters"),
    [
        ("👍🏽", 1),
        ("🇺🇸🇬🇧", 2),
        ("👨‍👩‍👧‍👦 family", 8),
        ("e\u0301", 1),
        ("\r\n" + EMOJI, 3),
        ("{" + EMOJI, 2),
    ],
)
def test_ucs2_characters_are_user_perceived_characters(body, characters):
    assert sms_analyze(body).characters == characters


def test_a_gsm_extension_character_counts_one_character_and_two_units():
    analysis = sms_analyze("{a}€")

    assert (analysis.characters, analysis.units_used, analysis.units_remaining) == (4, 7, 153)


def test_a_full_segment_of_euros_is_80_characters_and_160_units():
    analysis = sms_analyze("€" * 80)

    assert (analysis.segments, analysis.characters, analysis.units_used) == (1, 80, 160)
    assert sms_analyze("€" * 81).segments == 2


def test_a_cluster_too_long_for_any_segment_is_split_between_code_points():
    # "e" with 200 stacked accents is one character but 201 units: it cannot travel whole.
    body = "e" + "\u0301" * 200

    parts = sms_segments(body)

    assert "".join(parts) == body
    assert [units(part) for part in parts] == [67, 67, 67]


def test_an_oversized_cluster_still_keeps_surrogate_pairs_whole():
    # MUSICAL SYMBOL COMBINING STEM is astral and extends the cluster: 2 + 80 units. A cut
    # at unit 67 would land inside a pair, so the first segment stops at 66.
    body = "aa" + "\U0001d165" * 40

    parts = sms_segments(body)

    assert "".join(parts) == body
    assert [units(part) for part in parts] == [66, 16]


def test_non_gsm_characters_are_distinct_and_in_order_of_first_appearance():
    analysis = sms_analyze("“Hi” 😜 ça “va” 😜 👍🏽 é")

    assert analysis.non_gsm_characters == ("“", "”", "😜", "ç", "👍🏽")


def test_a_gsm_message_has_no_non_gsm_characters():
    assert sms_analyze("Hello {name}, 50€ off!").non_gsm_characters == ()


@pytest.mark.parametrize(
    ("body", "per_segment", "remaining"),
    [
        ("a" * 10, 160, 150),
        ("a" * 200, 153, 106),
        (EMOJI * 3, 70, 64),
        ("中" * 100, 67, 34),
    ],
)
def test_units_per_segment_and_remaining(body, per_segment, remaining):
    analysis = sms_analyze(body)

    assert (analysis.units_per_segment, analysis.units_remaining) == (per_segment, remaining)


# --- replacements ---------------------------------------------------------------------


def test_replacements_list_the_replaceable_characters_present_in_order():
    body = "‘Hi’ — it’s… “great” 😜"

    assert gsm_replacements(body) == {"‘": "'", "’": "'", "—": "-", "…": "...", "“": '"', "”": '"'}


def test_normalizing_typography_brings_a_message_back_to_gsm():
    body = "“Sale” – 50% off… don’t miss it!\u00a0• Today only"

    normalized = gsm_normalize(body)

    assert normalized == '"Sale" - 50% off... don\'t miss it! - Today only'
    assert sms_analyze(normalized).encoding == "GSM-7"


def test_normalizing_can_save_segments():
    body = "It’s " + "a" * 100

    assert sms_analyze(body).segments == 2
    assert sms_analyze(gsm_normalize(body)).segments == 1


@pytest.mark.parametrize("body", ["😜", "👨‍👩‍👧", "ça", "中文"])
def test_characters_without_a_safe_equivalent_are_left_alone(body):
    assert gsm_replacements(body) == {}
    assert gsm_normalize(body) == body


def test_invisible_characters_are_dropped():
    assert gsm_normalize("Hi\u200bthere\ufeff") == "Hithere"


@pytest.mark.parametrize(("char", "replacement"), sorted(GSM_REPLACEMENTS.items()))
def test_every_replacement_swaps_a_non_gsm_character_for_gsm_text(char, replacement):
    assert not is_gsm_encodable(char)
    assert is_gsm_encodable(replacement)


# --- property: greedy packing that never splits what must stay together ---------------

# Each token is one user-perceived character that no neighbour can join, so token edges
# are the only legal cut points.
GSM_TOKENS = list(GSM_SAMPLE + "\n\r") + list(EXTENSION)
NON_GSM_TOKENS = ["ç", "á", "中", "Ж", "’", "…", EMOJI, "🚀", "👍🏽", "🇺🇸", "1️⃣", "e\u0301"]


def reference_pack(tokens, cost, single, concatenated):
    """Units per segment: fill each segment until the next token no longer fits."""
    total = sum(map(cost, tokens))
    if total <= single:
        return [total]
    filled = [0]
    for token in tokens:
        if filled[-1] + cost(token) > concatenated:
            filled.append(0)
        filled[-1] += cost(token)
    return filled


def septets(token):
    return 2 if token in EXTENSION else 1


def cut_points(pieces):
    offsets, position = set(), 0
    for piece in pieces:
        position += len(piece)
        offsets.add(position)
    return offsets


@st.composite
def token_lists(draw):
    # Pure GSM, GSM with the odd non-GSM character, or mostly non-GSM.
    pool = draw(
        st.sampled_from([GSM_TOKENS, GSM_TOKENS + NON_GSM_TOKENS, NON_GSM_TOKENS + list(EXTENSION)])
    )
    # Token counts just around the 67/70/153/160 limits and their multiples.
    size = draw(st.sampled_from([0, 30, 62, 66, 74, 130, 148, 155, 200, 300])) + draw(
        st.integers(0, 10)
    )
    return draw(st.lists(st.sampled_from(pool), min_size=size, max_size=size))


@settings(max_examples=300, deadline=None)
@given(token_lists())
def test_segments_match_a_reference_packer_and_never_cut_inside_a_character(tokens):
    body = "".join(tokens)
    ucs2 = any(token in NON_GSM_TOKENS for token in tokens)
    cost, single, concatenated = (units, 70, 67) if ucs2 else (septets, 160, 153)

    analysis = sms_analyze(body)
    parts = sms_segments(body)

    assert analysis.encoding == ("UCS-2" if ucs2 else "GSM-7")
    assert "".join(parts) == body
    assert cut_points(parts) <= cut_points(tokens) | {0}
    assert [units_of(part, cost) for part in parts] == reference_pack(
        tokens, cost, single, concatenated
    )
    assert analysis.segments == len(parts)
    assert analysis.units_remaining == analysis.units_per_segment - units_of(parts[-1], cost)


def units_of(part, cost):
    # GSM tokens are single characters, so a part can be costed character by character.
    return sum(map(septets, part)) if cost is septets else units(part)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(GSM_TOKENS + list(GSM_REPLACEMENTS) + NON_GSM_TOKENS)))
def test_normalizing_is_idempotent(tokens):
    once = gsm_normalize("".join(tokens))

    assert gsm_normalize(once) == once


def test_normalizing_can_cost_more_so_callers_must_compare():
    # "…" is one UCS-2 unit but three septets: 70 of them fit one UCS-2 segment, not one
    # GSM-7 segment. Offer normalization only when sms_analyze says it saves segments.
    body = "…" * 70

    assert sms_analyze(body).segments == 1
    assert sms_analyze(gsm_normalize(body)).segments == 2


# --- the oracle: Twilio's own calculator ----------------------------------------------


def require_oracle():
    """Skip without node or the installed oracle; on CI (CI=true) that is a failure."""
    if shutil.which("node") is None:
        reason = "node is not on PATH"
    elif not (ORACLE_DIR / "node_modules" / "sms-segments-calculator").is_dir():
        reason = "tests/oracle/node_modules is missing"
    else:
        return
    message = (
        f"Twilio segment-calculator oracle unavailable: {reason}. "
        "Install it with `npm ci --prefix tests/oracle`."
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


GSM_BASIC_TEXT = GSM_SAMPLE + "\n"
TYPOGRAPHY = ["‘", "’", "“", "”", "–", "—", "…", "\u00a0", "•"]
ACCENTED = ["á", "í", "ó", "ú", "ç", "ã", "õ", "â", "ê", "ł", "ś", "ğ", "e\u0301", "n\u0303"]
SCRIPTS = ["中", "文", "Ж", "α", "ש", "ع", "नमस्ते", "안녕", "สวัสดี"]
# Emoji on which UAX #29 and the oracle's grapheme-splitter (Unicode 10) agree; see
# test_known_divergences_from_the_oracle for the ones they do not.
EMOJI_TOKENS = [
    *["😜", "😀", "🎉", "🚀", "🔥", "🥰", "🫠", "☺", "❤", "✈", "☀"],
    *["❤️", "☀️", "👍🏽", "🤟🏻", "👋🏿", "🇺🇸", "🇬🇧", "🇫🇷", "1️⃣", "#️⃣"],
    *["👨‍👩‍👧‍👦", "👩‍❤️‍👨", "👨‍❤️‍💋‍👨", "👩‍💻", "🏳️‍🌈", "🙋🏽‍♀️", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"],
]
BOUNDARIES = (67, 70, 134, 140, 153, 160, 201, 210, 306, 320, 459, 480)

# Profile: (weight, how often a non-basic token is drawn, the pools it draws from).
PROFILES = [
    (30, 0.0, []),
    (20, 0.05, [list(EXTENSION)]),
    (10, 0.03, [TYPOGRAPHY]),
    (10, 0.04, [ACCENTED, SCRIPTS]),
    (15, 0.08, [EMOJI_TOKENS]),
    (15, 0.1, [list(EXTENSION), TYPOGRAPHY, ACCENTED, SCRIPTS, EMOJI_TOKENS]),
]


def target_length(rng):
    """0-500, bunched around the 67/70/153/160 boundaries and their multiples."""
    if rng.random() < 0.6:
        return max(0, rng.choice(BOUNDARIES) + rng.randint(-4, 4))
    return rng.randint(0, 500)


def generated_message(rng):
    _, rate, pools = rng.choices(PROFILES, weights=[p[0] for p in PROFILES])[0]
    length = target_length(rng)
    tokens, written = [], 0
    while written < length:
        special = pools and rng.random() < rate
        tokens.append(rng.choice(rng.choice(pools)) if special else rng.choice(GSM_BASIC_TEXT))
        written += len(tokens[-1])
    if pools and rng.random() < 0.3 and tokens:
        # One odd character exactly where it hurts: near a segment edge.
        tokens[rng.randrange(len(tokens))] = rng.choice(rng.choice(pools))
    return "".join(tokens)


@cache
def generated_corpus(count=4000, seed=20240614):
    rng = random.Random(seed)
    return tuple(generated_message(rng) for _ in range(count))


# Every BMP character on its own: proves the GSM basic and extension tables are identical.
ALPHABET_PROBES = [chr(c) for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF]

# Where we knowingly differ from the oracle: (body, our verdict, oracle verdict), each
# verdict being (segments, characters).
KNOWN_DIVERGENCES = [
    # Emoji ZWJ sequences with components newer than Unicode 10: grapheme-splitter 1.0.4
    # breaks them apart, modern UAX #29 (and every handset) shows one character.
    ("🧑‍🤝‍🧑", (1, 1), (1, 3)),
    ("👩‍🦰", (1, 1), (1, 2)),
    ("❤️‍🔥", (1, 1), (1, 2)),
    ("🏴‍☠️", (1, 1), (1, 2)),
    ("🐕‍🦺", (1, 1), (1, 2)),
    ("🫱🏼‍🫲🏿", (1, 1), (1, 4)),
    # A skin-tone modifier after a letter: Unicode 11+ attaches it (Extend).
    ("a🏽", (1, 1), (1, 2)),
    # A cluster longer than a segment: the oracle packs it into one over-full segment,
    # which no carrier can send; it must be cut (between code points).
    ("e" + "\u0301" * 200, (3, 1), (2, 1)),
]


@cache
def oracle_verdicts():
    """Run every oracle input through Twilio's calculator in a single node process."""
    bodies = [*generated_corpus(), *ALPHABET_PROBES, *(case[0] for case in KNOWN_DIVERGENCES)]
    completed = subprocess.run(
        ["node", "segments.js"],
        input="".join(json.dumps(body) + "\n" for body in bodies),
        cwd=ORACLE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    # Split on "\n" only: str.splitlines() would also cut at U+2028 inside the JSON.
    verdicts = [json.loads(line) for line in completed.stdout.split("\n")[:-1]]
    assert len(verdicts) == len(bodies)
    return dict(zip(bodies, verdicts, strict=True))


def ours(body):
    analysis = sms_analyze(body)
    # Twilio's numberOfCharacters is septets for GSM-7 (our units) and user-perceived
    # characters for UCS-2 (our characters).
    gsm = analysis.encoding == "GSM-7"
    return {
        "encoding": analysis.encoding,
        "segments": analysis.segments,
        "characters": analysis.units_used if gsm else analysis.characters,
        "nonGsm": list(analysis.non_gsm_characters),
    }


def theirs(verdict):
    return {**verdict, "nonGsm": list(dict.fromkeys(verdict["nonGsm"]))}


def mismatch_report(bodies, verdicts):
    compared = ((body, ours(body), theirs(verdicts[body])) for body in bodies)
    mismatches = [(body, mine, oracle) for body, mine, oracle in compared if mine != oracle]
    lines = [f"{len(mismatches)} of {len(bodies)} disagree with Twilio's calculator:"]
    for body, mine, oracle in mismatches[:10]:
        lines.append(f"  body={body[:80]!r}{'...' if len(body) > 80 else ''} ({len(body)} chars)")
        lines.append(f"    ours  ={mine}")
        lines.append(f"    oracle={oracle}")
    return mismatches, "\n".join(lines)


def test_it_agrees_with_twilios_calculator_on_a_generated_corpus():
    require_oracle()
    corpus = generated_corpus()

    mismatches, report = mismatch_report(corpus, oracle_verdicts())

    assert not mismatches, report


def test_the_corpus_exercises_both_encodings_and_several_segment_counts():
    analyses = [sms_analyze(body) for body in generated_corpus()]
    encodings = {analysis.encoding for analysis in analyses}
    segment_counts = {analysis.segments for analysis in analyses}

    assert encodings == {"GSM-7", "UCS-2"}
    assert {1, 2, 3, 4} <= segment_counts


def test_its_gsm_alphabet_is_twilios():
    require_oracle()

    mismatches, report = mismatch_report(ALPHABET_PROBES, oracle_verdicts())

    assert not mismatches, report


@pytest.mark.parametrize(("body", "expected", "oracle"), KNOWN_DIVERGENCES)
def test_known_divergences_from_the_oracle(body, expected, oracle):
    require_oracle()
    analysis = sms_analyze(body)
    verdict = oracle_verdicts()[body]

    assert (analysis.segments, analysis.characters) == expected
    assert (verdict["segments"], verdict["characters"]) == oracle
    assert analysis.encoding == verdict["encoding"] == "UCS-2"
