"""The endpoints of HubSpot's API that Cue uses, answered from the fake's store.

Called by FakeHubSpot under its lock, after authentication and scripted faults.
"""

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .http import ApiRequest, Reply, error_reply
from .schema import property_problems, stored_value, validation_message
from .search import SearchRefused, search_run
from .store import (
    ObjectStore,
    StoredRecord,
    hubspot_time,
    object_type_name,
    paging_token,
    paging_token_id,
    time_value_ms,
)

if TYPE_CHECKING:
    from .fake import FakeHubSpot

LIST_MAX_LIMIT = 100
OWNERS_MAX_LIMIT = 500
BATCH_MAX_INPUTS = 100

OBJECTS = re.compile(r"^/crm/v3/objects/(?P<type>[^/]+)/?$")
OBJECT = re.compile(r"^/crm/v3/objects/(?P<type>[^/]+)/(?P<id>[^/]+)$")
SEARCH = re.compile(r"^/crm/v3/objects/(?P<type>[^/]+)/search$")
BATCH_CREATE = re.compile(r"^/crm/v3/objects/(?P<type>[^/]+)/batch/create$")
OWNERS = re.compile(r"^/crm/v3/owners/?$")
PIPELINES = re.compile(r"^/crm/v3/pipelines/(?P<type>[^/]+)/?$")
PROPERTIES = re.compile(r"^/crm/v3/properties/(?P<type>[^/]+)/?$")
ASSOCIATIONS_READ = re.compile(r"^/crm/v4/associations/(?P<from>[^/]+)/(?P<to>[^/]+)/batch/read$")

SINGULAR = {
    "contacts": "contact",
    "companies": "company",
    "deals": "deal",
    "tasks": "task",
    "communications": "communication",
}
# HubSpot's own association type ids (unlabeled, and "primary" where HubSpot has one).
ASSOCIATION_TYPE_IDS = {
    ("contacts", "companies"): (279, 1),
    ("companies", "contacts"): (280, 2),
    ("deals", "contacts"): (3,),
    ("contacts", "deals"): (4,),
    ("deals", "companies"): (341, 5),
    ("companies", "deals"): (342, 6),
    ("tasks", "contacts"): (204,),
    ("contacts", "tasks"): (203,),
    ("tasks", "companies"): (192,),
    ("companies", "tasks"): (191,),
    ("tasks", "deals"): (216,),
    ("deals", "tasks"): (215,),
    ("communications", "contacts"): (81,),
    ("contacts", "communications"): (82,),
    ("communications", "companies"): (87,),
    ("companies", "communications"): (88,),
    ("communications", "deals"): (85,),
    ("deals", "communications"): (86,),
}


def route(fake: "FakeHubSpot", request: ApiRequest) -> Reply:
    if request.body is ValueError:
        return error_reply(400, "Invalid input JSON on line 1", "VALIDATION_ERROR")
    method, path = request.method, request.path
    handlers = (
        ("POST", SEARCH, object_search),
        ("POST", BATCH_CREATE, object_batch_create),
        ("GET", OWNERS, owner_list),
        ("GET", PIPELINES, pipeline_list),
        ("GET", PROPERTIES, property_list),
        ("POST", ASSOCIATIONS_READ, association_batch_read),
        ("GET", OBJECTS, object_list),
        ("POST", OBJECTS, object_create),
        ("GET", OBJECT, object_read),
        ("PATCH", OBJECT, object_update),
    )
    for handler_method, pattern, handler in handlers:
        match = pattern.match(path)
        if match and method == handler_method:
            return handler(fake, request, **match.groupdict())
    return error_reply(404, f"No route for {method} {path}", "OBJECT_NOT_FOUND")


def _store(fake: "FakeHubSpot", raw_type: str) -> ObjectStore | None:
    name = object_type_name(raw_type)
    return fake._stores[name] if name else None


def _unknown_type(raw_type: str) -> Reply:
    return error_reply(400, f"Unable to infer object type from: {raw_type}", "VALIDATION_ERROR")


def _not_found(store: ObjectStore, record_id: str) -> Reply:
    return error_reply(404, f"resource not found: {store.name} {record_id}", "OBJECT_NOT_FOUND")


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


# Reads


def object_list(fake: "FakeHubSpot", request: ApiRequest, type: str) -> Reply:
    store = _store(fake, type)
    if store is None:
        return _unknown_type(type)
    limit = _limit(request, 10, LIST_MAX_LIMIT)
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
        _with_associations(fake, store, record, store.json(record, properties), wanted)
        for record in records
    ]
    body: dict = {"results": results}
    if following is not None:
        token = paging_token(following)
        body["paging"] = {"next": {"after": token, "link": f"{request.path}?after={token}"}}
    return Reply(200, body)


def _with_associations(fake, store, record, body, wanted: list[str]) -> dict:
    groups = {}
    for raw_type in wanted:
        to_type = object_type_name(raw_type)
        linked = fake._linked(store.name, to_type, record.id) if to_type else {}
        if linked:
            label = f"{SINGULAR[store.name]}_to_{SINGULAR[to_type]}"
            groups[raw_type] = {
                "results": [{"id": str(to_id), "type": label} for to_id in sorted(linked)]
            }
    if groups:
        body["associations"] = groups
    return body


def object_read(fake: "FakeHubSpot", request: ApiRequest, type: str, id: str) -> Reply:
    store = _store(fake, type)
    if store is None:
        return _unknown_type(type)
    record = store.records.get(int(id)) if id.isdigit() else None
    archived = request.param("archived", "false").lower() == "true"
    if record is None or (record.archived_ms is not None) != archived:
        return _not_found(store, id)
    body = store.json(record, request.list_param("properties"))
    return Reply(
        200, _with_associations(fake, store, record, body, request.list_param("associations") or [])
    )


def object_search(fake: "FakeHubSpot", request: ApiRequest, type: str) -> Reply:
    store = _store(fake, type)
    if store is None:
        return _unknown_type(type)
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
        return _unknown_type(type)
    definitions = fake._definitions[name].values()
    return Reply(200, {"results": [definition.json(name) for definition in definitions]})


def association_batch_read(fake: "FakeHubSpot", request: ApiRequest, **types: str) -> Reply:
    from_type, to_type = object_type_name(types["from"]), object_type_name(types["to"])
    if from_type is None or to_type is None:
        return _unknown_type(f"{types['from']}/{types['to']}")
    inputs = (request.body or {}).get("inputs") if isinstance(request.body, dict) else None
    if not isinstance(inputs, list) or len(inputs) > 1000:
        return error_reply(400, "inputs: 1 to 1000 ids are required", "VALIDATION_ERROR")
    results, errors = [], []
    for item in inputs:
        raw_id = str((item or {}).get("id", ""))
        linked = fake._linked(from_type, to_type, int(raw_id)) if raw_id.isdigit() else {}
        if not linked:
            errors.append(_no_associations(from_type, to_type, raw_id))
            continue
        results.append(
            {
                "from": {"id": raw_id},
                "to": [
                    {
                        "toObjectId": to_id,
                        "associationTypes": [
                            {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}
                        ],
                    }
                    for to_id, type_id in sorted(linked.items())
                ],
            }
        )
    now = hubspot_time(fake.now_ms())
    body = {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
    if errors:
        body |= {"numErrors": len(errors), "errors": errors}
    return Reply(207 if errors else 200, body)


def _no_associations(from_type: str, to_type: str, raw_id: str) -> dict:
    return {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
        "message": f"No {SINGULAR[to_type]} is associated with {SINGULAR[from_type]} {raw_id}.",
        "context": {"fromObjectId": [raw_id]},
    }


# Writes


def object_create(fake: "FakeHubSpot", request: ApiRequest, type: str) -> Reply:
    store = _store(fake, type)
    if store is None:
        return _unknown_type(type)
    refusal = _input_refusal(fake, store, request.body, creating=True)
    if refusal is not None:
        return refusal
    record = _record_create(fake, store, request.body)
    return Reply(201, store.json(record, list(record.properties)))


def object_batch_create(fake: "FakeHubSpot", request: ApiRequest, type: str) -> Reply:
    store = _store(fake, type)
    if store is None:
        return _unknown_type(type)
    inputs = request.body.get("inputs") if isinstance(request.body, dict) else None
    if not isinstance(inputs, list) or not 1 <= len(inputs) <= BATCH_MAX_INPUTS:
        return error_reply(400, f"inputs: 1 to {BATCH_MAX_INPUTS} are required", "VALIDATION_ERROR")
    # HubSpot validates the whole batch before it writes any of it.
    for item in inputs:
        refusal = _input_refusal(fake, store, item, creating=True)
        if refusal is not None:
            return refusal
    started = hubspot_time(fake.now_ms())
    records = [_record_create(fake, store, item) for item in inputs]
    # HubSpot does not promise the inputs' order; objectWriteTraceId says which is which.
    results = [store.json(record, list(record.properties)) for record in reversed(records)]
    body = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": started,
        "completedAt": hubspot_time(fake.now_ms()),
    }
    return Reply(201, body)


def object_update(fake: "FakeHubSpot", request: ApiRequest, type: str, id: str) -> Reply:
    store = _store(fake, type)
    if store is None:
        return _unknown_type(type)
    record = store.live(int(id)) if id.isdigit() else None
    if record is None:
        return _not_found(store, id)
    if message := fake._refusals.get((store.name, record.id)):
        return error_reply(400, message, "VALIDATION_ERROR")
    refusal = _input_refusal(fake, store, request.body, creating=False)
    if refusal is not None:
        return refusal
    fake._properties_write(store, record, request.body.get("properties") or {})
    return Reply(200, store.json(record, list(record.properties)))


def _input_refusal(fake, store: ObjectStore, body, creating: bool) -> Reply | None:
    if not isinstance(body, dict) or not isinstance(body.get("properties", {}), dict):
        return error_reply(400, "properties must be an object", "VALIDATION_ERROR")
    properties = body.get("properties") or {}
    problems = property_problems(
        store.name, fake._definitions[store.name], properties, set(fake._owners), creating
    )
    if problems:
        return error_reply(400, validation_message(problems), "VALIDATION_ERROR")
    if creating:
        return _association_refusal(fake, store, body.get("associations") or [])
    return None


def _association_refusal(fake, store: ObjectStore, associations) -> Reply | None:
    for association in associations:
        try:
            to_id = int(association["to"]["id"])
            type_ids = [int(kind["associationTypeId"]) for kind in association["types"]]
        except (KeyError, TypeError, ValueError):
            return error_reply(400, f"Invalid association {association!r}", "VALIDATION_ERROR")
        target = _association_target(fake, store.name, type_ids)
        if target is None:
            return error_reply(
                400, f"Invalid association type ids {type_ids} for {store.name}", "VALIDATION_ERROR"
            )
        if fake._stores[target].live(to_id) is None:
            return error_reply(
                400,
                f"One or more associations are invalid: {SINGULAR[target]} {to_id} does not exist",
                "VALIDATION_ERROR",
            )
    return None


def _association_target(fake, from_type: str, type_ids: list[int]) -> str | None:
    for (known_from, to_type), known_ids in ASSOCIATION_TYPE_IDS.items():
        if known_from == from_type and all(type_id in known_ids for type_id in type_ids):
            return to_type
    return None


def _record_create(fake: "FakeHubSpot", store: ObjectStore, body: dict) -> StoredRecord:
    now = fake.now_ms()
    record = StoredRecord(
        id=store.new_id(),
        properties={},
        created_ms=now,
        modified_ms=now,
        write_trace_id=body.get("objectWriteTraceId"),
    )
    store.add(record)
    fake._properties_write(store, record, body.get("properties") or {}, bump=False)
    for association in body.get("associations") or []:
        type_ids = [int(kind["associationTypeId"]) for kind in association["types"]]
        to_type = _association_target(fake, store.name, type_ids)
        fake._associate(store.name, record.id, to_type, int(association["to"]["id"]))
    return record


def normalized_value(definition, value) -> str:
    """Datetimes are stored as HubSpot answers them (ISO with milliseconds)."""
    text = stored_value(value)
    if definition is not None and definition.type == "datetime" and text:
        ms = time_value_ms(text)
        return hubspot_time(ms) if ms is not None else text
    if definition is not None and definition.type == "date" and text:
        ms = time_value_ms(text)
        return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d") if ms else text
    return text
