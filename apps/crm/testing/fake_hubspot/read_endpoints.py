"""The fake HubSpot's read endpoints: list, read, search, owners, pipelines, properties
and v4 association batch reads."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .fake import FakeHubSpot

from .http import ApiRequest, Reply, error_reply
from .lookup import SINGULAR, not_found, store_of, unknown_type
from .search import SearchRefused, search_run
from .store import (
    hubspot_time,
    object_type_name,
    paging_token,
    paging_token_id,
    property_history,
)

LIST_MAX_LIMIT = 100
# A list read that asks for property history hands over at most this many records, and a
# batch read asking for it takes at most this many ids.
LIST_WITH_HISTORY_MAX_LIMIT = 50
BATCH_READ_MAX_INPUTS = 100
OWNERS_MAX_LIMIT = 500


def _limit(request: ApiRequest, default: int, maximum: int) -> int | Reply:
    raw = request.param("limit", str(default))
    try:
        limit = int(raw)
    except ValueError:
        return error_reply(400, f"limit must be an integer, got {raw!r}", "VALIDATION_ERROR")
    if not 1 <= limit <= maximum:
        return error_reply(400, f"limit must be between 1 and {maximum}", "VALIDATION_ERROR")
    return limit


def _after_id(request: ApiRequest) -> int | Reply:
    token = request.param("after")
    if not token:
        return 0
    record_id = paging_token_id(token)
    if record_id is None:
        return error_reply(400, f"Invalid paging token: {token}", "VALIDATION_ERROR")
    return record_id


def object_list(fake: "FakeHubSpot", request: ApiRequest, type: str) -> Reply:
    store = store_of(fake, type)
    if store is None:
        return unknown_type(type)
    histories = request.list_param("propertiesWithHistory") or []
    limit = _limit(request, 10, LIST_WITH_HISTORY_MAX_LIMIT if histories else LIST_MAX_LIMIT)
    start_id = _after_id(request)
    if isinstance(limit, Reply):
        return limit
    if isinstance(start_id, Reply):
        return start_id
    archived = request.param("archived", "false").lower() == "true"
    records, following = store.page_by_id(archived, start_id, limit)
    properties = request.list_param("properties")
    wanted = request.list_param("associations") or []
    results = [
        _with_history(
            record,
            _with_associations(fake, store, record, store.json(record, properties), wanted),
            histories,
        )
        for record in records
    ]
    body: dict = {"results": results}
    if following is not None:
        token = paging_token(following)
        body["paging"] = {"next": {"after": token, "link": f"{request.path}?after={token}"}}
    return Reply(200, body)


def _with_associations(fake, store, record, body, wanted: list[str]) -> dict:
    """A read's inline associations, the first page of each type only (as HubSpot): more
    are named by a paging link, to read through the v4 associations API."""
    groups = {}
    for raw_type in wanted:
        to_type = object_type_name(raw_type)
        linked = fake._linked(store.name, to_type, record.id) if to_type else {}
        if linked:
            label = f"{SINGULAR[store.name]}_to_{SINGULAR[to_type]}"
            ids, following = _associations_page(fake, linked, 0)
            groups[raw_type] = {"results": [{"id": str(to_id), "type": label} for to_id in ids]}
            if following is not None:
                groups[raw_type]["paging"] = {"next": {"after": paging_token(following)}}
    if groups:
        body["associations"] = groups
    return body


def _with_history(record, body: dict, names: list[str]) -> dict:
    if names:
        body["propertiesWithHistory"] = {name: property_history(record, name) for name in names}
    return body


def object_batch_read(fake: "FakeHubSpot", request: ApiRequest, type: str) -> Reply:
    """Records by id, with the properties and property histories asked for."""
    store = store_of(fake, type)
    if store is None:
        return unknown_type(type)
    body = request.body if isinstance(request.body, dict) else {}
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not 1 <= len(inputs) <= BATCH_READ_MAX_INPUTS:
        return error_reply(
            400, f"inputs: 1 to {BATCH_READ_MAX_INPUTS} are required", "VALIDATION_ERROR"
        )
    if body.get("propertiesWithHistory") and len(inputs) > LIST_WITH_HISTORY_MAX_LIMIT:
        return error_reply(
            400,
            "The maximum number of inputs supported in a batch request for property "
            f"histories is {LIST_WITH_HISTORY_MAX_LIMIT}. Please reduce the number of items "
            "and try again",
            "VALIDATION_ERROR",
        )
    archived = request.param("archived", "false").lower() == "true"
    results = []
    for item in inputs:
        raw_id = str((item or {}).get("id", ""))
        record = store.records.get(int(raw_id)) if raw_id.isdigit() else None
        if record is None or (record.archived_ms is not None) != archived:
            continue  # HubSpot leaves out what it does not find
        found = store.json(record, body.get("properties") or None)
        results.append(_with_history(record, found, body.get("propertiesWithHistory") or []))
    now = hubspot_time(fake.now_ms())
    return Reply(
        200, {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
    )


def object_read(fake: "FakeHubSpot", request: ApiRequest, type: str, id: str) -> Reply:
    store = store_of(fake, type)
    if store is None:
        return unknown_type(type)
    record = store.records.get(int(id)) if id.isdigit() else None
    archived = request.param("archived", "false").lower() == "true"
    if record is None or (record.archived_ms is not None) != archived:
        return not_found(store, id)
    body = store.json(record, request.list_param("properties"))
    return Reply(
        200, _with_associations(fake, store, record, body, request.list_param("associations") or [])
    )


def object_search(fake: "FakeHubSpot", request: ApiRequest, type: str) -> Reply:
    store = store_of(fake, type)
    if store is None:
        return unknown_type(type)
    if not isinstance(request.body, dict):
        return error_reply(400, "A search request body is required", "VALIDATION_ERROR")
    try:
        page = search_run(store, request.body)
    except SearchRefused as refusal:
        return error_reply(400, str(refusal), "VALIDATION_ERROR")
    properties = request.body.get("properties") or None
    body: dict = {"total": page.total, "results": [store.json(r, properties) for r in page.records]}
    if page.next_after is not None:
        body["paging"] = {"next": {"after": str(page.next_after)}}
    return Reply(200, body)


def owner_list(fake: "FakeHubSpot", request: ApiRequest) -> Reply:
    limit = _limit(request, 100, OWNERS_MAX_LIMIT)
    start_id = _after_id(request)
    if isinstance(limit, Reply):
        return limit
    if isinstance(start_id, Reply):
        return start_id
    archived = request.param("archived", "false").lower() == "true"
    email = (request.param("email") or "").lower()
    owners = [
        owner
        for owner in sorted(fake._owners.values(), key=lambda owner: int(owner["id"]))
        if int(owner["id"]) >= start_id
        and owner["archived"] == archived
        and (not email or owner["email"].lower() == email)
    ]
    body: dict = {"results": [dict(owner) for owner in owners[:limit]]}
    if len(owners) > limit:
        token = paging_token(int(owners[limit]["id"]))
        body["paging"] = {"next": {"after": token, "link": f"{request.path}?after={token}"}}
    return Reply(200, body)


def pipeline_list(fake: "FakeHubSpot", request: ApiRequest, type: str) -> Reply:
    if object_type_name(type) != "deals":
        return Reply(200, {"results": []})
    return Reply(200, {"results": [dict(pipeline) for pipeline in fake._pipelines.values()]})


def property_list(fake: "FakeHubSpot", request: ApiRequest, type: str) -> Reply:
    name = object_type_name(type)
    if name is None:
        return unknown_type(type)
    definitions = fake._definitions[name].values()
    return Reply(200, {"results": [definition.json(name) for definition in definitions]})


def association_batch_read(fake: "FakeHubSpot", request: ApiRequest, **types: str) -> Reply:
    from_type, to_type = object_type_name(types["from"]), object_type_name(types["to"])
    if from_type is None or to_type is None:
        return unknown_type(f"{types['from']}/{types['to']}")
    inputs = (request.body or {}).get("inputs") if isinstance(request.body, dict) else None
    if not isinstance(inputs, list) or len(inputs) > 1000:
        return error_reply(400, "inputs: 1 to 1000 ids are required", "VALIDATION_ERROR")
    results, errors = [], []
    for item in inputs:
        raw_id = str((item or {}).get("id", ""))
        linked = fake._linked(from_type, to_type, int(raw_id)) if raw_id.isdigit() else {}
        start = paging_token_id(item["after"]) if (item or {}).get("after") else 0
        if start is None:
            return error_reply(400, f"Invalid paging token: {item['after']}", "VALIDATION_ERROR")
        if not linked:
            errors.append(_no_associations(from_type, to_type, raw_id))
            continue
        ids, following = _associations_page(fake, linked, start)
        result = {
            "from": {"id": raw_id},
            "to": [
                {
                    "toObjectId": to_id,
                    "associationTypes": [
                        {"category": "HUBSPOT_DEFINED", "typeId": linked[to_id], "label": None}
                    ],
                }
                for to_id in ids
            ],
        }
        if following is not None:
            result["paging"] = {"next": {"after": paging_token(following)}}
        results.append(result)
    now = hubspot_time(fake.now_ms())
    body = {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
    if errors:
        body |= {"numErrors": len(errors), "errors": errors}
    return Reply(207 if errors else 200, body)


def _associations_page(fake, linked: dict[int, int], start: int) -> tuple[list[int], int | None]:
    """The linked ids from `start` on, one page of them, and the id the next page starts at."""
    ids = [to_id for to_id in sorted(linked) if to_id >= start]
    size = fake.associations_page_size
    return ids[:size], (ids[size] if len(ids) > size else None)


def _no_associations(from_type: str, to_type: str, raw_id: str) -> dict:
    return {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
        "message": f"No {SINGULAR[to_type]} is associated with {SINGULAR[from_type]} {raw_id}.",
        "context": {"fromObjectId": [raw_id]},
    }
