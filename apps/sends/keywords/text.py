"""Reading a reply as people type it: sentences of words, with typos, spaced-out letters,
the stop-sign emoji and phone signatures undone, and a note of what was undone."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property

from apps.sends.keywords import tables

# How a word came to be read as it is: as typed, or undone from one of these (each named
# as the classifier's Rule that reports it).
TYPED = ""
MISSPELLING = "misspelling"
SPACED_LETTERS = "spaced_letters"
EMOJI = "emoji"

COMMA = ","  # a clause boundary inside a sentence: negation never reaches across it

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
_NON_WORD = re.compile(r"[^\w']+")
_WORDS = re.compile(r"[\w']+|,")
_SENTENCES = re.compile(r"[^.!?;:\n]+[.!?;:\n]*")
# Sentinels carry what was undone through normalisation; letters only, so they survive it.
_EMOJI_SENTINEL = "zqemojistop"
_SPACED_SENTINEL = "zqspaced"
_SPACED = re.compile(r"\b[a-z](?:[\s.\-*_/]+[a-z]\b){2,}")
_STOP_DOUBLED = re.compile(r"s+t+o+p+")
_SIGNATURE = re.compile(
    r"(?:^|(?<=[\s.!?,;]))(?:sent from my (?:iphone|ipad|android|samsung|galaxy|mobile|phone|"
    r"smartphone|verizon|t-mobile|sprint|pixel|htc|lg|motorola|blackberry|google|huawei|"
    r"oneplus|cell)|sent (?:from|via|with) (?:yahoo|aol|gmail|outlook|my mobile)|"
    r"get outlook for (?:ios|android))\b.*",
    re.DOTALL,
)


@dataclass(frozen=True)
class Word:
    """One word as read (``text``), as typed (``typed``), and how the one became the other."""

    text: str
    typed: str
    how: str = TYPED


@dataclass(frozen=True)
class Sentence:
    words: tuple[Word, ...]
    question: bool

    @cached_property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)

    @cached_property
    def starts(self) -> tuple[int, ...]:
        offsets, at = [], 0
        for word in self.words:
            offsets.append(at)
            at += len(word.text) + 1
        return tuple(offsets)

    def word_at(self, offset: int) -> int:
        """The index of the word a character offset of ``text`` falls in."""
        return bisect_right(self.starts, offset) - 1

    @property
    def opener(self) -> str:
        return self.words[0].text


@dataclass(frozen=True)
class Reading:
    sentences: tuple[Sentence, ...]
    signature: bool  # a phone signature ("Sent from my iPhone") was cut off

    @property
    def words(self) -> list[Word]:
        return [word for line in self.sentences for word in line.words if word.text != COMMA]


def normalise(body: str) -> str:
    """Case-folded, accent-free text with punctuation and emoji reduced to single spaces."""
    return " ".join(_NON_WORD.sub(" ", _plain(body)).replace("_", " ").split())


def read(body: str) -> Reading:
    """The reply as sentences of canonical words."""
    plain = _plain(body.replace(tables.STOP_EMOJI, f" {_EMOJI_SENTINEL} ").replace("#", " number "))
    unsigned = _SIGNATURE.sub("", plain)
    unspaced = _SPACED.sub(_unspace, unsigned)
    sentences = tuple(
        sentence
        for found in _SENTENCES.finditer(unspaced)
        if (sentence := _sentence(found.group(0))) is not None
    )
    return Reading(sentences=sentences, signature=unsigned != plain)


def canonical(word: str) -> str:
    """The word a typed word stands for ("stpo" -> "stop"), or the word itself."""
    if word in tables.STANDARD_KEYWORDS or word in tables.PER_SE_WORDS:
        return word
    if word in tables.MISSPELLINGS:
        return tables.MISSPELLINGS[word]
    if _STOP_DOUBLED.fullmatch(word):
        return "stop"
    if _near_unsubscribe(word):
        return "unsubscribe"
    return word


def merge_compounds(words: list[str]) -> list[str]:
    merged: list[str] = []
    for word in words:
        pair = (merged[-1], word) if merged else None
        if pair in tables.COMPOUNDS:
            merged[-1] = tables.COMPOUNDS[pair]
        else:
            merged.append(word)
    return merged


def _plain(body: str) -> str:
    decomposed = unicodedata.normalize("NFKD", body.casefold().translate(_APOSTROPHES))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _unspace(found: re.Match[str]) -> str:
    """ "s t o p", "S.T.O.P", "s-t-o-p": joined back when they spell an opt-out word."""
    joined = re.sub(r"[^a-z]", "", found.group(0))
    if canonical(joined) in tables.PER_SE_WORDS:
        return f" {_SPACED_SENTINEL}{joined} "
    return found.group(0)


def _sentence(raw: str) -> Sentence | None:
    typed = [token.strip("'") for token in _WORDS.findall(raw.replace("_", " "))]
    words = _trim_commas([_word(token) for token in merge_compounds([t for t in typed if t])])
    if not words:
        return None
    question = "?" in raw or words[0].text in tables.QUESTION_OPENERS
    return Sentence(words=tuple(words), question=question)


def _word(token: str) -> Word:
    if token == _EMOJI_SENTINEL:
        return Word(text="stop", typed=tables.STOP_EMOJI, how=EMOJI)
    if token.startswith(_SPACED_SENTINEL):
        letters = token.removeprefix(_SPACED_SENTINEL)
        return Word(text=canonical(letters), typed=" ".join(letters), how=SPACED_LETTERS)
    text = canonical(token)
    return Word(text=text, typed=token, how=TYPED if text == token else MISSPELLING)


def _trim_commas(words: list[Word]) -> list[Word]:
    kept: list[Word] = []
    for word in words:
        if word.text == COMMA and (not kept or kept[-1].text == COMMA):
            continue
        kept.append(word)
    while kept and kept[-1].text == COMMA:
        kept.pop()
    return kept


def _near_unsubscribe(word: str) -> bool:
    """Within two edits of "unsubscribe" and starting with "u" (so never "subscribe")."""
    return word[:1] == "u" and 8 <= len(word) <= 14 and _distance(word, "unsubscribe") <= 2


def _distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]
