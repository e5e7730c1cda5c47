"""The fake HubSpot's records and how it finds them.

Records live in memory per object type. Two sorted indexes keep the endpoints Cue uses
fast at 100,000 records: ids in order (the list endpoint pages by id) and
(modification time, id) pairs (the search endpoint filters and sorts by modification
time). Property values are strings, as HubSpot answers them; the id and the create and
modify times are computed from the record, so a bump can never leave them out of step.
"""

import base64
import binascii
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

# HubSpot accepts an object type by name, singular name or numeric type id.
OBJECT_TYPE_NAMES = {
    "contacts": "contacts",
    "contact": "contacts",
    "0-1": "contacts",
    "companies": "companies",
    "company": "companies",
    "0-2": "companies",
    "deals": "deals",
    "deal": "deals",
    "0-3": "deals",
    "tasks": "tasks",
    "task": "tasks",
    "0-27": "tasks",
    "communications": "communications",
    "communication": "communications",
    "0-18": "communications",
}
OBJECT_TYPES = ("contacts", "companies", "deals", "tasks", "communications")

# Contacts kept the property names of HubSpot's first API; every other object has hs_ ones.
MODIFIED_PROPERTY = dict.fromkeys(OBJECT_TYPES, "hs_lastmodifieddate") | {
    "contacts": "lastmodifieddate"
}
CREATED_PROPERTY = {
    "contacts": "createdate",
    "companies": "createdate",
    "deals": "createdate",
    "tasks": "hs_createdate",
    "communications": "hs_createdate",
}
# What a read returns when it names no properties (HubSpot's documented defaults).
DEFAULT_PROPERTIES = {
    "contacts": ("email", "firstname", "lastname"),
    "companies": ("domain", "name"),
    "deals": ("amount", "closedate", "dealname", "dealstage", "pipeline"),
    "tasks": ("hs_task_status", "hs_task_subject", "hs_timestamp"),
    "communications": ("hs_communication_body", "hs_communication_channel_type", "hs_timestamp"),
}


def object_type_name(raw: str) -> str | None:
    return OBJECT_TYPE_NAMES.get(raw.lower())


def hubspot_time(ms: int) -> str:
    """HubSpot's timestamp format: ISO 8601 in UTC with milliseconds and a Z."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def epoch_ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def time_value_ms(value: str) -> int | None:
    """A datetime filter or property value: epoch milliseconds or ISO 8601 text."""
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return epoch_ms(moment)


def paging_token(next_id: int) -> str:
    """List paging tokens look opaque, as HubSpot's do; they carry the next id."""
    return base64.urlsafe_b64encode(str(next_id).encode()).decode()


def paging_token_id(token: str) -> int | None:
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


@dataclass(slots=True)
class StoredRecord:
    """One CRM object. Times are epoch milliseconds."""

    id: int
    properties: dict[str, str]
    created_ms: int
    modified_ms: int
    archived_ms: int | None = None
    write_trace_id: str | None = None
    # Every value a property held, oldest first: (value, epoch ms); see property_history.
    history: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


def property_history(record: StoredRecord, name: str) -> list[dict]:
    """A property's versions, newest first, as HubSpot's propertiesWithHistory lists them;
    a value set without history (seeded) is one version at the record's creation."""
    versions = record.history.get(name) or _stage_versions(record, name)
    return [
        {
            "value": value,
            "timestamp": hubspot_time(at_ms),
            "sourceType": "CRM_UI",
            "sourceId": "userId:1000001",
            "updatedByUserId": 1000001,
        }
        for value, at_ms in reversed(versions)
    ]


def _stage_versions(record: StoredRecord, name: str) -> list[tuple[str, int]]:
    """A seeded deal's dealstage versions: one per hs_date_entered_<stage> it carries, so a
    seeded history and its stage times agree; else its value, set when it was made."""
    versions = []
    if name == "dealstage":
        for prop, value in record.properties.items():
            moment = time_value_ms(value) if prop.startswith("hs_date_entered_") else None
            if moment is not None:
                versions.append((prop[len("hs_date_entered_") :], moment))
    if not versions and record.properties.get(name):
        versions = [(record.properties[name], record.created_ms)]
    return sorted(versions, key=lambda version: version[1])


@dataclass
class ObjectStore:
    """The records of one object type with their two indexes."""

    name: str
    records: dict[int, StoredRecord] = field(default_factory=dict)
    live_ids: list[int] = field(default_factory=list)
    archived_ids: list[int] = field(default_factory=list)
    by_modified: list[tuple[int, int]] = field(default_factory=list)
    next_id: int = 1

    @property
    def modified_property(self) -> str:
        return MODIFIED_PROPERTY[self.name]

    @property
    def created_property(self) -> str:
        return CREATED_PROPERTY[self.name]

    def new_id(self) -> int:
        record_id = self.next_id
        self.next_id += 1
        return record_id

    def add(self, record: StoredRecord) -> StoredRecord:
        if record.id in self.records:
            raise ValueError(f"{self.name} {record.id} exists already")
        self.records[record.id] = record
        self.next_id = max(self.next_id, record.id + 1)
        insort(self.live_ids, record.id)
        insort(self.by_modified, (record.modified_ms, record.id))
        return record

    def add_many(self, records: Iterable[StoredRecord]) -> int:
        """Bulk insert: one sort per index instead of one insort per record."""
        added = 0
        for record in records:
            if record.id in self.records:
                raise ValueError(f"{self.name} {record.id} exists already")
            self.records[record.id] = record
            self.live_ids.append(record.id)
            self.by_modified.append((record.modified_ms, record.id))
            self.next_id = max(self.next_id, record.id + 1)
            added += 1
        self.live_ids.sort()
        self.by_modified.sort()
        return added

    def touch(self, record: StoredRecord, modified_ms: int) -> None:
        """Move a live record to a new modification time in the index."""
        self._unindex(record)
        record.modified_ms = modified_ms
        insort(self.by_modified, (record.modified_ms, record.id))

    def archive(self, record: StoredRecord, archived_ms: int) -> None:
        if record.archived_ms is not None:
            return
        self._unindex(record)
        self.live_ids.pop(bisect_left(self.live_ids, record.id))
        record.archived_ms = archived_ms
        record.modified_ms = archived_ms
        insort(self.archived_ids, record.id)

    def restore(self, record: StoredRecord, modified_ms: int) -> None:
        if record.archived_ms is None:
            return
        self.archived_ids.pop(bisect_left(self.archived_ids, record.id))
        record.archived_ms = None
        record.modified_ms = modified_ms
        insort(self.live_ids, record.id)
        insort(self.by_modified, (record.modified_ms, record.id))

    def live(self, record_id: int) -> StoredRecord | None:
        record = self.records.get(record_id)
        return record if record is not None and record.archived_ms is None else None

    def page_by_id(
        self, archived: bool, start_id: int, limit: int
    ) -> tuple[list[StoredRecord], int | None]:
        """Records from `start_id` on in id order, and the id the next page starts at."""
        ids = self.archived_ids if archived else self.live_ids
        start = bisect_left(ids, start_id)
        chosen = ids[start : start + limit]
        following = ids[start + limit] if start + limit < len(ids) else None
        return [self.records[record_id] for record_id in chosen], following

    def by_modified_range(
        self, low: tuple[int, int] | None, high_ms: int | None
    ) -> Iterator[StoredRecord]:
        """Live records from (modified, id) `low` on, to `high_ms` (inclusive), oldest
        first; None: unbounded."""
        start = 0 if low is None else bisect_left(self.by_modified, low)
        stop = len(self.by_modified)
        if high_ms is not None:
            stop = bisect_right(self.by_modified, (high_ms, float("inf")))
        for _, record_id in self.by_modified[start:stop]:
            yield self.records[record_id]

    def _unindex(self, record: StoredRecord) -> None:
        position = bisect_left(self.by_modified, (record.modified_ms, record.id))
        if position < len(self.by_modified) and self.by_modified[position] == (
            record.modified_ms,
            record.id,
        ):
            self.by_modified.pop(position)

    def computed_value(self, record: StoredRecord, name: str) -> str | None:
        if name == "hs_object_id":
            return str(record.id)
        if name == self.modified_property:
            return hubspot_time(record.modified_ms)
        if name == self.created_property:
            return hubspot_time(record.created_ms)
        return None

    def value(self, record: StoredRecord, name: str) -> str | None:
        computed = self.computed_value(record, name)
        return computed if computed is not None else record.properties.get(name)

    def json(self, record: StoredRecord, properties: Iterable[str] | None) -> dict:
        """The record in HubSpot's SimplePublicObject shape."""
        names = DEFAULT_PROPERTIES[self.name] if properties is None else properties
        values = {name: self.value(record, name) for name in names}
        for name in ("hs_object_id", self.created_property, self.modified_property):
            values[name] = self.computed_value(record, name)
        body = {
            "id": str(record.id),
            "properties": values,
            "createdAt": hubspot_time(record.created_ms),
            "updatedAt": hubspot_time(record.modified_ms),
            "archived": record.archived_ms is not None,
        }
        if record.archived_ms is not None:
            body["archivedAt"] = hubspot_time(record.archived_ms)
        if record.write_trace_id is not None:
            body["objectWriteTraceId"] = record.write_trace_id
        return body
