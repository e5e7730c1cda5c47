"""Reading HubSpot's owners: few, with no modification filter, so every run reads them all
(the active ones, then the archived ones)."""

from collections.abc import Callable
from typing import Any

from apps.crm.adapters import Page

from .records import owner_record

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
    records = [owner_record(item) for item in body["results"]]
    following = ((body.get("paging") or {}).get("next") or {}).get("after") or None
    if following:
        return Page(records, {"archived": archived, "after": following}, done=False)
    if not archived:
        return Page(records, {"archived": True, "after": ""}, done=False)
    return Page(records, {"archived": False, "after": ""}, done=True)
