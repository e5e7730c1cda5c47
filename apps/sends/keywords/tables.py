"""What counts as "no", written as data with where each rule comes from.

Sources:

* 47 CFR 64.1200(a)(10), as adopted by the FCC's consent-revocation order (FCC 24-24, CG
  Docket 02-278, in force 2025-04-11): consent may be revoked "by any reasonable means"; a
  reply using "stop", "quit", "end", "revoke", "opt out", "cancel" or "unsubscribe" is a
  revocation per se, and other words count where a reasonable person would read them as one.
* 47 CFR 64.1200(a)(12): one confirmation text, within five minutes, no marketing; it may
  ask about the *scope* of the revocation, and silence means everything is revoked.
* CTIA Messaging Principles and Best Practices (2023), section 5 (consumer opt-out): the
  carrier keywords STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, with START/UNSTOP to
  resume and HELP/INFO for help; Twilio's default opt-out list adds OPTOUT and REVOKE.
"""

from __future__ import annotations

from collections.abc import Mapping

OPT_OUT = "opt_out"
OPT_IN = "opt_in"
HELP = "help"
CONFIRM = "confirm"
NONE = "none"
KINDS = frozenset({OPT_OUT, OPT_IN, HELP, CONFIRM, NONE})

# A reply made only of one of these (fillers aside) is that kind. CTIA section 5 and Twilio's
# default list; YES confirms a pending double opt-in, otherwise it re-subscribes.
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
    "yes": CONFIRM,
    "help": HELP,
    "info": HELP,
}

# Single-word replies outside the carrier set that mean the same thing alone, with their
# language. Alone only: "para" and "fin" are everyday words inside a sentence. Opt-in and
# confirmation stay English-only on purpose: consent must be explicit.
_OTHER_WORDS: tuple[tuple[str, str, str], ...] = (
    ("unsub", OPT_OUT, "en"),
    ("remove", OPT_OUT, "en"),
    ("para", OPT_OUT, "es"),
    ("parar", OPT_OUT, "es"),
    ("pare", OPT_OUT, "pt"),
    ("alto", OPT_OUT, "es"),
    ("basta", OPT_OUT, "es"),
    ("cancelar", OPT_OUT, "es"),
    ("cancela", OPT_OUT, "es"),
    ("baja", OPT_OUT, "es"),
    ("fin", OPT_OUT, "fr"),
    ("sair", OPT_OUT, "pt"),
    ("arret", OPT_OUT, "fr"),
    ("arrete", OPT_OUT, "fr"),
    ("arretez", OPT_OUT, "fr"),
    ("annuler", OPT_OUT, "fr"),
    ("stopp", OPT_OUT, "de"),
    ("abmelden", OPT_OUT, "de"),
    ("abbestellen", OPT_OUT, "de"),
    ("aufhoren", OPT_OUT, "de"),
    ("ayuda", HELP, "es"),
    ("aide", HELP, "fr"),
    ("hilfe", HELP, "de"),
    ("ajuda", HELP, "pt"),
)
OTHER_KEYWORDS: Mapping[str, str] = {word: kind for word, kind, _ in _OTHER_WORDS}
KEYWORD_LANGUAGE: Mapping[str, str] = {word: language for word, _, language in _OTHER_WORDS}

# 47 CFR 64.1200(a)(10)'s per se words, plus CTIA's STOPALL and Twilio's OPTOUT: used as a
# word anywhere in a reply, each is a revocation unless a benign use below clearly applies.
PER_SE_WORDS = frozenset(
    {"stop", "quit", "end", "revoke", "optout", "cancel", "unsubscribe", "stopall"}
)

# Two-word spellings of one word ("opt out", "OPT-OUT", "stop all").
COMPOUNDS: Mapping[tuple[str, str], str] = {
    ("opt", "out"): "optout",
    ("stop", "all"): "stopall",
}

# Common misspellings and short forms, read as the word they stand for. "stop" also takes
# any doubled letters ("sstop", "stooop", "stopp") by pattern; "unsubscribe" also takes any
# word starting with "u" within two edits of it ("unsuscribe", "unsubscribed").
MISSPELLINGS: Mapping[str, str] = {
    "stpo": "stop", "sotp": "stop", "stp": "stop", "tsop": "stop", "stpp": "stop",
    "unsub": "unsubscribe", "unsubs": "unsubscribe",
    "cancle": "cancel", "cancell": "cancel", "cancl": "cancel", "cancal": "cancel",
    "cansel": "cancel", "cacnel": "cancel",
    "qiut": "quit", "quitt": "quit", "quti": "quit",
    "opout": "optout", "optot": "optout", "optuot": "optout", "opt0ut": "optout",
    "revok": "revoke", "revoek": "revoke",
    "stopal": "stopall",
}  # fmt: skip

# Only the octagonal stop sign says STOP. ✋ (a greeting or high five as often as "wait"),
# ⛔ and 🚫 (read as "no", which answers a question rather than revoking) are not taken.
STOP_EMOJI = "\U0001f6d1"

# Words that may surround a keyword without changing what the reply asks for.
FILLERS = frozenset(
    {
        "please", "pls", "plz", "now", "thanks", "thank", "you", "thx", "ty", "asap",
        "immediately", "already", "ok", "okay", "me", "por", "favor", "gracias", "ya",
        "merci", "bitte", "danke", "obrigado", "obrigada",
    }
)  # fmt: skip

# Negation right before a word turns it around ("don't stop", "never stop sending deals").
NEGATIONS = frozenset(
    {
        "not", "never", "dont", "don't", "didnt", "didn't", "wont", "won't", "shouldnt",
        "shouldn't", "wouldnt", "wouldn't", "doesnt", "doesn't", "isnt", "isn't",
    }
)  # fmt: skip
# "can't stop laughing" is benign, but "I can't unsubscribe" or "can't stop these texts"
# is someone trying to leave: inability turns around only stop/quit/end with no object.
INABILITY = frozenset({"cant", "can't", "cannot", "couldnt", "couldn't", "unable"})
INABILITY_TURNS = frozenset({"stop", "quit", "end"})
MESSAGE_OBJECTS = frozenset(
    {"these", "those", "them", "this", "it", "getting", "receiving", "the", "your", "ur", "all"}
)
# Words allowed between a negation and the word it turns ("don't you dare stop", "not going
# to unsubscribe"); anything else breaks the link ("don't want it, stop").
NEGATION_BRIDGE = frozenset(
    {
        "ever", "evr", "you", "u", "want", "wanna", "to", "gonna", "going", "need", "i", "we",
        "dare", "plan", "planning", "even", "really", "just", "please", "pls",
    }
)  # fmt: skip
NEGATION_BRIDGE_MAX = 3
# "why don't you stop texting me" is a demand, not a negation.
RHETORICAL = frozenset({"why"})

# A question opening with one of these may quote our footer without revoking ("what does
# 'Reply STOP' mean?"); a statement with a question mark ("I text stop and you still text
# me?") may not. Asking *how* or *whether one can* stop ("how do I stop these?", "can I
# reply STOP?") is a revocation request: those openers never make a quote benign.
LEAD_INS = frozenset({"hi", "hey", "hello", "so", "ok", "okay", "um", "quick", "question", "but"})
QUESTION_OPENERS = frozenset(
    {
        "what", "what's", "whats", "why", "does", "do", "is", "will", "would", "if", "when",
        "who",
    }
)  # fmt: skip
# Someone reporting that they already sent the word ("I replied STOP already, why are you
# still texting?") revoked then and revokes now: such a sentence never quotes benignly.
COMPLAINT_WORDS = frozenset(
    {"already", "again", "keep", "keeps", "kept", "times", "twice", "multiple"}
)

_PER_SE = r"(?:stop|quit|end|revoke|optout|cancel|unsubscribe|stopall)"
# Present tense only: "I replied STOP" reports a revocation already made.
_QUOTING_VERB = (
    r"(?:reply|replying|respond|responding|text|texting|txt|send|sending|type|typing|write|"
    r"writing|enter)"
)

# A per se word quoted from our own footer inside a question is not a revocation
# ("What does 'Reply STOP to opt out' mean for my order?").
FOOTER_QUOTES: tuple[str, ...] = (
    rf"\b{_QUOTING_VERB}(?: with| back| back with)?(?: the word| the keyword)? {_PER_SE}"
    rf"(?: (?:to|for) (?:{_PER_SE}|opt out|stop \w+|end \w+))?\b",
    rf"\bwhat(?:'s| s| does| do| is| would| will)(?: the word| the keyword| a| the)? {_PER_SE}"
    r" (?:mean|do|stand for)\b",
)
# Asking whether one must send the word ("do I need to reply STOP to stop these?") is a
# wish to leave: a question like this never quotes benignly.
WANTING_TO_SEND = (
    rf"\b(?:(?:do|should|must|can|could|shall) (?:i|we)|(?:need|have|want|got) to)"
    rf"(?: \w+){{0,2}} {_QUOTING_VERB}\b"
)
# "why would I unsubscribe? these are useful": a rhetorical refusal, ending its sentence.
RHETORICAL_QUESTIONS: tuple[str, ...] = (
    rf"\bwhy (?:would|should) (?:i|we|anyone|anybody|someone)(?: ever| even| want to| wanna|"
    rf" need to)* {_PER_SE}(?: (?:from )?(?:this|these|that|you|them|it))?(?= ,|$)",
)

# Clearly benign uses of a per se word (English). Anything not listed here stays a
# revocation: FCC 24-24 resolves doubt in favour of the consumer. "a stop to", "an end to"
# ("put an end to these texts") are revocations and are carved out.
BENIGN_USES: tuple[tuple[str, str], ...] = (
    (r"\bstop (?:by|in|over|off|on by)\b", "stop by/in: a visit"),
    (r"\bstop at (?!once\b|all\b)", "stop at a place or time"),
    # "stop and ...", never "stop to ...": "reply STOP to get out of this" is a request.
    (r"\bstop and (?:see|say|chat|talk|grab|get|pick|visit|shop)\b",
     "stop and do something"),
    (r"\bstop (?:for) (?:lunch|coffee|gas|food|dinner|breakfast|a bite|a drink|drinks|"
     r"a minute|a sec)\b", "stop for a break"),
    (r"\b(?:a|the|bus|train|subway|next|last|first|one|pit|truck|rest|each|every|our|my|"
     r"your|final|quick|short|tour|whistle|non) stop\b(?! to\b)", "a stop on a route"),
    (r"\bstop (?:sign|light|watch|loss|gap|motion|date|time|n shop|and shop|shop|over)s?\b",
     "a compound noun"),
    (r"\bstop the (?:presses|clock|bleeding)\b", "an idiom"),
    # "stop worrying", "stop guessing": stopping something else. Never a verb of reaching
    # someone ("stop texting", "stop bugging me"), nor "stop everything".
    (r"\bstop (?!(?:texting|txting|texing|messaging|msging|sending|contacting|calling|"
     r"spamming|emailing|bothering|bugging|pestering|harassing|annoying|pinging|hitting|"
     r"blowing|writing|marketing|advertising|receiving|getting|everything|anything|"
     r"something|nothing)\b)"
     r"[a-z]+ing\b", "stop doing something else"),
    (r"\bquit (?:my|his|her|their|our|the|a) (?:job|team|gym|club|class|band|position|role|"
     r"company|program|course|diet|game)\b", "quit a job or activity"),
    (r"\bquit (?:smoking|drinking|vaping|working|playing|gambling|school|college|work|"
     r"on me|on us)\b", "quit a habit"),
    (r"\b(?:back|front|high|low|dead|deep|tail|rear|week|year|month|quarter|happy|bitter|"
     r"loose|odd|top|far) end\b(?! to\b)", "a compound noun"),
    # "the end" alone may well mean "we're done": only with more words after it.
    (r"\b(?:a|an|the|no|either|other|one|its|my|your|our|their|his|her) end(?! to\b)(?= \w)",
     "an end of something"),
    (r"\b(?:on|at|from) (?:my|your|our|their|his|her|the|either|each|both) ends?\b",
     "someone's end"),
    (r"\bend (?:of|up|ups|date|time|user|users|result|goal|game|point|zone|table|cap|"
     r"product|to end|in sight)\b", "end of / end up / a compound noun"),
    (r"\b(?:in|at|by|near|toward|towards|till|until|til) (?:the )?end\b", "at the end"),
    (r"\b(?:does|did|will|would|should)(?: (?:the|this|that|your|our) \w+| it| this| that|"
     r" they)? end\b",
     "when something ends"),
    (r"\b(?:sale|event|offer|promo|promotion|deal|webinar|trial|meeting|call|session|show|"
     r"class|discount|contest|season|month|week|quarter|day) end\b", "when something ends"),
    (r"\bcancel (?:(?!these\b|this\b|those\b|them\b|it\b|all\b|texts?\b|messages?\b)[\w']+ )"
     r"{0,3}(?:meeting|appointment|appt|order|reservation|booking|call|demo|flight|plans|"
     r"session|visit|event|class|lunch|dinner|ticket|delivery|trip|tour|consult|"
     r"consultation|interview|payment|request|rsvp|registration)s?\b",
     "cancel an appointment or order"),
    (r"\bcancel on (?:me|you|us|them|him|her)\b", "cancel on someone"),
    (r"\bcancel (?:anytime|any time|at any time)\b", "a question about a plan's terms"),
)  # fmt: skip

_TEXTS = r"(?:texts?|txts?|messages?|msgs?|sms|spam|promos?|ads)"
_OBJECT = rf"(?:me|us|this number|this phone|my (?:phone|number|cell)|these|those|them|{_TEXTS})"
_POLITE_TAIL = r"(?: (?:please|pls|plz|now|thanks|thank you|ok|asap|already|immediately))*"
_END = r"(?= ,|$)"

# Free-text revocations ("any reasonable means", 47 CFR 64.1200(a)(10)):
# (language, pattern, whether a negation right before it turns it around).
REVOCATION_PHRASES: tuple[tuple[str, str, bool], ...] = (
    ("en", rf"\b(?:stop|quit) (?:texting|txting|messaging|sending|contacting|spamming|"
     rf"bothering|bugging)(?: {_OBJECT}\b|{_POLITE_TAIL}{_END})", True),
    ("en", rf"\b(?:stop|cancel|end) (?:all |the |these |those |your |ur |my |this )?"
     rf"(?:{_TEXTS}|subscription|alerts|text alerts)\b", True),
    ("en", rf"\bstop (?:it|this|that){_POLITE_TAIL}{_END}", True),
    ("en", r"\b(?:do not|don'?t|dont|never) (?:text|txt|message|msg|sms|contact|spam|call) "
     r"(?:me|us|this number|this phone|my number|my phone|my cell)\b", False),
    ("en", rf"\b(?:do not|don'?t|dont|never) send (?:me|us) (?:any )?(?:more )?{_TEXTS}\b",
     False),
    ("en", rf"\b(?:do not|don'?t|dont) want (?:to (?:get|receive) )?(?:any |these |those |"
     rf"your |the |this |ur |all |all these |all the )?(?:more )?{_TEXTS}\b"
     r"(?! to (?:stop|end)\b)", False),
    ("en", rf"\bno more {_TEXTS}\b", True),
    ("en", r"\b(?:take|remove|delete|drop|unsubscribe|unenroll) (?:me|my number|us) "
     r"(?:off|from)\b", True),
    ("en", r"\bremove (?:me|my number)\b", True),
    ("en", r"\bopt me out\b", True),
    ("en", r"\b(?:i want|get me|let me) out\b", True),
    ("en", r"\b(?:not|isn'?t|isnt|ain'?t) my (?:number|phone|cell|phone number)\b", False),
    ("en", r"\bwrong (?:number|num|person|guy|girl|phone|contact)\b", False),
    ("en", r"\b(?:lose|delete|erase|forget) (?:my|this) (?:number|phone number|contact)\b",
     True),
    ("en", r"\b(?:leave me alone|go away|get lost|(?:fuck|f|piss|bugger|buzz|back) off)\b",
     True),
    ("en", r"\bnever (?:signed up|subscribed|opted in|agreed to (?:this|these|it)|asked for "
     r"(?:this|these|it|them))\b", False),
    ("en", r"\b(?:this is|this s|it s|its|it's|pure) spam\b", False),
    ("en", r"\bsaid stop\b", False),
    ("es", r"\bno (?:me )?(?:envie|envien|envies|mande|manden|mandes|escriba|escriban|"
     r"escribas) mas\b", False),
    ("es", r"\bno mas (?:mensajes|textos|sms)\b", False),
    ("es", r"\b(?:deja|dejen|deje|para|paren|pare|parem) de (?:enviar|mandar|escribir|"
     r"contactar)", True),
    ("es", r"\b(?:darme|dame|darse|denme|doy|dar) de baja\b", True),
    ("es", r"\b(?:ya )?no (?:quiero|deseo) (?:recibir )?(?:mas )?(?:mensajes|textos|sms)\b",
     False),
    ("es", r"\bnumero equivocado\b", False),
    ("fr", r"\barret(?:ez|e|er)? (?:de )?(?:m'|me )?(?:envoyer|ecrire|contacter)\b", True),
    ("fr", r"\bne (?:m'|me )(?:envoyez|ecrivez|contactez|envoie|ecris) plus\b", False),
    ("fr", r"\bplus de (?:messages|sms|textos)\b", True),
    ("fr", r"\b(?:desabonnez|desinscrivez|desabonner|desinscrire)\b", True),
    ("fr", r"\bmauvais numero\b", False),
    ("de", r"\bkeine (?:sms|nachrichten|textnachrichten|werbung) mehr\b", False),
    ("de", r"\bhor(?:en sie| bitte)? auf\b", True),
    ("de", r"\b(?:abmelden|abbestellen|austragen)\b", True),
    ("de", r"\bfalsche nummer\b", False),
    ("pt", r"\bnao (?:quero|desejo) (?:receber )?mais (?:mensagens|sms|textos)\b", False),
    ("pt", r"\bnao me (?:mande|mandem|envie|enviem) mais\b", False),
    ("pt", r"\bnumero errado\b", False),
    ("it", r"\bnon (?:voglio|desidero) (?:ricevere )?piu (?:messaggi|sms)\b", False),
    ("it", r"\b(?:cancellami|disiscrivimi)\b", True),
)  # fmt: skip
