"""HubSpotAdapter: Cue's CrmAdapter for HubSpot, through hubspot-api-client."""

import time
from collections.abc import Callable, Iterable, Mapping

from hubspot import HubSpot
from urllib3.util.retry import Retry

from apps.crm.adapters import (
    COMPANY,
    CONTACT,
    DEAL,
    OWNER,
    TASK,
    ActivityOut,
    CrmAuthError,
    CrmError,
    CrmRecordRefused,
    FieldInfo,
    Page,
    PipelineInfo,
    TaskOut,
    WriteResult,
)

from .calls import HubSpotCaller
from .changes import SEARCH_MAX_LIMIT, ChangeReader, HubSpotApis
from .records import BASE_PROPERTIES, HUBSPOT_OBJECT, MODIFIED_PROPERTY, STAGE_ENTERED_PREFIX
from .writes import HubSpotWriter

# HubSpot's search index trails its writes by seconds; see changes.py.
SEARCH_SETTLE_SECONDS = 30.0
OWNER_FIELDS = (
    FieldInfo("email", "Email", "text"),
    FieldInfo("firstName", "First name", "text"),
    FieldInfo("lastName", "Last name", "text"),
)


class HubSpotAdapter:
    """Reads owners, companies, contacts, deals and tasks from HubSpot and writes tasks,
    SMS activities and fields back; every call through HubSpotCaller.

    `properties` names, per Cue object type, the HubSpot properties the engine's field
    mappings read, on top of what Cue always reads. `sleep` and `clock` are injectable
    so tests never wait for real.
    """

    system = "hubspot"
    object_types = (OWNER, COMPANY, CONTACT, DEAL, TASK)
    # The search's limit; the list endpoint (a full sync's first phase) takes 100 of it.
    page_size = SEARCH_MAX_LIMIT

    def __init__(
        self,
        *,
        access_token: str,
        base_url: str,
        timeout: float,
        max_retry_wait: float,
        properties: Mapping[str, Iterable[str]] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        settle_seconds: float = SEARCH_SETTLE_SECONDS,
    ):
        if not access_token:
            raise CrmAuthError("HUBSPOT_ACCESS_TOKEN is not set")
        self._extra_properties = {key: tuple(names) for key, names in (properties or {}).items()}
        self._stage_pipelines: dict[str, str] | None = None
        self._caller = HubSpotCaller(timeout=timeout, max_retry_wait=max_retry_wait, sleep=sleep)
        self._apis = _apis(access_token, base_url)
        self._reader = ChangeReader(
            self._apis,
            self._read,
            self._properties,
            self._stages,
            clock,
            settle_seconds,
        )
        self._writer = HubSpotWriter(self._apis, self._caller.call)

    def changes(self, object_type: str, cursor: dict | None, *, page_size: int) -> Page:
        return self._reader.page(object_type, cursor, page_size)

    def pipelines(self) -> list[PipelineInfo]:
        body = self._read("read deal pipelines", self._apis.pipelines.get_all, "deals")
        pipelines = sorted(body["results"], key=lambda item: item.get("displayOrder", 0))
        return [
            PipelineInfo(
                id=str(item["id"]),
                label=item.get("label") or str(item["id"]),
                stages=[
                    (str(stage["id"]), stage.get("label") or str(stage["id"]))
                    for stage in sorted(
                        item.get("stages") or [], key=lambda s: s.get("displayOrder", 0)
                    )
                    if not stage.get("archived")
                ],
            )
            for item in pipelines
            if not item.get("archived")
        ]

    def fields(self, object_type: str) -> list[FieldInfo]:
        if object_type == OWNER:
            return list(OWNER_FIELDS)
        if object_type not in HUBSPOT_OBJECT:
            raise ValueError(f"HubSpot has no {object_type!r} records for Cue")
        name = HUBSPOT_OBJECT[object_type]
        body = self._read(f"read {name} properties", self._apis.properties.get_all, name)
        return [field_info(item) for item in body["results"] if not item.get("archived")]

    def task_save(self, task: TaskOut, record_id: str | None) -> str:
        return self._writer.task_save(task, record_id)

    def activities_log(self, activities: list[ActivityOut]) -> list[WriteResult]:
        return self._writer.activities_log(activities)

    def record_update(self, object_type: str, record_id: str, properties: dict) -> None:
        self._writer.record_update(object_type, record_id, properties)

    def _read(self, what: str, method, *args, **kwargs):
        """A refused read is a fault in Cue's request, not a record's: say so."""
        try:
            return self._caller.call(what, method, *args, **kwargs)
        except CrmRecordRefused as refusal:
            raise CrmError(f"HubSpot refused to {what}: {refusal}") from None

    def _properties(self, object_type: str) -> list[str]:
        names = [
            *BASE_PROPERTIES[object_type],
            MODIFIED_PROPERTY[object_type],
            *self._extra_properties.get(object_type, ()),
        ]
        if object_type == DEAL:
            names += [f"{STAGE_ENTERED_PREFIX}{stage}" for stage in self._stages()]
        return list(dict.fromkeys(names))

    def _stages(self) -> dict[str, str]:
        """Which pipeline each deal stage belongs to (read once per adapter)."""
        if self._stage_pipelines is None:
            self._stage_pipelines = {
                stage: pipeline.id for pipeline in self.pipelines() for stage, _ in pipeline.stages
            }
        return self._stage_pipelines


def field_info(item: Mapping) -> FieldInfo:
    """A HubSpot property as a FieldInfo, its type in Cue's words."""
    options = tuple(str(option["value"]) for option in item.get("options") or [])
    return FieldInfo(
        name=str(item["name"]),
        label=item.get("label") or str(item["name"]),
        type=cue_field_type(item.get("type", "string"), item.get("fieldType", "text")),
        options=options if item.get("type") == "enumeration" else (),
    )


def cue_field_type(hubspot_type: str, field_type: str) -> str:
    if hubspot_type == "enumeration":
        if field_type == "booleancheckbox":
            return "boolean"
        return "list" if field_type == "checkbox" else "choice"
    return {"bool": "boolean", "number": "number", "date": "date", "datetime": "datetime"}.get(
        hubspot_type, "text"
    )


def _apis(access_token: str, base_url: str) -> HubSpotApis:
    # Retries are HubSpotCaller's; urllib3's own would also sleep on Retry-After unasked.
    client = HubSpot(
        access_token=access_token,
        host=base_url.rstrip("/"),
        retry=Retry(total=0, respect_retry_after_header=False),
    )
    return HubSpotApis(
        objects=client.crm.objects.basic_api,
        objects_batch=client.crm.objects.batch_api,
        search=client.crm.objects.search_api,
        owners=client.crm.owners.owners_api,
        associations=client.crm.associations.v4.batch_api,
        pipelines=client.crm.pipelines.pipelines_api,
        properties=client.crm.properties.core_api,
    )
