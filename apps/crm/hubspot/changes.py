"""Reading HubSpot's changes page by page, resumable at every page.

A cursor (a JSON-able dict the engine stores with each page) says where the next page
starts. An object type goes through three phases:

- `list` (a full sync only): the list endpoint in id order with HubSpot's `after`
  token. Before it starts, the newest modification time in the portal is noted, so
  records changed while the list runs are read again by the search phase.
- `search`: records modified after the position (`modified`, `after_id`), oldest
  first. Each page is a fresh search (no `after` offset): HubSpot's search stops at
  10,000 results, and an offset also shifts when a record changes between two pages
  and would skip one. HubSpot sorts by one property only, so records sharing one
  modification time are read by id in a separate search (`after_id` is the last id read
  at `modified`; None once all of them were read). A page that ends inside a group of
  equal times hands over only the times before it; the group comes next, by id.
- `archived`: the archived records (HubSpot's list with archived=true, which keeps them
  90 days), handed over when archived after `archived_since`. This list cannot be
  filtered by time, so every run reads it through; it stays small.

HubSpot's search index trails its writes by seconds. At the end of a run the position
is held `settle_seconds` behind the adapter's clock, so the next run reads the last
moments again instead of missing a record indexed late; the engine's re-read of a
window changes nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from hubspot.crm.objects.models import PublicObjectSearchRequest

from apps.crm.adapters import DEAL, OWNER, CrmRecord, Page

from .owners import owner_page
from .records import (
    ASSOCIATED,
    CUE_OBJECT,
    HUBSPOT_OBJECT,
    MODIFIED_PROPERTY,
    STAGE_PROPERTY,
    associations_by_id,
    associations_paged,
    epoch_ms,
    hubspot_datetime,
    object_record,
)

LIST_MAX_LIMIT = 100
LIST_WITH_HISTORY_MAX_LIMIT = 50
SEARCH_MAX_LIMIT = 200
# hs_object_id is a positive number: every id is greater than this.
BEFORE_EVERY_ID = "0"


@dataclass(frozen=True)
class HubSpotApis:
    """The client's API objects, built once (each builds its own connection pool)."""

    objects: Any
    objects_batch: Any
    search: Any
    owners: Any
    associations: Any
    pipelines: Any
    properties: Any


class ChangeReader:
    """Answers CrmAdapter.changes() for HubSpot; see the module docstring."""

    def __init__(
        self,
        apis: HubSpotApis,
        call: Callable[..., Any],
        properties: Callable[[str], list[str]],
        stage_pipelines: Callable[[], dict[str, str]],
        clock: Callable[[], float],
        settle_seconds: float,
    ):
        self.apis = apis
        self.call = call
        self.properties = properties
        self.stage_pipelines = stage_pipelines
        self.clock = clock
        self.settle_seconds = settle_seconds

    def page(self, object_type: str, cursor: dict | None, page_size: int) -> Page:
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, got {page_size}")
        if object_type == OWNER:
            return owner_page(self.call, self.apis.owners, cursor or {}, page_size)
        if object_type not in HUBSPOT_OBJECT:
            raise ValueError(f"HubSpot has no {object_type!r} records for Cue")
        if cursor is None:
            cursor = self._full_sync_start(object_type)
        phase = cursor["phase"]
        if phase == "list":
            return self._list_page(object_type, cursor, page_size)
        if phase == "search":
            return self._search_page(object_type, cursor, page_size)
        if phase == "archived":
            return self._archived_page(object_type, cursor, page_size)
        raise ValueError(f"not a HubSpot cursor: {cursor!r}")

    # Full sync

    def _full_sync_start(self, object_type: str) -> dict:
        newest = self._search(
            object_type,
            filters=[],
            sort=(MODIFIED_PROPERTY[object_type], "DESCENDING"),
            limit=1,
            properties=[MODIFIED_PROPERTY[object_type]],
        )
        modified = self._modified_ms(object_type, newest[0]) if newest else 0
        return {
            "phase": "list",
            "list_after": "",
            # Records changed while the list runs are newer than this; the search phase
            # reads them again (and the settle margin covers one sharing its millisecond).
            "modified": modified,
            "after_id": None,
            "archived_after": "",
            "archived_since": 0,  # a full sync hands over every archived record
            "archived_pass_started": 0,
        }

    def _list_page(self, object_type: str, cursor: dict, page_size: int) -> Page:
        # A deal's stage history comes with it; HubSpot then lists fewer at a time.
        histories = [STAGE_PROPERTY] if object_type == DEAL else None
        limit = LIST_WITH_HISTORY_MAX_LIMIT if histories else LIST_MAX_LIMIT
        body = self.call(
            f"list {HUBSPOT_OBJECT[object_type]}",
            self.apis.objects.get_page,
            HUBSPOT_OBJECT[object_type],
            limit=min(page_size, limit),
            after=cursor["list_after"] or None,
            properties=self.properties(object_type),
            properties_with_history=histories,
            associations=list(ASSOCIATED[object_type]) or None,
            archived=False,
        )
        stages = self.stage_pipelines() if object_type == DEAL else None
        records = [object_record(object_type, item, None, stages) for item in body["results"]]
        records = self._associations_complete(object_type, body["results"], records)
        following = next_after(body)
        if following:
            return Page(records, {**cursor, "list_after": following}, done=False)
        return Page(records, {**cursor, "phase": "search", "list_after": ""}, done=False)

    # Incremental

    def _search_page(self, object_type: str, cursor: dict, page_size: int) -> Page:
        limit = min(page_size, SEARCH_MAX_LIMIT)
        if cursor["after_id"] is not None:
            tied = self._tied(object_type, cursor["modified"], cursor["after_id"], limit)
            if tied:
                last_id = tied[-1]["id"] if len(tied) == limit else None
                position = {"modified": cursor["modified"], "after_id": last_id}
                return Page(self._records(object_type, tied), {**cursor, **position}, False)
            cursor = {**cursor, "after_id": None}
        found = self._search(
            object_type,
            filters=[_filter(MODIFIED_PROPERTY[object_type], "GT", cursor["modified"])],
            sort=(MODIFIED_PROPERTY[object_type], "ASCENDING"),
            limit=limit,
            properties=self.properties(object_type),
        )
        if len(found) < limit:
            return self._search_end(object_type, cursor, found)
        newest = self._modified_ms(object_type, found[-1])
        complete = [item for item in found if self._modified_ms(object_type, item) < newest]
        if not complete:
            # A whole page shares one time: read that time's records by id instead.
            return self._search_page(
                object_type, {**cursor, "modified": newest, "after_id": BEFORE_EVERY_ID}, page_size
            )
        position = {"modified": self._modified_ms(object_type, complete[-1]), "after_id": None}
        return Page(self._records(object_type, complete), {**cursor, **position}, done=False)

    def _search_end(self, object_type: str, cursor: dict, found: list[dict]) -> Page:
        """The search reached the present: settle the position, then the archives."""
        settled = epoch_ms_now(self.clock) - round(self.settle_seconds * 1000)
        newest = max((self._modified_ms(object_type, item) for item in found), default=None)
        modified = cursor["modified"] if newest is None else min(newest, settled)
        next_cursor = {
            **cursor,
            "phase": "archived",
            "modified": modified,
            "after_id": None,
            "archived_after": "",
            "archived_pass_started": settled,
        }
        return Page(self._records(object_type, found), next_cursor, done=False)

    def _tied(self, object_type: str, modified: int, after_id: str, limit: int) -> list[dict]:
        return self._search(
            object_type,
            filters=[
                _filter(MODIFIED_PROPERTY[object_type], "EQ", modified),
                _filter("hs_object_id", "GT", after_id),
            ],
            sort=("hs_object_id", "ASCENDING"),
            limit=limit,
            properties=self.properties(object_type),
        )

    def _search(self, object_type, *, filters, sort, limit, properties) -> list[dict]:
        request = PublicObjectSearchRequest(
            filter_groups=[{"filters": filters}] if filters else [],
            sorts=[{"propertyName": sort[0], "direction": sort[1]}],
            limit=limit,
            properties=properties,
        )
        body = self.call(
            f"search {HUBSPOT_OBJECT[object_type]}",
            self.apis.search.do_search,
            HUBSPOT_OBJECT[object_type],
            request,
        )
        return body["results"]

    def _records(self, object_type: str, found: list[dict]) -> list[CrmRecord]:
        """Search results carry no associations; read them in one batch per type. Records
        sharing a time come in no promised order; Cue hands them over in id order."""
        found = sorted(
            found, key=lambda item: (self._modified_ms(object_type, item), int(item["id"]))
        )
        ids = [str(item["id"]) for item in found]
        linked = {
            to_type: self._associated(object_type, to_type, ids)
            for to_type in ASSOCIATED[object_type]
        }
        stages = self.stage_pipelines() if object_type == DEAL else None
        if object_type == DEAL:
            histories = self._stage_histories(ids)
            found = [
                {**item, "propertiesWithHistory": histories.get(str(item["id"]))} for item in found
            ]
        records = []
        for item in found:
            associations = {
                CUE_OBJECT[to_type]: by_id.get(str(item["id"]), [])
                for to_type, by_id in linked.items()
                if by_id.get(str(item["id"]))
            }
            records.append(object_record(object_type, item, associations, stages))
        return records

    def _stage_histories(self, ids: list[str]) -> dict[str, dict]:
        """The search answers no property history: the deals' dealstage histories are read
        by id, a batch at a time."""
        histories = {}
        # A batch read asking for property history takes 50 ids, not the usual 100.
        for start in range(0, len(ids), LIST_WITH_HISTORY_MAX_LIMIT):
            chunk = ids[start : start + LIST_WITH_HISTORY_MAX_LIMIT]
            request = {
                "inputs": [{"id": record_id} for record_id in chunk],
                "properties": [],
                "propertiesWithHistory": [STAGE_PROPERTY],
            }
            body = self.call(
                "read deal stage histories", self.apis.objects_batch.read, "deals", request
            )
            for item in body.get("results") or []:
                histories[str(item["id"])] = item.get("propertiesWithHistory") or {}
        return histories

    def _associations_complete(
        self, object_type: str, found: list[dict], records: list[CrmRecord]
    ) -> list[CrmRecord]:
        """A list read carries one page of each record's associations; a record with more
        has them all read through the v4 associations API."""
        paged = {str(item["id"]): associations_paged(item) for item in found}
        for to_type in {t for types in paged.values() for t in types}:
            ids = [record_id for record_id, types in paged.items() if to_type in types]
            linked = self._associated(object_type, to_type, ids)
            records = [
                replace(r, associations={**r.associations, CUE_OBJECT[to_type]: linked[r.id]})
                if r.id in linked
                else r
                for r in records
            ]
        return records

    def _associated(self, object_type: str, to_type: str, ids: list[str]) -> dict[str, list[str]]:
        """Every association of these records to `to_type`, following each record's `after`
        until HubSpot has handed over the last page of its associations."""
        results: list[dict] = []
        # A plain dict body: the client's model objects each copy its configuration, which
        # for 200 inputs a page costs more than the request.
        inputs = [{"id": record_id} for record_id in ids]
        while inputs:
            body = self.call(
                f"read {HUBSPOT_OBJECT[object_type]} to {to_type} associations",
                self.apis.associations.get_page,
                HUBSPOT_OBJECT[object_type],
                to_type,
                {"inputs": inputs},
            )
            page = body.get("results") or []
            results.extend(page)
            inputs = [
                {"id": str(result["from"]["id"]), "after": following}
                for result in page
                if (following := next_after(result))
            ]
        return associations_by_id(results, CUE_OBJECT[to_type])

    # Archives

    def _archived_page(self, object_type: str, cursor: dict, page_size: int) -> Page:
        body = self.call(
            f"list archived {HUBSPOT_OBJECT[object_type]}",
            self.apis.objects.get_page,
            HUBSPOT_OBJECT[object_type],
            limit=min(page_size, LIST_MAX_LIMIT),
            after=cursor["archived_after"] or None,
            properties=self.properties(object_type),
            archived=True,
        )
        since = cursor["archived_since"]
        # At or after: an archive in the very millisecond a pass started is read twice
        # rather than never.
        fresh = [item for item in body["results"] if _archived_ms(item) >= since]
        records = [object_record(object_type, item, {}, None) for item in fresh]
        following = next_after(body)
        if following:
            return Page(records, {**cursor, "archived_after": following}, done=False)
        next_cursor = {
            **cursor,
            "phase": "search",
            "archived_after": "",
            "archived_since": cursor["archived_pass_started"],
        }
        return Page(records, next_cursor, done=True)

    def _modified_ms(self, object_type: str, item: dict) -> int:
        properties = item.get("properties") or {}
        moment = hubspot_datetime(properties.get(MODIFIED_PROPERTY[object_type]))
        moment = moment or hubspot_datetime(item.get("updatedAt"))
        if moment is None:
            raise ValueError(f"HubSpot {object_type} {item.get('id')} has no modification time")
        return epoch_ms(moment)


def _filter(name: str, operator: str, value: Any) -> dict:
    return {"propertyName": name, "operator": operator, "value": str(value)}


def next_after(body: dict) -> str | None:
    return ((body.get("paging") or {}).get("next") or {}).get("after") or None


def _archived_ms(item: dict) -> int:
    moment = hubspot_datetime(item.get("archivedAt")) or hubspot_datetime(item.get("updatedAt"))
    return epoch_ms(moment) if moment else 0


def epoch_ms_now(clock: Callable[[], float]) -> int:
    return round(clock() * 1000)
