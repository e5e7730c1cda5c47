"""Reading a reply as people type it: sentences of words, with typos, spaced-out letters,
the stop-sign emoji and phone signatures undone, and a note of what was undone."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property, lru_cache

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
# An iPhone reaction to our text arrives as a text quoting it ('Liked "… Reply STOP to opt
# out"'); Google Messages sends 'Reacted 👍 to "…"'. The quote is our words, not theirs.
_REACTION = re.compile(
    r"\s*(liked|loved|laughed at|emphasi[sz]ed|questioned|disliked|reacted \S+ to|"
    r"removed an? \S+ from) [\"\u201c\u201d].*[\"\u201c\u201d]\s*",
    re.DOTALL,
)
# Cyrillic and Greek letters that look like Latin ones ("SТОР" with a Cyrillic ТОР).
_CONFUSABLES = str.maketrans(
    "\u0430\u0435\u043e\u0440\u0441\u0442\u0443\u0445\u0455\u0456\u0458\u043d\u043a\u0432\u043c"
    "\u03bf\u03c1\u03c4\u03b5\u03ba\u03bd\u03b9",
    "aeopctyxsijhkbmoptekvi",
)
_LINK = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
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
    question: bool  # opens like a question ("what does ...", "if I reply ...")

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


@dataclass(frozen=True)
class Reading:
    sentences: tuple[Sentence, ...]
    signature: bool  # a phone signature ("Sent from my iPhone") was cut off
    reaction: str = ""  # the reaction ("liked") when the reply is a reaction to our text

    @property
    def words(self) -> list[Word]:
        return [word for line in self.sentences for word in line.words if word.text != COMMA]


def normalise(body: str) -> str:
    """Case-folded, accent-free text with punctuation and emoji reduced to single spaces."""
    return " ".join(_NON_WORD.sub(" ", _plain(body)).replace("_", " ").split())


def read(body: str) -> Reading:
    """The reply as sentences of canonical words."""
    marked = body.replace(tables.STOP_EMOJI, f" {_EMOJI_SENTINEL} ").replace("#", " number ")
    plain = _plain(_LINK.sub(" ", marked))
    if reaction := _REACTION.fullmatch(plain):
        # The verb only: the emoji in "reacted 👍 to" may be anything the sender sent.
        return Reading(sentences=(), signature=False, reaction=reaction.group(1).split()[0])
    unsigned = _SIGNATURE.sub("", plain)
    unspaced = _SPACED.sub(_unspace, unsigned)
    sentences = tuple(
        sentence
        for found in _SENTENCES.finditer(unspaced)
        if (sentence := _sentence(found.group(0))) is not None
    )
    return Reading(sentences=sentences, signature=unsigned != plain)


@lru_cache(maxsize=4096)
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
    """Case-folded and accent-free, without invisible characters (zero-width spaces,
    joiners, soft hyphens, NUL and other controls, lone surrogates), which would otherwise
    split "S\u200bTOP" or "S\x00TOP" in two."""
    # Decomposed before and after case-folding: "𝐒𝐓𝐎𝐏" only becomes "STOP" by decomposing.
    folded = unicodedata.normalize("NFKD", body).casefold().translate(_APOSTROPHES)
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(
        char for char in decomposed if not unicodedata.combining(char) and not _invisible(char)
    )


def _invisible(char: str) -> bool:
    category = unicodedata.category(char)
    return category in ("Cf", "Cs") or (category == "Cc" and char not in "\n\r\t")


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
    opener = next((w.text for w in words if w.text not in tables.LEAD_INS | {COMMA}), "")
    return Sentence(words=tuple(words), question=opener in tables.QUESTION_OPENERS)


def _word(token: str) -> Word:
    if token == _EMOJI_SENTINEL:
        return Word(text="stop", typed=tables.STOP_EMOJI, how=EMOJI)
    if token.startswith(_SPACED_SENTINEL):
        letters = token.removeprefix(_SPACED_SENTINEL)
        return Word(text=canonical(letters), typed=" ".join(letters), how=SPACED_LETTERS)
    text = canonical(_latin(token))
    return Word(text=text, typed=token, how=TYPED if text == token else MISSPELLING)


def _latin(token: str) -> str:
    """A word typed with look-alike letters, read in Latin when that is all it takes."""
    if token.isascii():
        return token
    latin = token.translate(_CONFUSABLES)
    return latin if latin.isascii() else token


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
    return word[:1] == "u" and 9 <= len(word) <= 13 and _distance(word, "unsubscribe") <= 2


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
