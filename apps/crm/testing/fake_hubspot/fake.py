"""FakeHubSpot: the fake server's state, its lifecycle and what tests do with it."""

import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any, Self

from . import routes
from .faults import Faults
from .http import ApiRequest, FakeHubSpotHTTPServer, RecordedRequest, Reply, error_reply
from .schema import DEFAULT_DEFINITIONS, PropertyDefinition
from .seeding import Seeding, TimeArg
from .store import (
    OBJECT_TYPES,
    ObjectStore,
)
from .webhooks import signed_webhook_request, webhook_post

DEFAULT_TOKEN = "pat-na1-fake-hubspot-token"
DEFAULT_WEBHOOK_SECRET = "fake-hubspot-client-secret"
DEFAULT_PORTAL_ID = 62515
SERVER_STOP_TIMEOUT_SECONDS = 5.0
ASSOCIATIONS_PAGE_SIZE = 500
# HubSpot's default deal pipeline, as a new portal has it.
DEFAULT_PIPELINE_STAGES = (
    ("appointmentscheduled", "Appointment Scheduled"),
    ("qualifiedtobuy", "Qualified To Buy"),
    ("presentationscheduled", "Presentation Scheduled"),
    ("decisionmakerboughtin", "Decision Maker Bought-In"),
    ("contractsent", "Contract Sent"),
    ("closedwon", "Closed Won"),
    ("closedlost", "Closed Lost"),
)


class FakeHubSpot(Seeding, Faults):
    """A fake HubSpot CRM API on 127.0.0.1, served from a background thread.

    Holds contacts, companies, deals, tasks, communications, owners, pipelines and
    property definitions in memory; tests seed and change them directly (fast, even for
    100,000 records), script faults, and inspect what the client wrote. `clock` gives
    the fake's time in epoch seconds: modification times, and how long a rate limit
    lasts; a test may pass its own and move it forward from an injected sleep.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        portal_id: int = DEFAULT_PORTAL_ID,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] | None = None,
        on_request: Callable[[RecordedRequest], None] | None = None,
    ):
        import time

        self.token = token
        self.webhook_secret = webhook_secret
        self.portal_id = portal_id
        self.host = host
        self.port = port
        self.clock = clock or time.time
        self.on_request = on_request
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: FakeHubSpotHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._data_reset()

    def _data_reset(self) -> None:
        self._stores = {name: ObjectStore(name) for name in OBJECT_TYPES}
        self._definitions: dict[str, dict[str, PropertyDefinition]] = {
            name: {d.name: d for d in DEFAULT_DEFINITIONS[name]} for name in OBJECT_TYPES
        }
        self._associations: dict[tuple[str, str], dict[int, dict[int, int]]] = {}
        self._owners: dict[str, dict] = {}
        self._pipelines: dict[str, dict] = {}
        self._requests: list[RecordedRequest] = []
        self._refusals: dict[tuple[str, int], str] = {}
        self._failures: deque[int] = deque()
        self._failures_after = 0
        self._delays: deque[float] = deque()
        self._rate_limited_requests = 0
        self._rate_limited_until = 0.0
        self._retry_after: int | None = 10
        self._token_expired = False
        # The associations of one record HubSpot hands over at once (v4 batch read: 500).
        self.associations_page_size = ASSOCIATIONS_PAGE_SIZE
        self.pipeline_add("default", "Sales Pipeline", DEFAULT_PIPELINE_STAGES)

    # Lifecycle

    def start(self) -> Self:
        if self.is_running:
            raise RuntimeError("FakeHubSpot is already running")
        self._stopping.clear()
        self._server = FakeHubSpotHTTPServer((self.host, self.port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-hubspot-{self._server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._stopping.set()  # wake handlers held by delay_next
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
            raise RuntimeError("FakeHubSpot is not running; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def reset(self) -> None:
        """Forget every record, request and scripted fault; the server keeps running."""
        with self._lock:
            self._data_reset()

    # What happened

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def record(self, object_type: str, record_id: str) -> dict[str, Any]:
        """A record as the fake holds it: every property, archived, and its associations."""
        with self._lock:
            store = self._store(object_type)
            record = store.records[int(record_id)]
            values = dict(record.properties)
            for name in ("hs_object_id", store.created_property, store.modified_property):
                values[name] = store.computed_value(record, name)
            associations = {
                to_type: sorted(str(to_id) for to_id in links.get(record.id, {}))
                for (from_type, to_type), links in self._associations.items()
                if from_type == store.name and links.get(record.id)
            }
            return {
                "id": str(record.id),
                "properties": values,
                "archived": record.archived_ms is not None,
                "associations": associations,
                "object_write_trace_id": record.write_trace_id,
            }

    def records(self, object_type: str) -> list[dict[str, Any]]:
        """Every record of a type (archived too), in id order."""
        with self._lock:
            store = self._store(object_type)
            return [self.record(object_type, str(record_id)) for record_id in sorted(store.records)]

    def record_count(self, object_type: str) -> int:
        with self._lock:
            return len(self._store(object_type).records)

    # Webhooks HubSpot would send

    def webhook_event(
        self,
        subscription_type: str,
        object_id: str,
        *,
        property_name: str | None = None,
        property_value: str | None = None,
        occurred_at: TimeArg = None,
        event_id: int | None = None,
        attempt_number: int = 0,
    ) -> dict[str, Any]:
        """One event as HubSpot's webhooks v3 deliver it (they come in a JSON array)."""
        event = {
            "eventId": event_id if event_id is not None else self.now_ms() % 10**9,
            "subscriptionId": 1_000_001,
            "portalId": self.portal_id,
            "appId": 2_000_002,
            "occurredAt": self._ms(occurred_at),
            "subscriptionType": subscription_type,
            "attemptNumber": attempt_number,
            "objectId": int(object_id),
            "changeSource": "CRM",
        }
        if property_name is not None:
            event |= {"propertyName": property_name, "propertyValue": property_value}
        return event

    def signed_webhook(
        self, url: str, events: list[dict], *, timestamp_ms: int | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """Build (body, headers) of a webhook POST to `url`, signed with the v3 signature."""
        stamp = self.now_ms() if timestamp_ms is None else timestamp_ms
        return signed_webhook_request(self.webhook_secret, url, events, stamp)

    def send_webhook(self, url: str, events: list[dict], *, timestamp_ms: int | None = None) -> int:
        """POST signed events to `url`; answers the HTTP status received."""
        body, headers = self.signed_webhook(url, events, timestamp_ms=timestamp_ms)
        return webhook_post(url, body, headers)

    # Serving (called from handler threads)

    def _answer(self, request: ApiRequest) -> tuple[Reply, float]:
        with self._lock:
            reply = self._reply(request)
            recorded = RecordedRequest(
                method=request.method,
                path=request.path,
                query=request.query,
                body=request.body if request.body is not ValueError else None,
                status=reply.status,
                received_at=datetime.fromtimestamp(self.clock()).astimezone(),
            )
            self._requests.append(recorded)
            delay = self._delays.popleft() if self._delays else 0.0
        if self.on_request is not None:
            self.on_request(recorded)
        return reply, delay

    def _hold(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _reply(self, request: ApiRequest) -> Reply:
        refusal = self._auth_refusal(request)
        if refusal is not None:
            return refusal
        if limited := self._rate_limit_reply():
            return limited
        if self._failures and self._failures_after > 0:
            self._failures_after -= 1
        elif self._failures:
            status = self._failures.popleft()
            return error_reply(
                status,
                "internal error",
                "INTERNAL_ERROR" if status == 500 else "SERVICE_UNAVAILABLE",
            )
        return routes.route(self, request)
