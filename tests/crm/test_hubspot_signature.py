"""HubSpot's v3 webhook signature: vectors computed here, independently of Cue's code."""

import base64
import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hubspot.utils.signature import Signature

from apps.crm.hubspot import hubspot_signature_valid
from apps.crm.testing.fake_hubspot import FakeHubSpot

SECRET = "app-client-secret-1234"
URI = "https://cue.example.com/webhooks/hubspot/"
BODY = '[{"eventId":1,"subscriptionType":"contact.propertyChange","objectId":123}]'
NOW = datetime(2026, 1, 5, 12, 0, 0, tzinfo=UTC)
STAMP = str(int(NOW.timestamp() * 1000))


def expected(secret=SECRET, method="POST", uri=URI, body=BODY, stamp=STAMP) -> str:
    message = f"{method}{uri}{body}{stamp}".encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def valid(signature, *, uri=URI, body=BODY, stamp=STAMP, now=NOW, method="POST", secret=SECRET):
    return hubspot_signature_valid(secret, method, uri, body, stamp, signature, now)


def test_it_accepts_hubspots_signature():
    assert valid(expected()) is True


def test_it_agrees_with_hubspots_own_client_library():
    vendor = Signature.get_signature(SECRET, BODY, "v3", URI, "POST", STAMP)

    assert vendor == expected()
    assert valid(vendor) is True


def test_it_accepts_the_body_as_bytes():
    assert hubspot_signature_valid(SECRET, "POST", URI, BODY.encode(), STAMP, expected(), NOW)


def test_it_accepts_a_body_with_non_ascii_text():
    body = '[{"propertyValue":"Zoë — 東京"}]'

    assert valid(expected(body=body), body=body) is True


@pytest.mark.parametrize(
    "change",
    [
        {"secret": "another-secret"},
        {"body": BODY.replace("123", "124")},
        {"uri": URI + "?x=1"},
        {"method": "PUT"},
        {"stamp": str(int(STAMP) + 1)},
    ],
    ids=["secret", "body", "uri", "method", "timestamp"],
)
def test_it_refuses_any_change_to_what_was_signed(change):
    signature = expected()

    assert valid(signature, **change) is False


def test_the_uri_is_signed_with_hubspots_escapes_decoded():
    sent = "https://cue.example.com/webhooks/hubspot/?portal%3A1%2C2=%40x"
    signed_as = "https://cue.example.com/webhooks/hubspot/?portal:1,2=@x"

    assert valid(expected(uri=signed_as), uri=sent) is True


def test_other_escapes_stay_as_sent():
    sent = "https://cue.example.com/webhooks/hubspot/?name=a%20b"

    assert valid(expected(uri=sent), uri=sent) is True
    assert valid(expected(uri=sent.replace("%20", " ")), uri=sent) is False


def test_a_request_five_minutes_old_is_still_accepted():
    assert valid(expected(), now=NOW + timedelta(minutes=5)) is True


def test_a_request_older_than_five_minutes_is_refused():
    assert valid(expected(), now=NOW + timedelta(minutes=5, milliseconds=1)) is False


def test_a_request_stamped_more_than_five_minutes_ahead_is_refused():
    assert valid(expected(), now=NOW - timedelta(minutes=5, milliseconds=1)) is False


@pytest.mark.parametrize("stamp", ["", "abc", "1.5e12", "-1", "²"])
def test_a_timestamp_that_is_not_milliseconds_is_refused(stamp):
    assert valid(expected(stamp=stamp), stamp=stamp) is False


@pytest.mark.parametrize("signature", [None, "", "not-base64", expected(secret="x")])
def test_a_missing_or_wrong_signature_is_refused(signature):
    assert valid(signature) is False


def test_without_a_configured_secret_nothing_is_accepted():
    assert valid(expected(secret=""), secret="") is False


class Receiver:
    """Stands in for Cue's webhook endpoint: checks each POST as Cue would."""

    def __init__(self, secret: str):
        self.verdicts: list[tuple[bool, list]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                host, port = self.server.server_address[:2]
                ok = hubspot_signature_valid(
                    secret,
                    "POST",
                    f"http://{host}:{port}{self.path}",
                    body,
                    self.headers["X-HubSpot-Request-Timestamp"],
                    self.headers["X-HubSpot-Signature-v3"],
                    datetime.now(UTC),
                )
                receiver.verdicts.append((ok, json.loads(body)))
                self.send_response(204 if ok else 401)
                self.end_headers()

            def log_message(self, format, *args):
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()


def test_the_fakes_webhooks_pass_the_check_and_a_stale_one_does_not():
    fake = FakeHubSpot(webhook_secret=SECRET)
    event = fake.webhook_event(
        "contact.propertyChange", "123", property_name="hs_email_optout", property_value="true"
    )
    stale = int((datetime.now(UTC) - timedelta(minutes=6)).timestamp() * 1000)

    with Receiver(SECRET) as receiver:
        fresh_status = fake.send_webhook(receiver.url("/webhooks/hubspot/?portal=1"), [event])
        stale_status = fake.send_webhook(
            receiver.url("/webhooks/hubspot/"), [event], timestamp_ms=stale
        )

    assert (fresh_status, stale_status) == (204, 401)
    assert receiver.verdicts[0] == (True, [event])
    assert receiver.verdicts[1][0] is False
    assert event["subscriptionType"] == "contact.propertyChange"
    assert event["objectId"] == 123
    assert event["propertyName"] == "hs_email_optout"
