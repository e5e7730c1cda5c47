"""Senders are data: each text goes through the real twilio client from its sender, paced at
that sender's rate; marketing only from a registered sender (refused in words otherwise); a
number keeps the sender it last heard from; keywords and HELP per sender and program; an
edit in the admin holds at the next send and is in the sender's history."""

from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlencode

import pytest
import time_machine
from twilio.request_validator import RequestValidator

from apps.accounts.models import Program
from apps.sends.models import KeywordRule, OutboundMessage, Sender, SenderPool
from apps.sends.selectors.senders import sender_choose, senders_choose
from apps.sends.services.dispatch import message_dispatch
from apps.sends.services.messages import message_create
from apps.sends.services.pacing import sender_rate
from tests.sends.conftest import AUTH_TOKEN

pytestmark = pytest.mark.django_db

MIDDAY = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
BODY = "Acme: your webinar starts in 1 hour. Reply STOP to opt out."
SERVICE = "MG" + "a" * 32
LOCAL = "+13125550100"
ADMIN_SENDER = "/admin/sends/sender/{}/change/"


@pytest.fixture(autouse=True)
def midday():
    with time_machine.travel(MIDDAY, tick=False):
        yield


@pytest.fixture
def service(db):
    return Sender.objects.create(
        name="Marketing service",
        kind="messaging_service",
        address=SERVICE,
        registration="campaign_approved",
        mps=Decimal("25"),
        is_default=True,
    )


@pytest.fixture
def local(db):
    return Sender.objects.create(
        name="Local line", kind="long_code", address=LOCAL, registration="campaign_approved", mps=8
    )


def create(contact, key, *, category="marketing", sender=None) -> OutboundMessage:
    return message_create(
        send_key=key,
        origin="journey",
        category=category,
        contact=contact,
        body=BODY,
        from_sender=sender,
    )


def sender_form(sender: Sender, **changes) -> dict:
    values = {
        "name": sender.name,
        "kind": sender.kind,
        "address": sender.address,
        "registration": sender.registration,
        "mps": str(sender.mps),
        "program": "",
        "is_default": "on" if sender.is_default else "",
        "is_active": "on",
    }
    return {name: value for name, value in {**values, **changes}.items() if value != ""}


def test_it_sends_from_each_messages_sender_through_twilio(
    fake_twilio, opted_in_contact, service, local
):
    first, second = opted_in_contact(), opted_in_contact()
    by_service = create(first, "s1")
    by_local = create(second, "s2", sender=local)

    results = [message_dispatch(message_id=m.pk) for m in (by_service, by_local)]

    assert results == ["sent", "sent"]
    via_service, via_local = fake_twilio.messages_sent()
    assert (via_service.get("MessagingServiceSid"), via_service.get("From")) == (SERVICE, None)
    assert (via_local.get("MessagingServiceSid"), via_local.get("From")) == (None, LOCAL)
    assert list(OutboundMessage.objects.order_by("pk").values_list("sender", flat=True)) == [
        SERVICE,
        LOCAL,
    ]


def test_the_gate_refuses_marketing_from_an_unregistered_sender_in_words(
    fake_twilio, opted_in_contact, local
):
    local.registration = "pending"
    local.save()
    contact = opted_in_contact()

    marketing = create(contact, "m", sender=local)
    transactional = create(contact, "t", category="transactional", sender=local)

    assert (marketing.status, marketing.reason_code, marketing.reason) == (
        "suppressed",
        "sender_unregistered",
        "Local line may not send marketing: its registration is Pending, and a Phone number "
        "(10DLC) needs 10DLC campaign approved.",
    )
    assert transactional.status == "queued"
    assert fake_twilio.messages_sent() == []


def test_a_registration_withdrawn_in_the_admin_holds_at_dispatch_and_is_in_history(
    fake_twilio, opted_in_contact, local, admin_client, admin_user
):
    message = create(opted_in_contact(), "m", sender=local)
    assert message.status == "queued"

    response = admin_client.post(
        ADMIN_SENDER.format(local.pk), sender_form(local, registration="rejected")
    )

    assert response.status_code == 302
    assert message_dispatch(message_id=message.pk) == "suppressed"
    message.refresh_from_db()
    assert (message.reason_code, message.reason) == (
        "sender_unregistered",
        "Local line may not send marketing: its registration is Rejected, and a Phone number "
        "(10DLC) needs 10DLC campaign approved.",
    )
    assert fake_twilio.messages_sent() == []
    latest = local.history.order_by("-history_id").first()
    assert (latest.registration, latest.history_user) == ("rejected", admin_user)


def test_pacing_reads_each_senders_rate_from_its_row_at_each_use(
    admin_client, service, local, settings
):
    settings.CUE_SEND_RATES = {"default": 3.0}
    before = (sender_rate(SERVICE), sender_rate(LOCAL), sender_rate("+15005550006"))

    admin_client.post(ADMIN_SENDER.format(local.pk), sender_form(local, mps="12.5"))

    assert before == (25.0, 8.0, 3.0)
    assert sender_rate(LOCAL) == 12.5


def test_a_number_keeps_the_sender_it_last_heard_from_unless_that_sender_is_gone(
    fake_twilio, opted_in_contact, service, local
):
    contact = opted_in_contact()
    notice = "transactional"  # three marketing texts in a row would meet the caps
    message_dispatch(message_id=create(contact, "first", category=notice, sender=local).pk)

    message_dispatch(message_id=create(contact, "sticky", category=notice).pk)
    local.is_active = False
    local.save()
    message_dispatch(message_id=create(contact, "after", category=notice).pk)

    senders = [(m.get("From"), m.get("MessagingServiceSid")) for m in fake_twilio.messages_sent()]
    assert senders == [(LOCAL, None), (LOCAL, None), (None, SERVICE)]


def test_a_pool_gives_a_number_the_same_sender_until_it_has_one_it_heard_from(
    service, local, opted_in_contact
):
    third = Sender.objects.create(
        name="Third", kind="long_code", address="+13125550199", registration="pending", mps=1
    )
    pool = SenderPool.objects.create(name="Chicago")
    pool.senders.set([local, third])
    numbers = [f"+1415555{n:04d}" for n in range(20)]

    picks = {n: sender_choose(to_address=n, pool=pool) for n in numbers}

    assert {n: sender_choose(to_address=n, pool=pool) for n in numbers} == picks
    assert set(picks.values()) == {local, third}
    assert sender_choose(to_address=numbers[0]) == service  # no pool, no history: the default
    contact = opted_in_contact(phone=numbers[0])
    OutboundMessage.objects.create(
        contact=contact, to_address=numbers[0], body=BODY, category="marketing",
        origin="journey", send_key="old", status="sent", sent_at=MIDDAY, sender=SERVICE,
    )  # fmt: skip
    assert sender_choose(to_address=numbers[0], pool=pool) == service


def text_in(client, sender: str, to: str, body: str, sid: str):
    params = {"MessageSid": sid, "From": sender, "To": to, "Body": body}
    url = "https://cue.example.com/webhooks/twilio/inbound/"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    return client.post(
        "/webhooks/twilio/inbound/",
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )


@pytest.fixture
def webhook(settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_ACCOUNT_SID = ""  # replies go to the console transport
    settings.PUBLIC_BASE_URL = "https://cue.example.com"


def replies() -> list[tuple[str, str, int | None]]:
    rows = OutboundMessage.objects.filter(origin="keyword_reply").order_by("pk")
    return list(rows.values_list("to_address", "body", "from_sender"))


def test_keywords_and_help_answer_per_sender_and_program_while_stop_stays_global(
    client, webhook, service, local, opted_in_contact, django_capture_on_commit_callbacks
):
    tips = Program.objects.create(
        name="Fleet tips", help_reply="{program} by {brand}: {support}. Reply STOP to opt out."
    )
    local.program = tips
    local.save()
    KeywordRule.objects.create(
        keyword="TIPS", kind="reply", reply="Tip: check tyres.", sender=local
    )
    KeywordRule.objects.create(keyword="TIPS", kind="reply", reply="Tips for all.")
    contact = opted_in_contact()
    phone = str(contact.phone)

    texts = [
        (phone, LOCAL, "TIPS"),
        (phone, "+13125550000", "TIPS"),  # a number of ours no sender row names
        ("+14155550123", LOCAL, "HELP"),
    ]
    for n, (number, to, body) in enumerate(texts):
        with django_capture_on_commit_callbacks(execute=True):  # replies handed on at once
            text_in(client, number, to, body, sid=f"SM{n:032d}")
    queued_from_service = create(contact, "queued")
    text_in(client, phone, LOCAL, "STOP", sid="SM" + "9" * 32)

    queued_from_service.refresh_from_db()
    assert queued_from_service.status == "canceled"  # STOP to one sender binds the number
    assert replies() == [
        (phone, "Tip: check tyres.", local.pk),
        # no sender row for the number texted: chosen as for any text (nothing sent to
        # this number yet, so the default sender)
        (phone, "Tips for all.", service.pk),
        (
            "+14155550123",
            "Fleet tips by Cue Demo: support@example.com or 1-800-555-0100. Reply STOP to opt out.",
            local.pk,
        ),
        (
            phone,
            "Cue Demo: You're unsubscribed and will get no more messages. Reply START to "
            "resubscribe.",
            local.pk,
        ),
    ]


def test_a_text_is_made_with_its_sender_chosen_once_for_a_batch(
    service, local, opted_in_contact, django_assert_max_num_queries
):
    """The sender is chosen when the message is made (one look-up for a batch of numbers),
    so the gate's sender rule, pacing and the transport read it from the message."""
    heard = opted_in_contact()
    OutboundMessage.objects.create(
        contact=heard, to_address=str(heard.phone), body=BODY, category="transactional",
        origin="journey", send_key="earlier", status="sent", sent_at=MIDDAY, sender=LOCAL,
    )  # fmt: skip
    numbers = [str(heard.phone), "+14155550170", "+14155550171"]

    with django_assert_max_num_queries(3):
        chosen = senders_choose(to_addresses=numbers)

    assert chosen == {numbers[0]: local, numbers[1]: service, numbers[2]: service}
    made = create(opted_in_contact(), "fresh", category="transactional")
    assert made.from_sender == service
