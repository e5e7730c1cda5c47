"""Reading HubSpot's owners: the active ones, then the archived ones. The owners endpoint
cannot be filtered by time, so every run pages through them (a team has hundreds at
most), but only the owners changed since the last complete pass are handed over: the
sync writes nothing for the rest. The first read (no cursor) hands over all of them.
"""

from collections.abc import Callable
from typing import Any

from apps.crm.adapters import Page

from .records import epoch_ms, hubspot_datetime, owner_record

OWNERS_MAX_LIMIT = 500


def owner_page(call: Callable[..., Any], owners_api: Any, cursor: dict, page_size: int) -> Page:
    archived = bool(cursor.get("archived", False))
    body = call(
        "list owners",
        owners_api.get_page,
        limit=min(page_size, OWNERS_MAX_LIMIT),
        after=cursor.get("after") or None,
        archived=archived,
    )
    since = int(cursor.get("since") or 0)
    times = {item["id"]: _updated_ms(item) for item in body["results"]}
    newest = max([int(cursor.get("newest") or since), *filter(None, times.values())])
    # At or after: an owner changed in the very millisecond a pass ended is read twice
    # rather than never. An owner without a time is always handed over.
    records = [
        owner_record(item)
        for item in body["results"]
        if times[item["id"]] is None or times[item["id"]] >= since
    ]
    following = ((body.get("paging") or {}).get("next") or {}).get("after") or None
    position = {"since": since, "newest": newest}
    if following:
        return Page(records, {**position, "archived": archived, "after": following}, done=False)
    if not archived:
        return Page(records, {**position, "archived": True, "after": ""}, done=False)
    return Page(records, {"archived": False, "after": "", "since": newest, "newest": newest}, True)


def _updated_ms(item: dict) -> int | None:
    moment = hubspot_datetime(item.get("updatedAt"))
    return epoch_ms(moment) if moment else None
