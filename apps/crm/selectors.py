"""The crm app's reads: what the admin's connection page shows. Nothing here writes, and
nothing here shows a secret: a connection's configuration is named, never displayed."""

from dataclasses import dataclass
from datetime import UTC, datetime

from apps.crm.adapters import CrmError
from apps.crm.connections import adapter_for, connection_configured, connection_missing
from apps.crm.mapping import LIFECYCLE
from apps.crm.models import (
    Connection,
    CrmOwner,
    FieldMapping,
    ObjectType,
    RecordError,
    SyncCursor,
    SyncRun,
)
from apps.crm.sync.tally import KINDS

RECENT_RUNS = 10
OPEN_ERRORS_SHOWN = 200
# Epoch milliseconds between 2001 and 2286: HubSpot's times; smaller numbers are not times.
_EPOCH_MS = (10**12, 10**13)


@dataclass(frozen=True)
class CursorLine:
    object_type: str
    where: str  # the cursor in words
    saved_at: datetime | None


@dataclass(frozen=True)
class RunLine:
    run: SyncRun
    rows: list[tuple[str, list[int]]]  # (object type label, counts in KINDS order)


@dataclass(frozen=True)
class ConnectionPage:
    system: str
    label: str
    configured: bool
    missing: list[str]  # setting names, never values
    connection: Connection  # unsaved when no sync has run yet
    cursors: list[CursorLine]
    runs: list[RunLine]
    unmatched_owners: list[CrmOwner]
    open_errors: list[RecordError]
    open_error_count: int


def connection_page(system: str) -> ConnectionPage:
    connection = Connection.objects.filter(system=system).first() or Connection(system=system)
    errors = RecordError.objects.filter(system=system, resolved_at__isnull=True)
    return ConnectionPage(
        system=system,
        label=connection.get_system_display(),
        configured=connection_configured(system),
        missing=connection_missing(system),
        connection=connection,
        cursors=_cursors(system),
        runs=[_run_line(run) for run in SyncRun.objects.filter(system=system)[:RECENT_RUNS]],
        unmatched_owners=list(
            CrmOwner.objects.filter(system=system, user__isnull=True, archived=False).order_by(
                "email", "record_id"
            )
        ),
        open_errors=list(errors[:OPEN_ERRORS_SHOWN]),
        open_error_count=errors.count(),
    )


def _cursors(system: str) -> list[CursorLine]:
    saved = {c.object_type: c for c in SyncCursor.objects.filter(system=system)}
    lines = []
    for object_type, label in ObjectType.choices:
        cursor = saved.get(object_type)
        if cursor is not None:
            lines.append(CursorLine(label, cursor_describe(cursor.cursor), cursor.updated_at))
    return lines


def _run_line(run: SyncRun) -> RunLine:
    # In the sync's order of object types (PostgreSQL's jsonb keeps no order of its own).
    order = [t.value for t in ObjectType]
    labels = dict(ObjectType.choices)
    rows = [
        (labels.get(object_type, object_type), [counts.get(kind, 0) for kind in KINDS])
        for object_type, counts in sorted(
            run.counts.items(), key=lambda item: (_rank(order, item[0]), item[0])
        )
    ]
    return RunLine(run, rows)


def _rank(order: list[str], value: str) -> int:
    return order.index(value) if value in order else len(order)


def cursor_describe(cursor: dict | None) -> str:
    """An adapter's opaque cursor in words: its times as times, the rest as they are."""
    if not cursor:
        return "Not started: the next sync reads everything."
    # By key: PostgreSQL's jsonb keeps no order of its own.
    return "; ".join(
        f"{key.replace('_', ' ')}: {_value(value)}" for key, value in sorted(cursor.items())
    )


def _value(value) -> str:
    if isinstance(value, dict):  # rows remembered by id (Salesforce's late-commit window)
        return f"{len(value)} remembered"
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and _EPOCH_MS[0] <= value < _EPOCH_MS[1]
    ):
        return _time(datetime.fromtimestamp(value / 1000, tz=UTC))
    if isinstance(value, str) and _looks_like_a_time(value):
        try:
            return _time(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return value
    if value is None or value == "":
        return "—"
    return str(value)


def _looks_like_a_time(text: str) -> bool:
    # "2026-01-31T…", not a paging token of digits that ISO 8601 would also read as a date.
    return len(text) >= 10 and text[4] == "-" and text[7] == "-"


def _time(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class CrmRead:
    """What the CRM answered, or why it could not be asked (`value` is then None)."""

    value: list | None
    problem: str = ""


def crm_fields_read(system: str, object_type: str) -> CrmRead:
    """The CRM's fields of an object type, for a mapping's type check."""
    return _crm_read(system, lambda adapter: list(adapter.fields(object_type)))


def crm_pipelines_read(system: str) -> CrmRead:
    """The CRM's deal pipelines and their stages, for the stage mappings."""
    return _crm_read(system, lambda adapter: list(adapter.pipelines()))


def crm_lifecycle_values_read(system: str) -> CrmRead:
    """The values the CRM's fields mapped to Cue's lifecycle stage can hold, in the CRM's
    order (HubSpot's lifecyclestage options; a Salesforce picklist mapped by the team)."""
    mapped = FieldMapping.objects.filter(
        system=system, cue_field=LIFECYCLE, direction__in=("in", "both")
    ).values_list("object_type", "crm_field")
    wanted: dict[str, set[str]] = {}
    for object_type, crm_field in mapped:
        wanted.setdefault(object_type, set()).add(crm_field)
    if not wanted:
        return CrmRead([])

    def ask(adapter) -> list[str]:
        values = []
        for object_type, names in wanted.items():
            for info in adapter.fields(object_type):
                if info.name in names:
                    values.extend(info.options)
        return list(dict.fromkeys(values))

    return _crm_read(system, ask)


def _crm_read(system: str, ask) -> CrmRead:
    if not connection_configured(system):
        missing = ", ".join(connection_missing(system))
        return CrmRead(None, f"{_label(system)} is not connected (set {missing}).")
    try:
        return CrmRead(ask(adapter_for(system)))
    except CrmError as error:
        return CrmRead(None, f"{_label(system)} could not be read: {error}")


def _label(system: str) -> str:
    return Connection(system=system).get_system_display()
