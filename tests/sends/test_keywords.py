"""Inbound keyword classification: carrier keywords, free-text revocation, benign lookalikes."""

import pytest

from apps.sends.keywords import (
    NO_MATCH,
    OTHER_KEYWORDS,
    STANDARD_KEYWORDS,
    KeywordMatch,
    keyword_classify,
)

REPLIES = [
    # Standard opt-out keywords, in several casings, spacings and punctuations.
    ("STOP", "opt_out"),
    ("stop", "opt_out"),
    ("Stop.", "opt_out"),
    ("stop!", "opt_out"),
    ("  sToP  \n", "opt_out"),
    ('"STOP"', "opt_out"),
    ("STOP 🛑", "opt_out"),
    ("Stop!!!", "opt_out"),
    ("STOPALL", "opt_out"),
    ("Stop all", "opt_out"),
    ("UNSUBSCRIBE", "opt_out"),
    ("unsubscribe.", "opt_out"),
    ("Cancel", "opt_out"),
    ("CANCEL!", "opt_out"),
    ("END", "opt_out"),
    ("end.", "opt_out"),
    ("Quit", "opt_out"),
    ("QUIT!", "opt_out"),
    ("OPTOUT", "opt_out"),
    ("opt out", "opt_out"),
    ("Opt-Out", "opt_out"),
    ("OPT - OUT", "opt_out"),
    ("Revoke", "opt_out"),
    ("revoke.", "opt_out"),
    # Keywords with politeness around them.
    ("Stop please", "opt_out"),
    ("please stop", "opt_out"),
    ("STOP STOP STOP", "opt_out"),
    ("stop now thanks", "opt_out"),
    ("unsubscribe me", "opt_out"),
    ("Cancel please, thank you", "opt_out"),
    # Opt-in, confirmation, help.
    ("START", "opt_in"),
    ("start.", "opt_in"),
    ("Unstop", "opt_in"),
    ("YES", "confirm"),
    ("yes!", "confirm"),
    ("Yes please", "confirm"),
    ("HELP", "help"),
    ("help?", "help"),
    ("Help me", "help"),
    ("INFO", "help"),
    ("info?", "help"),
    # An opt-out beside another keyword still wins.
    ("yes stop", "opt_out"),
    ("HELP STOP", "opt_out"),
    # Free-text revocation in English.
    ("stop texting me", "opt_out"),
    ("Please stop texting me!!", "opt_out"),
    ("Stop sending me these", "opt_out"),
    ("stop messaging me pls", "opt_out"),
    ("no more texts", "opt_out"),
    ("No more messages please", "opt_out"),
    ("take me off your list", "opt_out"),
    ("Please remove me from this list", "opt_out"),
    ("remove me", "opt_out"),
    ("remove my number", "opt_out"),
    ("don't text me", "opt_out"),
    ("Please don\u2019t text me anymore", "opt_out"),
    ("Do not contact me again", "opt_out"),
    ("leave me alone", "opt_out"),
    ("wrong number, stop", "opt_out"),
    ("Sorry wrong number", "opt_out"),
    ("I want to opt out", "opt_out"),
    ("how do I unsubscribe from this", "opt_out"),
    ("cancel my subscription", "opt_out"),
    ("I said STOP", "opt_out"),
    ("stop it", "opt_out"),
    ("why don't you stop texting me", "opt_out"),
    # Other languages.
    ("PARA", "opt_out"),
    ("Alto", "opt_out"),
    ("no más mensajes", "opt_out"),
    ("No mas mensajes por favor", "opt_out"),
    ("cancelar", "opt_out"),
    ("Basta ya", "opt_out"),
    ("Deja de enviarme mensajes", "opt_out"),
    ("No me envíes más", "opt_out"),
    ("Quiero darme de baja", "opt_out"),
    ("Arrêt", "opt_out"),
    ("arrête", "opt_out"),
    ("Ne m\u2019envoyez plus de messages", "opt_out"),
    ("Stopp", "opt_out"),
    ("Keine SMS mehr bitte", "opt_out"),
    ("parar", "opt_out"),
    ("Não quero mais mensagens", "opt_out"),
    ("Non voglio più messaggi", "opt_out"),
    ("Ayuda", "help"),
    # Benign lookalikes.
    ("don't stop, this is great", "none"),
    ("Don't stop!", "none"),
    ("what time does it start?", "none"),
    ("can we stop by your booth", "none"),
    ("yes call me", "none"),
    ("Yes, call me tomorrow", "none"),
    ("I stopped by yesterday", "none"),
    ("Please don't stop texting me, I love these deals", "none"),
    ("I can't stop texting you lol", "none"),
    ("Is the sale ending soon?", "none"),
    ("I need to cancel my 3pm appointment", "none"),
    ("the end of the movie was great", "none"),
    ("I quit my job today", "none"),
    ("When does the event start", "none"),
    ("para mañana?", "none"),
    ("Help me find my order", "none"),
    ("more info on the blue one", "none"),
    ("Thanks!", "none"),
    ("ok", "none"),
    ("", "none"),
    ("   ", "none"),
    ("🙂", "none"),
]


def said(match: KeywordMatch) -> tuple[str, str, bool, str]:
    return (match.kind, match.keyword, match.free_text, match.rule)


@pytest.mark.parametrize(("body", "kind"), REPLIES)
def test_reply_kind(body, kind):
    assert keyword_classify(body).kind == kind


def test_the_table_is_broad():
    assert len(REPLIES) >= 60
    covered = {body.strip().strip('!.?"').lower() for body, _ in REPLIES}
    assert set(STANDARD_KEYWORDS) - {"stopall", "optout"} <= covered


@pytest.mark.parametrize("keyword", sorted(STANDARD_KEYWORDS))
@pytest.mark.parametrize("shape", ["{}", "{} ", " {}.", "{}!", "'{}'"])
def test_every_standard_keyword_is_exact_in_any_case(keyword, shape):
    for spelled in (keyword.upper(), keyword.lower(), keyword.title()):
        match = keyword_classify(shape.format(spelled))
        assert match == KeywordMatch(
            kind=STANDARD_KEYWORDS[keyword],
            keyword=keyword.upper(),
            free_text=False,
            rule="keyword",
            language="en",
            detail=f"the reply is the keyword {keyword.upper()}",
        )


@pytest.mark.parametrize("word", sorted(OTHER_KEYWORDS))
def test_other_language_words_are_free_text(word):
    match = keyword_classify(word.capitalize())
    assert (match.kind, match.keyword, match.free_text, match.rule) == (
        OTHER_KEYWORDS[word],
        word.upper(),
        True,
        "keyword",
    )


def test_exact_keyword_is_not_free_text():
    assert said(keyword_classify("Stop.")) == ("opt_out", "STOP", False, "keyword")


def test_keyword_with_filler_is_free_text():
    assert said(keyword_classify("stop please")) == ("opt_out", "STOP", True, "keyword")


def test_free_text_match_reports_the_phrase():
    match = keyword_classify("Please STOP texting me about sales")
    assert said(match) == ("opt_out", "stop texting me", True, "phrase")


def test_accented_phrase_is_reported_normalised():
    assert keyword_classify("No más mensajes").keyword == "no mas mensajes"


def test_nothing_matched_is_the_empty_match():
    assert keyword_classify("see you at the booth") is NO_MATCH


# --- Custom keywords ---------------------------------------------------------------------


def test_custom_keyword_adds_a_kind():
    custom = {"JOIN": "opt_in", "Sign me up": "opt_in", "HALT": "opt_out"}
    assert said(keyword_classify("join", custom=custom)) == ("opt_in", "JOIN", False, "custom")
    assert said(keyword_classify("Sign me up!", custom=custom)) == (
        "opt_in",
        "SIGN ME UP",
        False,
        "custom",
    )
    assert said(keyword_classify("halt please", custom=custom)) == (
        "opt_out",
        "HALT",
        True,
        "custom",
    )


def test_custom_keyword_does_not_fire_inside_sentences():
    assert keyword_classify("I want to join the club", custom={"join": "opt_in"}).kind == "none"


def test_opt_out_beats_a_custom_keyword_beside_it():
    assert keyword_classify("JOIN STOP", custom={"join": "opt_in"}).kind == "opt_out"


def test_custom_keyword_may_reclassify_a_non_opt_out_keyword():
    assert keyword_classify("INFO", custom={"info": "opt_in"}).kind == "opt_in"


@pytest.mark.parametrize(
    ("custom", "message"),
    [
        ({"STOP": "opt_in"}, "built-in opt-out"),
        ({"para": "help"}, "built-in opt-out"),
        ({"JOIN": "subscribe"}, "unknown kind"),
        ({"JOIN": "none"}, "unknown kind"),
        ({"!!!": "opt_in"}, "no letters"),
    ],
)
def test_invalid_custom_keywords_are_refused(custom, message):
    with pytest.raises(ValueError, match=message):
        keyword_classify("hello", custom=custom)
