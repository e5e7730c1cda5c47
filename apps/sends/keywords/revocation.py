"""Revocations inside sentences: free-text phrases first, then a per se word anywhere, each
unless something clearly sets it aside (a negation, a benign use, our footer quoted in a
question, a rhetorical "why would I unsubscribe?")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from apps.sends.keywords import tables, text
from apps.sends.keywords.match import KeywordMatch, Rule
from apps.sends.keywords.tables import NONE, OPT_OUT
from apps.sends.keywords.text import Sentence

_PHRASES = tuple(
    (language, re.compile(pattern), negatable)
    for language, pattern, negatable in tables.REVOCATION_PHRASES
)
_BENIGN = tuple((re.compile(pattern), why) for pattern, why in tables.BENIGN_USES)
_FOOTER = tuple(re.compile(pattern) for pattern in tables.FOOTER_QUOTES)
_WANTING = re.compile(tables.WANTING_TO_SEND)
_RHETORICAL = tuple(re.compile(pattern) for pattern in tables.RHETORICAL_QUESTIONS)
_DETAIL_LIMIT = 300


@dataclass(frozen=True)
class _Finding:
    """A revocation found in a sentence, and what sets it aside (if anything)."""

    keyword: str
    rule: str
    language: str
    detail: str
    excuse: str = ""  # a Rule that sets it aside
    why: str = ""

    def taken(self) -> KeywordMatch:
        return KeywordMatch(
            kind=OPT_OUT,
            keyword=self.keyword,
            free_text=True,
            rule=self.rule,
            language=self.language,
            detail=self.detail[:_DETAIL_LIMIT],
        )

    def set_aside(self) -> KeywordMatch:
        return KeywordMatch(
            kind=NONE,
            keyword="",
            free_text=False,
            rule=self.excuse,
            language=self.language,
            detail=f"{self.detail}; not taken: {self.why}"[:_DETAIL_LIMIT],
        )


def revocation_match(sentences: tuple[Sentence, ...]) -> KeywordMatch | None:
    """The first revocation nothing sets aside; else, if something was set aside, why."""
    set_aside: _Finding | None = None
    for finder in (_phrases, _per_se_words):
        for sentence in sentences:
            for finding in finder(sentence):
                if not finding.excuse:
                    return finding.taken()
                set_aside = set_aside or finding
    return set_aside.set_aside() if set_aside else None


def _phrases(sentence: Sentence) -> Iterator[_Finding]:
    for language, pattern, negatable in _PHRASES:
        for found in pattern.finditer(sentence.text):
            first = sentence.word_at(found.start())
            last = sentence.word_at(found.end() - 1)
            excuse = _quoted(sentence, first, last) or (
                _negated(sentence, first, found.group(0).split()[0]) if negatable else None
            )
            yield _Finding(
                keyword=found.group(0),
                rule=Rule.PHRASE,
                language=language,
                detail=f'phrase "{found.group(0)}" in "{sentence.text}"',
                **_excuse_fields(excuse),
            )


def _per_se_words(sentence: Sentence) -> Iterator[_Finding]:
    for index, word in enumerate(sentence.words):
        if word.text not in tables.PER_SE_WORDS:
            continue
        excuse = (
            _quoted(sentence, index, index)
            or _benign(sentence, index)
            or _negated(sentence, index, word.text)
        )
        typed = "" if word.how == text.TYPED else f' (typed "{word.typed}")'
        yield _Finding(
            keyword=word.text.upper(),
            rule=Rule(word.how) if word.how != text.TYPED else Rule.PER_SE_WORD,
            language="en",
            detail=f'per se word {word.text.upper()}{typed} in "{sentence.text}"',
            **_excuse_fields(excuse),
        )


def _excuse_fields(excuse: tuple[str, str] | None) -> dict[str, str]:
    return {"excuse": excuse[0], "why": excuse[1]} if excuse else {}


def _quoted(sentence: Sentence, first: int, last: int) -> tuple[str, str] | None:
    """Words inside our footer quoted in a question, or a rhetorical "why would I ...?"."""
    for pattern in _RHETORICAL:
        if span := _covering(pattern, sentence, first, last):
            return Rule.RHETORICAL_QUESTION, f'rhetorical question "{span}"'
    if not sentence.question:
        return None
    if tables.COMPLAINT_WORDS.intersection(word.text for word in sentence.words):
        return None
    if _WANTING.search(sentence.text):
        return None
    for pattern in _FOOTER:
        if span := _covering(pattern, sentence, first, last):
            return Rule.FOOTER_QUESTION, f'asks about the footer "{span}"'
    return None


def _benign(sentence: Sentence, index: int) -> tuple[str, str] | None:
    for pattern, why in _BENIGN:
        if span := _covering(pattern, sentence, index, index):
            return Rule.BENIGN_USE, f'"{span}" is {why}'
    return None


def _covering(pattern: re.Pattern[str], sentence: Sentence, first: int, last: int) -> str:
    """The text of a match of ``pattern`` that covers words ``first`` to ``last``, or ""."""
    for found in pattern.finditer(sentence.text):
        if sentence.word_at(found.start()) <= first and sentence.word_at(found.end() - 1) >= last:
            return found.group(0)
    return ""


def _negated(sentence: Sentence, index: int, word: str) -> tuple[str, str] | None:
    """A negation a few bridging words before ("don't stop", "not going to unsubscribe"),
    not itself part of a demand ("why don't you stop")."""
    words = [item.text for item in sentence.words]
    at = index - 1
    bridge = tables.NEGATION_BRIDGE
    while at >= 0 and index - 1 - at < tables.NEGATION_BRIDGE_MAX and words[at] in bridge:
        at -= 1
    if at < 0 or not _turns(words, at, index, word):
        return None
    if tables.RHETORICAL.intersection(words[max(0, at - 2) : at]):
        return None
    return Rule.NEGATION, f'negated by "{" ".join(words[at : index + 1])}"'


def _turns(words: list[str], at: int, index: int, word: str) -> bool:
    if words[at] in tables.NEGATIONS:
        return True
    following = words[index + 1] if index + 1 < len(words) else ""
    return (
        words[at] in tables.INABILITY
        and word in tables.INABILITY_TURNS
        and following not in tables.MESSAGE_OBJECTS
    )
