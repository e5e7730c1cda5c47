"""A text to a number in a Twilio Messaging Service: Twilio's inbound webhook carries the
service's MessagingServiceSid, and when the number itself has no sender row, the service's
row answers for it: its keywords and HELP, and the reply goes from the service (so the
contact's next texts stay with it)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from apps.accounts.models import Program
from apps.sends.models import InboundMessage, KeywordRule, OutboundMessage, Sender
from apps.sends.selectors.senders import sender_choose, sender_for_inbound
from apps.sends.testing.fake_twilio import FakeTwilio
from tests.sends.conftest import ACCOUNT_SID, AUTH_TOKEN

pytestmark = pytest.mark.django_db

MIDDAY = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
SERVICE = "MG" + "c" * 32
OTHER_SERVICE = "MG" + "d" * 32
IN_SERVICE = "+13125550177"  # one of the service's numbers: no sender row of its own
LOCAL = "+13125550100"
URL = "https://cue.example.com/webhooks/twilio/inbound/"


@pytest.fixture(autouse=True)
def midday():
    with time_machine.travel(MIDDAY, tick=False):
        yield


@pytest.fixture
def twilio(settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_ACCOUNT_SID = ""  # replies go to the console transport
    settings.PUBLIC_BASE_URL = "https://cue.example.com"
    return FakeTwilio(ACCOUNT_SID, AUTH_TOKEN)  # its payloads and signatures; not served


@pytest.fixture
def senders(db):
    fleet = Program.objects.create(
        name="Fleet tips", help_reply="{program} by {brand}. Reply STOP to opt out."
    )
    service = Sender.objects.create(
        name="Service", kind="messaging_service", address=SERVICE,
        registration="campaign_approved", mps=Decimal("25"), program=fleet,
    )  # fmt: skip
    default = Sender.objects.create(
        name="Default", kind="long_code", address=LOCAL, registration="campaign_approved",
        mps=Decimal("8"), is_default=True,
    )  # fmt: skip
    KeywordRule.objects.create(
        keyword="TIPS", kind="reply", reply="Tip: check tyres.", sender=service
    )
    return service, default


def text_in(client, twilio, from_: str, to: str, body: str, service_sid: str = ""):
    params, headers = twilio.signed_inbound(URL, from_, to, body, messaging_service_sid=service_sid)
    return client.post("/webhooks/twilio/inbound/", params, headers=headers)


def replies() -> list[tuple[str, str, str]]:
    rows = OutboundMessage.objects.filter(origin="keyword_reply").order_by("pk")
    return list(rows.values_list("to_address", "body", "from_sender__name"))


def test_help_to_a_service_number_answers_with_the_services_program_from_the_service(
    client, twilio, senders, opted_in_contact
):
    phone = str(opted_in_contact().phone)
    answer = text_in(client, twilio, phone, IN_SERVICE, "HELP", service_sid=SERVICE)
    assert answer.status_code == 200
    assert InboundMessage.objects.get().messaging_service_sid == SERVICE
    assert replies() == [
        (phone, "Fleet tips by Cue Demo. Reply STOP to opt out.", "Service"),
    ]


def test_the_services_own_keyword_answers_and_the_contact_then_sticks_to_the_service(
    client, twilio, senders, opted_in_contact, django_capture_on_commit_callbacks
):
    service, _default = senders
    phone = str(opted_in_contact().phone)
    with django_capture_on_commit_callbacks(execute=True):  # the reply is handed on at once
        text_in(client, twilio, phone, IN_SERVICE, "tips", service_sid=SERVICE)
    assert replies() == [(phone, "Tip: check tyres.", "Service")]
    OutboundMessage.objects.filter(origin="keyword_reply").update(
        status="sent", sent_at=MIDDAY, sender=SERVICE
    )
    assert sender_choose(to_address=phone) == service


def test_without_the_sid_the_number_is_nobodys_and_the_default_answers(
    client, twilio, senders, opted_in_contact
):
    phone = str(opted_in_contact().phone)
    text_in(client, twilio, phone, IN_SERVICE, "HELP")
    [(to, _body, sender)] = replies()
    assert (to, sender) == (phone, "Default")
    assert InboundMessage.objects.get().messaging_service_sid == ""


def test_a_number_with_its_own_row_is_that_senders_whatever_service_it_is_in(senders):
    service, default = senders
    assert sender_for_inbound(to_address=LOCAL, messaging_service_sid=SERVICE) == default
    assert sender_for_inbound(to_address=IN_SERVICE, messaging_service_sid=SERVICE) == service
    # a SID that names no service of ours (or names a number row) finds nothing
    assert sender_for_inbound(to_address=IN_SERVICE, messaging_service_sid=OTHER_SERVICE) is None
    assert sender_for_inbound(to_address=IN_SERVICE, messaging_service_sid=LOCAL) is None


def test_an_over_long_sid_is_cut_to_fit_and_the_text_is_kept(
    client, twilio, senders, opted_in_contact
):
    phone = str(opted_in_contact().phone)
    answer = text_in(client, twilio, phone, IN_SERVICE, "hello", service_sid=SERVICE + "x" * 40)
    assert answer.status_code == 200
    assert InboundMessage.objects.get().messaging_service_sid == SERVICE
