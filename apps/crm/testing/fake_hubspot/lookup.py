"""What the fake HubSpot's endpoints share: object type names, association type ids,
lookups and HubSpot's answers for what is not there."""

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .http import Reply, error_reply
from .schema import stored_value
from .store import ObjectStore, hubspot_time, object_type_name, time_value_ms

if TYPE_CHECKING:
    from .fake import FakeHubSpot

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


def store_of(fake: "FakeHubSpot", raw_type: str) -> ObjectStore | None:
    name = object_type_name(raw_type)
    return fake._stores[name] if name else None


def unknown_type(raw_type: str) -> Reply:
    return error_reply(400, f"Unable to infer object type from: {raw_type}", "VALIDATION_ERROR")


def not_found(store: ObjectStore, record_id: str) -> Reply:
    return error_reply(404, f"resource not found: {store.name} {record_id}", "OBJECT_NOT_FOUND")


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
