"""Classify inbound SMS replies: opt-out, opt-in, help, or confirmation of a double opt-in,
and say which rule decided it, so that compliance can read why a reply was or wasn't taken
as an opt-out. Pure Python, no database: it runs inside the inbound webhook.

The layers, first match wins:

1. Keywords. A reply made only of keywords (STOP, START, HELP, YES, PARA, ...) and politeness
   fillers ("stop please", "STOP!!!", "Basta ya", "🛑") is classified by its strongest keyword.
   Only a reply that is exactly one standard keyword is ``free_text=False``: that is the form
   carriers and Twilio's own opt-out handling recognise, so anything else is Cue's to act on.
2. An account's multi-word custom keyword making up the reply ("SIGN ME UP").
3. Free-text revocation phrases in six languages ("stop texting me", "not my number",
   "no más mensajes"), unless a negation right before them turns them around.
4. A per se word (stop, quit, end, revoke, opt out, cancel, unsubscribe, stopall; 47 CFR
   64.1200(a)(10)) used as a word anywhere in the reply, unless it is clearly not a request:
   negated ("don't stop"), a benign use ("stop by at 3", "cancel my 3pm appointment", "end
   of day works"), our own footer quoted inside a question ("what does 'Reply STOP' mean?")
   or a rhetorical "why would I unsubscribe?".

Before any of that, a reply is read as people type it: "Sent from my iPhone" tails are cut,
misspellings are read as the word ("stpo", "unsuscribe", "cancle"), letters spaced out are
joined ("S T O P", "s.t.o.p"), and the stop-sign emoji 🛑 reads as STOP wherever it stands.

Ambiguity. No clarification text is sent and nothing is held pending one: a per se word that
no benign rule clearly explains is a revocation ("I need to cancel", "I quit", "end it").
The FCC's order resolves doubt in favour of the consumer; the one confirmation text 47 CFR
64.1200(a)(12) allows may ask about the *scope* of a revocation, not whether there was one,
and Cue's confirmation already tells the consumer how to come back (START).
Asking how to leave ("how do I stop these?", "can I reply STOP?") is a request to leave.
"""

from __future__ import annotations

from collections.abc import Mapping

from apps.sends.keywords import tables, text
from apps.sends.keywords.match import NO_MATCH, RULE_CHOICES, KeywordMatch, Rule
from apps.sends.keywords.revocation import revocation_match
from apps.sends.keywords.tables import (
    CONFIRM,
    HELP,
    KINDS,
    NONE,
    OPT_IN,
    OPT_OUT,
    OTHER_KEYWORDS,
    STANDARD_KEYWORDS,
)
from apps.sends.keywords.text import Word, normalise

__all__ = [
    "CONFIRM", "HELP", "KINDS", "NONE", "NO_MATCH", "OPT_IN", "OPT_OUT", "OTHER_KEYWORDS",
    "RULE_CHOICES", "STANDARD_KEYWORDS", "KeywordMatch", "Rule", "custom_keyword_check",
    "keyword_classify", "normalise",
]  # fmt: skip

# When one reply holds several keywords, the first kind here wins: an opt-out must never be
# lost to a keyword that happens to sit beside it.
_KIND_PRECEDENCE = (OPT_OUT, HELP, OPT_IN, CONFIRM)


def keyword_classify(body: str, *, custom: Mapping[str, str] | None = None) -> KeywordMatch:
    """Classify an inbound reply; ``custom`` adds keywords (keyword -> kind) for one account."""
    extra = _normalise_custom(custom or {})
    reading = text.read(body)
    if reading.reaction:
        return KeywordMatch(
            kind=NONE,
            keyword="",
            free_text=False,
            rule=Rule.REACTION,
            detail=f'a reaction ("{reading.reaction}") quoting a message; the quote is ours',
        )
    words = reading.words
    if not words:
        return NO_MATCH
    return (
        _keyword_match(words, extra, exact_possible=not reading.signature)
        or _custom_phrase_match(words, extra)
        or revocation_match(reading.sentences)
        or NO_MATCH
    )


def custom_keyword_check(keyword: str, kind: str) -> None:
    """Raises ValueError when an account may not add this keyword of this kind: no letters,
    an unknown kind, or a built-in opt-out word (or its misspelling) turned into another."""
    _normalise_custom({keyword: kind})


def _normalise_custom(custom: Mapping[str, str]) -> dict[str, str]:
    extra = {}
    for keyword, kind in custom.items():
        key = " ".join(text.merge_compounds(normalise(keyword).split()))
        _check_custom(keyword, key, kind)
        extra[key] = kind
    return extra


def _check_custom(keyword: str, key: str, kind: str) -> None:
    if not key:
        raise ValueError(f"custom keyword {keyword!r} has no letters or digits")
    if kind not in KINDS - {NONE}:
        raise ValueError(f"custom keyword {keyword!r} has unknown kind {kind!r}")
    # An account may add opt-out words but never turn a built-in opt-out into something else.
    if OPT_OUT in (_builtin_kind(key), _builtin_kind(text.canonical(key))) and kind != OPT_OUT:
        raise ValueError(f"{keyword!r} is a built-in opt-out keyword and cannot be remapped")


def _builtin_kind(word: str) -> str | None:
    return STANDARD_KEYWORDS.get(word) or OTHER_KEYWORDS.get(word)


def _word_kind(word: Word, extra: Mapping[str, str]) -> tuple[str, str] | None:
    """(kind, the keyword it is) for a word alone, as typed first, then as read."""
    for spelled in (word.typed, word.text):
        kind = extra.get(spelled) or _builtin_kind(spelled)
        if kind:
            return kind, spelled
    return None


# --- 1. Keywords ------------------------------------------------------------------------


def _keyword_match(
    words: list[Word], extra: Mapping[str, str], *, exact_possible: bool
) -> KeywordMatch | None:
    """A reply made only of keywords and fillers, classified by its strongest keyword."""
    keywords = [word for word in words if word.text not in tables.FILLERS]
    found = [_word_kind(word, extra) for word in keywords]
    if not keywords or None in found:
        return None
    kinds = [kind for kind, _ in found]
    kind = next(kind for kind in _KIND_PRECEDENCE if kind in kinds)
    index = kinds.index(kind)
    word, keyword = keywords[index], found[index][1]
    exact = exact_possible and len(words) == 1 and word.how == text.TYPED
    exact = exact and (keyword in STANDARD_KEYWORDS or keyword in extra)
    return KeywordMatch(
        kind=kind,
        keyword=keyword.upper(),
        free_text=not exact,
        rule=_keyword_rule(word, keyword, extra),
        language="" if keyword in extra else tables.KEYWORD_LANGUAGE.get(keyword, "en"),
        detail=_keyword_detail(words, word, keyword),
    )


def _keyword_rule(word: Word, keyword: str, extra: Mapping[str, str]) -> str:
    if keyword in extra:
        return Rule.CUSTOM
    read = word.how != text.TYPED and keyword == word.text
    return Rule(word.how) if read else Rule.KEYWORD


def _keyword_detail(words: list[Word], word: Word, keyword: str) -> str:
    read_as = "" if word.typed == keyword else f' ("{word.typed}" read as {keyword.upper()})'
    if len(words) == 1:
        return f"the reply is the keyword {keyword.upper()}{read_as}"
    reply = " ".join(item.typed for item in words)
    return f'keyword {keyword.upper()}{read_as} in "{reply}", keywords and fillers only'


def _custom_phrase_match(words: list[Word], extra: Mapping[str, str]) -> KeywordMatch | None:
    """A multi-word custom keyword ("SIGN ME UP") making up the reply, fillers around it aside."""
    typed = [word.typed for word in words]
    whole = " ".join(typed)
    trimmed = " ".join(_trim_fillers(typed))
    for phrase in (whole, trimmed):
        if phrase in extra:
            return KeywordMatch(
                kind=extra[phrase],
                keyword=phrase.upper(),
                free_text=phrase != whole,
                rule=Rule.CUSTOM,
                detail=f'the reply is the custom keyword "{phrase}"',
            )
    return None


def _trim_fillers(words: list[str]) -> list[str]:
    start, end = 0, len(words)
    while start < end and words[start] in tables.FILLERS:
        start += 1
    while end > start and words[end - 1] in tables.FILLERS:
        end -= 1
    return words[start:end]
