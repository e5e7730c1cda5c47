"""The fake Twilio server, driven by the real twilio client over real HTTP."""

import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator

from apps.sends.testing.fake_twilio import FakeTwilio, phone_mask, request_line, sms_segments
from apps.sends.transports.http import CueTwilioHttpClient, twilio_client_build, twilio_url_rewrite

ACCOUNT_SID = "AC" + "a1" * 16
AUTH_TOKEN = "test-auth-token"
SENDER = "+15005550006"
RECIPIENT = "+15551230001"
OTHER_RECIPIENT = "+15551230002"
SERVICE_SID = "MG" + "b2" * 16
MESSAGE_SID = re.compile(r"^SM[0-9a-f]{32}$")


class WebhookReceiver:
    """Stands in for our webhook endpoint: records each POST and answers 204."""

    def __init__(self):
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode("utf-8")))
                receiver.received.append(
                    {"path": self.path, "headers": dict(self.headers.items()), "form": form}
                )
                self.send_response(204)
                self.end_headers()

            def log_message(self, format, *args):
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def fake_twilio():
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
def twilio_client(fake_twilio):
    return twilio_client_build(
        account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, base_url=fake_twilio.base_url, timeout=2.0
    )


@pytest.fixture
def webhook_receiver():
    with WebhookReceiver() as receiver:
        yield receiver


def test_it_records_a_created_message_with_exact_params(fake_twilio, twilio_client):
    # Given a real client pointed at the fake
    # When a message is created
    message = twilio_client.messages.create(
        to=RECIPIENT,
        from_=SENDER,
        body="Your table is ready",
        status_callback="http://127.0.0.1:9/hooks/twilio/status",
        validity_period=600,
    )

    # Then the fake recorded exactly what the client sent
    assert fake_twilio.messages_sent() == [
        {
            "To": RECIPIENT,
            "From": SENDER,
            "Body": "Your table is ready",
            "StatusCallback": "http://127.0.0.1:9/hooks/twilio/status",
            "ValidityPeriod": "600",
        }
    ]
    # And answered like Twilio does
    assert MESSAGE_SID.match(message.sid)
    assert message.status == "queued"
    assert message.to == RECIPIENT
    assert message.from_ == SENDER
    assert message.body == "Your table is ready"
    assert message.num_segments == "1"
    assert message.error_code is None
    assert message.account_sid == ACCOUNT_SID
    assert message.direction == "outbound-api"
    assert message.uri == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{message.sid}.json"
    assert message.date_created is not None


def test_it_sends_the_request_to_the_base_url_with_twilio_headers(fake_twilio, twilio_client):
    # Given a real client pointed at the fake
    # When a message is created
    twilio_client.messages.create(to=RECIPIENT, from_=SENDER, body="Hi")

    # Then exactly one POST reached the fake's Messages resource, authenticated
    [recorded] = fake_twilio.requests
    assert recorded.method == "POST"
    assert recorded.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert recorded.status == 201
    assert recorded.form == {"To": RECIPIENT, "From": SENDER, "Body": "Hi"}
    assert recorded.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert recorded.headers["X-Twilio-Client"].startswith("python-")


def test_it_accepts_messaging_service_sends(fake_twilio, twilio_client):
    # Given a real client pointed at the fake
    # When a message is created through a messaging service
    message = twilio_client.messages.create(
        to=RECIPIENT, messaging_service_sid=SERVICE_SID, body="Hi"
    )

    # Then Twilio's "accepted" state is reported, with the sender still unknown
    assert message.status == "accepted"
    assert message.messaging_service_sid == SERVICE_SID
    assert message.from_ is None
    assert fake_twilio.messages_sent() == [
        {"To": RECIPIENT, "MessagingServiceSid": SERVICE_SID, "Body": "Hi"}
    ]


def test_it_fetches_a_created_message_back(twilio_client):
    # Given a created message
    created = twilio_client.messages.create(to=RECIPIENT, from_=SENDER, body="Hello")

    # When it is fetched by sid
    fetched = twilio_client.messages(created.sid).fetch()

    # Then it is the same message
    assert fetched.sid == created.sid
    assert fetched.to == RECIPIENT
    assert fetched.from_ == SENDER
    assert fetched.body == "Hello"
    assert fetched.status == "queued"


def test_it_answers_404_for_an_unknown_message(twilio_client):
    # Given no message with this sid
    unknown_sid = "SM" + "0" * 32

    # When it is fetched
    with pytest.raises(TwilioRestException) as raised:
        twilio_client.messages(unknown_sid).fetch()

    # Then Twilio's not-found error surfaces
    assert raised.value.status == 404
    assert raised.value.code == 20404


def test_it_lists_messages_filtered_by_recipient(twilio_client):
    # Given messages to two recipients
    first = twilio_client.messages.create(to=RECIPIENT, from_=SENDER, body="one")
    twilio_client.messages.create(to=OTHER_RECIPIENT, from_=SENDER, body="other")
    second = twilio_client.messages.create(to=RECIPIENT, from_=SENDER, body="two")

    # When listing by recipient
    listed = twilio_client.messages.list(to=RECIPIENT)

    # Then only that recipient's messages come back, newest first
    assert [message.sid for message in listed] == [second.sid, first.sid]


def test_it_pages_through_long_lists(twilio_client):
    # Given five messages to one recipient
    created = [
        twilio_client.messages.create(to=RECIPIENT, from_=SENDER, body=f"n{number}")
        for number in range(5)
    ]

    # When listing with pages of two
    listed = twilio_client.messages.list(to=RECIPIENT, page_size=2)

    # Then the client follows next_page_uri through the fake to collect them all
    assert [message.sid for message in listed] == [message.sid for message in reversed(created)]


def test_it_rejects_bad_credentials_with_401(fake_twilio):
    # Given a client with the wrong auth token
    client = twilio_client_build(
        account_sid=ACCOUNT_SID, auth_token="wrong", base_url=fake_twilio.base_url, timeout=2.0
    )

    # When it tries to send
    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to=RECIPIENT, from_=SENDER, body="Hi")

    # Then Twilio's authentication error surfaces and nothing was sent
    assert raised.value.status == 401
    assert raised.value.code == 20003
    assert fake_twilio.messages_sent() == []


def test_it_surfaces_an_unsubscribed_recipient_error(fake_twilio, twilio_client):
    # Given the next request fails as if the recipient replied STOP
    fake_twilio.fail_next(
        status=400, code=21610, message="Attempt to send to unsubscribed recipient"
    )

    # When a message is created
    with pytest.raises(TwilioRestException) as raised:
        twilio_client.messages.create(to=RECIPIENT, from_=SENDER, body="Hi")

    # Then the client sees Twilio's error code and status
    assert raised.value.code == 21610
    assert raised.value.status == 400
    assert raised.value.msg == (
        "Unable to create record: Attempt to send to unsubscribed recipient"
    )
    assert fake_twilio.messages_sent() == []


def test_it_fails_with_500_once_then_succeeds(fake_twilio, twilio_client):
    # Given one scripted server error
    fake_twilio.fail_next(status=500)

    # When the client sends twice
    with pytest.raises(TwilioRestException) as raised:
        twilio_client.messages.create(to=RECIPIENT, from_=SENDER, body="Hi")
    message = twilio_client.messages.create(to=RECIPIENT, from_=SENDER, body="Hi")

    # Then only the first attempt failed, and one message exists
    assert raised.value.status == 500
    assert raised.value.code == 20500
    assert message.status == "queued"
    assert [recorded.status for recorded in fake_twilio.requests] == [500, 201]
    assert len(fake_twilio.messages_sent()) == 1


def test_it_answers_rate_limits_with_429(fake_twilio, twilio_client):
    # Given two scripted rate-limit answers
    fake_twilio.fail_next(status=429, code=20429, times=2)

    # When the client sends three times
    codes = []
    for _ in range(2):
        with pytest.raises(TwilioRestException) as raised:
            twilio_client.messages.create(to=RECIPIENT, from_=SENDER, body="Hi")
        codes.append((raised.value.status, raised.value.code))
    twilio_client.messages.create(to=RECIPIENT, from_=SENDER, body="Hi")

    # Then the first two were throttled and the third went through
    assert codes == [(429, 20429), (429, 20429)]
    assert [recorded.status for recorded in fake_twilio.requests] == [429, 429, 201]


def test_it_times_out_client_side_after_the_message_was_created(fake_twilio, twilio_client):
    # Given a client with a short timeout and a fake that answers slower than that
    impatient_client = twilio_client_build(
        account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, base_url=fake_twilio.base_url, timeout=0.3
    )
    fake_twilio.delay_next(3.0)

    # When a message is created
    with pytest.raises(requests.exceptions.ReadTimeout):
        impatient_client.messages.create(to=RECIPIENT, from_=SENDER, body="Slow one")

    # Then the fake kept the message, so a reconciliation lookup finds it
    [found] = twilio_client.messages.list(to=RECIPIENT)
    assert found.body == "Slow one"
    assert fake_twilio.messages_sent() == [{"To": RECIPIENT, "From": SENDER, "Body": "Slow one"}]


def test_it_rejects_only_the_number_with_a_scripted_error(fake_twilio, twilio_client):
    # Given one recipient that is not a mobile number
    fake_twilio.error_for_number(OTHER_RECIPIENT, status=400, code=21614)

    # When sending to it and to another recipient
    with pytest.raises(TwilioRestException) as raised:
        twilio_client.messages.create(to=OTHER_RECIPIENT, from_=SENDER, body="Hi")
    delivered = twilio_client.messages.create(to=RECIPIENT, from_=SENDER, body="Hi")

    # Then only the scripted number fails, every time
    assert (raised.value.status, raised.value.code) == (400, 21614)
    assert delivered.status == "queued"
    with pytest.raises(TwilioRestException):
        twilio_client.messages.create(to=OTHER_RECIPIENT, from_=SENDER, body="Again")
    assert [params["To"] for params in fake_twilio.messages_sent()] == [RECIPIENT]


def test_it_fails_only_the_next_creates_to_a_number(fake_twilio, twilio_client):
    # Given two transient errors scripted for one recipient
    fake_twilio.fail_next(status=429, times=2, to=OTHER_RECIPIENT)

    # When sending to it three times, and to another recipient in between
    codes = []
    for _ in range(2):
        with pytest.raises(TwilioRestException) as raised:
            twilio_client.messages.create(to=OTHER_RECIPIENT, from_=SENDER, body="Hi")
        codes.append(raised.value.status)
        twilio_client.messages.create(to=RECIPIENT, from_=SENDER, body="Hello")
    twilio_client.messages.create(to=OTHER_RECIPIENT, from_=SENDER, body="Hi")

    # Then only that number's first two creates failed, and nothing was stored for them
    assert codes == [429, 429]
    assert [recorded.status for recorded in fake_twilio.requests] == [429, 201, 429, 201, 201]
    assert [params["To"] for params in fake_twilio.messages_sent()] == [
        RECIPIENT,
        RECIPIENT,
        OTHER_RECIPIENT,
    ]


def test_it_holds_only_the_answer_to_a_create_to_a_number(fake_twilio):
    # Given a slow answer scripted for one recipient and a client that waits 0.3 s
    impatient_client = twilio_client_build(
        account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, base_url=fake_twilio.base_url, timeout=0.3
    )
    fake_twilio.delay_next(3.0, to=OTHER_RECIPIENT)

    # When sending to another recipient, then to that one, then to it again
    impatient_client.messages.create(to=RECIPIENT, from_=SENDER, body="Fast")
    with pytest.raises(requests.exceptions.ReadTimeout):
        impatient_client.messages.create(to=OTHER_RECIPIENT, from_=SENDER, body="Slow")
    impatient_client.messages.create(to=OTHER_RECIPIENT, from_=SENDER, body="Fast again")

    # Then only that one create was held, and the fake kept it
    assert [params["Body"] for params in fake_twilio.messages_sent()] == [
        "Fast",
        "Slow",
        "Fast again",
    ]


def test_it_requires_a_recipient_like_twilio(twilio_client):
    # Given a real client pointed at the fake
    # When a message without a recipient is created
    with pytest.raises(TwilioRestException) as raised:
        twilio_client.messages.create(to="", from_=SENDER, body="Hi")

    # Then Twilio's missing-To error surfaces
    assert (raised.value.status, raised.value.code) == (400, 21604)


def test_it_posts_a_signed_status_callback(fake_twilio, twilio_client, webhook_receiver):
    # Given a message with a status callback URL
    callback_url = webhook_receiver.url("/hooks/twilio/status")
    message = twilio_client.messages.create(
        to=RECIPIENT, from_=SENDER, body="Hi", status_callback=callback_url
    )

    # When the fake reports it undelivered
    answered = fake_twilio.send_status_callback(message.sid, "undelivered", error_code=30003)

    # Then our endpoint got Twilio's form, signed with the auth token
    [received] = webhook_receiver.received
    assert answered == 204
    assert received["path"] == "/hooks/twilio/status"
    assert received["form"] == {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "ErrorCode": "30003",
        "From": SENDER,
        "MessageSid": message.sid,
        "MessageStatus": "undelivered",
        "SmsSid": message.sid,
        "SmsStatus": "undelivered",
        "To": RECIPIENT,
    }
    signature = received["headers"]["X-Twilio-Signature"]
    assert RequestValidator(AUTH_TOKEN).validate(callback_url, received["form"], signature)
    # And a later fetch sees the new status
    fetched = twilio_client.messages(message.sid).fetch()
    assert (fetched.status, fetched.error_code) == ("undelivered", 30003)


def test_it_signs_status_callbacks_for_an_explicit_url(fake_twilio, twilio_client):
    # Given a message created without a status callback
    message = twilio_client.messages.create(to=RECIPIENT, from_=SENDER, body="Hi")
    url = "http://testserver/hooks/twilio/status"

    # When a callback is built for an explicit URL
    built_url, params, headers = fake_twilio.signed_status_callback(
        message.sid, "delivered", url=url
    )

    # Then it validates against that URL only
    validator = RequestValidator(AUTH_TOKEN)
    assert built_url == url
    assert "ErrorCode" not in params
    assert validator.validate(url, params, headers["X-Twilio-Signature"])
    assert not validator.validate(url + "?x=1", params, headers["X-Twilio-Signature"])


def test_it_builds_and_posts_signed_inbound_messages(fake_twilio, webhook_receiver):
    # Given our inbound webhook URL
    url = webhook_receiver.url("/hooks/twilio/inbound")

    # When the fake builds and posts an inbound SMS
    params, headers = fake_twilio.signed_inbound(url, from_=RECIPIENT, to=SENDER, body="STOP")
    answered = fake_twilio.send_inbound(url, from_=RECIPIENT, to=SENDER, body="STOP")

    # Then both carry Twilio's fields and a valid signature
    validator = RequestValidator(AUTH_TOKEN)
    assert validator.validate(url, params, headers["X-Twilio-Signature"])
    assert MESSAGE_SID.match(params["MessageSid"])
    assert {key: params[key] for key in ("AccountSid", "From", "To", "Body", "NumMedia")} == {
        "AccountSid": ACCOUNT_SID,
        "From": RECIPIENT,
        "To": SENDER,
        "Body": "STOP",
        "NumMedia": "0",
    }
    assert params["NumSegments"] == "1"
    [received] = webhook_receiver.received
    assert answered == 204
    assert received["form"]["Body"] == "STOP"
    assert validator.validate(url, received["form"], received["headers"]["X-Twilio-Signature"])


def test_it_reports_the_status_the_webhook_target_answered(fake_twilio):
    # Given a webhook URL whose server rejects the post (the fake itself, unauthenticated)
    url = f"{fake_twilio.base_url}/hooks/twilio/inbound"

    # When an inbound SMS is posted there
    answered = fake_twilio.send_inbound(url, from_=RECIPIENT, to=SENDER, body="Hi")

    # Then the rejection status is returned, not raised
    assert answered == 401


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),
        ("€" * 81, 2),
        ("é" + "😀" * 34, 1),
        ("😀" * 36, 2),
    ],
)
def test_it_counts_segments_like_carriers(body, segments):
    # Given a body / When counting its segments / Then GSM-7 and UCS-2 limits apply
    assert sms_segments(body) == segments


def test_it_rewrites_only_twilio_hosts_onto_the_base_url():
    # Given a fake base URL with a path prefix
    base_url = "http://127.0.0.1:8099/twilio"

    # When rewriting URLs the SDK builds
    rewritten = [
        twilio_url_rewrite("https://api.twilio.com/2010-04-01/Accounts.json?Page=1", base_url),
        twilio_url_rewrite("https://messaging.us1.twilio.com/v1/Services", base_url),
        twilio_url_rewrite("https://example.com/2010-04-01/Accounts.json", base_url),
        twilio_url_rewrite("https://api.twilio.com/2010-04-01/Accounts.json", None),
    ]

    # Then only *.twilio.com moves, keeping path and query
    assert rewritten == [
        "http://127.0.0.1:8099/twilio/2010-04-01/Accounts.json?Page=1",
        "http://127.0.0.1:8099/twilio/v1/Services",
        "https://example.com/2010-04-01/Accounts.json",
        "https://api.twilio.com/2010-04-01/Accounts.json",
    ]


@pytest.mark.parametrize("timeout", [0, -1, None])
def test_it_refuses_a_missing_or_non_positive_timeout(timeout):
    # Given / When / Then a client without a usable timeout cannot be built
    with pytest.raises(ValueError):
        CueTwilioHttpClient(base_url=None, timeout=timeout)


def test_it_refuses_a_base_url_that_is_not_absolute_http():
    # Given / When / Then a misconfigured base URL fails at construction time
    with pytest.raises(ValueError):
        CueTwilioHttpClient(base_url="127.0.0.1:8099", timeout=1.0)


def test_it_logs_requests_with_masked_phone_numbers(fake_twilio, twilio_client):
    # Given a created message
    twilio_client.messages.create(to=RECIPIENT, from_=SENDER, body="Hello")

    # When its request is rendered as a log line
    line = request_line(fake_twilio.requests[0])

    # Then only the last four digits of each number show
    assert line.endswith(
        f"POST /2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json -> 201 "
        "To=+*******0001 From=+*******0006 body_chars=5"
    )
    assert phone_mask("+15551230001") == "+*******0001"
