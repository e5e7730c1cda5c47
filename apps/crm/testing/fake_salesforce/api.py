"""The REST endpoints of the fake Salesforce, as pure functions of a request.

Shapes follow Salesforce's documentation: errors are a JSON list of
{"message", "errorCode", "fields"}, a query answers {"totalSize", "done", "records",
"nextRecordsUrl"}, composite/sobjects answers one {"id", "success", "errors"} per record.
"""

import re
import urllib.parse
import uuid
from dataclasses import dataclass, field
from typing import Any

from .soql import SoqlError, query_parse
from .store import Store
from .validation import WriteError

DATA_PATH = re.compile(r"^/services/data/v(?P<version>\d+\.\d)/(?P<rest>.*)$")
LOCATOR_PATH = re.compile(
    r"^(?P<kind>query|queryAll)/(?P<locator>01g[0-9A-Za-z]+)-(?P<offset>\d+)$"
)
SOBJECT_PATH = re.compile(r"^sobjects/(?P<type>\w+)/?(?P<id>\w+)?/?$")
DESCRIBE_PATH = re.compile(r"^sobjects/(?P<type>\w+)/describe/?$")
UPSERT_PATH = re.compile(r"^sobjects/(?P<type>\w+)/(?P<field>\w+__c)/(?P<value>[^/]+)$")
COMPOSITE_UPSERT_PATH = re.compile(r"^composite/sobjects/(?P<type>\w+)/(?P<field>\w+__c)/?$")
COMPOSITE_LIMIT = 200
# The objects Cue may write through the API; the rest are read-only to it.
WRITABLE = {"Task", "Lead", "Contact", "Account", "Opportunity"}


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def error_reply(status: int, code: str, message: str, fields: tuple[str, ...] = ()) -> Reply:
    return Reply(status, [{"message": message, "errorCode": code, "fields": list(fields)}])


def not_found() -> Reply:
    return error_reply(404, "NOT_FOUND", "The requested resource does not exist")


@dataclass
class QueryCursors:
    """Results of queries still being paged, by locator, as Salesforce keeps them."""

    batch_size: int = 2000
    results: dict[str, list[dict]] = field(default_factory=dict)

    def page(self, rows: list[dict], version: str, kind: str, locator: str, offset: int) -> dict:
        end = offset + self.batch_size
        done = end >= len(rows)
        answer = {"totalSize": len(rows), "done": done, "records": rows[offset:end]}
        if done:
            self.results.pop(locator, None)
        else:
            answer["nextRecordsUrl"] = f"/services/data/v{version}/{kind}/{locator}-{end}"
        return answer


class RestApi:
    """Routes one authenticated data-API request to the store."""

    def __init__(self, store: Store, cursors: QueryCursors, user_id: str):
        self.store = store
        self.cursors = cursors
        self.user_id = user_id

    def answer(self, method: str, path: str, query: dict[str, str], body: Any) -> Reply:
        match = DATA_PATH.match(path)
        if match is None:
            return not_found()
        version, rest = match["version"], match["rest"]
        if method == "GET" and rest.rstrip("/") in ("query", "queryAll"):
            return self._query(version, rest.rstrip("/"), query.get("q", ""))
        if method == "GET" and (found := LOCATOR_PATH.match(rest)):
            return self._query_more(version, found["kind"], found["locator"], int(found["offset"]))
        if method == "GET" and (found := DESCRIBE_PATH.match(rest)):
            return self._describe(found["type"])
        if method == "POST" and rest.rstrip("/") == "composite/sobjects":
            return self._composite_create(body)
        if method == "PATCH" and (found := COMPOSITE_UPSERT_PATH.match(rest)):
            return self._composite_upsert(found["type"], found["field"], body)
        if method == "PATCH" and (found := UPSERT_PATH.match(rest)):
            value = urllib.parse.unquote(found["value"])
            return self._upsert(found["type"], found["field"], value, body)
        if found := SOBJECT_PATH.match(rest):
            return self._sobject(method, version, found["type"], found["id"], body)
        return not_found()

    # Queries

    def _query(self, version: str, kind: str, soql: str) -> Reply:
        try:
            parsed = query_parse(soql, self.store.schema)
        except SoqlError as error:
            return error_reply(400, error.code, error.message)
        rows = self.store.query(parsed, include_deleted=kind == "queryAll")
        rows = [_with_attributes(parsed.object_name, row, version) for row in rows]
        locator = "01g" + uuid.uuid4().hex[:15]
        self.cursors.results[locator] = rows
        return Reply(200, self.cursors.page(rows, version, kind, locator, 0))

    def _query_more(self, version: str, kind: str, locator: str, offset: int) -> Reply:
        rows = self.cursors.results.get(locator)
        if rows is None:
            return error_reply(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return Reply(200, self.cursors.page(rows, version, kind, locator, offset))

    def _describe(self, object_name: str) -> Reply:
        spec = self.store.schema.get(object_name)
        if spec is None:
            return error_reply(404, "NOT_FOUND", "The requested resource does not exist")
        return Reply(200, spec.describe())

    # Records

    def _sobject(
        self, method: str, version: str, object_name: str, record_id: str | None, body: Any
    ) -> Reply:
        if object_name not in self.store.schema:
            return error_reply(404, "NOT_FOUND", "The requested resource does not exist")
        if method == "GET" and record_id:
            record = self.store.find(object_name, record_id)
            return (
                Reply(200, _with_attributes(object_name, record, version))
                if record
                else not_found()
            )
        if object_name not in WRITABLE:
            return error_reply(
                400,
                "INVALID_TYPE_FOR_OPERATION",
                f"entity type {object_name} does not support this",
            )
        if method == "POST" and record_id is None:
            return self._create(object_name, body)
        if method == "PATCH" and record_id:
            return self._update(object_name, record_id, body)
        return error_reply(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed.")

    def _create(self, object_name: str, body: Any) -> Reply:
        if not isinstance(body, dict):
            return error_reply(400, "JSON_PARSER_ERROR", "Expected a JSON object")
        values = {name: value for name, value in body.items() if name != "attributes"}
        errors = self.store.write_errors(object_name, values)
        if errors:
            return Reply(400, [error.rest_body() for error in errors])
        record = self.store.insert(object_name, values, by=self.user_id)
        return Reply(201, {"id": record["Id"], "success": True, "errors": []})

    def _update(self, object_name: str, record_id: str, body: Any) -> Reply:
        if not isinstance(body, dict):
            return error_reply(400, "JSON_PARSER_ERROR", "Expected a JSON object")
        if self.store.find(object_name, record_id) is None:
            if record_id in self.store.records[object_name]:
                return error_reply(404, "ENTITY_IS_DELETED", "entity is deleted")
            return not_found()
        values = {name: value for name, value in body.items() if name != "attributes"}
        errors = self.store.write_errors(object_name, values, record_id=record_id)
        if errors:
            return Reply(400, [error.rest_body() for error in errors])
        self.store.update(object_name, record_id, values)
        return Reply(204)

    def _composite_create(self, body: Any) -> Reply:
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list) or not records:
            return error_reply(400, "JSON_PARSER_ERROR", "records is required")
        if len(records) > COMPOSITE_LIMIT:
            message = "record limit reached. cannot submit more than 200 records into this call"
            return error_reply(400, "EXCEEDED_ID_LIMIT", message)
        checked = [self._composite_check(record) for record in records]
        if body.get("allOrNone") and any(errors for _, _, errors in checked):
            return Reply(200, [_rolled_back(errors) for _, _, errors in checked])
        results = []
        for object_name, values, errors in checked:
            if errors:
                results.append(_failure(errors))
                continue
            record = self.store.insert(object_name, values, by=self.user_id)
            results.append({"id": record["Id"], "success": True, "errors": []})
        return Reply(200, results)

    # Upserts by external id: the same request twice leaves one record.

    def _key_field_refusal(self, object_name: str, field: str) -> Reply | None:
        spec = self.store.schema.get(object_name)
        key = spec.fields.get(field) if spec else None
        if object_name not in WRITABLE or key is None or not key.external_id:
            message = f"Provided external ID field does not exist or is not accessible: {field}"
            return error_reply(404, "NOT_FOUND", message)
        return None

    def _upsert(self, object_name: str, field: str, value: str, body: Any) -> Reply:
        if refusal := self._key_field_refusal(object_name, field):
            return refusal
        if not isinstance(body, dict):
            return error_reply(400, "JSON_PARSER_ERROR", "Expected a JSON object")
        values = {name: item for name, item in body.items() if name not in ("attributes", field)}
        answer, errors = self._upsert_one(object_name, field, value, values)
        if errors:
            return Reply(400, [error.rest_body() for error in errors])
        return Reply(201 if answer["created"] else 200, answer)

    def _composite_upsert(self, object_name: str, field: str, body: Any) -> Reply:
        if refusal := self._key_field_refusal(object_name, field):
            return refusal
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list) or not records:
            return error_reply(400, "JSON_PARSER_ERROR", "records is required")
        if len(records) > COMPOSITE_LIMIT:
            message = "record limit reached. cannot submit more than 200 records into this call"
            return error_reply(400, "EXCEEDED_ID_LIMIT", message)
        results = []
        for record in records:
            values = {name: item for name, item in record.items() if name != "attributes"}
            value = values.pop(field, None)
            if not value:
                missing = WriteError("REQUIRED_FIELD_MISSING", f"missing {field}", (field,))
                results.append(_failure([missing]))
                continue
            answer, errors = self._upsert_one(object_name, field, value, values)
            results.append(_failure(errors) if errors else answer)
        return Reply(200, results)

    def _upsert_one(
        self, object_name: str, field: str, value: str, values: dict
    ) -> tuple[dict, list[WriteError]]:
        matches = [
            record
            for record in self.store.records[object_name].values()
            if record.get(field) == value and not record["IsDeleted"]
        ]
        if matches:
            record_id = matches[0]["Id"]
            errors = self.store.write_errors(object_name, values, record_id=record_id)
            if not errors:
                self.store.update(object_name, record_id, values)
            return {"id": record_id, "success": True, "errors": [], "created": False}, errors
        values = values | {field: value}
        errors = self.store.write_errors(object_name, values)
        if errors:
            return {}, errors
        record = self.store.insert(object_name, values, by=self.user_id)
        return {"id": record["Id"], "success": True, "errors": [], "created": True}, []

    def _composite_check(self, record: Any) -> tuple[str, dict, list[WriteError]]:
        object_name = (
            (record.get("attributes") or {}).get("type") if isinstance(record, dict) else None
        )
        if object_name not in WRITABLE:
            return (
                "",
                {},
                [WriteError("INVALID_TYPE", f"sObject type '{object_name}' is not supported")],
            )
        values = {name: value for name, value in record.items() if name != "attributes"}
        return object_name, values, self.store.write_errors(object_name, values)


def _failure(errors: list[WriteError]) -> dict:
    return {"success": False, "errors": [error.composite_body() for error in errors]}


def _rolled_back(errors: list[WriteError]) -> dict:
    if errors:
        return _failure(errors)
    rolled = WriteError(
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "Record rolled back because not all records were valid and the request was using "
        "AllOrNone header",
    )
    return _failure([rolled])


def _with_attributes(object_name: str, row: dict, version: str) -> dict:
    url = f"/services/data/v{version}/sobjects/{object_name}/{row.get('Id', '')}"
    return {"attributes": {"type": object_name, "url": url}, **row}
