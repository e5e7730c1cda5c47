import hashlib
import hmac
import itertools
import json
import threading
from datetime import UTC, datetime, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest
import time_machine
from django.utils import timezone
from twilio.request_validator import RequestValidator

from apps.accounts import roles
from apps.accounts.services import working_hours_set
from apps.contacts.events import record_event
from apps.routing.models import RoutingRule
from apps.sends.models import OutboundMessage
from tests.factories import ContactFactory, TeamFactory, TemplateVersionFactory

# Tuesday 10 March 2026, 15:00 UTC: 11:00 in New York, 08:00 in Los Angeles, 00:00 in Tokyo.
TUESDAY_11_NY = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
NINE_TO_FIVE = {day: (time(9), time(17)) for day in range(5)}

_rules = itertools.count(1)
_events = itertools.count(1)


@pytest.fixture(autouse=True)
def now(request):
    """The clock stands still at TUESDAY_11_NY (move it with now.shift(seconds) or
    now.move_to(...)), except in browser tests, where the page's own clock must agree."""
    if request.node.get_closest_marker("browser"):
        yield None
        return
    with time_machine.travel(TUESDAY_11_NY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def team(db):
    return TeamFactory(name="East Coast Sales")


@pytest.fixture
def make_rep(make_user, team):
    def make(username: str, *, hours=NINE_TO_FIVE, **fields):
        fields = {"team": team, "first_name": username.capitalize(), "last_name": "Rep", **fields}
        rep = make_user(roles.SALES_REP, username=username, **fields)
        working_hours_set(user=rep, windows=hours)
        return rep

    return make


@pytest.fixture
def sam(make_rep):
    return make_rep("sam", phone="+12025550105")


@pytest.fixture
def riley(make_rep):
    return make_rep("riley", phone="+12025550106")


@pytest.fixture
def manager(make_user, team):
    morgan = make_user(
        roles.SALES_MANAGER, username="morgan", team=team, first_name="Morgan", last_name="Boss"
    )
    team.manager = morgan
    team.save()
    return morgan


@pytest.fixture
def make_rule(team):
    def make(**fields) -> RoutingRule:
        values = {
            "name": f"Rule {next(_rules)}",
            "position": 10,
            "team": team,
            "sla_minutes": 15,
            "sla_clock": "clock",
            **fields,
        }
        return RoutingRule.objects.create(**values)

    return make


@pytest.fixture
def reply_rule(make_rule):
    return make_rule(
        name="Interested reply", signal_types=["reply"], intents=["positive", "question"]
    )


@pytest.fixture
def contact_of(db):
    def make(owner=None, **fields):
        return ContactFactory(owner=owner, **fields)

    return make


@pytest.fixture
def hand_off(django_capture_on_commit_callbacks):
    """Records an event and runs the after-commit hand-off (handlers, notifications, webhooks)
    as the worker would; returns the stored event."""

    def record(contact, type="sms_reply", properties=None, key=None):
        with django_capture_on_commit_callbacks(execute=True):
            recorded = record_event(
                contact=contact,
                type=type,
                occurred_at=timezone.now(),
                idempotency_key=key or f"test-event-{next(_events)}",
                properties=properties or {},
                source="test",
            )
        return recorded.event

    return record


def reply(hand_off, contact, body, **properties):
    return hand_off(contact, "sms_reply", {"body": body, **properties})


AUTH_TOKEN = "test-auth-token"
INBOUND_PATH = "/webhooks/twilio/inbound/"
_sids = itertools.count(1)


def inbound_post(client, base_url: str, sender: str, body: str):
    """A text as Twilio would POST it, signed against `base_url` + the path."""
    params = {
        "MessageSid": f"SM{next(_sids):032d}",
        "AccountSid": "AC" + "1" * 32,
        "From": sender,
        "To": "+13125550000",
        "Body": body,
        "NumMedia": "0",
    }
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{base_url}{INBOUND_PATH}", params)
    return client.post(
        INBOUND_PATH,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )


@pytest.fixture
def text_in(client, settings, django_capture_on_commit_callbacks):
    """POSTs a signed inbound text from the contact and runs what follows its commit."""
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_ACCOUNT_SID = ""
    settings.PUBLIC_BASE_URL = "https://cue.example.com"

    def send(contact, body):
        with django_capture_on_commit_callbacks(execute=True):
            return inbound_post(client, settings.PUBLIC_BASE_URL, str(contact.phone), body)

    return send


@pytest.fixture
def approved_message(db):
    """A delivered message from a template with the given name (stored as sent, so the
    version's workflow state does not matter here)."""

    def make(contact, template_name="Webinar reminder"):
        version = TemplateVersionFactory(template__name=template_name)
        return OutboundMessage.objects.create(
            contact=contact,
            to_address=str(contact.phone),
            template_version=version,
            body="Cue Demo: see you at 3. Reply STOP to opt out.",
            category="marketing",
            origin="journey",
            send_key=f"test-{contact.pk}-{version.pk}",
            status="delivered",
            sent_at=timezone.now(),
        )

    return make


# --- A small real HTTP server for webhooks ----------------------------------------------------


class WebhookReceiver:
    """Answers POSTs on 127.0.0.1 with the status codes it is given, in turn (then 200), and
    keeps what it received, with whether the signature verified against `secret`."""

    def __init__(self, secret: str):
        self.secret = secret
        self.codes: list[int] = []
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                signature = self.headers.get("X-Cue-Signature", "")
                receiver.received.append(
                    {
                        "event": self.headers.get("X-Cue-Event"),
                        "body": json.loads(body),
                        "verified": receiver.verify(signature, body),
                    }
                )
                self.send_response(receiver.codes.pop(0) if receiver.codes else 200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/cue"

    def verify(self, header: str, body: bytes) -> bool:
        parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
        expected = hmac.new(
            self.secret.encode(), f"{parts.get('t', '')}.".encode() + body, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(expected, parts.get("v1", ""))

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_receiver():
    with WebhookReceiver("whsec-test-secret") as receiver:
        yield receiver
