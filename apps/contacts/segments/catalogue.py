"""What the visual segment builder offers: every condition a rule may hold, with the
operators its type takes and the values it may have, read from the same tables and specs
the validator checks against (FIELDS, attribute definitions, stages, pipelines), so the
builder never offers a rule the compiler would refuse.

Condition kinds registered by higher apps (consent) describe themselves here through
`segment_catalogue_register`, as they register their compiler in the registry.
"""

from collections.abc import Callable

from apps.contacts.models import (
    AttributeDefinition,
    AttributeObject,
    BuyingRole,
    ContactKind,
    IntentBand,
    LifecycleMeaning,
    Pipeline,
    Segment,
    StageMeaning,
)
from apps.contacts.segments.attributes import OPS as ATTRIBUTE_OPS
from apps.contacts.segments.attributes import RULE_KEYS
from apps.contacts.segments.fields import FIELDS
from apps.contacts.selectors import known_event_types
from apps.contacts.stages import lifecycle_choices

OP_LABELS = {
    "eq": "is",
    "in": "is any of",
    "not_in": "is none of",
    "is_empty": "is empty",
    "is_not_empty": "is not empty",
    "is_set": "is set",
    "is_not_set": "is not set",
    "at_or_after": "is at or after",
    "before": "is before",
    "after": "is after",
    "gte": "is at least",
    "lte": "is at most",
    "gt": "is more than",
    "lt": "is less than",
    "within_days": "is within the last (days)",
    "older_than_days": "is more than (days) ago",
    "within_last_days": "is within the last (days)",
    "contains": "contains",
    "starts_with": "starts with",
}

FIELD_LABELS = {
    "lifecycle_stage": ("Contact", "Lifecycle stage"),
    "lifecycle_meaning": ("Contact", "Lifecycle stage meaning"),
    "kind": ("Contact", "Prospect or customer"),
    "buying_role": ("Contact", "Buying role"),
    "intent_band": ("Contact", "Intent band"),
    "intent_score": ("Contact", "Intent score"),
    "owner": ("Contact", "Owner (user id)"),
    "region": ("Contact", "Region"),
    "country": ("Contact", "Country"),
    "source": ("Contact", "Source"),
    "created_at": ("Contact", "Created"),
    "company": ("Company", "Company (id)"),
    "company.industry": ("Company", "Industry"),
    "company.region": ("Company", "Region"),
    "company.country": ("Company", "Country"),
    "company.domain": ("Company", "Domain"),
    "company.employee_count": ("Company", "Employees"),
}

_FIELD_CHOICES = {
    "lifecycle_meaning": LifecycleMeaning.choices,
    "kind": ContactKind.choices,
    "buying_role": BuyingRole.choices,
    "intent_band": IntentBand.choices,
}
_ATTRIBUTE_GROUPS = {
    AttributeObject.CONTACT: "Custom attributes",
    AttributeObject.COMPANY: "Company attributes",
    AttributeObject.OPPORTUNITY: "Opportunity attributes",
}

CatalogueDescribe = Callable[[], dict]
_described: dict[str, CatalogueDescribe] = {}


def segment_catalogue_register(kind: str, describe: CatalogueDescribe) -> None:
    """A higher app's condition kind (e.g. consent) says what the builder may offer for it."""
    _described[kind] = describe


def segment_catalogue() -> dict:
    """Everything the builder offers, as JSON: fields, events, opportunities, segments and
    each registered kind's own description."""
    return {
        "fields": [*_fields(), *_attributes()],
        "events": _events(),
        "opportunity": _opportunity(),
        "segments": [{"id": s.pk, "name": s.name} for s in Segment.objects.only("name")],
        **{kind: describe() for kind, describe in _described.items()},
    }


def _options(pairs) -> list[dict]:
    return [{"value": value, "label": str(label)} for value, label in pairs]


def _ops(ops) -> list[dict]:
    return [{"value": op, "label": OP_LABELS[op]} for op in ops]


def _fields() -> list[dict]:
    entries = []
    for key, spec in FIELDS.items():
        group, label = FIELD_LABELS[key]
        entry = {"kind": "field", "key": key, "group": group, "label": label, "type": spec.type}
        entry["ops"] = _ops(spec.ops)
        if key == "lifecycle_stage":
            entry["choices"] = _options(lifecycle_choices())
        elif key in _FIELD_CHOICES:
            entry["choices"] = _options(_FIELD_CHOICES[key])
        entries.append(entry)
    return entries


def _attributes() -> list[dict]:
    entries = []
    for definition in AttributeDefinition.objects.order_by("object_type", "label"):
        entry = {
            "kind": RULE_KEYS[definition.object_type],
            "key": definition.key,
            "group": _ATTRIBUTE_GROUPS[definition.object_type],
            "label": definition.label,
            "type": definition.type,
            "ops": _ops(ATTRIBUTE_OPS[definition.type]),
        }
        if definition.type == "choice":
            entry["choices"] = _options((option, option) for option in definition.options)
        entries.append(entry)
    return entries


def _events() -> list[dict]:
    return _options(known_event_types())


def _opportunity() -> dict:
    pipelines = Pipeline.objects.prefetch_related("stages")
    return {
        "pipelines": [
            {
                "key": pipeline.key,
                "label": pipeline.label,
                "stages": _options((stage.key, stage.label) for stage in pipeline.stages.all()),
            }
            for pipeline in pipelines
        ],
        "meanings": _options(StageMeaning.choices),
    }
