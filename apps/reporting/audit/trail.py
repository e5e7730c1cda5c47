"""The consolidated audit trail: who did what, when, why, and what changed, across the
history tables of configuration, the consent ledger, template approvals, retention runs,
data-subject requests (exports and erasures) and API tokens rotated or revoked. Saves that
changed no tracked field are not changes and are left out; sign-ins have their own view
(apps.reporting.audit.signins).

Each source is read newest first through an indexed column, at most one page (plus one)
per source per page, and the sources are merged in Python; pages continue from a cursor
(time, source, id), never from an offset, so page 1000 costs what page 1 costs. Reads only.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.apps import apps
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.core.db_router import replica_reads
from apps.reporting.audit.entries import Entry, entries_build

PAGE_SIZE = 50


@dataclass(frozen=True)
class Source:
    """One table of the trail: which model, its time column and who/contact columns."""

    key: str  # app_label.model_name of the live model (or the record model)
    kind: str  # history | ledger | approval | retention | request | token
    label_field: str = ""
    contact_field: str = ""

    @property
    def model(self):
        live = apps.get_model(self.key)
        return live.history.model if self.kind == "history" else live

    @property
    def live_model(self):
        return apps.get_model(self.key)

    @property
    def verbose_name(self) -> str:
        return str(self.live_model._meta.verbose_name).capitalize()

    @property
    def time_field(self) -> str:
        times = {"history": "history_date", "ledger": "recorded_at", "approval": "at"}
        return {**times, "request": "at", "token": "at"}.get(self.kind, "ran_at")

    @property
    def pk_field(self) -> str:
        return "history_id" if self.kind == "history" else "id"

    @property
    def user_field(self) -> str:
        return {"history": "history_user", "ledger": "actor", "approval": "reviewer"}.get(
            self.kind, "actor"
        )


SOURCES: tuple[Source, ...] = (
    Source("library.messagetemplate", "history", "name"),
    Source("library.templateversion", "history", "number"),
    Source("library.templateapproval", "approval"),
    Source("journeys.journey", "history", "name"),
    Source("journeys.step", "history", "key"),
    Source("consent.consentrecord", "ledger", contact_field="contact_id"),
    Source("consent.suppression", "history", "address", contact_field="contact_id"),
    Source("consent.preference", "history", contact_field="contact_id"),
    Source("consent.optinform", "history", "name"),
    Source("routing.routingrule", "history", "name"),
    Source("routing.intentphrase", "history", "phrase"),
    Source("routing.webhookendpoint", "history", "name"),
    Source("sends.frequencycap", "history", "name"),
    Source("sends.keywordrule", "history", "keyword"),
    Source("contacts.eventweight", "history", "type"),
    Source("contacts.segment", "history", "name"),
    Source("reporting.attributionsettings", "history"),
    Source("reporting.fatiguesettings", "history"),
    Source("reporting.retentionrun", "retention", "target"),
    Source("contacts.datasubjectrequest", "request", "kind", contact_field="contact_id"),
    Source("accounts.user", "history", "username"),
    Source("accounts.team", "history", "name"),
    Source("accounts.workinghours", "history"),
    Source("accounts.retiredtoken", "token"),
)
SOURCE_INDEX = {source.key: index for index, source in enumerate(SOURCES)}


@dataclass(frozen=True)
class TrailFilters:
    model: str = ""
    user_id: int | None = None
    contact_id: int | None = None
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class Cursor:
    at: datetime
    source: int
    pk: int

    def encode(self) -> str:
        return f"{self.at.isoformat()}|{self.source}|{self.pk}"

    @classmethod
    def decode(cls, text: str) -> "Cursor | None":
        try:
            at, source, pk = text.split("|")
            moment = parse_datetime(at)
            return cls(moment, int(source), int(pk)) if moment else None
        except ValueError:
            return None


@dataclass(frozen=True)
class TrailPage:
    entries: list[Entry]
    next_cursor: str | None


@replica_reads()
def trail_page(*, filters: TrailFilters, cursor: Cursor | None = None, size: int = PAGE_SIZE):
    """The `size` newest entries after `cursor` that match the filters."""
    candidates = []
    for index, source in enumerate(SOURCES):
        if filters.model and source.key != filters.model:
            continue
        if filters.contact_id is not None and not source.contact_field:
            continue
        rows = _source_rows(source, index, filters, cursor, size + 1)
        candidates += [
            (getattr(row, source.time_field), index, row.pk, source, row) for row in rows
        ]
    candidates.sort(key=lambda item: item[:3], reverse=True)
    chosen = candidates[:size]
    # A save that changed no tracked field is no change: skipped, the cursor still passes it.
    built = entries_build([(source, row) for *_, source, row in chosen])
    entries = [entry for entry in built if entry.is_change]
    last = Cursor(*chosen[-1][:3]) if chosen else None
    more = len(candidates) > size and last is not None
    return TrailPage(entries=entries, next_cursor=last.encode() if more else None)


def trail_entries(*, filters: TrailFilters, limit: int):
    """Every matching entry, newest first, page by page, up to `limit` (for exports)."""
    cursor, yielded = None, 0
    while yielded < limit:
        page = trail_page(filters=filters, cursor=cursor, size=min(PAGE_SIZE * 4, limit - yielded))
        yield from page.entries
        yielded += len(page.entries)
        if page.next_cursor is None:
            return
        cursor = Cursor.decode(page.next_cursor)


def _source_rows(source: Source, index: int, filters: TrailFilters, cursor, limit: int) -> list:
    at, pk = source.time_field, source.pk_field
    rows = source.model.objects.select_related(source.user_field)
    if source.kind == "approval":
        rows = rows.select_related("version__template")
    if source.kind == "token":
        rows = rows.select_related("user")
    if source.kind == "ledger":
        rows = rows.select_related("form", "disclosure")
        order = ["-id"]  # ids grow with recorded_at; the id is what is indexed
    else:
        order = [f"-{at}", f"-{pk}"]
    if filters.user_id is not None:
        rows = rows.filter(**{f"{source.user_field}_id": filters.user_id})
    if filters.contact_id is not None:
        rows = rows.filter(**{source.contact_field: filters.contact_id})
    if filters.since:
        rows = rows.filter(**{f"{at}__gte": _midnight(filters.since)})
    if filters.until:
        rows = rows.filter(**{f"{at}__lt": _midnight(filters.until + timedelta(days=1))})
    if cursor is not None:
        rows = rows.filter(_after(cursor, index, at, pk))
    return list(rows.order_by(*order)[:limit])


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _after(cursor: Cursor, index: int, at: str, pk: str) -> Q:
    """Rows that come after the cursor in (time, source, id) descending order."""
    if index < cursor.source:
        return Q(**{f"{at}__lte": cursor.at})
    if index > cursor.source:
        return Q(**{f"{at}__lt": cursor.at})
    return Q(**{f"{at}__lt": cursor.at}) | Q(**{at: cursor.at, f"{pk}__lt": cursor.pk})


def trail_model_choices() -> list[tuple[str, str]]:
    return [(source.key, source.verbose_name) for source in SOURCES]
