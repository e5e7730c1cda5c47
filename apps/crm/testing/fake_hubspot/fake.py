"""FakeHubSpot: the fake server's state, its lifecycle and what tests do with it."""

import math
import threading
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Self

from . import routes
from .http import ApiRequest, FakeHubSpotHTTPServer, RecordedRequest, Reply, error_reply
from .schema import DEFAULT_DEFINITIONS, PropertyDefinition
from .store import (
    OBJECT_TYPES,
    ObjectStore,
    StoredRecord,
    epoch_ms,
    hubspot_time,
    object_type_name,
)
from .webhooks import signed_webhook_request, webhook_post

DEFAULT_TOKEN = "pat-na1-fake-hubspot-token"
DEFAULT_WEBHOOK_SECRET = "fake-hubspot-client-secret"
DEFAULT_PORTAL_ID = 62515
SERVER_STOP_TIMEOUT_SECONDS = 5.0
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
MISSING_TOKEN_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and "
    "you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
TimeArg = datetime | int | None


class FakeHubSpot:
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

    # Seeding and changing records

    def record_add(
        self,
        object_type: str,
        properties: dict[str, Any] | None = None,
        *,
        modified_at: TimeArg = None,
        created_at: TimeArg = None,
        record_id: int | None = None,
    ) -> str:
        """Store one record as if someone created it in HubSpot; answers its id."""
        with self._lock:
            store = self._store(object_type)
            modified = self._ms(modified_at)
            record = StoredRecord(
                id=record_id or store.new_id(),
                properties={},
                created_ms=self._ms(created_at) if created_at is not None else modified,
                modified_ms=modified,
            )
            store.add(record)
            self._values_set(store, record, properties or {})
            return str(record.id)

    def records_seed(
        self,
        object_type: str,
        count: int,
        *,
        properties: Callable[[int], dict[str, Any]] | None = None,
        modified_at: Callable[[int], TimeArg] | TimeArg = None,
    ) -> list[str]:
        """Store `count` records at once (100,000 in about a second); `properties` and
        `modified_at` may be functions of the record's index. Answers their ids in order."""
        with self._lock:
            store = self._store(object_type)
            first = store.next_id
            records = []
            for index in range(count):
                when = modified_at(index) if callable(modified_at) else modified_at
                ms = self._ms(when)
                values = properties(index) if properties else {}
                stored = {
                    name: routes.normalized_value(self._definitions[store.name].get(name), value)
                    for name, value in values.items()
                }
                records.append(StoredRecord(first + index, stored, ms, ms))
            store.add_many(records)
            return [str(first + index) for index in range(count)]

    def record_modify(
        self,
        object_type: str,
        record_id: str,
        properties: dict[str, Any] | None = None,
        *,
        modified_at: TimeArg = None,
    ) -> None:
        """Change a record as a HubSpot user would: new values, a new modification time."""
        with self._lock:
            store = self._store(object_type)
            record = self._live(store, record_id)
            self._values_set(store, record, properties or {})
            store.touch(record, self._ms(modified_at))

    def records_modify(
        self, object_type: str, record_ids: Iterable[str], *, modified_at: TimeArg = None
    ) -> None:
        """Bump many records' modification time at once (one time for all of them)."""
        with self._lock:
            store = self._store(object_type)
            ms = self._ms(modified_at)
            for record_id in record_ids:
                store.touch(self._live(store, record_id), ms)

    def record_archive(
        self, object_type: str, record_id: str, *, archived_at: TimeArg = None
    ) -> None:
        with self._lock:
            store = self._store(object_type)
            store.archive(self._live(store, record_id), self._ms(archived_at))

    def record_restore(
        self, object_type: str, record_id: str, *, restored_at: TimeArg = None
    ) -> None:
        with self._lock:
            store = self._store(object_type)
            store.restore(store.records[int(record_id)], self._ms(restored_at))

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        """Associate two records (both directions), with HubSpot's unlabeled type ids."""
        with self._lock:
            self._associate(self._type(from_type), int(from_id), self._type(to_type), int(to_id))

    def deal_stage_enter(self, deal_id: str, stage_id: str, *, at: TimeArg = None) -> None:
        """Move a deal into a stage: dealstage, its pipeline and hs_date_entered_<stage>."""
        with self._lock:
            pipeline_id = self._stage_pipeline(stage_id)
            when = hubspot_time(self._ms(at))
            self.record_modify(
                "deals",
                deal_id,
                {"dealstage": stage_id, "pipeline": pipeline_id},
                modified_at=at,
            )
            record = self._stores["deals"].records[int(deal_id)]
            record.properties[f"hs_date_entered_{stage_id}"] = when

    def owner_add(
        self,
        email: str,
        first_name: str = "",
        last_name: str = "",
        *,
        archived: bool = False,
        owner_id: str | None = None,
    ) -> str:
        with self._lock:
            owner_id = owner_id or str(100_000 + len(self._owners) + 1)
            now = hubspot_time(self.now_ms())
            self._owners[owner_id] = {
                "id": owner_id,
                "email": email,
                "type": "PERSON",
                "firstName": first_name,
                "lastName": last_name,
                "userId": int(owner_id) + 1_000_000,
                "userIdIncludingInactive": int(owner_id) + 1_000_000,
                "createdAt": now,
                "updatedAt": now,
                "archived": archived,
                "teams": [],
            }
            return owner_id

    def pipeline_add(self, pipeline_id: str, label: str, stages: Iterable[tuple[str, str]]) -> None:
        """A deal pipeline with its stages in order; each stage gets its
        hs_date_entered_<stage> property, as in HubSpot."""
        with self._lock:
            now = hubspot_time(self.now_ms())
            self._pipelines[pipeline_id] = {
                "id": pipeline_id,
                "label": label,
                "displayOrder": len(self._pipelines),
                "stages": [
                    {
                        "id": stage_id,
                        "label": stage_label,
                        "displayOrder": order,
                        "metadata": {"isClosed": str(stage_id.startswith("closed")).lower()},
                        "createdAt": now,
                        "updatedAt": now,
                        "archived": False,
                        "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
                    }
                    for order, (stage_id, stage_label) in enumerate(stages)
                ],
                "createdAt": now,
                "updatedAt": now,
                "archived": False,
            }
            for stage_id, stage_label in stages:
                name = f"hs_date_entered_{stage_id}"
                self._definitions["deals"][name] = PropertyDefinition(
                    name, f"Date entered '{stage_label}'", "datetime", "date", read_only=True
                )

    def property_add(self, object_type: str, definition: PropertyDefinition) -> None:
        with self._lock:
            self._definitions[self._type(object_type)][definition.name] = definition

    def property_remove(self, object_type: str, name: str) -> None:
        with self._lock:
            self._definitions[self._type(object_type)].pop(name, None)

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

    # Scripted faults

    def rate_limit(
        self,
        times: int | None = None,
        *,
        seconds: float | None = None,
        retry_after: int | None = 10,
    ) -> None:
        """Answer 429 (HubSpot's RATE_LIMIT body, a Retry-After header) to the next
        `times` requests, or to every request for `seconds` of the fake's clock (then
        Retry-After counts down). retry_after=None: no Retry-After header at all."""
        if (times is None) == (seconds is None):
            raise ValueError("give either times or seconds")
        with self._lock:
            self._retry_after = retry_after
            if times is not None:
                self._rate_limited_requests += times
            else:
                self._rate_limited_until = self.clock() + seconds

    def fail_next(self, status: int = 500, times: int = 1, *, after: int = 0) -> None:
        """Answer the next `times` authenticated requests with a 5xx, after letting
        `after` requests through."""
        if status < 500 or times < 1 or after < 0:
            raise ValueError(f"need a 5xx status, times >= 1, after >= 0: {status}, {times}")
        with self._lock:
            self._failures.extend([status] * times)
            self._failures_after = after

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """Hold the answer to the next `times` requests (after they took effect)."""
        with self._lock:
            self._delays.extend([seconds] * times)

    def token_expire(self) -> None:
        """The access token expires: every request gets 401 until token_set()."""
        with self._lock:
            self._token_expired = True

    def token_set(self, token: str) -> None:
        with self._lock:
            self.token = token
            self._token_expired = False

    def refuse_update(self, object_type: str, record_id: str, message: str) -> None:
        """Refuse every PATCH of one record with VALIDATION_ERROR and `message`."""
        with self._lock:
            self._refusals[(self._type(object_type), int(record_id))] = message

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

    def _auth_refusal(self, request: ApiRequest) -> Reply | None:
        authorization = request.header("Authorization") or ""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.token:
            return error_reply(401, MISSING_TOKEN_MESSAGE, "INVALID_AUTHENTICATION")
        if self._token_expired:
            return error_reply(
                401,
                "The OAuth token used to make this call expired 1 hour(s) ago.",
                "EXPIRED_AUTHENTICATION",
            )
        return None

    def _rate_limit_reply(self) -> Reply | None:
        remaining = self._rate_limited_until - self.clock()
        if self._rate_limited_requests > 0:
            self._rate_limited_requests -= 1
            wait = self._retry_after
        elif remaining > 0:
            wait = max(1, math.ceil(remaining)) if self._retry_after is not None else None
        else:
            return None
        reply = error_reply(
            429,
            "You have reached your ten_secondly_rolling limit.",
            "RATE_LIMITS",
            errorType="RATE_LIMIT",
            policyName="TEN_SECONDLY_ROLLING",
        )
        return Reply(429, reply.body, {} if wait is None else {"Retry-After": str(wait)})

    # Store helpers (callers hold the lock)

    def _type(self, object_type: str) -> str:
        name = object_type_name(object_type)
        if name is None:
            raise ValueError(f"unknown object type {object_type!r}")
        return name

    def _store(self, object_type: str) -> ObjectStore:
        return self._stores[self._type(object_type)]

    def _live(self, store: ObjectStore, record_id: str) -> StoredRecord:
        record = store.live(int(record_id))
        if record is None:
            raise KeyError(f"no live {store.name} {record_id}")
        return record

    def _ms(self, moment: TimeArg) -> int:
        if moment is None:
            return self.now_ms()
        if isinstance(moment, datetime):
            if moment.tzinfo is None:
                raise ValueError("give an aware datetime")
            return epoch_ms(moment)
        return int(moment)

    def _stage_pipeline(self, stage_id: str) -> str:
        for pipeline in self._pipelines.values():
            if any(stage["id"] == stage_id for stage in pipeline["stages"]):
                return pipeline["id"]
        raise ValueError(f"no pipeline has a stage {stage_id!r}")

    def _values_set(self, store: ObjectStore, record: StoredRecord, values: dict[str, Any]) -> None:
        definitions = self._definitions[store.name]
        for name, value in values.items():
            text = routes.normalized_value(definitions.get(name), value)
            if text == "":
                record.properties.pop(name, None)
            else:
                record.properties[name] = text

    def _properties_write(
        self, store: ObjectStore, record: StoredRecord, values: dict[str, Any], bump: bool = True
    ) -> None:
        """A write through the API: values, task completion time, and a new modified time."""
        self._values_set(store, record, values)
        if store.name == "tasks" and "hs_task_status" in values:
            if values["hs_task_status"] == "COMPLETED":
                record.properties["hs_task_completion_date"] = hubspot_time(self.now_ms())
            else:
                record.properties.pop("hs_task_completion_date", None)
        if bump:
            store.touch(record, self.now_ms())

    def _associate(self, from_type: str, from_id: int, to_type: str, to_id: int) -> None:
        forward = routes.ASSOCIATION_TYPE_IDS[(from_type, to_type)][0]
        backward = routes.ASSOCIATION_TYPE_IDS[(to_type, from_type)][0]
        self._associations.setdefault((from_type, to_type), {}).setdefault(from_id, {})[to_id] = (
            forward
        )
        self._associations.setdefault((to_type, from_type), {}).setdefault(to_id, {})[from_id] = (
            backward
        )

    def _linked(self, from_type: str, to_type: str, from_id: int) -> dict[int, int]:
        return self._associations.get((from_type, to_type), {}).get(from_id, {})
