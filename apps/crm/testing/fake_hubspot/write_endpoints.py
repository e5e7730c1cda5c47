"""The fake HubSpot's write endpoints: create, batch create and update, validated as
HubSpot validates them."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .fake import FakeHubSpot

from .http import ApiRequest, Reply, error_reply
from .lookup import ASSOCIATION_TYPE_IDS, SINGULAR, not_found, store_of, unknown_type
from .schema import property_problems, validation_message
from .store import ObjectStore, StoredRecord, hubspot_time

BATCH_MAX_INPUTS = 100


def object_create(fake: "FakeHubSpot", request: ApiRequest, type: str) -> Reply:
    store = store_of(fake, type)
    if store is None:
        return unknown_type(type)
    refusal = _input_refusal(fake, store, request.body, creating=True)
    if refusal is not None:
        return refusal
    record = _record_create(fake, store, request.body)
    return Reply(201, store.json(record, list(record.properties)))


def object_batch_create(fake: "FakeHubSpot", request: ApiRequest, type: str) -> Reply:
    store = store_of(fake, type)
    if store is None:
        return unknown_type(type)
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
    store = store_of(fake, type)
    if store is None:
        return unknown_type(type)
    record = store.live(int(id)) if id.isdigit() else None
    if record is None:
        return not_found(store, id)
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
