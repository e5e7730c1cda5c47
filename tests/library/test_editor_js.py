"""The editor's JavaScript counts exactly like encoding.py.

static/cue/template_editor.js ports encoding.py so the marketer sees segments as they
type. Both are fed the same few hundred generated messages (through node, via
tests/library/run_template_editor.js) and must agree on every figure, every segment cut,
the replacements offered and when the swap is worth offering.
"""

import json
import os
import random
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from apps.library import encoding
from apps.library.encoding import (
    GSM_REPLACEMENTS,
    gsm_normalize,
    gsm_replacements,
    sms_analyze,
    sms_segments,
)
from apps.library.preview import replacement_helps

RUNNER = Path(__file__).with_name("run_template_editor.js")


def node() -> str:
    """The node binary; skip without it, except on CI (CI=true), where that fails."""
    found = shutil.which("node")
    if found is None:
        message = "node is not on PATH, so the editor's JavaScript cannot be checked."
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def run_editor(bodies: list[str]) -> list[dict]:
    stdin = "".join(json.dumps(body) + "\n" for body in bodies).encode()
    done = subprocess.run(
        [node(), str(RUNNER)], input=stdin, capture_output=True, timeout=60, check=True
    )
    # Bytes, split on LF only: U+2028 and U+2029 travel raw inside JSON strings.
    return [json.loads(line) for line in done.stdout.decode().split("\n") if line]


def python_figures(body: str) -> dict:
    analysis = sms_analyze(body)
    return {
        "encoding": analysis.encoding,
        "segments": analysis.segments,
        "characters": analysis.characters,
        "unitsUsed": analysis.units_used,
        "unitsPerSegment": analysis.units_per_segment,
        "nonGsmCharacters": list(analysis.non_gsm_characters),
        "unitsRemaining": analysis.units_remaining,
        "segmentTexts": list(sms_segments(body)),
        "replacements": [list(item) for item in gsm_replacements(body).items()],
        "normalized": gsm_normalize(body),
        "replacementHelps": replacement_helps(body),
    }


# --- generated messages ---------------------------------------------------------------

GSM = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,!?'\"@£$¥èéÄÖÑÜ§¿àΔ_")
EXTENSION = list("^{}\\[~]|€\f")
TYPOGRAPHY = list(GSM_REPLACEMENTS)
ACCENTED = ["á", "í", "ç", "ã", "ê", "ł", "ś", "ğ", "e\u0301", "n\u0303", "a\u0308\u0301"]
SCRIPTS = [
    "中",
    "文",
    "Ж",
    "α",
    "ש",
    "ع",
    "नमस्ते",
    "क्षि",
    "안녕",
    "\u1100\u1161\u11a8",
    "สวัสดี",
    "ำ",
    "ຳ",
]
EMOJI = [
    "😜", "🚀", "❤", "❤️", "👍🏽", "🇺🇸", "🇬🇧", "🇺", "1️⃣", "#️⃣", "👨‍👩‍👧‍👦", "👩‍❤️‍💋‍👨",
    "🏳️‍🌈", "🙋🏽‍♀️", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "\u200d", "©", "™",
]  # fmt: skip
CONTROLS = ["\n", "\r", "\r\n", "\u200b", "\u00ad", "\u0600", "\U000110bd"]
STACKED = ["e" + "\u0301" * 80, "aa" + "\U0001d165" * 40]
BOUNDARIES = (66, 67, 68, 69, 70, 71, 133, 134, 135, 152, 153, 154, 159, 160, 161, 306, 307)


def assigned_bmp_characters(rng: random.Random, count: int) -> list[str]:
    """Random characters that Python's Unicode database knows (so both sides classify
    them alike; newer assignments may differ between Python and node releases)."""
    found: list[str] = []
    while len(found) < count:
        char = chr(rng.randrange(0xA0, 0xFFFF))
        if unicodedata.category(char) not in ("Cn", "Cs", "Co"):
            found.append(char)
    return found


def generated_messages(seed: int = 20_260_311, count: int = 400) -> list[str]:
    rng = random.Random(seed)
    profiles = [
        (GSM, []),
        (GSM, EXTENSION),
        (GSM, TYPOGRAPHY),
        (GSM, ACCENTED + EMOJI),
        (GSM + EXTENSION, SCRIPTS + EMOJI + CONTROLS),
        (SCRIPTS + EMOJI, ACCENTED + CONTROLS + TYPOGRAPHY),
        (GSM, assigned_bmp_characters(rng, 300)),
    ]
    messages = []
    for index in range(count):
        base, extra = profiles[index % len(profiles)]
        length = rng.choice(BOUNDARIES) + rng.randint(-3, 3) if index % 3 else rng.randint(0, 40)
        share = rng.choice([0.0, 0.02, 0.1, 0.5]) if extra else 0.0
        tokens = [
            rng.choice(extra) if extra and rng.random() < share else rng.choice(base)
            for _ in range(max(length, 0))
        ]
        messages.append("".join(tokens))
    return messages + ["", " ", *STACKED, "…" * 70, "It’s " + "a" * 100, "a" * 152 + "{a"]  # noqa: RUF005


def test_the_editor_counts_every_generated_message_like_encoding_py():
    bodies = generated_messages()
    assert len(bodies) > 400

    from_js = run_editor(bodies)

    assert len(from_js) == len(bodies)
    mismatches = [
        (body, js, python_figures(body))
        for body, js in zip(bodies, from_js, strict=True)
        if js != python_figures(body)
    ]
    assert mismatches == []


def test_the_editor_carries_the_same_tables_as_encoding_py():
    done = subprocess.run(
        [node(), str(RUNNER), "tables"], capture_output=True, text=True, encoding="utf-8",
        timeout=60, check=True,
    )  # fmt: skip
    tables = json.loads(done.stdout)

    assert set(tables["basic"]) == set(encoding.GSM_BASIC_CHARACTERS)
    assert set(tables["extension"]) == set(encoding.GSM_EXTENSION_CHARACTERS)
    assert tables["replacements"] == GSM_REPLACEMENTS
    assert {name: [tuple(r) for r in ranges] for name, ranges in tables["ranges"].items()} == {
        "prepend": list(encoding._PREPEND_RANGES),
        "otherExtend": list(encoding._OTHER_EXTEND_RANGES),
        "notSpacingMark": list(encoding._NOT_SPACING_MARK_RANGES),
        "extendedPictographic": list(encoding._EXTENDED_PICTOGRAPHIC_RANGES),
    }
