"""What Cue writes to HubSpot: follow-up tasks, SMS on the contact's timeline, and fields
(consent write-back)."""

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from hubspot.crm.objects.models import (
    AssociationSpec,
    BatchInputSimplePublicObjectBatchInputForCreate,
    PublicAssociationsForObject,
    PublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)

from apps.crm.adapters import (
    ActivityOut,
    CrmRateLimited,
    CrmRecordRefused,
    CrmUnavailable,
    TaskOut,
    WriteResult,
    cue_marker,
)

from .changes import HubSpotApis
from .records import HUBSPOT_OBJECT

logger = logging.getLogger(__name__)

# HubSpot-defined association type ids (engagement to contact).
TASK_TO_CONTACT = 204
COMMUNICATION_TO_CONTACT = 81
BATCH_MAX_INPUTS = 100
TASK_PRIORITY = {"high": "HIGH", "normal": "MEDIUM", "low": "LOW"}
DIRECTION_LABEL = {"outbound": "Outbound", "inbound": "Inbound"}


class HubSpotWriter:
    def __init__(self, apis: HubSpotApis, call: Callable[..., Any]):
        self.apis = apis
        self.call = call

    def task_save(self, task: TaskOut, record_id: str | None) -> str:
        """Creates the task associated with its contact, or updates the one Cue made.

        Cue never reopens a task: a rep may have completed it in HubSpot before the
        next sync told Cue, and an update from Cue must not undo that.
        """
        if task.priority not in TASK_PRIORITY:
            raise CrmRecordRefused(f"unknown task priority {task.priority!r}")
        properties = {
            "hs_task_subject": task.subject,
            "hs_task_body": task.body,
            "hs_timestamp": hubspot_time(task.due_at),
            "hs_task_priority": TASK_PRIORITY[task.priority],
            "hs_task_type": "TODO",
        }
        if task.owner_record_id:
            properties["hubspot_owner_id"] = task.owner_record_id
        if record_id is None:
            return self._task_create(task, properties)
        if task.completed:
            properties["hs_task_status"] = "COMPLETED"
        body = self.call(
            f"update task {record_id}",
            self.apis.objects.update,
            "tasks",
            record_id,
            SimplePublicObjectInput(properties=properties),
        )
        return str(body["id"])

    def _task_create(self, task: TaskOut, properties: dict[str, str]) -> str:
        properties["hs_task_status"] = "COMPLETED" if task.completed else "NOT_STARTED"
        # HubSpot has no idempotency key: the body carries Cue's, so that a retry after a
        # create HubSpot did not confirm finds the task it made instead of making a second.
        properties["hs_task_body"] = f"{task.body}\n\n{cue_marker(task.key)}"
        subject = _filter("hs_task_subject", properties["hs_task_subject"])
        if task.retry and (found := self._made("tasks", task.key, subject, "hs_task_body")):
            return found
        body = self.call(
            f"create task {task.key}",
            self.apis.objects.create,
            "tasks",
            SimplePublicObjectInputForCreate(
                properties=properties,
                associations=[_to_contact(task.contact_record_id, TASK_TO_CONTACT)],
            ),
            idempotent=False,
        )
        return str(body["id"])

    def _made(self, object_name: str, key: str, narrowing: dict, text_property: str) -> str | None:
        """The id of the record an earlier attempt made for `key`, if it landed: among the
        records `narrowing` finds, the one whose text carries Cue's marker."""
        request = PublicObjectSearchRequest(
            filter_groups=[{"filters": [narrowing]}],
            sorts=[{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
            limit=100,
            properties=[text_property],
        )
        body = self.call(f"look for {key}", self.apis.search.do_search, object_name, request)
        marker = cue_marker(key)
        for item in body["results"]:
            if marker in (item.get("properties", {}).get(text_property) or ""):
                return str(item["id"])
        return None

    def activities_log(self, activities: list[ActivityOut]) -> list[WriteResult]:
        """Communications (channel SMS) on each contact, 100 to a batch. HubSpot refuses a
        batch as a whole when one item is invalid; that batch is then written one by one,
        so the good items are stored and each bad one carries HubSpot's reason.

        If HubSpot stops answering (limit, outage) after some batches were written, the
        results of those are returned and the rest have none, so the caller keeps the
        written ones and sends the others later; if the first batch fails, the error is
        raised."""
        results: list[WriteResult] = []
        for start in range(0, len(activities), BATCH_MAX_INPUTS):
            try:
                results.extend(self._batch_log(activities[start : start + BATCH_MAX_INPUTS]))
            except (CrmRateLimited, CrmUnavailable) as error:
                if not results:
                    raise
                logger.warning("HubSpot stopped after %d SMS activities: %s", len(results), error)
                break
        return results

    def _batch_log(self, batch: list[ActivityOut]) -> list[WriteResult]:
        keys = [activity.key for activity in batch]
        if len(set(keys)) != len(keys):
            raise ValueError("activities in one call need distinct keys")
        found = self._activities_made(batch)
        batch = [activity for activity in batch if activity.key not in found]
        written = self._batch_create(batch) if batch else {}
        return [found.get(key) or written[key] for key in keys]

    def _activities_made(self, batch: list[ActivityOut]) -> dict[str, WriteResult]:
        """The activities of this batch an earlier, unconfirmed attempt logged already."""
        found = {}
        for activity in batch:
            if not activity.retry:
                continue
            at = _filter("hs_timestamp", str(round(activity.at.timestamp() * 1000)))
            record_id = self._made("communications", activity.key, at, "hs_communication_body")
            if record_id is not None:
                found[activity.key] = WriteResult(key=activity.key, record_id=record_id)
        return found

    def _batch_create(self, batch: list[ActivityOut]) -> dict[str, WriteResult]:
        keys = [activity.key for activity in batch]
        request = BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[
                SimplePublicObjectBatchInputForCreate(
                    properties=communication_properties(activity),
                    associations=[
                        _to_contact(activity.contact_record_id, COMMUNICATION_TO_CONTACT)
                    ],
                    object_write_trace_id=activity.key,
                )
                for activity in batch
            ]
        )
        try:
            body = self.call(
                f"log {len(batch)} SMS activities",
                self.apis.objects_batch.create,
                "communications",
                request,
                idempotent=False,
            )
        except CrmRecordRefused:
            return {activity.key: self._single_log(activity) for activity in batch}
        # HubSpot does not promise the inputs' order; the trace id says which is which.
        created = {item.get("objectWriteTraceId"): str(item["id"]) for item in body["results"]}
        return {
            key: WriteResult(key=key, record_id=created[key])
            if key in created
            else WriteResult(key=key, error="HubSpot answered no record for this activity")
            for key in keys
        }

    def _single_log(self, activity: ActivityOut) -> WriteResult:
        request = SimplePublicObjectInputForCreate(
            properties=communication_properties(activity),
            associations=[_to_contact(activity.contact_record_id, COMMUNICATION_TO_CONTACT)],
        )
        try:
            body = self.call(
                f"log SMS activity {activity.key}",
                self.apis.objects.create,
                "communications",
                request,
                idempotent=False,
            )
        except CrmRecordRefused as refusal:
            return WriteResult(key=activity.key, error=str(refusal))
        return WriteResult(key=activity.key, record_id=str(body["id"]))

    def record_update(self, object_type: str, record_id: str, properties: dict) -> None:
        if object_type not in HUBSPOT_OBJECT:
            raise ValueError(f"HubSpot has no {object_type!r} records for Cue")
        self.call(
            f"update {HUBSPOT_OBJECT[object_type]} {record_id}",
            self.apis.objects.update,
            HUBSPOT_OBJECT[object_type],
            record_id,
            SimplePublicObjectInput(
                properties={name: property_text(value) for name, value in properties.items()}
            ),
        )


def communication_properties(activity: ActivityOut) -> dict[str, str]:
    direction = DIRECTION_LABEL.get(activity.direction, activity.direction)
    context = ", ".join(
        part
        for part in (
            f"journey: {activity.journey}" if activity.journey else "",
            f"template: {activity.template}" if activity.template else "",
        )
        if part
    )
    heading = f"{direction} SMS {activity.status}" + (f" ({context})" if context else "")
    return {
        "hs_communication_channel_type": "SMS",
        "hs_communication_logged_from": "CRM",
        # Cue's key, by which a retry finds an activity HubSpot took without confirming it.
        "hs_communication_body": "\n\n".join(
            part for part in (heading, activity.body, cue_marker(activity.key)) if part
        ),
        "hs_timestamp": hubspot_time(activity.at),
    }


def _filter(name: str, value: str) -> dict[str, str]:
    return {"propertyName": name, "operator": "EQ", "value": value}


def _to_contact(contact_id: str, type_id: int) -> PublicAssociationsForObject:
    return PublicAssociationsForObject(
        to=PublicObjectId(id=contact_id),
        types=[
            AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=type_id)
        ],
    )


def hubspot_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("HubSpot times must be aware datetimes")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def property_text(value: Any) -> str:
    """HubSpot takes every property value as text; None clears the property."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return hubspot_time(value)
    return str(value)
