"""The fake Salesforce's records: an in-memory org with Salesforce's write rules.

Every record is a dict of field values as the REST API returns them (datetimes as
"2024-05-01T12:00:00.000+0000", dates as "2024-05-01"). Each object type keeps an index
sorted by (SystemModstamp, Id), so the keyset queries a sync sends answer in time
proportional to the page, not to the 100,000 records behind it; a query naming the
values of a field (`OpportunityId IN (...)`) finds its rows by an index of that field's
values, built when first asked for, so the stage histories of a page of deals cost the
same however many deals the org holds (Salesforce indexes Id and lookup fields).
"""

import bisect
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from .schema import KEY_PREFIXES, TASK_CLOSED_STATUSES, ObjectSpec, schema_new
from .soql import Query, datetime_canonical
from .validation import ValidationRule, WriteError, field_errors

# OpportunityHistory gains a row when any of these change, as in Salesforce.
HISTORY_TRACKED = ("StageName", "Amount", "CloseDate", "Probability")
CLOSED_STAGES = {"Closed Won": True, "Closed Lost": False}
KEYSET_ORDER = (("SystemModstamp", False), ("Id", False))


class Store:
    def __init__(self, clock: Callable[[], datetime]):
        self.schema: dict[str, ObjectSpec] = schema_new()
        self.clock = clock
        self.records: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in self.schema}
        self.rules: list[ValidationRule] = []
        self._index: dict[str, list[tuple[str, str]]] = {name: [] for name in self.schema}
        self._index_stale: set[str] = set()
        # (object, field) → field value → (position, id); dropped on every write.
        self._values: dict[tuple[str, str], dict[Any, list[tuple[int, str]]]] = {}
        self._counters: dict[str, int] = dict.fromkeys(self.schema, 0)

    # Writes without API validation (tests seeding the org)

    def id_new(self, object_name: str) -> str:
        self._counters[object_name] += 1
        return f"{KEY_PREFIXES[object_name]}Fk{self._counters[object_name]:010d}AAA"

    def stamp(self, at: datetime | None = None) -> str:
        return datetime_canonical(at or self.clock())

    def insert(
        self, object_name: str, values: dict[str, Any], *, at: datetime | None = None, by: str = ""
    ) -> dict[str, Any]:
        stamp = self.stamp(at)
        record = dict.fromkeys(self.schema[object_name].fields)
        record |= _defaults(object_name)
        record |= values
        if by and "OwnerId" in record and not values.get("OwnerId"):
            record["OwnerId"] = by  # Salesforce makes the creator the owner
        record_id = record.get("Id") or self.id_new(object_name)
        record |= {
            "Id": record_id,
            "CreatedDate": stamp,
            "CreatedById": by or record.get("CreatedById"),
            "LastModifiedDate": stamp,
            "SystemModstamp": stamp,
        }
        if self.schema[object_name].deletable:
            record["IsDeleted"] = False
        _derive(object_name, record, stamp)
        self.records[object_name][record_id] = record
        self._changed(object_name)
        if object_name == "Opportunity":
            self._history_add(record, stamp)
        return record

    def update(
        self,
        object_name: str,
        record_id: str,
        values: dict[str, Any],
        *,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        record = self.records[object_name][record_id]
        stamp = self.stamp(at)
        tracked_before = {name: record.get(name) for name in HISTORY_TRACKED}
        record |= values
        record["LastModifiedDate"] = stamp
        record["SystemModstamp"] = stamp
        _derive(object_name, record, stamp)
        self._changed(object_name)
        if object_name == "Opportunity" and tracked_before != {
            name: record.get(name) for name in HISTORY_TRACKED
        }:
            self._history_add(record, stamp)
        return record

    def delete(self, object_name: str, record_id: str, *, at: datetime | None = None) -> None:
        # Deleting moves the record to the recycle bin: queryAll still sees it, with
        # IsDeleted true and a new SystemModstamp.
        stamp = self.stamp(at)
        record = self.records[object_name][record_id]
        record |= {"IsDeleted": True, "SystemModstamp": stamp, "LastModifiedDate": stamp}
        self._changed(object_name)

    def bulk_insert(
        self, object_name: str, rows: Iterable[dict[str, Any]], *, at: datetime | None = None
    ) -> list[str]:
        """Insert many records at one SystemModstamp, as a data load does: one template,
        one stamp, and the index rebuilt once on the next query. Opportunities get their
        first history row as single inserts do."""
        stamp = self.stamp(at)
        template = dict.fromkeys(self.schema[object_name].fields) | _defaults(object_name)
        template |= {"CreatedDate": stamp, "LastModifiedDate": stamp, "SystemModstamp": stamp}
        if self.schema[object_name].deletable:
            template["IsDeleted"] = False
        table = self.records[object_name]
        ids = []
        for values in rows:
            record = template | values
            record["Id"] = record_id = self.id_new(object_name)
            _derive(object_name, record, stamp)
            table[record_id] = record
            ids.append(record_id)
        self._changed(object_name)
        if object_name == "Opportunity":
            history = [
                {
                    "OpportunityId": record_id,
                    **{name: table[record_id][name] for name in HISTORY_TRACKED},
                }
                for record_id in ids
            ]
            self.bulk_insert("OpportunityHistory", history, at=at)
        return ids

    def lead_convert(
        self,
        lead_id: str,
        *,
        contact_id: str | None = None,
        account_id: str | None = None,
        at: datetime | None = None,
    ) -> str:
        lead = self.records["Lead"][lead_id]
        if lead["IsConverted"]:
            raise ValueError(f"lead {lead_id} is already converted")
        if account_id is None:
            account_id = self.insert("Account", {"Name": lead["Company"]}, at=at)["Id"]
        if contact_id is None:
            person = {
                name: lead[name]
                for name in ("FirstName", "LastName", "Email", "Phone", "MobilePhone", "Title")
            }
            person |= {"AccountId": account_id, "OwnerId": lead["OwnerId"]}
            contact_id = self.insert("Contact", person, at=at)["Id"]
        self.update(
            "Lead",
            lead_id,
            {
                "IsConverted": True,
                "ConvertedContactId": contact_id,
                "ConvertedAccountId": account_id,
                "ConvertedDate": (at or self.clock()).astimezone(UTC).date().isoformat(),
                "Status": "Closed - Converted",
            },
            at=at,
        )
        return contact_id

    def _changed(self, object_name: str) -> None:
        self._index_stale.add(object_name)
        for key in [key for key in self._values if key[0] == object_name]:
            del self._values[key]

    def _history_add(self, opportunity: dict[str, Any], stamp: str) -> None:
        values = {name: opportunity.get(name) for name in HISTORY_TRACKED}
        values["OpportunityId"] = opportunity["Id"]
        self.insert("OpportunityHistory", values, at=_parse_stamp(stamp))

    # Writes through the API (validated as Salesforce would)

    def write_errors(
        self, object_name: str, values: dict[str, Any], *, record_id: str | None = None
    ) -> list[WriteError]:
        spec = self.schema[object_name]
        creating = record_id is None
        errors = field_errors(spec, values, creating)
        if errors:
            return errors
        errors = self._reference_errors(spec, values)
        merged = values if creating else {**self.records[object_name][record_id], **values}
        errors += [
            WriteError(rule.code, rule.message, (rule.field,))
            for rule in self.rules
            if rule.object_name == object_name and merged.get(rule.field) == rule.value
        ]
        return errors

    def _reference_errors(self, spec: ObjectSpec, values: dict[str, Any]) -> list[WriteError]:
        errors = []
        for name, value in values.items():
            if spec.fields[name].type != "reference" or value is None:
                continue
            if not self.exists(value):
                errors.append(
                    WriteError(
                        "INVALID_CROSS_REFERENCE_KEY",
                        f"invalid cross reference id: {value}",
                        (name,),
                    )
                )
        return errors

    def exists(self, record_id: str) -> bool:
        for object_name, prefix in KEY_PREFIXES.items():
            if isinstance(record_id, str) and record_id.startswith(prefix):
                record = self.records[object_name].get(record_id)
                return record is not None and not record.get("IsDeleted")
        return False

    def find(self, object_name: str, record_id: str) -> dict[str, Any] | None:
        record = self.records[object_name].get(record_id)
        return None if record is None or record.get("IsDeleted") else record

    # Reads

    def query(self, query: Query, *, include_deleted: bool) -> list[dict[str, Any]]:
        visible = _visibility(self.schema[query.object_name].deletable, include_deleted)
        matches = query.where.matches if query.where else (lambda record: True)
        if query.order_by == KEYSET_ORDER:
            rows = self._keyset_scan(query, lambda record: visible(record) and matches(record))
        else:
            found = [
                record for record in self._candidates(query) if visible(record) and matches(record)
            ]
            rows = _sorted(found, query.order_by)[: query.limit]
        return [{name: record[name] for name in query.fields} for record in rows]

    def _keyset_scan(self, query: Query, keep: Callable[[dict], bool]) -> list[dict[str, Any]]:
        index = self._index_fresh(query.object_name)
        floor = query.where.key_floor if query.where else None
        start = bisect.bisect_left(index, floor) if floor else 0
        records = self.records[query.object_name]
        found = []
        for _, record_id in _slice_iter(index, start):
            record = records[record_id]
            if keep(record):
                found.append(record)
                if query.limit is not None and len(found) >= query.limit:
                    break
        return found

    def _candidates(self, query: Query) -> Iterable[dict[str, Any]]:
        """The records a query can match, in insertion order: those holding one of the
        values it names, or all of them."""
        records = self.records[query.object_name]
        one_of = query.where.one_of if query.where else None
        if one_of is None:
            return records.values()
        name, values = one_of
        by_value = self._values_of(query.object_name, name)
        found = sorted(place for value in values for place in by_value.get(value, ()))
        return [records[record_id] for _, record_id in found]

    def _values_of(self, object_name: str, name: str) -> dict[Any, list[tuple[int, str]]]:
        """Field value → (insertion position, id) of the records holding it."""
        key = (object_name, name)
        if key not in self._values:
            by_value: dict[Any, list[tuple[int, str]]] = {}
            for place, (record_id, record) in enumerate(self.records[object_name].items()):
                by_value.setdefault(record.get(name), []).append((place, record_id))
            self._values[key] = by_value
        return self._values[key]

    def _index_fresh(self, object_name: str) -> list[tuple[str, str]]:
        if object_name in self._index_stale:
            self._index[object_name] = sorted(
                (record["SystemModstamp"], record_id)
                for record_id, record in self.records[object_name].items()
            )
            self._index_stale.discard(object_name)
        return self._index[object_name]


def _slice_iter(items: list, start: int) -> Iterator:
    for position in range(start, len(items)):
        yield items[position]


def _visibility(deletable: bool, include_deleted: bool) -> Callable[[dict], bool]:
    if include_deleted or not deletable:
        return lambda record: True
    return lambda record: not record["IsDeleted"]


def _sorted(records: list[dict], order_by: tuple[tuple[str, bool], ...]) -> list[dict]:
    # Salesforce sorts nulls first ascending and last descending; stable sorts from the
    # last key to the first give the combined order.
    for name, descending in reversed(order_by):
        records = sorted(
            records,
            key=lambda record: (record.get(name) is not None, record.get(name)),
            reverse=descending,
        )
    return records


def _defaults(object_name: str) -> dict[str, Any]:
    return {
        "Lead": {"IsConverted": False, "Status": "Open - Not Contacted"},
        "Task": {"Status": "Not Started", "Priority": "Normal"},
        "User": {"IsActive": True},
    }.get(object_name, {})


def _derive(object_name: str, record: dict[str, Any], stamp: str) -> None:
    """Keep Salesforce's computed fields true after every write."""
    if object_name == "Opportunity":
        stage = record.get("StageName")
        record["IsClosed"] = stage in CLOSED_STAGES
        record["IsWon"] = CLOSED_STAGES.get(stage, False)
    elif object_name == "Task":
        closed = record.get("Status") in TASK_CLOSED_STATUSES
        if closed and not record.get("IsClosed"):
            record["CompletedDateTime"] = stamp
        record["IsClosed"] = closed
    elif object_name == "User":
        record["Name"] = " ".join(
            part for part in (record.get("FirstName"), record.get("LastName")) if part
        )


def _parse_stamp(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.000+0000").replace(tzinfo=UTC)
