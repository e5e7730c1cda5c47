"""FakeSalesforce: the org, its OAuth2 token endpoint and its REST API over TLS.

The HTTPS server runs in a background thread with a certificate from a throwaway CA
(trustme); clients trust it through `ca_path` (a requests session's `verify`, or
REQUESTS_CA_BUNDLE for a process run by hand).
"""

import base64
import hashlib
import hmac
import json
import secrets
import ssl
import tempfile
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import TCPServer
from typing import Any, Self

import trustme

from .api import QueryCursors, Reply, RestApi, error_reply
from .schema import FieldSpec
from .store import Store, ValidationRule

DEFAULT_CLIENT_ID = "fake-salesforce-client-id"
DEFAULT_CLIENT_SECRET = "fake-salesforce-client-secret"
DEFAULT_REFRESH_TOKEN = "fake-salesforce-refresh-token"
ORG_ID = "00DFk0000000001AAA"
TOKEN_PATH = "/services/oauth2/token"
MAX_BODY_BYTES = 10_000_000
SERVER_STOP_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received (the Authorization header is never kept)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    received_at: datetime


@dataclass
class _Fault:
    reply: Reply
    remaining: int | None  # requests left to answer this way, or None: until `until`
    until: float | None = None

    def active(self, now: float) -> bool:
        if self.until is not None:
            return now < self.until
        return bool(self.remaining)


def limit_exceeded_reply(status: int = 403, retry_after: float | None = None) -> Reply:
    reply = error_reply(status, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
    if retry_after is not None:
        reply.headers["Retry-After"] = str(int(retry_after))
    return reply


def _second_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class FakeSalesforce:
    """A fake Salesforce org served over HTTPS on 127.0.0.1, for tests and local runs.

    Seed it (`seed`, `create`), change it behind Cue's back (`modify`, `delete`,
    `convert_lead`, `complete_task`), script faults (`limit_exceeded`, `throttle`,
    `fail_next`, `delay_next`, `expire_token_after`), then inspect what Cue did
    (`requests`, `token_requests`, `record`, `records`).
    """

    def __init__(
        self,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        refresh_token: str = DEFAULT_REFRESH_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        batch_size: int = 2000,
        clock: Callable[[], datetime] = _second_now,
        on_request: Callable[[RecordedRequest], None] | None = None,
    ):
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.host = host
        self.port = port
        self.on_request = on_request
        self.store = Store(clock)
        self.cursors = QueryCursors(batch_size=batch_size)
        self.integration_user_id = self.store.insert(
            "User", {"FirstName": "Cue", "LastName": "Integration", "Email": "cue@example.com"}
        )["Id"]
        self._api = RestApi(self.store, self.cursors, self.integration_user_id)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._tokens: set[str] = set()
        self._token_budget: int | None = None
        self._faults: deque[_Fault] = deque()
        self._delays: deque[float] = deque()
        self._requests: list[RecordedRequest] = []
        self._server: _FakeSalesforceHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._certificates = tempfile.TemporaryDirectory(prefix="fake-salesforce-")
        self.ca_path = str(Path(self._certificates.name) / "ca.pem")

    # Lifecycle

    def start(self) -> Self:
        if self.is_running:
            raise RuntimeError("FakeSalesforce is already running")
        self._stopping.clear()
        self._server = _FakeSalesforceHTTPServer((self.host, self.port), self)
        self._server.socket = self._tls_context().wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-salesforce-{self._server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=SERVER_STOP_TIMEOUT_SECONDS)
        self._server = None
        self._thread = None

    def close(self) -> None:
        self.stop()
        self._certificates.cleanup()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def base_url(self) -> str:
        """Both the login URL and the instance URL: one server plays both hosts."""
        if self._server is None:
            raise RuntimeError("FakeSalesforce is not running; call start() first")
        host, port = self._server.server_address[:2]
        return f"https://{host}:{port}"

    def _tls_context(self) -> ssl.SSLContext:
        authority = trustme.CA()
        authority.cert_pem.write_to_path(self.ca_path)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        authority.issue_cert(self.host, "localhost").configure_cert(context)
        return context

    def client_session(self):
        """A requests session that trusts this fake and ignores the environment's
        proxies and CA bundle, for tests."""
        import requests

        session = requests.Session()
        session.verify = self.ca_path
        session.trust_env = False
        return session

    # The org: seeding and changes made in Salesforce, not by Cue

    def seed(
        self, object_name: str, rows: list[dict[str, Any]], *, at: datetime | None = None
    ) -> list[str]:
        """Insert many records at once (100,000 in seconds); returns their ids in order."""
        with self._lock:
            return self.store.bulk_insert(object_name, rows, at=at)

    def create(self, object_name: str, *, at: datetime | None = None, **values: Any) -> str:
        with self._lock:
            return self.store.insert(object_name, values, at=at)["Id"]

    def modify(
        self, object_name: str, record_id: str, *, at: datetime | None = None, **values: Any
    ) -> None:
        with self._lock:
            self.store.update(object_name, record_id, values, at=at)

    def delete(self, object_name: str, record_id: str, *, at: datetime | None = None) -> None:
        with self._lock:
            self.store.delete(object_name, record_id, at=at)

    def convert_lead(
        self,
        lead_id: str,
        *,
        contact_id: str | None = None,
        account_id: str | None = None,
        at: datetime | None = None,
    ) -> str:
        """Convert a lead as Salesforce's convertLead does (into a new contact and account
        unless given existing ones); returns the contact's id."""
        with self._lock:
            return self.store.lead_convert(
                lead_id, contact_id=contact_id, account_id=account_id, at=at
            )

    def complete_task(self, task_id: str, *, at: datetime | None = None) -> None:
        self.modify("Task", task_id, at=at, Status="Completed")

    def field_add(self, object_name: str, name: str, type: str = "string", **options: Any) -> None:
        """Add a custom field (name ending in __c) to an object, as an admin would."""
        with self._lock:
            spec = FieldSpec(name, type, custom=True, **options)
            self.store.schema[object_name].fields[name] = spec
            for record in self.store.records[object_name].values():
                record.setdefault(name, None)

    def validation_rule_add(
        self,
        object_name: str,
        field: str,
        value: Any,
        *,
        code: str = "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        message: str = "Refused by a validation rule",
    ) -> None:
        """Refuse every write that leaves `field` equal to `value`."""
        with self._lock:
            self.store.rules.append(ValidationRule(object_name, field, value, code, message))

    def record(self, object_name: str, record_id: str) -> dict[str, Any]:
        with self._lock:
            return dict(self.store.records[object_name][record_id])

    def records(self, object_name: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(record) for record in self.store.records[object_name].values()]

    # What Cue did

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def token_requests(self) -> int:
        return sum(1 for request in self.requests if request.path == TOKEN_PATH)

    def reset_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # Scripted faults (data API only; the token endpoint answers as configured)

    def limit_exceeded(self, times: int = 1, *, retry_after: float | None = None) -> None:
        """Answer the next `times` API requests 403 REQUEST_LIMIT_EXCEEDED."""
        self._fault_add(limit_exceeded_reply(403, retry_after), times=times)

    def throttle(
        self,
        *,
        times: int | None = None,
        seconds: float | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Answer 429 (with Retry-After when given) for the next `times` requests or for
        `seconds` of wall time."""
        self._fault_add(limit_exceeded_reply(429, retry_after), times=times, seconds=seconds)

    def fail_next(
        self,
        status: int = 503,
        code: str = "SERVER_UNAVAILABLE",
        message: str = "Server unavailable, please retry",
        times: int = 1,
    ) -> None:
        self._fault_add(error_reply(status, code, message), times=times)

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """Hold the answer to the next `times` requests (after they took effect)."""
        with self._lock:
            self._delays.extend([seconds] * times)

    def expire_tokens(self) -> None:
        """Every access token issued so far stops working (INVALID_SESSION_ID)."""
        with self._lock:
            self._tokens.clear()

    def expire_token_after(self, requests: int) -> None:
        """Answer `requests` more API requests, then expire every access token."""
        with self._lock:
            self._token_budget = requests

    def revoke_refresh_token(self) -> None:
        with self._lock:
            self.refresh_token = "revoked:" + secrets.token_hex(8)

    def _fault_add(
        self, reply: Reply, *, times: int | None = None, seconds: float | None = None
    ) -> None:
        if (times is None) == (seconds is None):
            raise ValueError("give exactly one of times and seconds")
        until = time.monotonic() + seconds if seconds is not None else None
        with self._lock:
            self._faults.append(_Fault(reply, times, until))

    # Serving (handler threads)

    def _answer(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], raw: str
    ) -> tuple[Reply, float]:
        with self._lock:
            body = _json_or_form(path, raw, headers)
            reply = self._route(method, path, query, headers, body)
            recorded = RecordedRequest(
                method, path, query, body if path != TOKEN_PATH else {}, reply.status,
                datetime.now(UTC),
            )  # fmt: skip
            self._requests.append(recorded)
            delay = self._delays.popleft() if self._delays else 0.0
        if self.on_request is not None:
            self.on_request(recorded)
        return reply, delay

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> Reply:
        if path == TOKEN_PATH and method == "POST":
            return self._token(body if isinstance(body, dict) else {})
        if not self._authorized(headers):
            return error_reply(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if fault := self._fault_next():
            return fault
        if body is _BAD_JSON:
            return error_reply(400, "JSON_PARSER_ERROR", "The request body is not valid JSON")
        return self._api.answer(method, path, query, body)

    def _authorized(self, headers: dict[str, str]) -> bool:
        value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        scheme, _, token = value.partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or token not in self._tokens:
            return False
        if self._token_budget is not None:
            self._token_budget -= 1
            if self._token_budget < 0:
                self._token_budget = None
                self._tokens.clear()
                return False
        return True

    def _fault_next(self) -> Reply | None:
        now = time.monotonic()
        while self._faults and not self._faults[0].active(now):
            self._faults.popleft()
        if not self._faults:
            return None
        fault = self._faults[0]
        if fault.remaining is not None:
            fault.remaining -= 1
        return fault.reply

    def _token(self, form: dict[str, str]) -> Reply:
        if form.get("grant_type") != "refresh_token":
            return _oauth_error("unsupported_grant_type", "grant type not supported")
        if form.get("client_id") != self.client_id:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if form.get("client_secret") != self.client_secret:
            return _oauth_error("invalid_client", "invalid client credentials")
        if form.get("refresh_token") != self.refresh_token:
            return _oauth_error("invalid_grant", "expired access/refresh token")
        token = f"{ORG_ID}!{secrets.token_urlsafe(32)}"
        self._tokens.add(token)
        issued_at = str(int(time.time() * 1000))
        identity = f"{self.base_url}/id/{ORG_ID}/{self.integration_user_id}"
        digest = hmac.new(
            self.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256
        ).digest()
        return Reply(
            200,
            {
                "access_token": token,
                "signature": base64.b64encode(digest).decode(),
                "scope": "refresh_token api",
                "instance_url": self.base_url,
                "id": identity,
                "token_type": "Bearer",
                "issued_at": issued_at,
            },
        )

    def _hold(self, seconds: float) -> None:
        self._stopping.wait(seconds)


_BAD_JSON = object()


def _json_or_form(path: str, raw: str, headers: dict[str, str]) -> Any:
    if not raw:
        return None
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if path == TOKEN_PATH or "form-urlencoded" in content_type:
        return dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
    try:
        return json.loads(raw)
    except ValueError:
        return _BAD_JSON


def _oauth_error(code: str, description: str) -> Reply:
    return Reply(400, {"error": code, "error_description": description})


class _FakeSalesforceHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], fake: FakeSalesforce):
        self.fake = fake
        super().__init__(address, _FakeSalesforceHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup we never need; skip it.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = port

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gives up mid-handshake or mid-answer is normal in fault tests.
        return


class _FakeSalesforceHandler(BaseHTTPRequestHandler):
    server: _FakeSalesforceHTTPServer
    server_version = "FakeSalesforce/1.0"
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; without this, Nagle's algorithm meets the
    # client's delayed ACK and every keep-alive answer waits 40 ms.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _serve(self) -> None:
        fake = self.server.fake
        url = urllib.parse.urlsplit(self.path)
        reply, delay = fake._answer(
            method=self.command,
            path=url.path,
            query=dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True)),
            headers=dict(self.headers.items()),
            raw=self._body_read(),
        )
        if delay:
            fake._hold(delay)
        self._reply_write(reply)

    def _body_read(self) -> str:
        length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY_BYTES)
        return self.rfile.read(length).decode("utf-8") if length else ""

    def _reply_write(self, reply: Reply) -> None:
        payload = b"" if reply.body is None else json.dumps(reply.body).encode("utf-8")
        try:
            self.send_response(reply.status)
            if reply.status != 204:
                self.send_header("Content-Type", "application/json;charset=UTF-8")
                self.send_header("Content-Length", str(len(payload)))
            self.send_header("Sforce-Limit-Info", "api-usage=1/15000")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            return
