"""A reply to one of Cue's emails: the ESP's inbound webhook (Postmark's shape, from the fake
Postmark) comes through anymail's own view, verified by basic auth, and becomes one
email_reply event of the contact naming the email it answers: the one its In-Reply-To, then
its References (last first) name by Cue's own Message-ID, else the last email sent to its
sender's address. A named email counts only for a reply from that email's contact."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from apps.consent.models import Channel, ConsentSource, Purpose
from apps.consent.services import consent_opt_in
from apps.contacts.models import Event
from apps.sends.email_ids import email_message_id, reply_ids
from apps.sends.models import OutboundMessage
from apps.sends.services.dispatch import message_dispatch
from apps.sends.services.messages import message_create
from apps.sends.testing.fake_postmark import FakePostmark, _post_json

pytestmark = pytest.mark.django_db

TUESDAY_NOON_CHICAGO = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
REPLIED_AT = TUESDAY_NOON_CHICAGO + timedelta(hours=2)
WEBHOOK_SECRET = "cue-hooks:s3cret-for-tests"
INBOUND_PATH = "/webhooks/email/postmark/inbound/"


@pytest.fixture
def fake_postmark(settings):
    with FakePostmark() as fake:
        settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
        settings.ANYMAIL = {
            "POSTMARK_SERVER_TOKEN": fake.server_token,
            "POSTMARK_API_URL": fake.api_url,
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
        settings.PUBLIC_BASE_URL = "https://cue.example.com"
        yield fake


@pytest.fixture
def clock():
    with time_machine.travel(TUESDAY_NOON_CHICAGO, tick=False) as traveller:
        yield traveller


@pytest.fixture
def sent(fake_postmark, opted_in_contact, clock) -> OutboundMessage:
    """An email a journey sent to Ada at noon; the clock then moves to her reply."""
    contact = opted_in_contact(email="ada@example.com")
    consent_opt_in(
        contact=contact, channel=Channel.EMAIL, purpose=Purpose.MARKETING, source=ConsentSource.API
    )
    message = message_create(
        send_key="offer", origin="journey", category="marketing", channel="email",
        contact=contact, subject="Your offer", body="Here is the offer you asked for.",
    )  # fmt: skip
    message_dispatch(message_id=message.pk)
    message.refresh_from_db()
    clock.move_to(REPLIED_AT)
    return message


def hook_url(live_server, secret=WEBHOOK_SECRET) -> str:
    return f"http://{secret}@{live_server.url.removeprefix('http://')}{INBOUND_PATH}"


def replies():
    return list(
        Event.objects.filter(type="email_reply").values_list(
            "contact_id", "occurred_at", "properties", "source"
        )
    )


def test_it_records_a_reply_as_an_email_reply_event_of_the_email(live_server, sent, fake_postmark):
    status = fake_postmark.post_reply(hook_url(live_server), sent.provider_sid, "Yes, call me")
    assert status == 200
    assert replies() == [
        (
            sent.contact_id,
            REPLIED_AT,
            {
                "message_id": sent.pk,
                "journey_id": None,
                "subject": "Re: Your offer",
                "matched_by": "in_reply_to",
            },
            "email",
        )
    ]


def test_the_same_reply_posted_twice_is_recorded_once(live_server, sent, fake_postmark):
    payload = fake_postmark.reply_payload(sent.provider_sid, "Yes")
    client = Client()
    auth = {"HTTP_AUTHORIZATION": "Basic Y3VlLWhvb2tzOnMzY3JldC1mb3ItdGVzdHM="}
    for _ in range(2):
        answer = client.post(INBOUND_PATH, payload, content_type="application/json", **auth)
        assert answer.status_code == 200
    assert len(replies()) == 1


def test_a_reply_without_the_secret_is_refused_and_records_nothing(
    live_server, sent, fake_postmark
):
    url = hook_url(live_server, secret="cue-hooks:wrong")
    assert fake_postmark.post_reply(url, sent.provider_sid, "Yes") == 400
    assert replies() == []


def test_mail_from_an_address_cue_never_emailed_records_nothing(live_server, sent, fake_postmark):
    url = hook_url(live_server)
    stranger = {"From": "eve@example.com", "FromFull": {"Email": "eve@example.com", "Name": ""}}
    assert fake_postmark.post_reply(url, sent.provider_sid, "Hi", **stranger) == 200
    assert replies() == []


def test_mail_the_esp_marked_as_spam_records_nothing(live_server, sent, fake_postmark):
    spam = {"Headers": [{"Name": "X-Spam-Status", "Value": "Yes"}]}
    assert fake_postmark.post_reply(hook_url(live_server), sent.provider_sid, "$$$", **spam) == 200
    assert replies() == []


def test_a_subject_with_a_nul_is_stored_without_it(live_server, sent, fake_postmark):
    url = hook_url(live_server)
    assert fake_postmark.post_reply(url, sent.provider_sid, "ok", Subject="Re:\x00 offer") == 200
    [(_, _, properties, _)] = replies()
    assert properties["subject"] == "Re: offer"


# --- matched by the Message-ID the reply names ------------------------------------------


def send(contact, key: str, subject: str) -> OutboundMessage:
    message = message_create(
        send_key=key, origin="journey", category="marketing", channel="email",
        contact=contact, subject=subject, body=f"{subject}: see inside.",
    )  # fmt: skip
    message_dispatch(message_id=message.pk)
    message.refresh_from_db()
    return message


@pytest.fixture
def two_sent(sent, fake_postmark, clock) -> tuple[OutboundMessage, OutboundMessage]:
    """Ada's offer (at noon), then a later reminder; the clock then moves on five minutes."""
    reminder = send(sent.contact, "reminder", "Reminder")
    clock.shift(timedelta(minutes=5))
    return sent, reminder


def message_id_of(fake_postmark, message: OutboundMessage) -> str:
    return fake_postmark.email(message.provider_sid).headers["Message-ID"]


def threading(in_reply_to: str | None = None, references: str | None = None) -> dict:
    headers = [{"Name": "X-Spam-Status", "Value": "No"}]
    if in_reply_to is not None:
        headers.append({"Name": "In-Reply-To", "Value": in_reply_to})
    if references is not None:
        headers.append({"Name": "References", "Value": references})
    return {"Headers": headers}


def replied_to() -> list[tuple[int, int, str]]:
    return [
        (contact_id, properties["message_id"], properties["matched_by"])
        for contact_id, _, properties, _ in replies()
    ]


def test_each_email_carries_its_own_unguessable_message_id(two_sent, fake_postmark, settings):
    offer, reminder = two_sent
    ids = [message_id_of(fake_postmark, message) for message in (offer, reminder)]

    for message, message_id in zip((offer, reminder), ids, strict=True):
        assert re.fullmatch(rf"<cue\.{message.pk}\.[0-9a-f]{{32}}@cue\.example\.com>", message_id)
    assert ids[0] != ids[1]
    assert email_message_id(pk=offer.pk, send_key=offer.send_key) == ids[0]
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    assert email_message_id(pk=offer.pk, send_key=offer.send_key) != ids[0]


def test_a_reply_is_matched_to_the_email_it_answers_not_the_last_one(
    live_server, two_sent, fake_postmark
):
    offer, _reminder = two_sent
    # Given Ada answers the offer after the reminder went out, her client names the offer
    status = fake_postmark.post_reply(hook_url(live_server), offer.provider_sid, "About the offer")

    assert status == 200
    assert replied_to() == [(offer.contact_id, offer.pk, "in_reply_to")]


def test_references_are_read_from_the_last_when_in_reply_to_names_none_of_ours(
    live_server, two_sent, fake_postmark
):
    offer, reminder = two_sent
    older, newer = (message_id_of(fake_postmark, m) for m in (offer, reminder))
    references = f"<thread-start@mail.gmail.com> {older}\t  {newer} <unrelated@example.org>"
    fields = threading(in_reply_to="<CAF=xyz@mail.gmail.com>", references=references)

    fake_postmark.post_reply(hook_url(live_server), offer.provider_sid, "ok", **fields)

    assert replied_to() == [(reminder.contact_id, reminder.pk, "references")]


def test_a_forged_or_unknown_message_id_falls_back_to_the_last_email_to_the_address(
    live_server, two_sent, fake_postmark
):
    offer, reminder = two_sent
    forged = f"<cue.{offer.pk}.{'0' * 32}@cue.example.com>"
    fields = threading(in_reply_to=forged, references=f"<cue.999999.{'a' * 32}@cue.example.com>")

    fake_postmark.post_reply(hook_url(live_server), offer.provider_sid, "hi", **fields)

    assert replied_to() == [(reminder.contact_id, reminder.pk, "last_email")]


def test_an_id_in_another_case_with_spaces_or_without_brackets_still_names_the_email(
    live_server, two_sent, fake_postmark
):
    offer, _reminder = two_sent
    named = message_id_of(fake_postmark, offer).strip("<>")
    url = hook_url(live_server)
    payloads = [
        fake_postmark.reply_payload(
            offer.provider_sid, "a", **threading(f"  < {named.upper()} >  ")
        ),
        fake_postmark.reply_payload(offer.provider_sid, "b", **threading(named)),
    ]

    for payload in payloads:
        assert post_payload(url, payload) == 200

    assert replied_to() == [(offer.contact_id, offer.pk, "in_reply_to")] * 2


def test_the_esps_own_message_id_names_the_email_too(live_server, two_sent, fake_postmark):
    offer, _reminder = two_sent
    fields = threading(in_reply_to=f"<{offer.provider_sid}@mtasv.net>")

    fake_postmark.post_reply(hook_url(live_server), offer.provider_sid, "ok", **fields)

    assert replied_to() == [(offer.contact_id, offer.pk, "in_reply_to")]


def test_a_reply_from_another_address_naming_a_real_email_is_not_that_contacts(
    live_server, two_sent, fake_postmark, opted_in_contact
):
    offer, _reminder = two_sent
    bob = opted_in_contact(email="bob@example.com")
    consent_opt_in(
        contact=bob, channel=Channel.EMAIL, purpose=Purpose.MARKETING, source=ConsentSource.API
    )
    bobs = send(bob, "bob-news", "News")
    ada_id = message_id_of(fake_postmark, offer)
    as_bob = {"From": "bob@example.com", "FromFull": {"Email": "bob@example.com", "Name": ""}}
    as_eve = {"From": "eve@example.com", "FromFull": {"Email": "eve@example.com", "Name": ""}}
    url = hook_url(live_server)

    # Bob forwards Ada's email and writes back on it: his reply is his own, by his address
    fake_postmark.post_reply(url, offer.provider_sid, "fwd", **as_bob, **threading(ada_id))
    # Eve, whom Cue never emailed, quotes Ada's id: nobody's reply
    fake_postmark.post_reply(url, offer.provider_sid, "hi", **as_eve, **threading(ada_id))

    assert replied_to() == [(bob.pk, bobs.pk, "last_email")]


def test_the_contacts_new_address_may_answer_an_email_sent_to_the_old_one(
    live_server, two_sent, fake_postmark
):
    offer, _reminder = two_sent
    offer.contact.email = "ada.new@example.com"
    offer.contact.save(update_fields=["email"])
    as_new = {"From": "ada.new@example.com", "FromFull": {"Email": "ada.new@example.com"}}
    fields = threading(message_id_of(fake_postmark, offer))

    fake_postmark.post_reply(hook_url(live_server), offer.provider_sid, "ok", **as_new, **fields)

    assert replied_to() == [(offer.contact_id, offer.pk, "in_reply_to")]


def test_garbage_in_the_threading_headers_names_nothing_and_fails_nothing(
    live_server, two_sent, fake_postmark
):
    offer, reminder = two_sent
    mac = message_id_of(fake_postmark, offer).split(".")[2].split("@")[0]
    garbage = (
        f"<cue.{10**30}.{mac}@cue.example.com> <cue.-1.{mac}@x> <\u00e9t\u00e9@example.com> "
        + " ".join(f"<n{i}@example.com>" for i in range(500))
    )
    fields = threading(in_reply_to="<>  < >", references=garbage)

    status = fake_postmark.post_reply(hook_url(live_server), offer.provider_sid, "x", **fields)

    assert status == 200
    assert replied_to() == [(reminder.contact_id, reminder.pk, "last_email")]


def test_reply_ids_come_in_reply_to_first_then_references_from_the_last():
    assert reply_ids(in_reply_to=["<b@x>"], references=["<a@x> <b@x>\r\n\t<c@x>", "d@x"]) == [
        "b@x",
        "d@x",
        "c@x",
        "a@x",
    ]
    assert reply_ids(in_reply_to=["<a\x00b@x>", "   "], references=[]) == []


def post_payload(url: str, payload: dict) -> int:
    return _post_json(url, payload)


@pytest.mark.parametrize("value", ["<a@x>\r\nBcc: all@example.com", "line\nbreak"])
def test_a_header_value_with_a_line_break_is_refused_not_a_server_error(
    live_server, sent, fake_postmark, value
):
    fields = {"Headers": [{"Name": "In-Reply-To", "Value": value}]}

    status = fake_postmark.post_reply(hook_url(live_server), sent.provider_sid, "x", **fields)

    assert status == 400
    assert replies() == []
