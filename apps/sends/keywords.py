"""Classify inbound SMS replies: opt-out, opt-in, help, or confirmation of a double opt-in.

Two layers:

* Keywords. A reply made only of keywords (STOP, START, HELP, YES, ...) and politeness fillers
  ("stop please", "STOP!!!", "Basta ya") is classified by its strongest keyword. Only a reply
  that is exactly one standard keyword is ``free_text=False``; that is the form carriers and
  Twilio's own opt-out handling recognise, so anything else must be acted on by Cue itself.
* Free-text revocation. Since the FCC's 2024 consent-revocation order, consent may be revoked
  "by any reasonable means", so clear phrases like "stop texting me" or "no más mensajes" are
  opt-outs wherever they occur in the message, unless a negation right before them ("don't
  stop texting me") turns them around.

Keywords alone never match inside a longer sentence ("can we stop by your booth", "what time
does it start?"), which keeps benign replies out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

OPT_OUT = "opt_out"
OPT_IN = "opt_in"
HELP = "help"
CONFIRM = "confirm"
NONE = "none"
KINDS = frozenset({OPT_OUT, OPT_IN, HELP, CONFIRM, NONE})

# When one reply holds several keywords, the first kind here wins: an opt-out must never be
# lost to a keyword that happens to sit beside it.
_KIND_PRECEDENCE = (OPT_OUT, HELP, OPT_IN, CONFIRM)

STANDARD_KEYWORDS: Mapping[str, str] = {
    "stop": OPT_OUT,
    "stopall": OPT_OUT,
    "unsubscribe": OPT_OUT,
    "cancel": OPT_OUT,
    "end": OPT_OUT,
    "quit": OPT_OUT,
    "optout": OPT_OUT,
    "revoke": OPT_OUT,
    "start": OPT_IN,
    "unstop": OPT_IN,
    # YES confirms a pending double opt-in; where no confirmation is pending it re-subscribes.
    "yes": CONFIRM,
    "help": HELP,
    "info": HELP,
}

# Single-word replies outside the carrier keyword set that still clearly mean the same thing.
# Opt-in and confirmation stay English-only on purpose: consent must be explicit.
OTHER_KEYWORDS: Mapping[str, str] = {
    "unsub": OPT_OUT,
    "para": OPT_OUT,
    "parar": OPT_OUT,
    "pare": OPT_OUT,
    "alto": OPT_OUT,
    "basta": OPT_OUT,
    "cancelar": OPT_OUT,
    "cancela": OPT_OUT,
    "baja": OPT_OUT,
    "fin": OPT_OUT,
    "sair": OPT_OUT,
    "arret": OPT_OUT,
    "arrete": OPT_OUT,
    "arretez": OPT_OUT,
    "annuler": OPT_OUT,
    "stopp": OPT_OUT,
    "abmelden": OPT_OUT,
    "abbestellen": OPT_OUT,
    "aufhoren": OPT_OUT,
    "ayuda": HELP,
    "aide": HELP,
    "hilfe": HELP,
    "ajuda": HELP,
}

# Two-word spellings of one keyword ("opt out", "OPT-OUT", "stop all").
_COMPOUNDS: Mapping[tuple[str, str], str] = {
    ("opt", "out"): "optout",
    ("stop", "all"): "stopall",
}

# Words that may surround a keyword without changing what the reply asks for.
_FILLERS = frozenset(
    {
        "please", "pls", "plz", "now", "thanks", "thank", "you", "thx", "ty", "asap",
        "immediately", "already", "ok", "okay", "me", "por", "favor", "gracias", "ya",
        "merci", "bitte", "danke", "obrigado", "obrigada",
    }
)  # fmt: skip

_NEGATIONS = frozenset(
    {"not", "never", "dont", "don't", "didnt", "didn't", "wont", "won't", "shouldnt", "shouldn't"}
)
# "why don't you stop texting me" is a demand, not a negation.
_RHETORICAL = frozenset({"why"})
_NEGATION_REACH = 3

_TEXTS = r"(?:texts?|txts?|messages?|msgs?|sms|spam|promos?|ads)"
_OBJECT = rf"(?:me|us|this number|my (?:phone|number|cell)|these|those|them|{_TEXTS})"
_POLITE_TAIL = r"(?: (?:please|pls|plz|now|thanks|thank you|ok|asap|already|immediately))*"

# (pattern, whether a negation right before it cancels it)
_REVOCATION_PHRASES: tuple[tuple[str, bool], ...] = (
    # English
    (rf"\bstop (?:texting|txting|messaging|sending|contacting|spamming)(?: {_OBJECT}\b|"
     rf"{_POLITE_TAIL}$)", True),
    (rf"\b(?:stop|cancel|end) (?:all |the |these |those |your |ur |my |this )?"
     rf"(?:{_TEXTS}|subscription|alerts|text alerts)\b", True),
    (rf"\bstop (?:it|this|that){_POLITE_TAIL}$", True),
    (r"\b(?:do not|don'?t|never) (?:text|txt|message|msg|sms|contact|spam) (?:me|us)\b", False),
    (rf"\b(?:do not|don'?t|never) send (?:me|us) (?:any )?(?:more )?{_TEXTS}\b", False),
    (rf"\bno more {_TEXTS}\b", True),
    (r"\b(?:take|remove|delete|drop|unsubscribe|unenroll) (?:me|my number|us) (?:off|from)\b",
     True),
    (r"\bremove (?:me|my number)\b", True),
    (r"\bunsub(?:scribe)?(?: me)?\b", True),
    (r"\bopt (?:me )?out\b", True),
    (r"\bleave me alone\b", True),
    (r"\bwrong (?:number|person)\b", False),
    (r"\bsaid stop\b", False),
    # Spanish
    (r"\bno (?:me )?(?:envie|envien|envies|mande|manden|mandes|escriba|escriban|escribas) "
     r"mas\b", False),
    (r"\bno mas (?:mensajes|textos|sms)\b", False),
    (r"\b(?:deja|dejen|deje|para|paren|pare|parem) de (?:enviar|mandar|escribir|contactar)",
     True),
    (r"\b(?:darme|dame|darse|denme|doy|dar) de baja\b", True),
    (r"\b(?:ya )?no (?:quiero|deseo) (?:recibir )?(?:mas )?(?:mensajes|textos|sms)\b", False),
    (r"\bnumero equivocado\b", False),
    # French
    (r"\barret(?:ez|e|er)? (?:de )?(?:m'|me )?(?:envoyer|ecrire|contacter)\b", True),
    (r"\bne (?:m'|me )(?:envoyez|ecrivez|contactez|envoie|ecris) plus\b", False),
    (r"\bplus de (?:messages|sms|textos)\b", True),
    (r"\b(?:desabonnez|desinscrivez|desabonner|desinscrire)\b", True),
    (r"\bmauvais numero\b", False),
    # German
    (r"\bkeine (?:sms|nachrichten|textnachrichten|werbung) mehr\b", False),
    (r"\bhor(?:en sie| bitte)? auf\b", True),
    (r"\b(?:abmelden|abbestellen|austragen)\b", True),
    (r"\bfalsche nummer\b", False),
    # Portuguese
    (r"\bnao (?:quero|desejo) (?:receber )?mais (?:mensagens|sms|textos)\b", False),
    (r"\bnao me (?:mande|mandem|envie|enviem) mais\b", False),
    (r"\bnumero errado\b", False),
    # Italian
    (r"\bnon (?:voglio|desidero) (?:ricevere )?piu (?:messaggi|sms)\b", False),
    (r"\b(?:cancellami|disiscrivimi)\b", True),
)  # fmt: skip

_COMPILED_PHRASES = tuple(
    (re.compile(pattern), negatable) for pattern, negatable in _REVOCATION_PHRASES
)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
_NON_WORD = re.compile(r"[^\w']+")


@dataclass(frozen=True)
class KeywordMatch:
    """How an inbound reply was classified.

    ``kind`` is one of "opt_out", "opt_in", "help", "confirm" or "none". ``keyword`` is the
    matched keyword in upper case ("STOP", "PARA") or, for a free-text revocation, the matched
    phrase as normalised ("stop texting me"); empty when nothing matched. ``free_text`` is
    False only when the whole reply is exactly one standard or custom keyword.
    """

    kind: str
    keyword: str
    free_text: bool


NO_MATCH = KeywordMatch(kind=NONE, keyword="", free_text=False)


def keyword_classify(body: str, *, custom: Mapping[str, str] | None = None) -> KeywordMatch:
    """Classify an inbound reply; ``custom`` adds keywords (keyword -> kind) for one account."""
    extra = _normalise_custom(custom or {})
    text = normalise(body)
    if not text:
        return NO_MATCH
    tokens = _merge_compounds([token.strip("'") for token in text.split()])
    tokens = [token for token in tokens if token]
    return (
        _keyword_match(tokens, extra)
        or _custom_phrase_match(tokens, extra)
        or _revocation_match(text)
        or NO_MATCH
    )


def normalise(body: str) -> str:
    """Case-folded, accent-free text with punctuation and emoji reduced to single spaces."""
    decomposed = unicodedata.normalize("NFKD", body.casefold().translate(_APOSTROPHES))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_NON_WORD.sub(" ", plain).replace("_", " ").split())


def _normalise_custom(custom: Mapping[str, str]) -> dict[str, str]:
    extra = {}
    for keyword, kind in custom.items():
        key = " ".join(_merge_compounds(normalise(keyword).split()))
        _check_custom(keyword, key, kind)
        extra[key] = kind
    return extra


def _check_custom(keyword: str, key: str, kind: str) -> None:
    if not key:
        raise ValueError(f"custom keyword {keyword!r} has no letters or digits")
    if kind not in KINDS - {NONE}:
        raise ValueError(f"custom keyword {keyword!r} has unknown kind {kind!r}")
    # An account may add opt-out words but never turn a built-in opt-out into something else.
    if _builtin_kind(key) == OPT_OUT and kind != OPT_OUT:
        raise ValueError(f"{keyword!r} is a built-in opt-out keyword and cannot be remapped")


def _merge_compounds(tokens: list[str]) -> list[str]:
    merged: list[str] = []
    for token in tokens:
        pair = (merged[-1], token) if merged else None
        if pair in _COMPOUNDS:
            merged[-1] = _COMPOUNDS[pair]
        else:
            merged.append(token)
    return merged


def _builtin_kind(word: str) -> str | None:
    return STANDARD_KEYWORDS.get(word) or OTHER_KEYWORDS.get(word)


def _word_kind(word: str, extra: Mapping[str, str]) -> str | None:
    return extra.get(word) or _builtin_kind(word)


def _keyword_match(tokens: list[str], extra: Mapping[str, str]) -> KeywordMatch | None:
    """A reply made only of keywords and fillers, classified by its strongest keyword."""
    words = [token for token in tokens if token not in _FILLERS]
    kinds = [_word_kind(word, extra) for word in words]
    if not words or None in kinds:
        return None
    kind = next(kind for kind in _KIND_PRECEDENCE if kind in kinds)
    word = words[kinds.index(kind)]
    exact = len(tokens) == 1 and (word in STANDARD_KEYWORDS or word in extra)
    return KeywordMatch(kind=kind, keyword=word.upper(), free_text=not exact)


def _custom_phrase_match(tokens: list[str], extra: Mapping[str, str]) -> KeywordMatch | None:
    """A multi-word custom keyword ("SIGN ME UP") making up the reply, fillers around it aside."""
    whole = " ".join(tokens)
    trimmed = " ".join(_trim_fillers(tokens))
    for phrase in (whole, trimmed):
        if phrase in extra:
            exact = phrase == whole
            return KeywordMatch(kind=extra[phrase], keyword=phrase.upper(), free_text=not exact)
    return None


def _trim_fillers(tokens: list[str]) -> list[str]:
    start, end = 0, len(tokens)
    while start < end and tokens[start] in _FILLERS:
        start += 1
    while end > start and tokens[end - 1] in _FILLERS:
        end -= 1
    return tokens[start:end]


def _revocation_match(text: str) -> KeywordMatch | None:
    for pattern, negatable in _COMPILED_PHRASES:
        for found in pattern.finditer(text):
            if not (negatable and _is_negated(text[: found.start()])):
                return KeywordMatch(kind=OPT_OUT, keyword=found.group(0), free_text=True)
    return None


def _is_negated(text_before: str) -> bool:
    """Whether one of the few words before a phrase negates it ("don't stop texting me")."""
    recent = text_before.split()[-_NEGATION_REACH:]
    return bool(_NEGATIONS.intersection(recent)) and not _RHETORICAL.intersection(recent)
