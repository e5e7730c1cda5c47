"""What an inbound reply means: positive, negative / not now, a question, or nothing clear.

Phrases (built-in ones here, plus the admin's IntentPhrase rows) are matched as whole words.
Where phrases overlap, the longest wins, so "not interested" is never read as "interested".
Each intent's cues combine like independent evidence (1 − Π(1 − weight)); the strongest
intent wins, and contradicting cues lower the confidence. Opt-outs never get here: the send
pipeline acts on STOP and "stop texting me" first.
"""

import re
from dataclasses import dataclass
from functools import cache

from apps.routing.models import Intent, IntentPhrase

POSITIVE, NEGATIVE, QUESTION, NEUTRAL = (
    Intent.POSITIVE,
    Intent.NEGATIVE,
    Intent.QUESTION,
    Intent.NEUTRAL,
)

_DAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|wed|thu(?:rs?)?|fri)"
_CLOCK = r"\d{1,2}(?::\d{2})?\s?(?:(?:am|pm)\b|a\.m\.|p\.m\.)|\d{1,2}:\d{2}\b|\bnoon\b"
_AT_TIME = (
    r"(?:\s+(?:at|@|around|after|before|morning|afternoon|evening))*"
    rf"(?:\s+(?:{_CLOCK}|\d{{1,2}}))?"
)

# (intent, weight, phrases separated by "|"). A phrase is words; `'` also matches no
# apostrophe ("dont").
_PHRASE_GROUPS: list[tuple[str, float, str]] = [
    # Yes, and the ways people say it.
    (POSITIVE, 0.6, "yes|yeah|yep|yup|ya|y"),
    (POSITIVE, 0.5, "sure|ok|okay|k|fine"),
    (POSITIVE, 0.7, "absolutely|definitely|of course|for sure|i'm available"),
    (POSITIVE, 0.75, "sounds good|sounds great|please do|i'm in|works for me|learn more"),
    (POSITIVE, 0.85, "let's do it|let's talk|let's chat|sign me up"),
    (NEUTRAL, 0.3, "no problem|no worries"),  # longer than "no": not a refusal
    # Wants a person.
    (
        POSITIVE,
        0.9,
        "call me|call me back|give me a call|give us a call|ring me|call back|phone me|"
        "reach out|contact me|text me|email me|talk to someone|speak to someone|"
        "talk to sales|speak with someone|talk to a person|have someone call",
    ),
    (POSITIVE, 0.85, "interested|i'm interested|very interested"),
    (POSITIVE, 0.8, "tell me more|more info|more information|send info|send me more"),
    # Wants to buy or meet.
    (POSITIVE, 0.85, "book|booked|booking|schedule|set up a call"),
    (POSITIVE, 0.8, "meeting|meet|call|chat|trial|free trial"),
    (POSITIVE, 0.9, "demo|a demo|pricing|price|prices|quote"),
    (POSITIVE, 0.9, "cost|costs|how much|what does it cost|rates"),
    # Refusals and "not now".
    (NEGATIVE, 0.7, "no|nope|nah|pass|i'll pass|later"),
    (
        NEGATIVE,
        0.95,
        "not interested|no thanks|no thank you|not now|not right now|not at this time|"
        "not at the moment|not for us|not a fit|no budget|not in the budget|don't need|"
        "do not need|we don't need|don't call|do not call|don't contact|not looking|"
        "no longer|wrong number|not the right person|not a good time|not yet|no need",
    ),
    (
        NEGATIVE,
        0.9,
        "maybe later|maybe next quarter|next quarter|next year|next month|circle back|"
        "check back|reach out later|too busy|busy right now|already have|already use|"
        "already using|went with|all set|we're all set|bad time|not interested right now",
    ),
    # Questions without buying words.
    (QUESTION, 0.8, "who is this|who's this|what is this|who are you"),
    (QUESTION, 0.6, "how does it work|what do you do|is this real"),
    # Politeness on its own says little.
    (NEUTRAL, 0.3, "thanks|thank you|thx|got it|ty|cool|ok thanks|ok thank you|okay thanks"),
]
_PHRASES = [
    (phrase, intent, weight)
    for intent, weight, phrases in _PHRASE_GROUPS
    for phrase in phrases.split("|")
]

# (regular expression, intent, weight): time proposals and question shapes.
_PATTERNS: list[tuple[str, str, float]] = [
    (
        rf"\b(?:tomorrow|today|tonight|this (?:morning|afternoon|evening)|{_DAY})\b{_AT_TIME}",
        POSITIVE,
        0.75,
    ),
    (rf"(?<![\w'])(?:at|@|around|after)\s+(?:{_CLOCK}|\d{{1,2}}\b)", POSITIVE, 0.75),
    (rf"(?<![\w:])(?:{_CLOCK})", POSITIVE, 0.7),
    (r"\bnext week\b", POSITIVE, 0.6),
    (r"\?", QUESTION, 0.55),
    (
        r"^(?:what|how|when|where|who|why|which|can|could|does|do|is|are|will|would)\b",
        QUESTION,
        0.5,
    ),
]


@dataclass(frozen=True)
class Cue:
    text: str
    intent: str
    weight: float
    start: int
    end: int
    custom: bool = False


@dataclass(frozen=True)
class IntentResult:
    intent: str
    confidence: float
    cues: tuple[Cue, ...] = ()

    @property
    def matched(self) -> list[str]:
        return [cue.text for cue in self.cues]


def text_normalize(text: str) -> str:
    text = text.lower().replace("’", "'").replace("‘", "'")
    return " ".join(text.split())


def _phrase_regex(phrase: str) -> str:
    words = [re.escape(word).replace("'", "'?") for word in phrase.split()]
    return r"(?<![\w'])" + r"\s+".join(words) + r"(?![\w'])"


@cache
def _built_in() -> tuple[tuple[re.Pattern, str, float], ...]:
    compiled = [(re.compile(_phrase_regex(p)), intent, w) for p, intent, w in _PHRASES]
    compiled += [(re.compile(p), intent, w) for p, intent, w in _PATTERNS]
    return tuple(compiled)


def custom_phrases() -> list[tuple[str, str, float]]:
    """The admin's active phrases: read once per batch of replies, not per reply."""
    return list(
        IntentPhrase.objects.filter(is_active=True).values_list("phrase", "intent", "weight")
    )


def intent_classify(text: str, *, phrases: list[tuple[str, str, float]] | None = None):
    """Classifies one reply. Pass `phrases` (from custom_phrases()) when classifying many."""
    normalized = text_normalize(text)
    custom = custom_phrases() if phrases is None else phrases
    cues = _cues(normalized, custom)
    if not cues:
        return IntentResult(NEUTRAL, 0.0)
    scores = _scores(cues)
    winner = max(scores, key=lambda intent: (scores[intent], intent == NEGATIVE))
    return IntentResult(winner, _confidence(winner, scores), tuple(cues))


def _cues(text: str, custom: list[tuple[str, str, float]]) -> list[Cue]:
    found = [
        Cue(m.group(0), intent, weight, m.start(), m.end(), custom=True)
        for phrase, intent, weight in custom
        for m in re.finditer(_phrase_regex(text_normalize(phrase)), text)
    ]
    found += [
        Cue(m.group(0), intent, weight, m.start(), m.end())
        for pattern, intent, weight in _built_in()
        for m in pattern.finditer(text)
        if m.end() > m.start()
    ]
    # Longest first (custom before built-in at equal length); keep those that don't overlap.
    found.sort(key=lambda c: (-(c.end - c.start), not c.custom, -c.weight, c.start))
    kept: list[Cue] = []
    for cue in found:
        if all(cue.end <= k.start or cue.start >= k.end for k in kept):
            kept.append(cue)
    return sorted(kept, key=lambda c: c.start)


def _scores(cues: list[Cue]) -> dict[str, float]:
    remaining: dict[str, float] = {}
    for cue in cues:
        remaining[cue.intent] = remaining.get(cue.intent, 1.0) * (1 - cue.weight)
    return {intent: 1 - rest for intent, rest in remaining.items()}


def _confidence(winner: str, scores: dict[str, float]) -> float:
    """The winner's strength, less half of the strongest contradiction. A question asked
    while interested ("can someone call me?") contradicts nothing; politeness never does."""
    compatible = {POSITIVE: {QUESTION, NEUTRAL}, QUESTION: {NEUTRAL}, NEGATIVE: {NEUTRAL}}
    against = [
        score
        for intent, score in scores.items()
        if intent != winner and intent not in compatible.get(winner, set())
    ]
    confidence = scores[winner] - (max(against) / 2 if against else 0)
    return round(max(confidence, 0.05), 2)
