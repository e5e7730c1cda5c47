"""Cue's Salesforce adapter: the CrmAdapter contract spoken through simple-salesforce."""

import json
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError

from apps.crm.adapters import (
    COMPANY,
    CONTACT,
    DEAL,
    LEAD,
    OWNER,
    TASK,
    ActivityOut,
    CrmError,
    CrmRecordRefused,
    FieldInfo,
    Page,
    PipelineInfo,
    StageEntry,
    TaskOut,
    WriteResult,
    cue_marker,
)

from .connection import SalesforceConnection, error_code, error_text
from .records import (
    ACTIVITY_TYPE,
    PIPELINE_ID,
    PIPELINE_LABEL,
    SOBJECTS,
    changes_soql,
    cursor_after,
    field_info,
    record_from_row,
    rows_unseen,
    soql_quote,
    stage_histories,
    stage_history_soql,
)

COMPOSITE_BATCH = 200  # records per composite/sobjects call, Salesforce's maximum
HISTORY_IDS_PER_QUERY = 200  # keeps the query URL far below Salesforce's 16 KB
SUBJECT_MAX = 255
DESCRIPTION_MAX = 32000
PRIORITIES = {"high": "High", "normal": "Normal", "low": "Low"}
# Salesforce refuses a single record with these statuses; anything else is not the record.
RECORD_REFUSAL_STATUSES = {400, 403, 404}


class QueryLocatorExpired(CrmError):
    """Salesforce forgot a query's locator between two batches."""


class SalesforceAdapter:
    """Reads Users, Accounts, Leads, Contacts, Opportunities (with stage history) and the
    Tasks Cue created; writes follow-up Tasks, SMS activity Tasks and field updates.

    `properties` names more fields to read per object type (the field mapping's CRM side,
    custom fields included), as HubSpot's adapter takes them. `clock` says when a read
    happens (records.py's late-commit window); tests pass their own.

    `task_key_field` names an External ID field on Task (e.g. Cue_Key__c) that holds Cue's
    key of each task and activity. With it, every write is an upsert by that key, so a
    write repeated after a timeout or a crash finds what the first one made; without it,
    a create is sent once and a timeout is reported, never resent blindly.

    `time_zone` is the org's (or its users') zone: an SMS activity's ActivityDate, a date
    without a time, is the day the message happened there, not in UTC.
    """

    system = "salesforce"
    object_types = (OWNER, COMPANY, LEAD, CONTACT, DEAL, TASK)
    page_size = 2000  # a SOQL query's largest batch

    def __init__(
        self,
        connection: SalesforceConnection,
        *,
        properties: Mapping[str, Sequence[str]] | None = None,
        task_key_field: str = "",
        time_zone: str = "UTC",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.connection = connection
        self.clock = clock
        self.extra_fields = {key: tuple(value) for key, value in (properties or {}).items()}
        self.task_key_field = task_key_field
        self.time_zone = ZoneInfo(time_zone)

    # CRM -> Cue

    def changes(self, object_type: str, cursor: dict | None, *, page_size: int) -> Page:
        sobject = SOBJECTS.get(object_type)
        if sobject is None:
            raise CrmError(f"Salesforce has no object type {object_type!r} in Cue")
        soql = changes_soql(
            sobject,
            cursor,
            page_size,
            extra_fields=self.extra_fields.get(object_type, ()),
            conditions=self._conditions(object_type),
        )
        read = self._query(soql, include_deleted=sobject.deletable)
        rows = rows_unseen(read, cursor)
        histories = (
            self._stage_histories([row["Id"] for row in rows]) if object_type == DEAL else {}
        )
        records = [record_from_row(object_type, row, histories.get(row["Id"], ())) for row in rows]
        done = len(read) < page_size
        next_cursor = cursor_after(read, cursor, done=done, now=self.clock())
        return Page(records=records, cursor=next_cursor, done=done)

    def _conditions(self, object_type: str) -> list[str]:
        if object_type != TASK:
            return []
        # Only the follow-ups Cue created: by its integration user, not its SMS log.
        self.connection.client()  # the user id comes with the access token
        return [
            f"CreatedById = {soql_quote(self.connection.user_id)}",
            f"Type != {soql_quote(ACTIVITY_TYPE)}",
        ]

    def _stage_histories(self, opportunity_ids: list[str]) -> dict[str, list[StageEntry]]:
        rows: list[dict[str, Any]] = []
        for start in range(0, len(opportunity_ids), HISTORY_IDS_PER_QUERY):
            chunk = opportunity_ids[start : start + HISTORY_IDS_PER_QUERY]
            rows.extend(self._query(stage_history_soql(chunk), include_deleted=False))
        return stage_histories(rows)

    def _query(self, soql: str, *, include_deleted: bool) -> list[dict[str, Any]]:
        """Every row of a query, following nextRecordsUrl to the end. Salesforce drops an
        idle query locator (after a long wait, or when too many are open); the page is
        then read again from its start, once."""
        try:
            return self._query_rows(soql, include_deleted)
        except QueryLocatorExpired:
            return self._query_rows(soql, include_deleted)

    def _query_rows(self, soql: str, include_deleted: bool) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for batch in self._query_batches(soql, include_deleted):
            rows.extend(dict(row) for row in batch)
        return rows

    def _query_batches(self, soql: str, include_deleted: bool) -> Iterator[list]:
        timeout = self.connection.timeout
        try:
            answer = self.connection.call(
                lambda sf: sf.query(soql, include_deleted=include_deleted, timeout=timeout)
            )
            yield answer["records"]
            while not answer["done"]:
                next_url = answer["nextRecordsUrl"]
                answer = self.connection.call(
                    lambda sf, url=next_url: sf.query_more(
                        url, identifier_is_url=True, timeout=timeout
                    )
                )
                yield answer["records"]
        except SalesforceError as error:
            if error_code(error) == "INVALID_QUERY_LOCATOR":
                raise QueryLocatorExpired(error_text(error)) from None
            raise CrmError(f"Salesforce refused Cue's query: {error_text(error)}") from None

    def pipelines(self) -> list[PipelineInfo]:
        stage_field = next(
            field for field in self._describe("Opportunity") if field["name"] == "StageName"
        )
        stages = [
            (value["value"], value.get("label") or value["value"])
            for value in stage_field.get("picklistValues") or ()
            if value.get("active")
        ]
        return [PipelineInfo(id=PIPELINE_ID, label=PIPELINE_LABEL, stages=stages)]

    def fields(self, object_type: str) -> list[FieldInfo]:
        sobject = SOBJECTS.get(object_type)
        if sobject is None:
            raise CrmError(f"Salesforce has no object type {object_type!r} in Cue")
        return [field_info(described) for described in self._describe(sobject.name)]

    def _describe(self, sobject_name: str) -> list[dict[str, Any]]:
        timeout = self.connection.timeout
        try:
            answer = self.connection.call(
                lambda sf: sf.restful(f"sobjects/{sobject_name}/describe/", timeout=timeout)
            )
        except SalesforceError as error:
            raise CrmError(
                f"Salesforce refused describe {sobject_name}: {error_text(error)}"
            ) from None
        return list(answer["fields"])

    # Cue -> CRM

    def task_save(self, task: TaskOut, record_id: str | None) -> str:
        values = _task_values(task)
        if record_id is not None:
            self._write("PATCH", f"sobjects/Task/{record_id}", values)
            return record_id
        values["WhoId"] = task.contact_record_id
        if self.task_key_field:
            key = urllib.parse.quote(task.key, safe="")
            answer = self._write("PATCH", f"sobjects/Task/{self.task_key_field}/{key}", values)
            return str(answer["id"])
        # No External ID field: the Description carries Cue's key, so that a retry after a
        # create Salesforce did not confirm finds the Task it made instead of a second.
        if task.retry and (found := self._task_made(task, values["Subject"])):
            return found
        answer = self._write("POST", "sobjects/Task/", values, idempotent=False)
        return str(answer["id"])

    def _task_made(self, task: TaskOut, subject: str) -> str | None:
        """The id of the Task an earlier attempt made for this key, if it landed. A long
        text field cannot be filtered in SOQL: the Tasks of that person and subject by
        Cue's user are read, and the marker looked for in each."""
        self.connection.client()  # the user id comes with the access token
        soql = (
            "SELECT Id, Description FROM Task"
            f" WHERE WhoId = {soql_quote(task.contact_record_id)}"
            f" AND Subject = {soql_quote(subject)}"
            f" AND CreatedById = {soql_quote(self.connection.user_id)}"
            " ORDER BY CreatedDate ASC, Id ASC"
        )
        marker = cue_marker(task.key)
        for row in self._query(soql, include_deleted=False):
            if marker in (row.get("Description") or ""):
                return str(row["Id"])
        return None

    def activities_log(self, activities: list[ActivityOut]) -> list[WriteResult]:
        results: list[WriteResult] = []
        for start in range(0, len(activities), COMPOSITE_BATCH):
            results.extend(self._activities_batch(activities[start : start + COMPOSITE_BATCH]))
        return results

    def _activities_batch(self, batch: list[ActivityOut]) -> list[WriteResult]:
        records = [_activity_values(item, self.time_zone) for item in batch]
        try:
            answers = self._activities_send(batch, records)
        except CrmRecordRefused as error:
            return [WriteResult(key=item.key, error=str(error)) for item in batch]
        return [
            _write_result(item.key, answer) for item, answer in zip(batch, answers, strict=True)
        ]

    def _activities_send(self, batch: list[ActivityOut], records: list[dict]) -> Any:
        if not self.task_key_field:
            return self._activities_create(batch, records)
        for item, record in zip(batch, records, strict=True):
            record[self.task_key_field] = item.key
        body = {"allOrNone": False, "records": records}
        return self._write("PATCH", f"composite/sobjects/Task/{self.task_key_field}", body)

    def _activities_create(self, batch: list[ActivityOut], records: list[dict]) -> list[dict]:
        """Plain creates, without an External ID field: each Description ends with Cue's
        key, so a retry after a create Salesforce did not confirm takes the Task that landed
        instead of making a second one, and creates only the others."""
        made = self._activities_made([item for item in batch if item.retry])
        fresh = [
            record for item, record in zip(batch, records, strict=True) if item.key not in made
        ]
        body = {"allOrNone": False, "records": fresh}
        created = iter(
            self._write("POST", "composite/sobjects", body, idempotent=False) if fresh else ()
        )
        return [
            {"success": True, "id": made[item.key]} if item.key in made else next(created)
            for item in batch
        ]

    def _activities_made(self, retried: list[ActivityOut]) -> dict[str, str]:
        """{Cue's key: Task id} of the SMS activities an earlier attempt made for these.
        A long text field cannot be filtered in SOQL: the SMS Tasks of these people by
        Cue's user are read, and each one's marker taken from its Description."""
        if not retried:
            return {}
        self.connection.client()  # the user id comes with the access token
        people = ", ".join(sorted({soql_quote(item.contact_record_id) for item in retried}))
        soql = (
            f"SELECT Id, Description FROM Task WHERE WhoId IN ({people})"
            f" AND Type = {soql_quote(ACTIVITY_TYPE)}"
            f" AND CreatedById = {soql_quote(self.connection.user_id)}"
            " ORDER BY CreatedDate ASC, Id ASC"
        )
        wanted = {cue_marker(item.key): item.key for item in retried}
        made: dict[str, str] = {}
        for row in self._query(soql, include_deleted=False):
            last_line = (row.get("Description") or "").rsplit("\n", 1)[-1]
            if (key := wanted.get(last_line)) is not None:
                made.setdefault(key, str(row["Id"]))
        return made

    def record_update(self, object_type: str, record_id: str, properties: dict) -> None:
        sobject = SOBJECTS.get(object_type)
        if sobject is None:
            raise CrmError(f"Salesforce has no object type {object_type!r} in Cue")
        self._write("PATCH", f"sobjects/{sobject.name}/{record_id}", dict(properties))

    def _write(self, method: str, path: str, body: dict, *, idempotent: bool = True) -> Any:
        timeout = self.connection.timeout
        payload = json.dumps(body)

        def send(sf: Salesforce) -> Any:
            return sf.restful(path, method=method, data=payload, timeout=timeout)

        try:
            return self.connection.call(send, idempotent=idempotent)
        except SalesforceError as error:
            if error.status in RECORD_REFUSAL_STATUSES:
                raise CrmRecordRefused(error_text(error)) from None
            raise CrmError(f"Salesforce refused {method} {path}: {error_text(error)}") from None


def _task_values(task: TaskOut) -> dict[str, Any]:
    marker = f"\n\n{cue_marker(task.key)}"
    values = {
        "Subject": task.subject[:SUBJECT_MAX],
        "Description": task.body[: DESCRIPTION_MAX - len(marker)] + marker,
        # Salesforce's ActivityDate is a date without a zone, shown as is to the owner: the
        # day the task is due where the owner is (due 23:30 in Los Angeles is that day).
        "ActivityDate": task.due_at.astimezone(ZoneInfo(task.time_zone)).date().isoformat(),
        "Priority": PRIORITIES.get(task.priority, "Normal"),
        "Status": "Completed" if task.completed else "Not Started",
    }
    if task.owner_record_id:
        values["OwnerId"] = task.owner_record_id
    return values


def _activity_values(activity: ActivityOut, zone: ZoneInfo) -> dict[str, Any]:
    what = " · ".join(part for part in (activity.journey, activity.template) if part)
    subject = f"SMS {activity.status} ({activity.direction})" + (f": {what}" if what else "")
    details = [
        activity.body,
        "",
        f"Journey: {activity.journey or '-'}",
        f"Template: {activity.template or '-'}",
        f"At: {activity.at.isoformat()}",
    ]
    # Cue's key closes the text whatever its length: a retry looks for it there.
    marker = cue_marker(activity.key)
    description = "\n".join(details)[: DESCRIPTION_MAX - len(marker) - 1] + "\n" + marker
    return {
        "attributes": {"type": "Task"},
        "WhoId": activity.contact_record_id,
        "Subject": subject[:SUBJECT_MAX],
        "Description": description,
        # The day it happened where the org reads its activity (a text at 21:00 in New York
        # is that day's, though UTC has passed midnight).
        "ActivityDate": activity.at.astimezone(zone).date().isoformat(),
        "Status": "Completed",
        "Priority": "Normal",
        "Type": ACTIVITY_TYPE,
        "TaskSubtype": "Task",
    }


def _write_result(key: str, answer: Mapping[str, Any]) -> WriteResult:
    if answer.get("success"):
        return WriteResult(key=key, record_id=str(answer["id"]))
    errors = answer.get("errors") or [{}]
    text = "; ".join(
        f"{error.get('statusCode', 'ERROR')}: {error.get('message', '')}".strip()
        for error in errors
    )
    return WriteResult(key=key, error=text)
