"""Which Cue field each CRM field no mapping names yet most plainly fills: a built-in field,
a role (owner, lifecycle stage) or a custom attribute whose name or label is the CRM
field's own (compared without case, spaces, punctuation, HubSpot's "hs_" or Salesforce's
"__c"), and only where the CRM field's type fits (`mapping.mapping_problem`). A Cue field
another mapping already fills, a CRM field that fits two Cue fields, and SMS consent (a
person maps it, with its evidence, on purpose) are never suggested."""

import re
from dataclasses import dataclass

from apps.contacts.attributes import attribute_definitions
from apps.crm import mapping
from apps.crm.adapters import FieldInfo
from apps.crm.models import FieldMapping, ObjectType

# Other names the CRMs give Cue's built-in fields and roles, as _plain writes them.
_ALSO_CALLED = {
    "first_name": {"firstname", "givenname"},
    "last_name": {"lastname", "surname", "familyname"},
    "email": {"email", "emailaddress"},
    "phone": {"phone", "phonenumber", "mobilephone", "mobilephonenumber"},
    "time_zone": {"timezone"},
    "region": {"state", "stateregion", "stateprovince", "province"},
    "country": {"country", "countryregion"},
    "domain": {"domain", "website", "companydomainname"},
    "employee_count": {"numberofemployees", "employees", "employeecount"},
    "name": {"name", "companyname", "accountname", "dealname", "opportunityname"},
    mapping.OWNER: {"owner", "ownerid", "hubspotownerid", "contactowner"},
    mapping.LIFECYCLE: {"lifecyclestage", "lifecycle", "leadstatus"},
}
# CRM names that mean a Cue attribute's usual name.
_CRM_ALIASES = {"title": "jobtitle"}
# Names that say more on one object type: a Salesforce Lead's "Status" is its lead status
# (Salesforce labels it so, but an org may relabel it; the name stays).
_CRM_ALIASES_OF_TYPE = {ObjectType.LEAD: {"status": "leadstatus"}}


@dataclass(frozen=True)
class FieldSuggestion:
    object_type: str
    crm_field: str
    crm_label: str
    crm_type: str
    cue_field: str
    why: str


def field_suggestions(system: str, object_type: str, fields: list[FieldInfo]) -> list:
    """A suggestion for each CRM field of `object_type` no mapping names, where one Cue
    field plainly fits it, in the CRM's order."""
    mapped = FieldMapping.objects.filter(system=system, object_type=object_type)
    crm_mapped = set(mapped.values_list("crm_field", flat=True))
    cue_filled = set(mapped.exclude(direction="out").values_list("cue_field", flat=True))
    candidates = [c for c in _candidates(object_type) if c[0] not in cue_filled]
    suggestions = []
    for info in fields:
        if info.name in crm_mapped:
            continue
        fitting = _fitting(object_type, info, candidates)
        if len(fitting) == 1:
            cue_field, why = fitting[0]
            suggestions.append(
                FieldSuggestion(object_type, info.name, info.label, info.type, cue_field, why)
            )
    return _one_each(suggestions)


def _one_each(suggestions: list[FieldSuggestion]) -> list[FieldSuggestion]:
    """A Cue field two CRM fields would fill (phone, mobile phone) is suggested for the
    one of its own name only, or for neither."""
    by_cue: dict[str, list[FieldSuggestion]] = {}
    for suggestion in suggestions:
        by_cue.setdefault(suggestion.cue_field, []).append(suggestion)
    kept = []
    for suggestion in suggestions:
        rivals = by_cue[suggestion.cue_field]
        own_name = _plain(suggestion.cue_field.removeprefix(mapping.ATTRIBUTE_PREFIX))
        if len(rivals) == 1 or (
            _plain(suggestion.crm_field) == own_name
            and sum(_plain(r.crm_field) == own_name for r in rivals) == 1
        ):
            kept.append(suggestion)
    return kept


def _candidates(object_type: str) -> list[tuple[str, set[str], str]]:
    """(Cue field, the plain names it goes by, what it is) for each field a mapping of
    this object type may fill, consent roles left out."""
    candidates = []
    for name in (*mapping.BUILT_IN.get(object_type, {}), *mapping.ROLES.get(object_type, ())):
        if name in mapping.CONSENT_ROLES:
            continue
        names = {_plain(name), *_ALSO_CALLED.get(name, ())}
        candidates.append((name, names, f"Cue's {name.replace('_', ' ')}"))
    kind = mapping.ATTRIBUTE_OBJECT.get(object_type)
    for key, definition in attribute_definitions(object_type=kind).items():
        names = {_plain(key), _plain(definition.label)}
        what = f"the {definition.type} attribute {definition.label!r}"
        candidates.append((f"{mapping.ATTRIBUTE_PREFIX}{key}", names, what))
    return candidates


def _fitting(object_type: str, info: FieldInfo, candidates) -> list[tuple[str, str]]:
    crm_names = {_plain(info.name), _plain(info.label)}
    crm_names |= {_CRM_ALIASES[n] for n in crm_names if n in _CRM_ALIASES}
    of_type = _CRM_ALIASES_OF_TYPE.get(object_type, {})
    crm_names |= {of_type[n] for n in (_plain(info.name),) if n in of_type}
    crm_names.discard("")
    fitting = []
    for cue_field, names, what in candidates:
        if not crm_names & names:
            continue
        if mapping.mapping_problem(object_type, cue_field, info.type) is None:
            fitting.append((cue_field, f"same name as {what}; a {info.type} fits it"))
    return fitting


def _plain(text: str) -> str:
    """ "Job Title", "jobtitle", "hs_job_title" and "Job_Title__c" are one name."""
    text = text.lower()
    text = re.sub(r"^hs_", "", text)
    text = re.sub(r"__c$", "", text)
    return re.sub(r"[^a-z0-9]", "", text)
