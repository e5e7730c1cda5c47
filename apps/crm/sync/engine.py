"""CRM → Cue: one sync run, object type by object type, page by page.

Each stored page's rows and the cursor after it are committed together, so a crash
loses nothing and re-reads at most one stored page, and re-reading a page changes nothing
(every applier writes only what differs). The CRM's pages are stored a few at a time
(up to the CRM_SYNC_STORE_RECORDS setting, 2,000 records by default): HubSpot hands over
100 a page, and every stored page costs the same twenty-odd statements however few
records it holds. One run per CRM at a time: a
lease on the Connection row, taken by a conditional UPDATE and renewed with each page,
so a run killed mid-page lets the next one start once the lease lapses.
"""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.crm import adapters
from apps.crm.adapters import CrmAdapter, CrmAuthError, CrmError, Page
from apps.crm.models import Connection, SyncCursor, SyncRun
from apps.crm.sync.companies import companies_apply
from apps.crm.sync.context import SyncContext
from apps.crm.sync.deals import deals_apply
from apps.crm.sync.owners import owners_apply
from apps.crm.sync.people import people_apply
from apps.crm.sync.tally import Tally
from apps.crm.sync.tasks import tasks_apply

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
APPLIERS: dict[str, Callable[[SyncContext, str, list], Tally]] = {
    adapters.OWNER: owners_apply,
    adapters.COMPANY: companies_apply,
    adapters.LEAD: people_apply,
    adapters.CONTACT: people_apply,
    adapters.DEAL: deals_apply,
    adapters.TASK: tasks_apply,
}
Progress = Callable[[str, dict], None]


class SyncBusy(CrmError):
    """Another sync of this CRM holds the lease."""


def sync_in(
    *,
    adapter: CrmAdapter,
    full: bool = False,
    page_size: int | None = None,
    progress: Progress | None = None,
) -> SyncRun:
    """Reads what changed in the CRM since each object type's cursor (everything, when
    `full`) and writes it into Cue, in pages of `page_size` (default: the most the CRM
    hands over at once; each page costs the same few statements, so fewer pages are
    faster). Returns the run; a CRM that stays unavailable or keeps
    asking Cue to wait ends it as "stopped", its cursors where the last page left them."""
    system = adapter.system
    if not _lease_take(system):
        raise SyncBusy(f"A {system} sync is already running.")
    # Holding the lease, any run of this CRM still marked running died without saying so.
    SyncRun.objects.filter(system=system, status=SyncRun.Status.RUNNING).update(
        status=SyncRun.Status.STOPPED, error="The sync process stopped before it finished."
    )
    run = SyncRun.objects.create(system=system, full=full)
    page_size = page_size or adapter.page_size
    try:
        for object_type in adapter.object_types:
            if object_type in APPLIERS:
                _object_type_sync(adapter, run, object_type, full, page_size, progress)
        run.status = SyncRun.Status.SUCCEEDED
    except CrmAuthError as error:
        run.status, run.error = SyncRun.Status.FAILED, str(error)
    except CrmError as error:
        run.status, run.error = SyncRun.Status.STOPPED, str(error)
    finally:
        run.finished_at = timezone.now()
        if run.status == SyncRun.Status.RUNNING:  # an unexpected error: it propagates
            run.status, run.error = SyncRun.Status.FAILED, "Stopped by an unexpected error."
        run.save(update_fields=["status", "error", "finished_at", "counts"])
        _lease_release(system, succeeded=run.status == SyncRun.Status.SUCCEEDED)
    return run


def _object_type_sync(adapter, run, object_type, full, page_size, progress) -> None:
    stored = SyncCursor.objects.filter(system=adapter.system, object_type=object_type)
    cursor = None if full else stored.values_list("cursor", flat=True).first()
    context = SyncContext(adapter.system)
    # The CRM's pages are gathered up to this many records (never splitting one).
    gathered = _Gathered(settings.CRM_SYNC_STORE_RECORDS)

    def store() -> None:
        if gathered.pages:
            _page_store(context, run, object_type, gathered.take())
            if progress:
                progress(object_type, run.counts.get(object_type, {}))

    while True:
        try:
            page = adapter.changes(object_type, cursor, page_size=page_size)
        except CrmError:
            store()  # what was read before the CRM failed is kept, its cursor with it
            raise
        if not gathered.fits(page):
            store()
        gathered.add(page)
        cursor = page.cursor
        if page.done or gathered.full():
            store()
        if page.done:
            return


class _Gathered:
    """The CRM's pages read and not stored yet, stored as one page: their records in
    order, the last one's cursor. A record read twice (changed while the sync runs)
    starts a new one, so each stored page holds a record once, as the CRM's pages do."""

    def __init__(self, most: int) -> None:
        self.most = most
        self.pages: list[Page] = []
        self.records: list = []
        self.ids: set[str] = set()

    def fits(self, page: Page) -> bool:
        return not any(record.id in self.ids for record in page.records) and (
            len(self.records) + len(page.records) <= self.most
        )

    def full(self) -> bool:
        return len(self.records) >= self.most

    def add(self, page: Page) -> None:
        self.pages.append(page)
        self.records += page.records
        self.ids.update(record.id for record in page.records)

    def take(self) -> Page:
        last = self.pages[-1]
        page = Page(self.records, last.cursor, last.done)
        self.pages, self.records, self.ids = [], [], set()
        return page


def _page_store(context: SyncContext, run: SyncRun, object_type: str, page: Page) -> None:
    """The page's rows and its cursor, in one transaction. A unique key raced in by another
    writer rolls the page back; it is applied once more, seeing that writer's rows."""
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                tally = APPLIERS[object_type](context, object_type, page.records)
                SyncCursor.objects.update_or_create(
                    system=run.system, object_type=object_type, defaults={"cursor": page.cursor}
                )
                run.counts[object_type] = tally.into(dict(run.counts.get(object_type, {})))
                run.save(update_fields=["counts"])
                _lease_renew(run.system)
            return
        except IntegrityError:
            context.forget()
            if attempt == 2:
                raise


def _lease_take(system: str) -> bool:
    Connection.objects.get_or_create(system=system)
    now = timezone.now()
    free = Q(sync_lease_until__isnull=True) | Q(sync_lease_until__lt=now)
    return bool(Connection.objects.filter(free, system=system).update(sync_lease_until=now + LEASE))


def _lease_renew(system: str) -> None:
    Connection.objects.filter(system=system).update(sync_lease_until=timezone.now() + LEASE)


def _lease_release(system: str, *, succeeded: bool) -> None:
    changes = {"sync_lease_until": None}
    if succeeded:
        changes["last_sync_in_at"] = timezone.now()
    Connection.objects.filter(system=system).update(**changes)
