"""The answer the classifier gives: what a reply is, and which rule said so."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from apps.sends.keywords.tables import NONE


class Rule(StrEnum):
    """Which rule decided a classification; stored on the inbound message."""

    KEYWORD = "keyword"
    CUSTOM = "custom"
    MISSPELLING = "misspelling"
    SPACED_LETTERS = "spaced_letters"
    EMOJI = "emoji"
    PHRASE = "phrase"
    PER_SE_WORD = "per_se_word"
    NEGATION = "negation"
    BENIGN_USE = "benign_use"
    FOOTER_QUESTION = "footer_question"
    RHETORICAL_QUESTION = "rhetorical_question"
    REACTION = "reaction"


RULE_CHOICES = [
    (Rule.KEYWORD.value, "Taken: the reply is a keyword"),
    (Rule.CUSTOM.value, "Taken: the account's custom keyword"),
    (Rule.MISSPELLING.value, "Taken: a misspelt opt-out word"),
    (Rule.SPACED_LETTERS.value, "Taken: an opt-out word spelt out letter by letter"),
    (Rule.EMOJI.value, "Taken: the stop-sign emoji"),
    (Rule.PHRASE.value, "Taken: a revocation phrase"),
    (Rule.PER_SE_WORD.value, "Taken: a per se opt-out word in a sentence"),
    (Rule.NEGATION.value, "Not taken: the opt-out word is negated"),
    (Rule.BENIGN_USE.value, "Not taken: a benign use of the word"),
    (Rule.FOOTER_QUESTION.value, "Not taken: a question quoting our footer"),
    (Rule.RHETORICAL_QUESTION.value, "Not taken: a rhetorical question"),
    (Rule.REACTION.value, "Not taken: a reaction quoting our message"),
]


@dataclass(frozen=True)
class KeywordMatch:
    """How an inbound reply was classified, and why.

    ``kind`` is one of "opt_out", "opt_in", "help", "confirm" or "none". ``keyword`` is the
    matched keyword in upper case ("STOP", "PARA") or, for a phrase, the phrase as
    normalised ("stop texting me"); empty when nothing was taken. ``free_text`` is False only
    when the whole reply is exactly one standard or custom keyword. ``rule`` says which rule
    decided (empty when nothing in the reply bore on it), ``language`` the language of the
    word or phrase, and ``detail`` the words involved, for a person to read. A reply *not*
    taken as an opt-out although it holds a per se word has kind "none" and the rule that
    set the word aside (negation, benign use, footer or rhetorical question).
    """

    kind: str
    keyword: str
    free_text: bool
    rule: str = ""
    language: str = ""
    detail: str = ""


NO_MATCH = KeywordMatch(kind=NONE, keyword="", free_text=False)
