"""The per-record error log: what a sync could not take, kept until a later attempt does."""

from datetime import datetime

from django.db.models import F
from django.utils import timezone

from apps.crm.adapters import CrmRecord, StageEntry
from apps.crm.models import RecordError


def record_error_keep(
    *, system: str, direction: str, object_type: str, record_id: str, error: str, record: dict
) -> None:
    """Notes (or notes again) why this record was not taken; the last error wins."""
    now = timezone.now()
    updated = RecordError.objects.filter(
        system=system, direction=direction, object_type=object_type, record_id=record_id
    ).update(
        error=error, record=record, attempts=F("attempts") + 1, last_failed_at=now,
        resolved_at=None,
    )  # fmt: skip
    if not updated:
        RecordError.objects.create(
            system=system, direction=direction, object_type=object_type, record_id=record_id,
            error=error, record=record, last_failed_at=now,
        )  # fmt: skip


def record_errors_resolve(
    *, system: str, direction: str, object_type: str, record_ids: list[str]
) -> int:
    """Marks these records' open errors resolved: a later attempt took them."""
    if not record_ids:
        return 0
    open_errors = RecordError.objects.filter(
        system=system, direction=direction, object_type=object_type, resolved_at__isnull=True
    )
    # Most pages have none open: one small look-up instead of an update naming every
    # record of the page (thousands of ids a page in a full sync).
    if not open_errors.exists():
        return 0
    return open_errors.filter(record_id__one_of=record_ids).update(resolved_at=timezone.now())


def record_payload(record: CrmRecord) -> dict:
    """The record as kept with its error, to be applied again on retry."""
    return {
        "object_type": record.object_type,
        "id": record.id,
        "modified_at": record.modified_at.isoformat(),
        "properties": record.properties,
        "archived": record.archived,
        "associations": record.associations,
        "stage_history": [
            {"pipeline": s.pipeline, "stage": s.stage, "entered_at": s.entered_at.isoformat()}
            for s in record.stage_history
        ],
        "converted_to": record.converted_to,
    }


def record_from_payload(payload: dict) -> CrmRecord:
    """The record kept with an error, as the adapter gave it, to apply again."""
    return CrmRecord(
        object_type=payload["object_type"],
        id=payload["id"],
        modified_at=datetime.fromisoformat(payload["modified_at"]),
        properties=payload["properties"],
        archived=payload["archived"],
        associations=payload["associations"],
        stage_history=[
            StageEntry(s["pipeline"], s["stage"], datetime.fromisoformat(s["entered_at"]))
            for s in payload["stage_history"]
        ],
        converted_to=payload["converted_to"],
    )
