"""A fake Twilio REST API on 127.0.0.1, for tests and local runs.

The real twilio client talks to it over real HTTP (see apps.sends.transports.http), so
everything above the network boundary runs exactly as in production. Only the Messages
resource of the 2010-04-01 API is served: create, fetch and list.

Run it by hand with:

    python -m apps.sends.testing.fake_twilio --port 8099 --account-sid AC... --auth-token ...
"""

import argparse
import base64
import binascii
import json
import math
import re
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.client import responses
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any, Self

from twilio.request_validator import RequestValidator

API_VERSION = "2010-04-01"
DEFAULT_ACCOUNT_SID = "AC" + "0" * 32
DEFAULT_AUTH_TOKEN = "fake-twilio-auth-token"
WEBHOOK_TIMEOUT_SECONDS = 5.0
SERVER_STOP_TIMEOUT_SECONDS = 5.0
MAX_BODY_BYTES = 1_000_000
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000

MESSAGES_PATH = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account_sid>[^/]+)/Messages\.json$")
MESSAGE_PATH = re.compile(
    rf"^/{API_VERSION}/Accounts/(?P<account_sid>[^/]+)/Messages/(?P<sid>[^/]+)\.json$"
)

ERROR_MESSAGES = {
    20003: "Authenticate",
    20004: "Method not allowed",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    20503: "Service Unavailable",
    21211: "Invalid 'To' Phone Number",
    21602: "Message body is required.",
    21603: "The source 'From' phone number is required to send an SMS",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
}
# Twilio answers plain HTTP failures with these codes; anything else echoes the status.
DEFAULT_CODE_FOR_STATUS = {401: 20003, 404: 20404, 405: 20004, 429: 20429, 500: 20500, 503: 20503}

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = "^{}\\[~]|€\f"

FormParams = dict[str, str | list[str]]


@dataclass(frozen=True)
class TwilioError:
    """An error answer in Twilio's JSON shape."""

    status: int
    code: int
    message: str

    @classmethod
    def of(cls, status: int, code: int | None = None, message: str | None = None) -> Self:
        if status < 400:
            raise ValueError(f"an error needs a 4xx/5xx status, got {status}")
        code = code if code is not None else DEFAULT_CODE_FOR_STATUS.get(status, status)
        if message is None:
            message = ERROR_MESSAGES.get(code) or responses.get(status, "Error")
        return cls(status=status, code=code, message=message)

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received, with the status it answered."""

    method: str
    path: str
    query: FormParams
    headers: dict[str, str]
    form: FormParams
    status: int
    received_at: datetime


@dataclass(frozen=True)
class Reply:
    """What the fake answers to one request."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def error_reply(error: TwilioError) -> Reply:
    headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if error.status == 401 else {}
    return Reply(status=error.status, body=error.body(), headers=headers)


def form_parse(raw: str) -> FormParams:
    """Decode a query string or form body; keys sent more than once (MediaUrl) stay lists."""
    parsed = urllib.parse.parse_qs(raw, keep_blank_values=True)
    return {key: values[0] if len(values) == 1 else values for key, values in parsed.items()}


def form_value(params: Mapping[str, str | list[str]], key: str) -> str | None:
    value = params.get(key)
    if isinstance(value, list):
        return value[0]
    return value


def form_values(params: Mapping[str, str | list[str]], key: str) -> list[str]:
    value = params.get(key)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def sms_segments(body: str) -> int:
    """Count SMS segments the way carriers do: GSM-7 when possible, UCS-2 otherwise."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENDED for char in body):
        # Extended GSM characters travel as an escape plus the character.
        septets = sum(2 if char in GSM7_EXTENDED else 1 for char in body)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    code_units = len(body.encode("utf-16-le")) // 2
    return 1 if code_units <= 70 else math.ceil(code_units / 67)


def twilio_timestamp(moment: datetime) -> str:
    return format_datetime(moment)


def phone_mask(number: str) -> str:
    """Hide all but the last four digits, so logs never show a full phone number."""
    digit_count = sum(char.isdigit() for char in number)
    seen = 0
    masked = []
    for char in number:
        if char.isdigit():
            seen += 1
            masked.append(char if seen > digit_count - 4 else "*")
        else:
            masked.append(char)
    return "".join(masked)


def basic_auth_credentials(header: str | None) -> tuple[str, str] | None:
    if not header:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, separator, password = decoded.partition(":")
    return (username, password) if separator else None


def signed_form_post(url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> int:
    """POST a form like Twilio's webhook sender does; answer the HTTP status received."""
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(params).encode("utf-8"),
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
        method="POST",
    )
    # Webhook targets are local test servers; an environment proxy would only get in the way.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


class FakeTwilio:
    """Fake Twilio Messages API served over HTTP from a background thread.

    Records every request, keeps created messages so fetch and list find them, and can
    be scripted to fail, to answer slowly, or to reject specific recipients.
    """

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        on_request: Callable[[RecordedRequest], None] | None = None,
    ):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.host = host
        self.port = port
        self.on_request = on_request
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _FakeTwilioHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._requests: list[RecordedRequest] = []
        self._messages: dict[str, dict[str, Any]] = {}
        self._message_params: dict[str, FormParams] = {}
        self._failures: deque[TwilioError] = deque()
        self._delays: deque[float] = deque()
        self._number_errors: dict[str, TwilioError] = {}
        self._number_failures: dict[str, deque[TwilioError]] = {}
        self._number_delays: dict[str, deque[float]] = {}

    # Lifecycle

    def start(self) -> Self:
        if self.is_running:
            raise RuntimeError("FakeTwilio is already running")
        self._stopping.clear()
        self._server = _FakeTwilioHTTPServer((self.host, self.port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-twilio-{self._server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        # Wake handlers sleeping in delay_next so they do not outlive the server.
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=SERVER_STOP_TIMEOUT_SECONDS)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeTwilio is not running; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # What happened

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def messages_sent(self) -> list[FormParams]:
        """Form params of every message created, in creation order."""
        with self._lock:
            return [dict(params) for params in self._message_params.values()]

    def message_sids(self) -> list[str]:
        """The sids of every message created, in creation order."""
        with self._lock:
            return list(self._message_params)

    def message(self, sid: str) -> dict[str, Any]:
        """The message resource as a fetch would return it now."""
        with self._lock:
            return dict(self._messages[sid])

    def reset(self) -> None:
        """Forget requests, messages and scripted faults; the server keeps running."""
        with self._lock:
            self._requests.clear()
            self._messages.clear()
            self._message_params.clear()
            self._failures.clear()
            self._delays.clear()
            self._number_errors.clear()
            self._number_failures.clear()
            self._number_delays.clear()

    # Scripted faults

    def fail_next(
        self,
        status: int = 500,
        code: int | None = None,
        message: str | None = None,
        times: int = 1,
        *,
        to: str | None = None,
    ) -> None:
        """Answer the next `times` authenticated API requests with a Twilio error; with
        `to`, only the next `times` message creates to that number (nothing is stored)."""
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        error = TwilioError.of(status, code, message)
        with self._lock:
            queue = self._failures if to is None else self._number_failures.setdefault(to, deque())
            queue.extend([error] * times)

    def delay_next(self, seconds: float, times: int = 1, *, to: str | None = None) -> None:
        """Hold the answer to the next `times` requests after they took effect; with `to`,
        only the next `times` messages created to that number.

        A create still stores the message, so a client that timed out can find it later.
        """
        if seconds <= 0 or times < 1:
            raise ValueError(f"need seconds > 0 and times >= 1, got {seconds}, {times}")
        with self._lock:
            queue = self._delays if to is None else self._number_delays.setdefault(to, deque())
            queue.extend([seconds] * times)

    def error_for_number(
        self,
        number: str,
        status: int = 400,
        code: int | None = 21614,
        message: str | None = None,
    ) -> None:
        """Reject every message created to `number` with a Twilio error, until reset()."""
        error = TwilioError.of(status, code, message)
        with self._lock:
            self._number_errors[number] = error

    # Webhooks Twilio would send

    def set_status(self, sid: str, status: str, error_code: int | None = None) -> None:
        """Move a message to a new delivery status, as Twilio does before a callback."""
        now = datetime.now(UTC)
        with self._lock:
            message = self._messages[sid]
            message["status"] = status
            message["error_code"] = error_code
            message["date_updated"] = twilio_timestamp(now)
            if status in ("sent", "delivered", "undelivered") and message["date_sent"] is None:
                message["date_sent"] = twilio_timestamp(now)

    def signed_status_callback(
        self, sid: str, status: str, error_code: int | None = None, url: str | None = None
    ) -> tuple[str, dict[str, str], dict[str, str]]:
        """Build (url, params, headers) of a status callback for a created message."""
        with self._lock:
            message = dict(self._messages[sid])
            callback_url = url or form_value(self._message_params[sid], "StatusCallback")
        if not callback_url:
            raise ValueError(f"message {sid} has no StatusCallback and no url was given")
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "From": message["from"] or "",
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": message["to"],
        }
        if message["messaging_service_sid"]:
            params["MessagingServiceSid"] = message["messaging_service_sid"]
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return callback_url, params, self._signature_headers(callback_url, params)

    def send_status_callback(
        self, sid: str, status: str, error_code: int | None = None, url: str | None = None
    ) -> int:
        """Update the message status and POST the signed callback; answer the HTTP status."""
        callback_url, params, headers = self.signed_status_callback(sid, status, error_code, url)
        self.set_status(sid, status, error_code)
        return signed_form_post(callback_url, params, headers)

    def signed_inbound(
        self, url: str, from_: str, to: str, body: str, messaging_service_sid: str = ""
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Build (params, headers) of an inbound SMS webhook, signed for `url`. A text to a
        number in a Messaging Service carries the service's MessagingServiceSid, as Twilio's.

        The signature covers the exact URL, so with Django's test client sign
        "http://testserver/<path>" and post with headers=headers.
        """
        sid = "SM" + uuid.uuid4().hex
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "Body": body,
            "From": from_,
            "MessageSid": sid,
            "NumMedia": "0",
            "NumSegments": str(sms_segments(body)),
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "SmsStatus": "received",
            "To": to,
        }
        if messaging_service_sid:
            params["MessagingServiceSid"] = messaging_service_sid
        return params, self._signature_headers(url, params)

    def send_inbound(
        self, url: str, from_: str, to: str, body: str, messaging_service_sid: str = ""
    ) -> int:
        """POST a signed inbound SMS webhook to `url`; answer the HTTP status received."""
        params, headers = self.signed_inbound(url, from_, to, body, messaging_service_sid)
        return signed_form_post(url, params, headers)

    def _signature_headers(self, url: str, params: Mapping[str, str]) -> dict[str, str]:
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        return {"X-Twilio-Signature": signature}

    # Serving (called from handler threads)

    def _answer(
        self, method: str, path: str, query: FormParams, headers: dict[str, str], form: FormParams
    ) -> tuple[Reply, float]:
        with self._lock:
            reply = self._route(method, path, query, headers, form)
            recorded = RecordedRequest(
                method=method,
                path=path,
                query=query,
                headers=headers,
                form=form,
                status=reply.status,
                received_at=datetime.now(UTC),
            )
            self._requests.append(recorded)
            delay = self._delays.popleft() if self._delays else 0.0
            if reply.status == 201 and (held := self._number_delays.get(recorded_to(recorded))):
                delay = max(delay, held.popleft())
        if self.on_request is not None:
            self.on_request(recorded)
        return reply, delay

    def _hold(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _route(
        self, method: str, path: str, query: FormParams, headers: dict[str, str], form: FormParams
    ) -> Reply:
        if not self._authorized(headers):
            return error_reply(TwilioError.of(401))
        if self._failures:
            return error_reply(self._failures.popleft())
        if match := MESSAGES_PATH.match(path):
            if match["account_sid"] != self.account_sid:
                return self._not_found(path)
            if method == "POST":
                return self._message_create(form)
            if method == "GET":
                return self._message_list(path, query)
            return error_reply(TwilioError.of(405))
        if match := MESSAGE_PATH.match(path):
            if match["account_sid"] != self.account_sid:
                return self._not_found(path)
            if method == "GET":
                return self._message_fetch(path, match["sid"])
            return error_reply(TwilioError.of(405))
        return self._not_found(path)

    def _authorized(self, headers: dict[str, str]) -> bool:
        authorization = next(
            (value for name, value in headers.items() if name.lower() == "authorization"), None
        )
        return basic_auth_credentials(authorization) == (self.account_sid, self.auth_token)

    def _not_found(self, path: str) -> Reply:
        message = f"The requested resource {path} was not found"
        return error_reply(TwilioError.of(404, 20404, message))

    def _message_create(self, form: FormParams) -> Reply:
        to = form_value(form, "To")
        if not to:
            return error_reply(TwilioError.of(400, 21604))
        if not (form_value(form, "From") or form_value(form, "MessagingServiceSid")):
            return error_reply(TwilioError.of(400, 21603))
        if not (
            form_value(form, "Body")
            or form_values(form, "MediaUrl")
            or form_value(form, "ContentSid")
        ):
            return error_reply(TwilioError.of(400, 21602))
        if to in self._number_errors:
            return error_reply(self._number_errors[to])
        if failures := self._number_failures.get(to):
            return error_reply(failures.popleft())
        message = self._message_new(form)
        self._messages[message["sid"]] = message
        self._message_params[message["sid"]] = dict(form)
        return Reply(status=201, body=dict(message))

    def _message_new(self, form: FormParams) -> dict[str, Any]:
        sid = "SM" + uuid.uuid4().hex
        body = form_value(form, "Body") or ""
        service_sid = form_value(form, "MessagingServiceSid")
        uri_base = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        now = twilio_timestamp(datetime.now(UTC))
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form_value(form, "From"),
            "messaging_service_sid": service_sid,
            "num_media": str(len(form_values(form, "MediaUrl"))),
            "num_segments": str(sms_segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            # A messaging service picks the sender later, so Twilio only "accepts" first.
            "status": "accepted" if service_sid else "queued",
            "subresource_uris": {
                "media": f"{uri_base}/Media.json",
                "feedback": f"{uri_base}/Feedback.json",
            },
            "to": form_value(form, "To"),
            "uri": f"{uri_base}.json",
        }

    def _message_fetch(self, path: str, sid: str) -> Reply:
        message = self._messages.get(sid)
        if message is None:
            return self._not_found(path)
        return Reply(status=200, body=dict(message))

    def _message_list(self, path: str, query: FormParams) -> Reply:
        filters = {
            "to": form_value(query, "To"),
            "from": form_value(query, "From"),
        }
        matching = [
            dict(message)
            for message in reversed(self._messages.values())  # newest first, like Twilio
            if all(value is None or message[key] == value for key, value in filters.items())
        ]
        page_size = min(
            max(self._int_query(query, "PageSize", DEFAULT_PAGE_SIZE), 1), MAX_PAGE_SIZE
        )
        page = max(self._int_query(query, "Page", 0), 0)
        start = page * page_size
        records = matching[start : start + page_size]

        def page_uri(number: int) -> str:
            params = {"To": filters["to"], "From": filters["from"]}
            params = {key: value for key, value in params.items() if value is not None}
            params |= {"PageSize": str(page_size), "Page": str(number)}
            return f"{path}?{urllib.parse.urlencode(params)}"

        has_next = start + page_size < len(matching)
        return Reply(
            status=200,
            body={
                "end": start + max(len(records) - 1, 0),
                "first_page_uri": page_uri(0),
                "messages": records,
                "next_page_uri": page_uri(page + 1) if has_next else None,
                "page": page,
                "page_size": page_size,
                "previous_page_uri": page_uri(page - 1) if page > 0 else None,
                "start": start,
                "uri": page_uri(page),
            },
        )

    @staticmethod
    def _int_query(query: FormParams, key: str, default: int) -> int:
        try:
            return int(form_value(query, key) or default)
        except ValueError:
            return default


class _FakeTwilioHTTPServer(ThreadingHTTPServer):
    """Threaded HTTP server that hands every request to its FakeTwilio."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], fake: FakeTwilio):
        self.fake = fake
        super().__init__(address, _FakeTwilioHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup we never need; skip it.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = port


class _FakeTwilioHandler(BaseHTTPRequestHandler):
    """Turns raw HTTP into FakeTwilio._answer calls and writes the JSON reply."""

    server: _FakeTwilioHTTPServer
    server_version = "FakeTwilio/1.0"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        # Requests are reported through FakeTwilio.on_request, with phone numbers masked.
        return

    def _serve(self) -> None:
        fake = self.server.fake
        url = urllib.parse.urlsplit(self.path)
        reply, delay = fake._answer(
            method=self.command,
            path=url.path,
            query=form_parse(url.query),
            headers=dict(self.headers.items()),
            form=form_parse(self._body_read()),
        )
        if delay:
            fake._hold(delay)
        self._reply_write(reply)

    def _body_read(self) -> str:
        length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY_BYTES)
        return self.rfile.read(length).decode("utf-8") if length else ""

    def _reply_write(self, reply: Reply) -> None:
        payload = json.dumps(reply.body).encode("utf-8")
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Twilio-Request-Id", "RQ" + uuid.uuid4().hex)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (its timeout fired during delay_next); nobody to answer.
            return


def recorded_to(recorded: RecordedRequest) -> str:
    """The recipient a recorded request names (a create's To), or ""."""
    return form_value(recorded.form, "To") or ""


def request_line(recorded: RecordedRequest) -> str:
    """One log line per request, with phone numbers masked."""
    params = {**recorded.query, **recorded.form}
    details = []
    for key in ("To", "From"):
        if value := form_value(params, key):
            details.append(f"{key}={phone_mask(value)}")
    if value := form_value(params, "MessagingServiceSid"):
        details.append(f"MessagingServiceSid={value}")
    if "Body" in params:
        details.append(f"body_chars={len(form_value(params, 'Body') or '')}")
    when = recorded.received_at.astimezone().strftime("%H:%M:%S")
    line = f"{when} {recorded.method} {recorded.path} -> {recorded.status}"
    return " ".join([line, *details])


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m apps.sends.testing.fake_twilio",
        description="Serve a fake Twilio Messages API until Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    args = parser.parse_args(argv)

    fake = FakeTwilio(
        args.account_sid,
        args.auth_token,
        host=args.host,
        port=args.port,
        on_request=lambda recorded: print(request_line(recorded), flush=True),
    )
    # Process managers (honcho, docker) stop services with SIGTERM; shut down as for Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    fake.start()
    print(f"Fake Twilio serving {fake.base_url} for {args.account_sid}; Ctrl-C to stop", flush=True)
    try:
        while fake.is_running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("Stopping fake Twilio", flush=True)
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
