"""What counts as "no": real-looking replies, each with the kind it must get and the rule
that must decide it (47 CFR 64.1200(a)(10), FCC 24-24; CTIA opt-out keywords)."""

from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
import time_machine
from django.urls import reverse
from twilio.request_validator import RequestValidator

from apps.accounts import roles
from apps.consent.models import ConsentState, Suppression
from apps.sends.keywords import keyword_classify
from apps.sends.models import InboundMessage, KeywordRule, OutboundMessage
from tests.factories import UserFactory
from tests.sends.conftest import AUTH_TOKEN

OPTS_OUT = [
    # Stopping the sender reaching out, in any verb, is never "stopping something else".
    ("stop bugging me", "phrase"),
    ("stop writing to me", "per_se_word"),
    ("stop everything", "per_se_word"),
    # The per se words and carrier keywords, alone.
    ("STOP", "keyword"),
    ("Stop.", "keyword"),
    ("QUIT", "keyword"),
    ("End", "keyword"),
    ("Revoke", "keyword"),
    ("Cancel", "keyword"),
    ("UNSUBSCRIBE", "keyword"),
    ("Opt out", "keyword"),
    ("opt-out", "keyword"),
    ("STOPALL", "keyword"),
    ("Stop all", "keyword"),
    ("Remove", "keyword"),
    ("Unsub", "keyword"),
    ("Stop please", "keyword"),
    ("STOP STOP STOP", "keyword"),
    ("stop!!!! 😡", "keyword"),
    ("Stop pls 🙏", "keyword"),
    ("UNSUBSCRIBE ME NOW", "keyword"),
    ("STOP.\nSent from my iPhone", "keyword"),
    ("Stop\n\nSent from my Samsung Galaxy smartphone.", "keyword"),
    ("unsubscribe\nGet Outlook for iOS", "keyword"),
    # A per se word anywhere in the reply.
    ("No thanks, stop", "per_se_word"),
    ("who is this? stop", "per_se_word"),
    ("Stop. -Mike", "per_se_word"),
    ("this is so annoying. STOP", "per_se_word"),
    ("Cancel. I never asked for this", "phrase"),
    ("I'm done, unsubscribe", "per_se_word"),
    ("You guys need to stop", "per_se_word"),
    ("enough already. stop.", "per_se_word"),
    ("STOP\n--\nJohn Smith\nAcme Corp", "per_se_word"),
    ("how many times do I have to say stop", "per_se_word"),
    ("Stop - not interested", "per_se_word"),
    ("Quit it", "per_se_word"),
    ("End it", "per_se_word"),
    ("please end this", "per_se_word"),
    ("I revoke my consent", "per_se_word"),
    ("Revoke consent", "per_se_word"),
    ("I'd like to opt out", "per_se_word"),
    ("I want to opt out of these", "per_se_word"),
    ("please unsubscribe me from this list", "phrase"),
    ("how do I unsubscribe", "per_se_word"),
    ("How do I opt out?", "per_se_word"),
    ("How do I stop these?", "per_se_word"),
    ("can I unsubscribe?", "per_se_word"),
    ("Can I reply STOP to get out of this?", "per_se_word"),
    ("where do I text stop", "per_se_word"),
    ("I can't unsubscribe, help", "per_se_word"),
    ("I can't stop these texts", "phrase"),
    ("Put a stop to these", "per_se_word"),
    ("stop, I'll stop by the store myself", "per_se_word"),
    ("What does STOP mean? Whatever, STOP", "per_se_word"),
    ("I need to cancel", "per_se_word"),
    ("I quit", "per_se_word"),
    ("OK cancel", "keyword"),
    ("yeah no. cancel", "per_se_word"),
    ("hey can you stop", "per_se_word"),
    ("Por favor STOP", "keyword"),
    ("I said STOP", "phrase"),
    # Misspellings, spaced letters, the stop-sign emoji.
    ("stpo", "misspelling"),
    ("Sotp", "misspelling"),
    ("STP", "misspelling"),
    ("stoooop", "misspelling"),
    ("STOPPP!!", "misspelling"),
    ("unsubscibe", "misspelling"),
    ("Unsuscribe", "misspelling"),
    ("unsubcribe", "misspelling"),
    ("unsubscribed", "misspelling"),
    ("UNSUBSCRIBED!", "misspelling"),
    ("cancle", "misspelling"),
    ("qiut", "misspelling"),
    ("i already unsubscribed why are you still texting", "misspelling"),
    ("stpo texting", "phrase"),
    ("S T O P", "spaced_letters"),
    ("s.t.o.p", "spaced_letters"),
    ("S-T-O-P", "spaced_letters"),
    ("u n s u b s c r i b e", "spaced_letters"),
    ("🛑", "emoji"),
    ("🛑🛑🛑", "emoji"),
    ("🛑 please", "emoji"),
    ("S\u0422\u041e\u0420", "misspelling"),  # a Latin S, then Cyrillic ТОР
    ("S\u200bTOP", "keyword"),  # a zero-width space inside
    ("S\x00TOP", "keyword"),  # NUL inside
    ("ST\ud800OP", "keyword"),  # a lone surrogate inside
    ("\uff33\uff34\uff2f\uff30", "keyword"),  # full-width
    ("\U0001d412\U0001d413\U0001d40e\U0001d40f", "keyword"),  # mathematical bold
    # Looks like a benign use or a question about the footer, and is not.
    ("The end", "per_se_word"),
    ("put an end to this", "per_se_word"),
    ("Stop at once", "per_se_word"),
    ("I want to stop receiving these", "per_se_word"),
    ("Can you stop?", "per_se_word"),
    ("NOT interested STOP", "per_se_word"),
    ("Why not stop?", "per_se_word"),
    ("What does STOP mean? I don't know, just stop.", "per_se_word"),
    ("didn't I say stop?", "per_se_word"),
    ("I replied STOP already, why are you still texting?", "per_se_word"),
    ("I text stop and you still text me?", "per_se_word"),
    ("Do I need to reply STOP to stop these?", "per_se_word"),
    ("Should I text END to unsubscribe?", "per_se_word"),
    ("I want out", "phrase"),
    # Phrases.
    ("Quit texting me", "phrase"),
    ("stop texting me", "phrase"),
    ("Please stop texting me!!", "phrase"),
    ("Stop sending me these", "phrase"),
    ("Stop texting me or I'll report you", "phrase"),
    ("Are you going to stop texting me?", "phrase"),
    ("why don't you stop texting me", "phrase"),
    ("stop sending me this crap", "phrase"),
    ("stop messaging me pls", "phrase"),
    ("no more texts please", "phrase"),
    ("end all messages", "phrase"),
    ("cancel my subscription", "phrase"),
    ("do not text this number", "phrase"),
    ("Don't text me", "phrase"),
    ("Do not contact me again", "phrase"),
    ("please don't send me any more texts", "phrase"),
    ("I don't want these texts", "phrase"),
    ("i dont want texts from you", "phrase"),
    ("not my number", "phrase"),
    ("This isn't my number", "phrase"),
    ("wrong #", "phrase"),
    ("Wrong number. Who is this?", "phrase"),
    ("who is this? wrong number", "phrase"),
    ("stop, wrong person", "phrase"),
    ("Take me off your list", "phrase"),
    ("Remove me from your list", "phrase"),
    ("Not interested. Please remove me.", "phrase"),
    ("Opt me out", "phrase"),
    ("Lose my number", "phrase"),
    ("leave me alone", "phrase"),
    ("go away", "phrase"),
    ("I never signed up for this", "phrase"),
    ("this is spam", "phrase"),
    ("Stop by? No, just stop texting me", "phrase"),
    # Other languages.
    ("PARA", "keyword"),
    ("Basta ya", "keyword"),
    ("no más mensajes", "phrase"),
    ("Deja de enviarme mensajes", "phrase"),
    ("Dame de baja por favor", "phrase"),
    ("número equivocado", "phrase"),
    ("Arrêt", "keyword"),
    ("Ne m'envoyez plus de messages", "phrase"),
    ("désabonner", "phrase"),
    ("Stopp", "keyword"),
    ("Keine SMS mehr", "phrase"),
    ("Hören Sie auf", "phrase"),
    ("Abmelden", "keyword"),
    ("Não quero mais mensagens", "phrase"),
    ("Pare", "keyword"),
    ("Non voglio più messaggi", "phrase"),
    ("cancellami", "phrase"),
]

DOES_NOT_OPT_OUT = [
    # A per se word used for something else.
    ("stop by at 3", "none", "benign_use"),
    ("Great, stop worrying about it, I'll be there", "none", "benign_use"),
    ("Stop guessing and call me", "none", "benign_use"),
    ("Stop the presses, I'm in!", "none", "benign_use"),
    ("Can we stop by your booth?", "none", "benign_use"),
    ("I'll stop in tomorrow around noon", "none", "benign_use"),
    ("We should stop at the cafe first", "none", "benign_use"),
    ("let's stop and grab coffee before the demo", "none", "benign_use"),
    ("Is this the last stop before the venue?", "none", "benign_use"),
    ("Next stop: Chicago!", "none", "benign_use"),
    ("the bus stop on 5th?", "none", "benign_use"),
    ("one-stop shop, love it", "none", "benign_use"),
    ("there's a stop sign at the corner", "none", "benign_use"),
    ("non-stop flight?", "none", "benign_use"),
    ("we'll stop for lunch on the way", "none", "benign_use"),
    ("cancel my meeting", "none", "benign_use"),
    ("I need to cancel my 3pm appointment", "none", "benign_use"),
    ("Can you cancel my order #1234?", "none", "benign_use"),
    ("Please cancel the demo tomorrow, I'll rebook", "none", "benign_use"),
    ("I have to cancel our lunch", "none", "benign_use"),
    ("need to cancel tomorrow's call", "none", "benign_use"),
    ("He had to cancel on me", "none", "benign_use"),
    ("end of day works", "none", "benign_use"),
    ("By end of day?", "none", "benign_use"),
    ("In the end it worked out", "none", "benign_use"),
    ("no end in sight lol", "none", "benign_use"),
    ("the end of the movie was great", "none", "benign_use"),
    ("Can't wait for the end of the month sale", "none", "benign_use"),
    ("What time does it end?", "none", "benign_use"),
    ("When does the sale end", "none", "benign_use"),
    ("It'll end up costing more?", "none", "benign_use"),
    ("is it end to end encrypted", "none", "benign_use"),
    ("I'm a front end dev", "none", "benign_use"),
    ("dead end street", "none", "benign_use"),
    ("on my end it looks fine", "none", "benign_use"),
    ("at the end of the webinar the link broke", "none", "benign_use"),
    ("I quit my job today", "none", "benign_use"),
    ("I quit smoking!", "none", "benign_use"),
    ("my phone quit on me yesterday", "none", "benign_use"),
    ("she quit the team", "none", "benign_use"),
    ("Quit playing, what's the real price?", "none", "benign_use"),
    # A per se word negated.
    ("don't stop", "none", "negation"),
    ("Don't stop!", "none", "negation"),
    ("don't stop, this is great", "none", "negation"),
    ("never stop sending me deals", "none", "negation"),
    ("Please don't stop texting me, I love these deals", "none", "negation"),
    ("I can't stop texting you lol", "none", "negation"),
    ("can't stop laughing at this one", "none", "benign_use"),
    ("don't unsubscribe me!", "none", "negation"),
    ("I don't want to unsubscribe", "none", "negation"),
    ("I'm not going to unsubscribe, relax", "none", "negation"),
    ("Don't cancel my order!", "none", "benign_use"),
    ("don't you dare stop", "none", "negation"),
    ("I would never unsubscribe, love these", "none", "negation"),
    # Our footer quoted in a question, or a rhetorical question.
    ("What does 'Reply STOP to opt out' mean for my order?", "none", "footer_question"),
    ('what does "reply STOP" mean?', "none", "footer_question"),
    ("If I reply STOP will I still get shipping updates?", "none", "footer_question"),
    ("What happens if I text END?", "none", "footer_question"),
    ("What does STOP do?", "none", "footer_question"),
    ("does replying stop cancel my order too?", "none", "footer_question"),
    ("why would I unsubscribe? these are useful", "none", "rhetorical_question"),
    ("Why would I ever want to unsubscribe", "none", "rhetorical_question"),
    ("why should I stop, these are great", "none", "rhetorical_question"),
    ("Hi, what does reply STOP mean?", "none", "footer_question"),
    ("what if i text stop", "none", "footer_question"),
    # An iPhone or Google Messages reaction quotes our own text, footer and all.
    ("Liked \u201cAcme: 20% off today. Reply STOP to opt out\u201d", "none", "reaction"),
    ('Reacted \U0001f44d to "Acme: Reply STOP to opt out"', "none", "reaction"),
    ("Looks fine on my end.", "none", "benign_use"),
    ("Does this offer end soon", "none", "benign_use"),
    ("Can I cancel anytime?", "none", "benign_use"),
    ("Stop & Shop has it cheaper", "none", "benign_use"),
    ("what a dead end.", "none", "benign_use"),
    ("i dont want you to stop", "none", "negation"),
    ("check https://acme.example/stop-promo thanks", "none", ""),
    # Nothing to do with opting out.
    ("START", "opt_in", "keyword"),
    ("Unstop", "opt_in", "keyword"),
    ("YES", "confirm", "keyword"),
    ("Yes please", "confirm", "keyword"),
    ("HELP", "help", "keyword"),
    ("info?", "help", "keyword"),
    ("Help me", "help", "keyword"),
    ("Ayuda", "help", "keyword"),
    ("what time does it start?", "none", ""),
    ("When does the event start", "none", ""),
    ("yes call me", "none", ""),
    ("Yes, call me tomorrow", "none", ""),
    ("I stopped by yesterday", "none", ""),
    ("Stopping by at noon", "none", ""),
    ("Is the promo ending soon?", "none", ""),
    ("Happy weekend!", "none", ""),
    ("My subscription ends in June, can I renew?", "none", ""),
    ("I cancelled my flight, can we move the meeting?", "none", ""),
    ("unstoppable deal!", "none", ""),
    ("Help me find my order", "none", ""),
    ("more info on the blue one", "none", ""),
    ("Who is this?", "none", ""),
    ("How much is the pro plan?", "none", ""),
    ("Can you send me the pricing sheet?", "none", ""),
    ("Sounds good", "none", ""),
    ("I'm interested, call me", "none", ""),
    ("Love these deals, keep them coming", "none", ""),
    ("para mañana?", "none", ""),
    ("hasta mañana", "none", ""),
    ("Tell me more", "none", ""),
    ("lol", "none", ""),
    ("Thanks!", "none", ""),
    ("ok", "none", ""),
    ("👍", "none", ""),
    ("✋", "none", ""),
    ("🙂", "none", ""),
    ("", "none", ""),
    ("   ", "none", ""),
    ("subscribe", "none", ""),
    ("I'd like to subscribe to the newsletter", "none", ""),
    ("I'll be there at 5", "none", ""),
    ("Sent from my iPhone", "none", ""),
]


@pytest.mark.parametrize(("body", "rule"), OPTS_OUT)
def test_it_takes_the_reply_as_an_opt_out_by_the_rule(body, rule):
    match = keyword_classify(body)
    assert (match.kind, match.rule) == ("opt_out", rule)


@pytest.mark.parametrize(("body", "kind", "rule"), DOES_NOT_OPT_OUT)
def test_it_does_not_take_the_reply_as_an_opt_out(body, kind, rule):
    match = keyword_classify(body)
    assert (match.kind, match.rule) == (kind, rule)


def test_the_table_has_150_replies_and_no_false_opt_out():
    assert len(OPTS_OUT) + len(DOES_NOT_OPT_OUT) >= 150
    false_opt_outs = [
        body for body, _, _ in DOES_NOT_OPT_OUT if keyword_classify(body).kind == "opt_out"
    ]
    assert false_opt_outs == []


def test_a_reply_set_aside_says_which_word_and_why():
    match = keyword_classify("Can we stop by your booth?")
    assert match.detail == (
        'per se word STOP in "can we stop by your booth"; not taken: "stop by" is stop by/in: '
        "a visit"
    )
    assert (match.keyword, match.language) == ("", "en")


def test_a_taken_reply_says_what_was_read():
    match = keyword_classify("stpo")
    assert (match.keyword, match.language, match.free_text, match.detail) == (
        "STOP",
        "en",
        True,
        'the reply is the keyword STOP ("stpo" read as STOP)',
    )


def test_a_signed_stop_is_not_the_carriers_exact_keyword():
    assert keyword_classify("STOP\nSent from my iPhone").free_text is True


def test_a_custom_keyword_cannot_remap_a_misspelt_opt_out():
    with pytest.raises(ValueError, match="built-in opt-out"):
        keyword_classify("hello", custom={"stpo": "opt_in"})


# --- Through the signed Twilio webhook ---------------------------------------------------

INBOUND = "/webhooks/twilio/inbound/"


@pytest.fixture
def webhook(settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_ACCOUNT_SID = ""  # the confirmation goes to the console transport
    settings.PUBLIC_BASE_URL = "https://cue.example.com"
    with time_machine.travel(datetime(2026, 3, 10, 16, 0, tzinfo=UTC), tick=False):
        yield


def text_in(client, sender: str, body: str):
    params = {"MessageSid": "SM" + "b" * 32, "From": sender, "To": "+13125550000", "Body": body}
    url = f"https://cue.example.com{INBOUND}"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    return client.post(
        INBOUND,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )


def sms_states(contact) -> dict[str, str]:
    rows = ConsentState.objects.filter(contact=contact, channel="sms")
    return dict(rows.values_list("purpose", "status"))


@pytest.mark.django_db
def test_a_sentence_using_a_per_se_word_opts_out_and_records_why(client, webhook, opted_in_contact):
    contact = opted_in_contact()
    response = text_in(client, str(contact.phone), "Quit texting me")
    assert response.status_code == 200
    assert sms_states(contact) == {"marketing": "opted_out", "transactional": "opted_out"}
    inbound = InboundMessage.objects.get()
    assert (
        inbound.keyword_kind,
        inbound.keyword,
        inbound.classification_rule,
        inbound.classification_language,
        inbound.classification_detail,
    ) == (
        "opt_out",
        "quit texting me",
        "phrase",
        "en",
        'phrase "quit texting me" in "quit texting me"',
    )
    confirmations = OutboundMessage.objects.filter(origin="keyword_reply", to_address=contact.phone)
    assert confirmations.count() == 1


@pytest.mark.django_db
def test_a_benign_use_changes_no_consent_and_records_why_not(client, webhook, opted_in_contact):
    contact = opted_in_contact()
    response = text_in(client, str(contact.phone), "Can we stop by your booth?")
    assert response.status_code == 200
    assert sms_states(contact) == {"marketing": "opted_in"}
    assert Suppression.objects.count() == 0
    assert OutboundMessage.objects.filter(origin="keyword_reply").count() == 0
    inbound = InboundMessage.objects.get()
    assert (inbound.keyword_kind, inbound.keyword, inbound.classification_rule) == (
        "none",
        "",
        "benign_use",
    )
    assert inbound.get_classification_rule_display() == "Not taken: a benign use of the word"
    assert inbound.classification_detail.endswith('not taken: "stop by" is stop by/in: a visit')


@pytest.mark.django_db
def test_compliance_reads_why_a_reply_was_not_taken_in_the_admin(client, webhook, opted_in_contact):
    contact = opted_in_contact()
    text_in(client, str(contact.phone), "What does 'Reply STOP to opt out' mean for my order?")
    inbound = InboundMessage.objects.get()
    client.force_login(UserFactory(role=roles.COMPLIANCE))
    listing = client.get(reverse("admin:sends_inboundmessage_changelist"))
    page = client.get(reverse("admin:sends_inboundmessage_change", args=[inbound.pk]))
    assert listing.status_code == page.status_code == 200
    assert "Not taken: a question quoting our footer" in listing.content.decode()
    assert "asks about the footer &quot;reply stop to optout&quot;" in page.content.decode()
    assert sms_states(contact) == {"marketing": "opted_in"}


@pytest.mark.django_db
def test_the_admin_refuses_a_custom_opt_in_that_is_a_misspelt_stop(admin_client):
    response = admin_client.post(
        reverse("admin:sends_keywordrule_add"), {"keyword": "STPO", "kind": "opt_in", "reply": ""}
    )
    assert response.status_code == 200
    assert "is a built-in opt-out keyword and cannot be remapped" in response.content.decode()
    assert KeywordRule.objects.count() == 0
