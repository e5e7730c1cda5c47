"""Every public input is storable: NUL characters and lone surrogates, which PostgreSQL or
UTF-8 cannot hold, are cleaned where they arrive, and what came with them still counts (a
STOP still opts out). Run these on PostgreSQL: SQLite stores NUL without complaint."""

import json
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from twilio.request_validator import RequestValidator

from apps.accounts import roles
from apps.consent.models import ConsentDisclosure, ConsentRecord, ConsentState, OptInForm
from apps.contacts.models import Contact, Event, Segment
from apps.core.api.parsers import StorableFormParser, StorableMultiPartParser
from apps.core.text import data_storable, text_storable
from apps.sends.models import InboundMessage, LinkClick, MessageEvent
from apps.sends.services.dispatch import message_dispatch
from apps.sends.services.messages import message_create
from tests.factories import ContactFactory
from tests.sends.conftest import AUTH_TOKEN, fake_twilio  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db

MIDDAY = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
PUBLIC = "https://cue.example.com"
INBOUND, STATUS = "/webhooks/twilio/inbound/", "/webhooks/twilio/status/"
SID = "SM" + "a" * 32


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_ACCOUNT_SID = ""  # keyword replies go to the console transport
    settings.PUBLIC_BASE_URL = PUBLIC
    with time_machine.travel(MIDDAY, tick=False):
        yield


def twilio_post(client, path, params: dict, **headers):
    """Signed the way Twilio signs: over the parameter values exactly as sent."""
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{PUBLIC}{path}", params)
    return client.post(
        path,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature, **headers},
    )


def text_in(client, sender: str, body: str):
    params = {"MessageSid": SID, "From": sender, "To": "+13125550000", "Body": body}
    return twilio_post(client, INBOUND, params)


# The cleaning itself


def test_it_strips_nul_and_replaces_lone_surrogates():
    assert text_storable("ST\x00OP\x00") == "STOP"
    assert text_storable("a\ud800b\udfffc") == "a\ufffdb\ufffdc"
    assert text_storable("\ud83d\ude00 ok\t\n") == "\U0001f600 ok\t\n"  # a split pair is rejoined
    assert text_storable("Zoë 😀") == "Zoë 😀"


def test_it_cleans_keys_and_values_at_every_depth():
    data = {"k\x00": ["\ud800", {"n": 1, "\x00": None}], "b": True}

    assert data_storable(data) == {"k": ["\ufffd", {"n": 1, "": None}], "b": True}


# Twilio webhooks: the signature is checked over what Twilio sent, then the text is cleaned


@pytest.mark.parametrize("body", ["STOP\x00", "ST\x00OP", "\x00stop"])
def test_a_signed_stop_with_nul_still_opts_out(client, opted_in_contact, body):
    contact = opted_in_contact()
    queued = message_create(
        send_key="q", origin="journey", category="marketing", contact=contact, body="Tips."
    )

    response = text_in(client, str(contact.phone), body)

    assert response.status_code == 200
    assert InboundMessage.objects.get().body == body.replace("\x00", "")
    states = ConsentState.objects.filter(contact=contact, channel="sms")
    assert dict(states.values_list("purpose", "status")) == {
        "marketing": "opted_out",
        "transactional": "opted_out",
    }
    records = ConsentRecord.objects.filter(contact=contact, action="opt_out").order_by("purpose")
    assert list(records.values_list("purpose", "source", "inbound_message_sid")) == [
        ("marketing", "keyword", SID),
        ("transactional", "keyword", SID),
    ]
    queued.refresh_from_db()
    assert (queued.status, queued.reason_code) == ("canceled", "opted_out")


def test_a_reply_with_bytes_that_are_no_utf8_is_stored(client, opted_in_contact):
    contact = opted_in_contact()
    # A lone surrogate cannot be form-encoded as UTF-8; what arrives instead is its CESU
    # bytes, which decode to replacement characters. Twilio signed the text it decoded.
    params = {"MessageSid": SID, "From": str(contact.phone), "To": "+13125550000"}
    received = "Call me \ufffd\ufffd\ufffd"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        f"{PUBLIC}{INBOUND}", {**params, "Body": received}
    )

    response = client.post(
        INBOUND,
        urlencode(params) + "&Body=Call%20me%20%ED%A0%80",
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )

    assert response.status_code == 200
    assert InboundMessage.objects.get().body == received


def test_a_nul_does_not_make_a_forged_request_pass(client, opted_in_contact):
    contact = opted_in_contact()
    params = {"MessageSid": SID, "From": str(contact.phone), "To": "+13125550000"}
    # Signed over "STOP", sent as "STOP\x00": not what Twilio signed.
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        f"{PUBLIC}{INBOUND}", {**params, "Body": "STOP"}
    )

    response = client.post(
        INBOUND,
        urlencode({**params, "Body": "STOP\x00"}),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )

    assert response.status_code == 403
    assert (InboundMessage.objects.count(), ConsentRecord.objects.count()) == (0, 1)


@pytest.mark.usefixtures("fake_twilio")
def test_a_status_callback_with_nul_is_applied_cleaned(client, opted_in_contact):
    message = message_create(
        send_key="m", origin="journey", category="transactional",
        contact=opted_in_contact(), body="Your meeting is at 3 pm.",
    )  # fmt: skip
    message_dispatch(message_id=message.pk)
    message.refresh_from_db()
    params = {
        "MessageSid": message.provider_sid,
        "MessageStatus": "undelivered",
        "ErrorCode": "30003\x00",
    }

    response = twilio_post(client, STATUS, params, **{"I-Twilio-Idempotency-Token": "idem\x00-1"})

    assert response.status_code == 204
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("undelivered", "30003")
    event = MessageEvent.objects.get(message=message, status="undelivered")
    assert (event.dedupe_key, event.detail) == (
        "twilio:idem-1",
        {"provider_status": "undelivered", "error_code": "30003"},
    )


# Links and unsubscribe pages, anonymous


@pytest.mark.parametrize("path", ["/l/%00", "/l/ab%00cd", "/unsubscribe/%00/"])
def test_a_link_with_nul_is_not_found(client, path):
    response = client.get(path, HTTP_USER_AGENT="Mozilla/5.0\x00")

    assert response.status_code == 404
    assert LinkClick.objects.count() == 0


def test_a_click_with_nul_in_its_user_agent_is_recorded(client, opted_in_contact):
    from tests.sends.templates import approved_sms_version

    message = message_create(
        send_key="demo", origin="journey", category="marketing",
        contact=opted_in_contact(), template_version=approved_sms_version(), journey_id=42,
    )  # fmt: skip
    link = message.links.get()

    response = client.get(f"/l/{link.token}", HTTP_USER_AGENT="Mozilla/5.0 (iPhone)\x00")

    assert response.status_code == 302
    assert LinkClick.objects.get().user_agent == "Mozilla/5.0 (iPhone)"


# The opt-in form


@pytest.fixture
def optin():
    disclosure = ConsentDisclosure.objects.create(key="sms", version=1, text="I agree to texts.")
    return OptInForm.objects.create(
        slug="webinar", name="Webinar", brand="Brightline", program_name="Alerts",
        message_frequency="Up to 4 msgs/month", help_contact="help@brightline.example",
        privacy_url="https://brightline.example/p", terms_url="https://brightline.example/t",
        disclosure=disclosure, purposes=["marketing"],
    )  # fmt: skip


def test_an_optin_with_nul_is_stored_cleaned(client, optin):
    response = client.post(
        "/optin/webinar/",
        {"name": "Jane\x00 Doe", "phone": "(415) 555-\x002671", "consent": "on"},
        HTTP_USER_AGENT="Mozilla/5.0\x00",
    )

    assert response.status_code == 302
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name, str(contact.phone)) == (
        "Jane",
        "Doe",
        "+14155552671",
    )
    assert ConsentRecord.objects.get().user_agent == "Mozilla/5.0"


def test_a_session_cookie_with_nul_is_no_session(client, optin):
    response = client.get("/optin/webinar/", HTTP_COOKIE="sessionid=abcdefgh\x00ijkl")

    assert response.status_code == 200


# The REST API


@pytest.fixture
def api(admin_user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(admin_user)
    return client


def test_an_event_batch_with_unstorable_text_is_stored_cleaned(api):
    ada = ContactFactory(email="ada@example.com")
    event = {
        "type": "pricing_view",
        "occurred_at": "2026-03-10T15:00:00Z",
        "contact": {"email": "ada@example.com"},
    }
    batch = {
        "events": [
            {**event, "idempotency_key": "k1\x00", "properties": {"page\x00": "/pricing\ud800"}},
            {**event, "idempotency_key": "k2", "source": "web\x00", "properties": {"n": 1}},
        ]
    }
    body = json.dumps(batch)  # \u0000 and \ud800 escapes, as any client would write them

    response = api.post("/api/v1/events/", body, content_type="application/json")

    assert response.status_code == 200
    assert [item["status"] for item in response.json()["results"]] == ["created", "created"]
    events = Event.objects.filter(contact=ada).order_by("idempotency_key")
    assert list(events.values_list("idempotency_key", "source", "properties")) == [
        ("k1", "", {"page": "/pricing\ufffd"}),
        ("k2", "web", {"n": 1}),
    ]


def test_a_contact_with_unstorable_text_is_stored_cleaned(api):
    body = '{"first_name": "Ad\\u0000a", "last_name": "Lovelace\\ud800", "email": "a@example.com"}'

    response = api.post("/api/v1/contacts/", body, content_type="application/json")

    assert response.status_code == 201
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name) == ("Ada", "Lovelace\ufffd")


def test_the_api_reads_form_and_multipart_fields_storable():
    factory = APIRequestFactory()
    form = factory.post("/", "a%00=b%00c", content_type="application/x-www-form-urlencoded")
    multipart = factory.post("/", {"a\x00": "b\x00c"}, format="multipart")

    parsed = [
        Request(form, parsers=[StorableFormParser()]).data.dict(),
        Request(multipart, parsers=[StorableMultiPartParser()]).data.dict(),
    ]

    assert parsed == [{"a": "bc"}, {"a": "bc"}]


@pytest.mark.parametrize("query", ["phone=%00", "email=%00", "external_id=a%00b", "owner=%00"])
def test_a_list_filter_with_nul_never_fails(api, query):
    ContactFactory()

    response = api.get(f"/api/v1/contacts/?{query}")

    assert response.status_code in (200, 400)


# The admin


def test_a_segment_preview_with_nul_counts_the_cleaned_rules(client, make_user):
    ContactFactory(source="webinar")
    client.force_login(make_user(roles.MARKETER))
    rules = {"all": [{"field": "source", "op": "eq", "value": "web\u0000inar"}]}

    response = client.post(
        "/admin/contacts/segment/preview/", json.dumps(rules and {"rules": rules}),
        content_type="application/json",
    )  # fmt: skip

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_a_segment_saved_with_nul_is_stored_cleaned(admin_client):
    rules = '{"all": [{"field": "source", "op": "eq", "value": "web\\u0000inar"}]}'

    response = admin_client.post(
        "/admin/contacts/segment/add/",
        {"name": "Webinar\x00 leads", "description": "", "rules": rules},
    )

    assert response.status_code == 302
    segment = Segment.objects.get()
    assert (segment.name, segment.rules) == (
        "Webinar leads",
        {"all": [{"field": "source", "op": "eq", "value": "webinar"}]},
    )


@pytest.mark.parametrize(
    "url",
    [
        "/admin/contacts/contact/?q=%00",
        "/admin/contacts/contact/?q=a%00b&lifecycle_stage__exact=%00",
        "/admin/sends/outboundmessage/?q=%00",
        "/admin/consent/consentrecord/?q=%00",
        "/admin/contacts/contact/%00/change/",
    ],
)
def test_an_admin_search_with_nul_never_fails(admin_client, url):
    response = admin_client.get(url)

    assert response.status_code in (200, 302)


def test_a_consent_import_with_nul_in_a_cell_is_refused_with_a_reason(admin_client):
    upload = SimpleUploadedFile("people.csv", b"phone,name\n+14155552671,Ja\x00ne\n")

    response = admin_client.post("/admin/contacts/contactimport/add/", {"file": upload})

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "file": [
            "The file is not CSV text in UTF-8 or Windows-1252. Save it as “CSV UTF-8” and "
            "upload it again."
        ]
    }
