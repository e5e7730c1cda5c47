"""Salesforce objects in Cue's terms: which sObject each object type is, the SOQL that
reads its changes, and how a row becomes a CrmRecord.

Changes are read by keyset on (SystemModstamp, Id): Salesforce compares SystemModstamp at
whole seconds, and a bulk update gives thousands of rows the same second, so the Id
breaks ties. The cursor is the last row's pair; the next page starts strictly after it,
which neither skips a row sharing the second nor re-reads one forever.

SystemModstamp is stamped when a transaction writes, not when it commits: a long one
commits rows older than rows already read. So once a run reaches the present, the next
one starts no later than LATE_COMMIT_OVERLAP before the time of the read, and the cursor
remembers the rows read in that window (`seen`, id → SystemModstamp): a row read again
unchanged is dropped, a row committed late is handed over once. A quiet org re-reads
nothing: its newest row is older than the window.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apps.crm.adapters import (
    COMPANY,
    CONTACT,
    DEAL,
    LEAD,
    OWNER,
    TASK,
    CrmError,
    CrmRecord,
    FieldInfo,
    StageEntry,
)

# How late a Salesforce transaction may commit after it stamped its rows and still be read.
LATE_COMMIT_OVERLAP = timedelta(minutes=5)
# The most rows a cursor remembers from that window: past it, the newest are forgotten and
# may be applied again, which changes nothing.
SEEN_MAX = 10_000
PIPELINE_ID = "opportunity"  # Salesforce has one stage picklist for all opportunities
PIPELINE_LABEL = "Opportunity stages"
ACTIVITY_TYPE = "SMS"  # Task.Type of the SMS activities Cue logs
SALESFORCE_DATETIME = "%Y-%m-%dT%H:%M:%S.%f%z"

# Who a reference points at, by the key prefix of the id (WhoId may be a lead or contact).
PREFIX_OBJECT_TYPES = {"005": OWNER, "001": COMPANY, "00Q": LEAD, "003": CONTACT, "006": DEAL}


@dataclass(frozen=True)
class SObject:
    """How one of Cue's object types is read from Salesforce."""

    name: str
    fields: tuple[str, ...]
    references: tuple[str, ...] = ()  # fields naming related records
    deletable: bool = True  # has IsDeleted (Users do not: they are deactivated)


SYSTEM_FIELDS = ("Id", "SystemModstamp", "LastModifiedDate", "CreatedDate")
PERSON_FIELDS = ("FirstName", "LastName", "Email", "Phone", "MobilePhone", "Title")
SOBJECTS: dict[str, SObject] = {
    OWNER: SObject(
        "User", (*SYSTEM_FIELDS, "Email", "FirstName", "LastName", "IsActive"), deletable=False
    ),
    COMPANY: SObject(
        "Account",
        (
            *SYSTEM_FIELDS,
            "IsDeleted",
            "Name",
            "Website",
            "Industry",
            "NumberOfEmployees",
            "BillingState",
            "BillingCountry",
            "OwnerId",
        ),
        references=("OwnerId",),
    ),
    LEAD: SObject(
        "Lead",
        (
            *SYSTEM_FIELDS,
            "IsDeleted",
            *PERSON_FIELDS,
            "Company",
            "State",
            "Country",
            "Status",
            "LeadSource",
            "OwnerId",
            "HasOptedOutOfEmail",
            "IsConverted",
            "ConvertedContactId",
            "ConvertedAccountId",
            "ConvertedDate",
        ),
        references=("OwnerId",),
    ),
    CONTACT: SObject(
        "Contact",
        (
            *SYSTEM_FIELDS,
            "IsDeleted",
            *PERSON_FIELDS,
            "LeadSource",
            "MailingState",
            "MailingCountry",
            "AccountId",
            "OwnerId",
            "HasOptedOutOfEmail",
        ),
        references=("AccountId", "OwnerId"),
    ),
    DEAL: SObject(
        "Opportunity",
        (
            *SYSTEM_FIELDS,
            "IsDeleted",
            "Name",
            "AccountId",
            "ContactId",
            "StageName",
            "Amount",
            "Probability",
            "CloseDate",
            "IsClosed",
            "IsWon",
            "OwnerId",
        ),
        references=("AccountId", "ContactId", "OwnerId"),
    ),
    TASK: SObject(
        "Task",
        (
            *SYSTEM_FIELDS,
            "IsDeleted",
            "WhoId",
            "OwnerId",
            "Subject",
            "Status",
            "IsClosed",
            "CompletedDateTime",
            "ActivityDate",
            "Priority",
        ),
        references=("WhoId", "OwnerId"),
    ),
}

# Salesforce field types as Cue's attribute types (FieldInfo.type).
FIELD_TYPES = {
    "boolean": "boolean",
    "int": "number",
    "double": "number",
    "currency": "number",
    "percent": "number",
    "date": "date",
    "datetime": "datetime",
    "picklist": "choice",
    "multipicklist": "list",
}
TEXT_LENGTH_TYPES = {"string", "email", "phone", "url", "textarea", "encryptedstring", "picklist"}


def soql_quote(value: str) -> str:
    """A SOQL string literal; Salesforce escapes quotes and backslashes with a backslash."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def soql_datetime(stamp: str) -> str:
    """A SOQL dateTime literal (whole seconds, UTC) for a SystemModstamp as read."""
    return datetime_parse(stamp).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Salesforce's own form, which fromisoformat reads alike at a tenth of strptime's cost (a
# full sync reads two times a record); any other text goes through strptime, as before.
_SALESFORCE_DATETIME_SHAPE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-9]{2}:[0-9]{2}\.[0-9]{3}"
    r"[+-](?:[01][0-9]|2[0-3])[0-5][0-9]"
)


def datetime_parse(value: str) -> datetime:
    if isinstance(value, str) and _SALESFORCE_DATETIME_SHAPE.fullmatch(value):
        return datetime.fromisoformat(value)
    return datetime.strptime(value, SALESFORCE_DATETIME)


def changes_soql(
    sobject: SObject,
    cursor: dict | None,
    page_size: int,
    *,
    extra_fields: Sequence[str] = (),
    conditions: Sequence[str] = (),
) -> str:
    """The keyset query for the next page of changes after `cursor`."""
    fields = _distinct_fields((*sobject.fields, *extra_fields))
    where = list(conditions)
    if cursor:
        modstamp, record_id = cursor_parts(cursor)
        stamp = soql_datetime(modstamp)
        where.insert(
            0,
            f"(SystemModstamp > {stamp} OR "
            f"(SystemModstamp = {stamp} AND Id > {soql_quote(record_id)}))",
        )
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    return (
        f"SELECT {', '.join(fields)} FROM {sobject.name}{clause} "
        f"ORDER BY SystemModstamp ASC, Id ASC LIMIT {page_size}"
    )


def _distinct_fields(names: Sequence[str]) -> list[str]:
    # SOQL names are case-insensitive, and a field selected twice is an error.
    seen: set[str] = set()
    distinct = []
    for name in names:
        if name.lower() not in seen:
            seen.add(name.lower())
            distinct.append(name)
    return distinct


def cursor_parts(cursor: dict) -> tuple[str, str]:
    modstamp, record_id = cursor.get("modstamp"), cursor.get("id")
    if not isinstance(modstamp, str) or not isinstance(record_id, str):
        raise CrmError(f"not a Salesforce cursor: {cursor!r}")
    return modstamp, record_id


def rows_unseen(rows: list[dict[str, Any]], cursor: dict | None) -> list[dict[str, Any]]:
    """The rows not read before as they are now (see the module docstring)."""
    seen = (cursor or {}).get("seen") or {}
    return [row for row in rows if seen.get(row["Id"]) != row["SystemModstamp"]]


def cursor_after(
    rows: list[dict[str, Any]], cursor: dict | None, *, done: bool, now: datetime
) -> dict:
    """Where the next page starts: after the last row read. Once the present is reached,
    no later than LATE_COMMIT_OVERLAP before `now`, remembering the rows read since then
    that the next read meets again (see the module docstring)."""
    position = dict(cursor or {})
    seen = position.pop("seen", None) or {}
    if rows:
        position = {"modstamp": rows[-1]["SystemModstamp"], "id": rows[-1]["Id"]}
    elif not position:
        return {}
    horizon = now - LATE_COMMIT_OVERLAP
    if done and datetime_parse(position["modstamp"]) > horizon:
        position = {"modstamp": _modstamp(horizon), "id": ""}
    seen = _seen_after(
        {**seen, **{row["Id"]: row["SystemModstamp"] for row in rows}},
        (datetime_parse(position["modstamp"]), position["id"]),
    )
    return {**position, "seen": seen} if seen else position


def _seen_after(seen: dict[str, str], position: tuple[datetime, str]) -> dict[str, str]:
    """The rows ahead of `position`, the next read's start (at most SEEN_MAX, the oldest)."""
    ahead = sorted(
        (stamp, record_id)
        for record_id, text in seen.items()
        if (stamp := datetime_parse(text), record_id) > position
    )
    return {record_id: seen[record_id] for _, record_id in ahead[:SEEN_MAX]}


def _modstamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def stage_history_soql(opportunity_ids: Iterable[str]) -> str:
    ids = ", ".join(soql_quote(record_id) for record_id in opportunity_ids)
    return (
        "SELECT OpportunityId, StageName, CreatedDate FROM OpportunityHistory "
        f"WHERE OpportunityId IN ({ids}) ORDER BY OpportunityId ASC, CreatedDate ASC, Id ASC"
    )


def stage_histories(rows: Iterable[dict[str, Any]]) -> dict[str, list[StageEntry]]:
    """Stage entries per opportunity. OpportunityHistory also gains rows when the amount
    or close date changes; only a change of StageName is a stage entered."""
    histories: dict[str, list[StageEntry]] = {}
    for row in rows:
        entries = histories.setdefault(row["OpportunityId"], [])
        if entries and entries[-1].stage == row["StageName"]:
            continue
        entries.append(
            StageEntry(PIPELINE_ID, row["StageName"], datetime_parse(row["CreatedDate"]))
        )
    return histories


def record_from_row(
    object_type: str, row: dict[str, Any], history: Sequence[StageEntry] = ()
) -> CrmRecord:
    properties = {name: value for name, value in row.items() if name != "attributes"}
    converted = properties.get("ConvertedContactId") if properties.get("IsConverted") else None
    return CrmRecord(
        object_type=object_type,
        id=properties["Id"],
        modified_at=datetime_parse(properties["SystemModstamp"]),
        properties=properties,
        archived=bool(properties.get("IsDeleted")),
        associations=_associations(SOBJECTS[object_type], properties),
        stage_history=tuple(history),
        converted_to=converted,
    )


def _associations(sobject: SObject, properties: dict[str, Any]) -> dict[str, list[str]]:
    associations: dict[str, list[str]] = {}
    for name in sobject.references:
        value = properties.get(name)
        if value and (object_type := PREFIX_OBJECT_TYPES.get(value[:3])):
            associations.setdefault(object_type, []).append(value)
    return associations


def field_info(described: dict[str, Any]) -> FieldInfo:
    """A describe field as Cue's FieldInfo."""
    sf_type = described.get("type", "string")
    options = tuple(
        value["value"] for value in described.get("picklistValues") or () if value.get("active")
    )
    length = described.get("length") or None
    return FieldInfo(
        name=described["name"],
        label=described.get("label") or described["name"],
        type=FIELD_TYPES.get(sf_type, "text"),
        options=options,
        max_length=length if sf_type in TEXT_LENGTH_TYPES else None,
    )
