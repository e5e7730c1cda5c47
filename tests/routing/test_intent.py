"""Reply classification: what real replies to a marketing SMS mean, with a confidence."""

import pytest

from apps.routing.intent import intent_classify
from apps.routing.models import IntentPhrase

REPLIES = [
    # positive: wants a person, a time, a demo, a price
    ("Yes", "positive"),
    ("yes please", "positive"),
    ("Yeah, call me", "positive"),
    ("Yes, can someone call me?", "positive"),
    ("Sure, tomorrow at 3 works", "positive"),
    ("Tuesday 10am?", "positive"),
    ("Call me back after 2pm", "positive"),
    ("I'm interested", "positive"),
    ("Very interested, send me more info", "positive"),
    ("Can we book a demo for next week?", "positive"),
    ("Book me in", "positive"),
    ("What does it cost?", "positive"),
    ("How much is it for 50 drivers?", "positive"),
    ("What’s your pricing for a team of 10?", "positive"),
    ("Send me a quote", "positive"),
    ("Let's talk", "positive"),
    ("ok sounds good", "positive"),
    ("Interested! What times do you have Thursday?", "positive"),
    ("Free tomorrow morning", "positive"),
    ("Can someone give me a call this afternoon?", "positive"),
    ("no problem, call me at 4:30", "positive"),
    ("YES CALL ME", "positive"),
    # negative or not now
    ("Yes but not right now", "negative"),
    ("Not now", "negative"),
    ("Not interested", "negative"),
    ("No thanks", "negative"),
    ("Maybe next quarter", "negative"),
    ("Please don’t call me", "negative"),
    ("We already use Samsara", "negative"),
    ("not interested in a demo right now", "negative"),
    ("Check back next year", "negative"),
    ("Wrong number", "negative"),
    ("No", "negative"),
    ("Nope, we're all set", "negative"),
    ("Bad time, circle back in a month", "negative"),
    ("nah", "negative"),
    # questions
    ("Who is this?", "question"),
    ("What is this about?", "question"),
    ("How does it work?", "question"),
    ("Is this a real person?", "question"),
    ("Can I use it with Salesforce?", "question"),
    ("Do you integrate with HubSpot?", "question"),
    # nothing clear
    ("Thanks", "neutral"),
    ("Thank you!", "neutral"),
    ("Got it", "neutral"),
    ("Ok thanks", "neutral"),
    ("Hi", "neutral"),
    ("", "neutral"),
]


def test_the_table_is_big_enough_to_mean_something():
    assert len(REPLIES) >= 40
    assert {intent for _, intent in REPLIES} == {"positive", "negative", "question", "neutral"}


@pytest.mark.parametrize(("text", "expected"), REPLIES)
def test_it_classifies_a_real_reply(text, expected):
    assert intent_classify(text, phrases=[]).intent == expected


@pytest.mark.parametrize(
    ("text", "intent", "confidence"),
    [
        ("Yes, can someone call me?", "positive", 0.96),  # the question doesn't contradict
        ("Yes", "positive", 0.6),
        ("Not interested", "negative", 0.95),
        ("Yes but not right now", "negative", 0.65),  # contradicted: less sure
        ("Hi", "neutral", 0.0),
    ],
)
def test_it_gives_a_confidence_that_falls_when_cues_contradict(text, intent, confidence):
    result = intent_classify(text, phrases=[])
    assert (result.intent, result.confidence) == (intent, confidence)


def test_it_never_reads_interested_inside_not_interested():
    result = intent_classify("Not interested", phrases=[])
    assert result.matched == ["not interested"]


def test_it_does_not_find_days_and_times_inside_other_words():
    result = intent_classify("my friend's wedding was monumental", phrases=[])
    assert (result.intent, result.matched) == ("neutral", [])


@pytest.mark.django_db
def test_it_lets_an_admin_phrase_override_a_built_in_one():
    IntentPhrase.objects.create(phrase="Pass", intent="positive", weight=0.9)
    IntentPhrase.objects.create(phrase="unused phrase", intent="negative", is_active=False)
    assert intent_classify("I'll pass it to my boss, pass").intent == "positive"
    assert intent_classify("pass").matched == ["pass"]


@pytest.mark.django_db
def test_it_teaches_the_classifier_a_new_phrase():
    assert intent_classify("send the brochure", phrases=None).intent == "neutral"
    IntentPhrase.objects.create(phrase="send the brochure", intent="positive", weight=0.8)
    assert intent_classify("Please SEND the   brochure").intent == "positive"
