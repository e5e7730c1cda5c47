"""FakeSalesforce: the org, its OAuth2 token endpoint and its REST API over TLS.

The HTTPS server runs in a background thread with a certificate from a throwaway CA
(trustme); clients trust it through `ca_path` (a requests session's `verify`, or
REQUESTS_CA_BUNDLE for a process run by hand).
"""

import json
import secrets
import ssl
import tempfile
import threading
import urllib.parse
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import trustme

from .access import Access, limit_exceeded_reply
from .api import QueryCursors, Reply, RestApi, error_reply
from .schema import FieldSpec
from .store import Store
from .transport import FakeSalesforceHTTPServer
from .validation import ValidationRule

DEFAULT_CLIENT_ID = "fake-salesforce-client-id"
DEFAULT_CLIENT_SECRET = "fake-salesforce-client-secret"
DEFAULT_REFRESH_TOKEN = "fake-salesforce-refresh-token"
TOKEN_PATH = "/services/oauth2/token"
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
        self.host = host
        self.port = port
        self.on_request = on_request
        self.store = Store(clock)
        self.cursors = QueryCursors(batch_size=batch_size)
        self.integration_user_id = self.store.insert(
            "User", {"FirstName": "Cue", "LastName": "Integration", "Email": "cue@example.com"}
        )["Id"]
        self._api = RestApi(self.store, self.cursors, self.integration_user_id)
        self.access = Access(client_id, client_secret, refresh_token, self.integration_user_id)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._delays: deque[float] = deque()
        self._requests: list[RecordedRequest] = []
        self._server: FakeSalesforceHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._certificates = tempfile.TemporaryDirectory(prefix="fake-salesforce-")
        self.ca_path = str(Path(self._certificates.name) / "ca.pem")

    @property
    def client_id(self) -> str:
        return self.access.client_id

    @property
    def client_secret(self) -> str:
        return self.access.client_secret

    @property
    def refresh_token(self) -> str:
        return self.access.refresh_token

    # Lifecycle

    def start(self) -> Self:
        if self.is_running:
            raise RuntimeError("FakeSalesforce is already running")
        self._stopping.clear()
        self._server = FakeSalesforceHTTPServer((self.host, self.port), self)
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
        self._server.connections_close()
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

    def created_by_cue(self, object_name: str) -> list[dict[str, Any]]:
        """Records Cue created through the API (as the integration user), oldest first."""
        return [
            record
            for record in self.records(object_name)
            if record["CreatedById"] == self.integration_user_id
        ]

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
        self._fault_add(limit_exceeded_reply(403, retry_after), times=times, seconds=None)

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
        self._fault_add(error_reply(status, code, message), times=times, seconds=None)

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """Hold the answer to the next `times` requests (after they took effect)."""
        with self._lock:
            self._delays.extend([seconds] * times)

    def expire_tokens(self) -> None:
        """Every access token issued so far stops working (INVALID_SESSION_ID)."""
        with self._lock:
            self.access.tokens.clear()

    def expire_token_after(self, requests: int) -> None:
        """Answer `requests` more API requests, then expire every access token."""
        with self._lock:
            self.access.token_budget = requests

    def expire_query_locators(self) -> None:
        """Forget every query still being paged, as Salesforce does with idle locators."""
        with self._lock:
            self.cursors.results.clear()

    def revoke_refresh_token(self) -> None:
        with self._lock:
            self.access.refresh_token = "revoked:" + secrets.token_hex(8)

    def _fault_add(self, reply: Reply, *, times: int | None, seconds: float | None) -> None:
        with self._lock:
            self.access.fault_add(reply, times=times, seconds=seconds)

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
            return self.access.token_grant(body if isinstance(body, dict) else {}, self.base_url)
        if not self.access.authorized(headers):
            return error_reply(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if fault := self.access.fault_next():
            return fault
        if body is _BAD_JSON:
            return error_reply(400, "JSON_PARSER_ERROR", "The request body is not valid JSON")
        return self._api.answer(method, path, query, body)

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
