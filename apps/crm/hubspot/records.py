"""HubSpot's JSON objects as Cue's CrmRecords."""

from collections.abc import Mapping
from datetime import UTC, datetime

from apps.crm.adapters import COMPANY, CONTACT, DEAL, OWNER, TASK, CrmRecord, StageEntry

# Cue's object types as HubSpot names them in URLs.
HUBSPOT_OBJECT = {COMPANY: "companies", CONTACT: "contacts", DEAL: "deals", TASK: "tasks"}
CUE_OBJECT = {name: cue for cue, name in HUBSPOT_OBJECT.items()}
# Contacts kept the property names of HubSpot's first API; every other object has hs_ ones.
MODIFIED_PROPERTY = {
    COMPANY: "hs_lastmodifieddate",
    CONTACT: "lastmodifieddate",
    DEAL: "hs_lastmodifieddate",
    TASK: "hs_lastmodifieddate",
}
# Which associations Cue reads with each object (HubSpot names).
ASSOCIATED = {
    COMPANY: (),
    CONTACT: ("companies",),
    DEAL: ("contacts", "companies"),
    TASK: ("contacts",),
}
# What Cue reads of each object unless the engine asks for more.
LIFECYCLE_STAGES = (
    "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity",
    "customer", "evangelist", "other",
)  # fmt: skip
BASE_PROPERTIES = {
    COMPANY: ("name", "domain", "hubspot_owner_id"),
    CONTACT: (
        "email",
        "firstname",
        "lastname",
        "phone",
        "mobilephone",
        "hubspot_owner_id",
        "lifecyclestage",
        "hs_email_optout",
        # When the contact entered each lifecycle stage: the stage change's own time.
        *(f"hs_lifecyclestage_{stage}_date" for stage in LIFECYCLE_STAGES),
    ),
    DEAL: ("dealname", "amount", "closedate", "pipeline", "dealstage", "hubspot_owner_id"),
    TASK: (
        "hs_task_subject",
        "hs_task_status",
        "hs_task_priority",
        "hs_timestamp",
        "hs_task_completion_date",
        "hubspot_owner_id",
    ),
}
STAGE_ENTERED_PREFIX = "hs_date_entered_"
# The deal property whose history Cue reads: every stage move with HubSpot's time.
STAGE_PROPERTY = "dealstage"


def hubspot_datetime(value: str | None) -> datetime | None:
    """HubSpot's datetimes: ISO 8601 with a Z (or epoch milliseconds in older fields)."""
    if not value:
        return None
    text = str(value).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def epoch_ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def object_record(
    object_type: str,
    body: Mapping,
    associations: dict[str, list[str]] | None = None,
    stage_pipelines: Mapping[str, str] | None = None,
) -> CrmRecord:
    """A live or archived object (list, search or read) as a CrmRecord."""
    properties = dict(body.get("properties") or {})
    archived = bool(body.get("archived"))
    modified = (hubspot_datetime(body.get("archivedAt")) if archived else None) or record_modified(
        object_type, body
    )
    return CrmRecord(
        object_type=object_type,
        id=str(body["id"]),
        modified_at=modified,
        properties=properties,
        archived=archived,
        associations=associations if associations is not None else _inline_associations(body),
        stage_history=_stage_history(body, stage_pipelines or {}),
    )


def record_modified(object_type: str, body: Mapping) -> datetime:
    properties = body.get("properties") or {}
    moment = hubspot_datetime(properties.get(MODIFIED_PROPERTY[object_type])) or hubspot_datetime(
        body.get("updatedAt")
    )
    if moment is None:
        raise ValueError(f"HubSpot {object_type} {body.get('id')} has no modification time")
    return moment


def owner_record(body: Mapping) -> CrmRecord:
    """An owner: the email maps it to a Cue user."""
    return CrmRecord(
        object_type=OWNER,
        id=str(body["id"]),
        modified_at=hubspot_datetime(body.get("updatedAt")) or datetime.fromtimestamp(0, tz=UTC),
        properties={
            "email": body.get("email") or "",
            "firstName": body.get("firstName") or "",
            "lastName": body.get("lastName") or "",
            "userId": body.get("userId"),
        },
        archived=bool(body.get("archived")),
    )


def _inline_associations(body: Mapping) -> dict[str, list[str]]:
    """The `associations` a list read carries, keyed by Cue's object type."""
    found: dict[str, list[str]] = {}
    for hubspot_type, group in (body.get("associations") or {}).items():
        cue_type = CUE_OBJECT.get(hubspot_type)
        if cue_type is None:
            continue
        ids = {str(item["id"]) for item in (group or {}).get("results") or []}
        found[cue_type] = sorted(ids, key=_id_order)
    return found


def _stage_history(body: Mapping, stage_pipelines: Mapping[str, str]) -> tuple[StageEntry, ...]:
    """Deal stages, oldest first: every move from dealstage's property history when it was
    read (a stage entered twice is there twice), else the hs_date_entered_<stage> times
    (the last entry into each stage only)."""
    versions = (body.get("propertiesWithHistory") or {}).get(STAGE_PROPERTY)
    if versions:
        return _stage_moves(versions, stage_pipelines)
    entries = []
    for name, value in (body.get("properties") or {}).items():
        if not name.startswith(STAGE_ENTERED_PREFIX):
            continue
        stage = name[len(STAGE_ENTERED_PREFIX) :]
        entered = hubspot_datetime(value)
        if entered is None or stage not in stage_pipelines:
            continue
        entries.append(StageEntry(pipeline=stage_pipelines[stage], stage=stage, entered_at=entered))
    return tuple(sorted(entries, key=lambda entry: (entry.entered_at, entry.stage)))


def _stage_moves(versions: list[Mapping], stage_pipelines: Mapping[str, str]) -> tuple:
    entries = []
    for version in versions:
        stage, entered = str(version.get("value") or ""), hubspot_datetime(version.get("timestamp"))
        if entered is not None and stage in stage_pipelines:
            entries.append(StageEntry(stage_pipelines[stage], stage, entered))
    entries.sort(key=lambda entry: entry.entered_at)
    # A value written again unchanged is a version, not a move.
    return tuple(e for i, e in enumerate(entries) if i == 0 or entries[i - 1].stage != e.stage)


def _id_order(record_id: str) -> tuple[int, str]:
    return (int(record_id), record_id) if record_id.isdigit() else (0, record_id)


def associations_by_id(results: list[Mapping], cue_type: str) -> dict[str, list[str]]:
    """v4 association batch reads (every page of them), as {from id: [to ids]}."""
    linked: dict[str, set[str]] = {}
    for result in results:
        ids = linked.setdefault(str(result["from"]["id"]), set())
        ids.update(str(item["toObjectId"]) for item in result.get("to") or [])
    return {from_id: sorted(ids, key=_id_order) for from_id, ids in linked.items()}


def associations_paged(body: Mapping) -> set[str]:
    """The HubSpot object types whose inline associations on this record go on past the
    first page (a read answers one page of each)."""
    return {
        hubspot_type
        for hubspot_type, group in (body.get("associations") or {}).items()
        if ((group or {}).get("paging") or {}).get("next")
    }
