"""A fake Postmark email API on 127.0.0.1, for tests and local runs.

anymail's real Postmark backend talks to it over real HTTP (POSTMARK_API_URL), so everything
above the network boundary runs as in production. It serves POST /email and /email/batch,
and posts Postmark's tracking webhooks (Delivery, Bounce, SpamComplaint, Open, Click,
SubscriptionChange) to a webhook URL with basic auth, as Postmark does.

Run it by hand with:

    python -m apps.sends.testing.fake_postmark --port 8098 --server-token fake-postmark-token

and start Cue with ANYMAIL_ESP=postmark POSTMARK_SERVER_TOKEN=fake-postmark-token
POSTMARK_API_URL=http://127.0.0.1:8098/ (webhooks: call `FakePostmark.post_event` from a shell).
"""

import argparse
import base64
import contextlib
import json
import signal
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_SERVER_TOKEN = "fake-postmark-token"
WEBHOOK_TIMEOUT_SECONDS = 5.0
MAX_BODY_BYTES = 10_000_000
INACTIVE_TEXT = (
    "Inactive recipients are ones that have generated a hard bounce or a spam complaint."
)

# Postmark's bounce types and codes (developer docs, "Bounce webhook"), for the ones Cue tells
# apart: a hard bounce ends the address, a soft one is worth retrying, a complaint is a no.
BOUNCE_TYPES = {
    "HardBounce": (1, "Hard bounce"),
    "SoftBounce": (4096, "Soft bounce/Undeliverable"),
    "Transient": (2, "Message delayed/Undeliverable"),
    "SpamComplaint": (512, "Spam complaint"),
}


@dataclass(frozen=True)
class SentEmail:
    """One email the fake accepted, as Postmark's API received it."""

    message_id: str
    to: str
    sender: str
    subject: str
    text_body: str
    html_body: str
    headers: dict[str, str]
    metadata: dict[str, str]
    stream: str


class FakePostmark:
    """Start with `with FakePostmark() as fake:`; `fake.api_url` is POSTMARK_API_URL."""

    def __init__(self, server_token: str = DEFAULT_SERVER_TOKEN, port: int = 0):
        self.server_token = server_token
        self.sent: list[SentEmail] = []
        self.inactive: set[str] = set()  # addresses Postmark refuses (after a hard bounce)
        self.failures: list[int] = []  # HTTP statuses to answer the next sends with
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def fail_next(self, status: int, times: int = 1) -> None:
        self.failures.extend([status] * times)

    def accept(self, payload: dict) -> tuple[int, dict]:
        """What Postmark answers to one email of a send or a batch."""
        to = str(payload.get("To") or "")
        if not to or "@" not in to:
            return 422, {"ErrorCode": 300, "Message": f"Invalid 'To' address: '{to}'."}
        if not payload.get("From"):
            return 422, {"ErrorCode": 300, "Message": "Invalid 'From' address: ''."}
        address = _addr_spec(to)
        if address in self.inactive:
            message = (
                "You tried to send to a recipient that has been marked as inactive.\n"
                f"Found inactive addresses: {address}.\n{INACTIVE_TEXT} "
            )
            return 422, {"ErrorCode": 406, "Message": message}
        email = _sent_email(payload)
        with self._lock:
            self.sent.append(email)
        return 200, {
            "To": to,
            "SubmittedAt": datetime.now(UTC).isoformat(),
            "MessageID": email.message_id,
            "ErrorCode": 0,
            "Message": "OK",
        }

    def post_event(self, url: str, record_type: str, message_id: str, **fields) -> int:
        """Posts one tracking webhook for an email the fake sent, in Postmark's JSON shape.
        Credentials in the URL (https://user:pass@host/…) go as basic auth, as Postmark
        sends them. Returns the HTTP status Cue answered."""
        return _post_json(url, self.event_payload(record_type, message_id, **fields))

    def event_payload(self, record_type: str, message_id: str, **fields) -> dict[str, Any]:
        """The JSON body of one tracking webhook, for a test that posts it itself."""
        return _event_payload(record_type, self.email(message_id), **fields)

    def email(self, message_id: str) -> SentEmail:
        [email] = [email for email in self.sent if email.message_id == message_id]
        return email

    def post_reply(self, url: str, message_id: str, text: str, **fields) -> int:
        """Posts the inbound webhook of the recipient's reply to an email the fake sent, in
        Postmark's inbound JSON shape. Returns the HTTP status Cue answered."""
        return _post_json(url, self.reply_payload(message_id, text, **fields))

    def reply_payload(self, message_id: str, text: str, **fields) -> dict[str, Any]:
        """The recipient's mail client names the Message-ID the email carried: the sender's
        own (a Message-ID header it set), else Postmark's `<MessageID@mtasv.net>`."""
        email = self.email(message_id)
        sender = _addr_spec(email.sender)
        answered = email.headers.get("Message-ID") or f"<{email.message_id}@mtasv.net>"
        return {
            "FromName": "", "From": email.to, "FromFull": {"Email": email.to, "Name": ""},
            "To": sender, "ToFull": [{"Email": sender, "Name": ""}],
            "CcFull": [], "BccFull": [], "OriginalRecipient": sender, "ReplyTo": "",
            "Subject": f"Re: {email.subject}", "MessageID": str(uuid.uuid4()),
            "Date": datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000"),
            "MailboxHash": "", "TextBody": text, "HtmlBody": "", "StrippedTextReply": text,
            "Tag": "", "MessageStream": "inbound", "Attachments": [],
            "Headers": [
                {"Name": "X-Spam-Status", "Value": "No"},
                {"Name": "In-Reply-To", "Value": answered},
                {"Name": "References", "Value": answered},
            ],
        } | fields  # fmt: skip


def _addr_spec(address: str) -> str:
    return address.rsplit("<", 1)[-1].rstrip(">").strip().lower()


def _sent_email(payload: dict) -> SentEmail:
    headers = {item["Name"]: item["Value"] for item in payload.get("Headers") or []}
    return SentEmail(
        message_id=str(uuid.uuid4()),
        to=_addr_spec(payload["To"]),
        sender=payload["From"],
        subject=payload.get("Subject", ""),
        text_body=payload.get("TextBody", ""),
        html_body=payload.get("HtmlBody", ""),
        headers=headers,
        metadata=payload.get("Metadata") or {},
        stream=payload.get("MessageStream", "outbound"),
    )


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _event_payload(record_type: str, email: SentEmail, **fields) -> dict[str, Any]:
    common = {
        "RecordType": record_type,
        "MessageID": email.message_id,
        "MessageStream": email.stream,
        "Metadata": email.metadata,
        "Tag": "",
        "ServerID": 23,
    }
    if record_type in ("Bounce", "SpamComplaint"):
        kind = fields.pop(
            "Type", "SpamComplaint" if record_type == "SpamComplaint" else "HardBounce"
        )
        code, name = BOUNCE_TYPES[kind]
        common |= {
            "ID": fields.pop("ID", uuid.uuid4().int % 10**15),
            "Type": kind,
            "TypeCode": code,
            "Name": name,
            "Email": email.to,
            "From": email.sender,
            "Subject": email.subject,
            "BouncedAt": _now(),
            "Description": name,
            "Details": fields.pop("Details", "smtp; 550 5.1.1 mailbox unavailable"),
            "Inactive": kind in ("HardBounce", "SpamComplaint"),
            "CanActivate": True,
            "DumpAvailable": False,
        }
    elif record_type == "Delivery":
        common |= {"Recipient": email.to, "DeliveredAt": _now(), "Details": "250 2.0.0 OK"}
    elif record_type in ("Open", "Click"):
        common |= {
            "Recipient": email.to,
            "ReceivedAt": _now(),
            "UserAgent": fields.pop("UserAgent", "Mozilla/5.0"),
            "Platform": "Desktop",
            "FirstOpen": True,
        }
        if record_type == "Click":
            common |= {"OriginalLink": fields.pop("OriginalLink", ""), "ClickLocation": "HTML"}
    elif record_type == "SubscriptionChange":
        common |= {
            "Recipient": email.to,
            "ChangedAt": _now(),
            "Origin": "Recipient",
            "SuppressSending": True,
            "SuppressionReason": fields.pop("SuppressionReason", "ManualSuppression"),
        }
    else:
        raise ValueError(f"Postmark sends no {record_type!r} webhook")
    return common | fields


def _post_json(url: str, payload: dict) -> int:
    parts = urllib.parse.urlsplit(url)
    headers = {"Content-Type": "application/json"}
    if parts.username:
        credentials = (
            f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        )
        headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
        url = urllib.parse.urlunsplit(parts._replace(netloc=parts.hostname + _port(parts)))
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _port(parts: urllib.parse.SplitResult) -> str:
    return f":{parts.port}" if parts.port else ""


def _handler_for(fake: FakePostmark):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            if self.headers.get("X-Postmark-Server-Token") != fake.server_token:
                return self._answer(401, {"ErrorCode": 10, "Message": "Bad or missing API token"})
            with fake._lock:
                failure = fake.failures.pop(0) if fake.failures else None
            if failure:
                return self._answer(failure, {"ErrorCode": 100, "Message": "Maintenance"})
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                return self._answer(413, {"ErrorCode": 300, "Message": "Request too large"})
            try:
                body = json.loads(self.rfile.read(length) or b"null")
            except ValueError:
                return self._answer(400, {"ErrorCode": 402, "Message": "Received invalid JSON"})
            if self.path == "/email" and isinstance(body, dict):
                return self._answer(*fake.accept(body))
            if self.path == "/email/batch" and isinstance(body, list):
                answers = [fake.accept(item)[1] for item in body]
                return self._answer(200, answers)
            return self._answer(404, {"ErrorCode": 404, "Message": "Not found"})

        def _answer(self, status: int, body) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):  # quiet in tests
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8098)
    parser.add_argument("--server-token", default=DEFAULT_SERVER_TOKEN)
    args = parser.parse_args()
    with FakePostmark(server_token=args.server_token, port=args.port) as fake:
        print(f"Fake Postmark at {fake.api_url} (server token {args.server_token})", flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


if __name__ == "__main__":
    main()
