""" "What would this mapping do to these 20 records": the first records of an object type
read from the CRM and applied by the sync's own appliers (engine.APPLIERS, so the answer
is the sync's, never a copy of it), inside a transaction that is always rolled back.

Nothing stays: the rows, the kept errors and every callback queued for after the commit
(events, journeys, routing, CRM pushes) go with the rollback. Each record is applied in a
savepoint of its own, so one that breaks leaves the others' answers standing, and later
records see earlier ones as a real sync would (a deal finds the contact read before it).
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models, transaction

from apps.contacts.models import Company, Contact, ContactExternalId, Opportunity
from apps.crm.adapters import CrmAdapter, CrmRecord
from apps.crm.models import CrmOwner, Direction, ObjectType, RecordError, RecordLink
from apps.crm.sync.context import SyncContext
from apps.crm.sync.engine import APPLIERS
from apps.crm.sync.tally import KINDS

logger = logging.getLogger(__name__)

RECORDS = 20
PEOPLE = (ObjectType.LEAD, ObjectType.CONTACT)
_PLAIN = (str, int, float, bool, Decimal, date, datetime, list, dict)
# A new row's empty fields are not changes worth listing.
_BLANK = (None, "", [], {})


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any


@dataclass
class DryRunLine:
    record_id: str
    name: str
    outcome: str = "failed"  # one of tally.KINDS
    changes: list[Change] = field(default_factory=list)
    error: str = ""


def mapping_dry_run(*, adapter: CrmAdapter, object_type: str) -> list[DryRunLine]:
    """What syncing the CRM's first RECORDS records of `object_type` would do now, record
    by record. The CRM is read (CrmError if it cannot be); Cue is left exactly as it was."""
    records = adapter.changes(object_type, None, page_size=RECORDS).records[:RECORDS]
    context = SyncContext(adapter.system)
    with transaction.atomic():
        lines = [_line(context, object_type, record) for record in records]
        transaction.set_rollback(True)
    return lines


def _line(context: SyncContext, object_type: str, record: CrmRecord) -> DryRunLine:
    line = DryRunLine(record.id, _name(record))
    before = _snapshot(context.system, object_type, record.id)
    try:
        with transaction.atomic():
            tally = APPLIERS[object_type](context, object_type, [record])
    except Exception as error:
        # A dry run diagnoses: a record that would break the sync is itself the answer,
        # and its savepoint is gone, so the records after it are still tried.
        logger.warning("dry run of %s %s failed", object_type, record.id, exc_info=True)
        context.forget()
        line.error = f"The sync would stop at this record: {type(error).__name__}: {error}"
        return line
    line.outcome = next((kind for kind in KINDS if tally.counts[kind]), "skipped")
    line.error = _kept_error(context.system, object_type, record.id)
    after = _snapshot(context.system, object_type, record.id)
    line.changes = [
        Change(name, before.get(name), value)
        for name, value in after.items()
        if before.get(name) != value and not (name not in before and value in _BLANK)
    ]
    return line


def _kept_error(system: str, object_type: str, record_id: str) -> str:
    """The error this attempt kept (it is rolled back with the rest)."""
    kept = RecordError.objects.filter(
        system=system, direction=Direction.IN, object_type=object_type, record_id=record_id,
        resolved_at__isnull=True,
    ).values_list("error", flat=True)  # fmt: skip
    return kept.first() or ""


def _snapshot(system: str, object_type: str, record_id: str) -> dict[str, Any]:
    """The Cue row this CRM record fills, field by field; empty when there is none."""
    row = _cue_row(system, object_type, record_id)
    if row is None:
        return {}
    values = {
        f.name: _shown(row, f)
        for f in type(row)._meta.concrete_fields
        if not (f.primary_key or getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))
        and f.name != "attributes"
    }
    for key, value in (getattr(row, "attributes", None) or {}).items():
        values[f"attr.{key}"] = value
    return values


def _cue_row(system: str, object_type: str, record_id: str) -> models.Model | None:
    if object_type == ObjectType.OWNER:
        return CrmOwner.objects.filter(system=system, record_id=record_id).first()
    if object_type in PEOPLE:
        ids = ContactExternalId.objects.filter(source=system, value=record_id)
        return Contact.objects.filter(pk__in=ids.values("contact_id")).first()
    link = RecordLink.objects.filter(
        system=system, object_type=object_type, record_id=record_id
    ).first()
    if link is None:
        return None
    if object_type == ObjectType.COMPANY:
        return Company.objects.filter(pk=link.company_id).first()
    return Opportunity.objects.filter(pk=link.opportunity_id).first()


def _shown(row: models.Model, model_field: models.Field) -> Any:
    if model_field.is_relation:
        related = getattr(row, model_field.name)
        return str(related) if related is not None else None
    value = model_field.value_from_object(row)
    # Values as a person reads them: a phone number as "+1415…", not its object.
    return value if value is None or isinstance(value, _PLAIN) else str(value)


def _name(record: CrmRecord) -> str:
    props = record.properties
    for keys in (("firstname", "lastname"), ("FirstName", "LastName")):
        name = " ".join(str(props[k]) for k in keys if props.get(k))
        if name:
            return name
    for key in ("name", "dealname", "Name", "email", "Email"):
        if props.get(key):
            return str(props[key])
    return ""
