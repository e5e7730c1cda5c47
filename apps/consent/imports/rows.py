"""The columns an import can fill, and one row's normalisation: every value is checked
before anything is written, and a bad one rejects the row with its reason."""

import ipaddress
import re
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils import dateparse, timezone

from apps.consent.models import Channel, ConsentRecord
from apps.consent.services import ConsentError
from apps.contacts.attributes import AttributesError, attribute_definitions, attributes_validate
from apps.contacts.errors import ContactsError
from apps.contacts.identity import (
    ContactKeys,
    InvalidPhone,
    contact_keys,
    email_normalize,
    phone_e164,
)
from apps.contacts.models import (
    AttributeDefinition,
    AttributeObject,
    BuyingRole,
    ContactKind,
    ExternalIdSource,
)
from apps.contacts.regions import country_normalize, region_normalize
from apps.contacts.stages import lifecycle_choices

IGNORE = "ignore"
MAX_ID = 100
PAGE_URL_MAX_LENGTH = ConsentRecord._meta.get_field("page_url").max_length
# yes/no, and Cue's own words for a consent state (an export of Cue reads back in).
YES = frozenset({"yes", "y", "true", "1", "opted_in", "opted-in", "opted in"})
NO = frozenset({"no", "n", "false", "0", "opted_out", "opted-out", "opted out"})
CONTACT_TARGETS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone",
    "external_id": "External id (CRM id)",
    "time_zone": "Time zone",
    "region": "Region (state or province)",
    "country": "Country (two-letter code)",
    "company": "Company name",
    "kind": "Kind (prospect or customer)",
    "lifecycle_stage": "Lifecycle stage",
    "buying_role": "Buying role",
    "source": "Source",
}
# A column mapped to "external_id:hubspot" holds the contact's id in that source; the api
# source's id is the "external_id" target. Each is a key that names the contact.
SOURCE_ID_TARGET = "external_id:"
SOURCE_ID_TARGETS = {
    f"{SOURCE_ID_TARGET}{source}": f"External id ({label})"
    for source, label in ExternalIdSource.choices
    if source != ExternalIdSource.API
}
# When the row's lifecycle stage changed in the source system (journeys and attribution
# read that time, not the import's); not a contact field, so kept apart.
STAGE_TIME_TARGETS = {"lifecycle_stage_changed_at": "Lifecycle stage changed at (ISO 8601)"}
CONSENT_TARGETS = {
    "consent_sms_marketing": "Consent to SMS marketing (yes/no)",
    "consent_email_marketing": "Consent to email marketing (yes/no)",
    "consent_occurred_at": "Consent given at (ISO 8601)",
    "consent_ip": "Consent evidence: IP address",
    "consent_page_url": "Consent evidence: page URL",
    "consent_disclosure_text": "Consent evidence: disclosure text",
    "consent_user_agent": "Consent evidence: user agent",
}
TARGET_CHOICES = [
    (IGNORE, "— ignore —"),
    ("Contact", [*CONTACT_TARGETS.items(), *STAGE_TIME_TARGETS.items()]),
    ("Ids in other systems", list(SOURCE_ID_TARGETS.items())),
    ("Consent", list(CONSENT_TARGETS.items())),
]
IDENTITY = ("external_id", "email", "phone")
IDENTITY_TARGETS = (*IDENTITY, *SOURCE_ID_TARGETS)
# A column mapped to "attr:plan" fills the contact attribute "plan", read by its type.
ATTRIBUTE_TARGET = "attr:"
CONSENT_CHANNELS = {
    "consent_sms_marketing": (Channel.SMS, "SMS marketing"),
    "consent_email_marketing": (Channel.EMAIL, "Email marketing"),
}
_SYNONYMS = {
    "first_name": "first firstname fname givenname forename",
    "last_name": "last lastname lname surname familyname",
    "email": "email emailaddress mail",
    "phone": "phone phonenumber mobile mobilenumber mobilephone cell cellphone telephone sms",
    "external_id": "externalid crmid contactid recordid id",
    "time_zone": "timezone tz",
    "region": "region state province stateprovince",
    "country": "country countrycode",
    "company": "company companyname organization organisation account accountname",
    "kind": "kind contacttype type",
    "lifecycle_stage": "lifecyclestage lifecycle stage",
    "lifecycle_stage_changed_at": "lifecyclestagechangedat stagechangedat lifecyclestagedate",
    "buying_role": "buyingrole role",
    "source": "source leadsource",
    "consent_sms_marketing": "consentsmsmarketing smsconsent smsoptin consentsms",
    "consent_email_marketing": "consentemailmarketing emailconsent emailoptin consentemail",
    "consent_occurred_at": "consentoccurredat consentdate consentat optindate optedinat",
    "consent_ip": "consentip ip ipaddress optinip",
    "consent_page_url": "consentpageurl pageurl optinurl formurl url",
    "consent_disclosure_text": "consentdisclosuretext disclosuretext disclosure consenttext",
    "consent_user_agent": "consentuseragent useragent",
    "external_id:hubspot": "hubspotid hubspotcontactid hubspotrecordid hsobjectid vid",
    "external_id:salesforce": "salesforceid salesforcecontactid sfdcid sfid",
    "external_id:segment": "segmentid segmentuserid userid",
}
SYNONYMS = {word: target for target, words in _SYNONYMS.items() for word in words.split()}


class RowRejected(Exception):
    """A row that cannot be imported; its message is the reason shown in the report."""


def attribute_targets() -> dict[str, str]:
    """The label of each contact attribute defined now, by its target "attr:<key>"."""
    definitions = attribute_definitions(object_type=AttributeObject.CONTACT)
    return {f"{ATTRIBUTE_TARGET}{key}": d.label for key, d in definitions.items()}


def target_choices() -> list:
    """The mapping's choices: the fixed targets, then the contact attributes."""
    attributes = list(attribute_targets().items())
    return [*TARGET_CHOICES, ("Custom attributes", attributes)] if attributes else TARGET_CHOICES


def mapping_suggest(*, columns: list[str]) -> dict[str, str]:
    """A target for each column whose name says what it holds; each target at most once."""
    suggested: dict[str, str] = {}
    synonyms = {**_attribute_synonyms(), **SYNONYMS}
    for column in columns:
        target = synonyms.get(re.sub(r"[^a-z0-9]", "", column.lower()), IGNORE)
        taken = target in suggested.values()
        suggested[column] = IGNORE if taken else target
    return suggested


def _attribute_synonyms() -> dict[str, str]:
    """A column named like an attribute's key or label ("Seats bought") suggests it."""
    synonyms = {}
    for target, label in attribute_targets().items():
        for name in (target[len(ATTRIBUTE_TARGET) :], label):
            synonyms[re.sub(r"[^a-z0-9]", "", name.lower())] = target
    return synonyms


def mapping_clean(mapping: dict[str, str], columns: list[str]) -> dict[str, str]:
    unknown = sorted(set(mapping) - set(columns))
    if unknown:
        raise ConsentError(f"The file has no column {unknown[0]!r}.", field="mapping")
    chosen = {c: mapping[c] for c in columns if mapping.get(c, IGNORE) != IGNORE}
    labels = {
        **CONTACT_TARGETS,
        **STAGE_TIME_TARGETS,
        **SOURCE_ID_TARGETS,
        **CONSENT_TARGETS,
        **attribute_targets(),
    }
    for target in chosen.values():
        if target not in labels:
            raise ConsentError(f"{target!r} is not a field to import into.", field="mapping")
    for target, count in Counter(chosen.values()).items():
        if count > 1:
            label = labels[target]
            raise ConsentError(f"“{label}” is chosen for {count} columns.", field="mapping")
    if not set(IDENTITY_TARGETS) & set(chosen.values()):
        raise ConsentError(
            "Map a column to email, phone or external id: rows need one to identify the contact.",
            field="mapping",
        )
    return chosen


@dataclass
class ParsedRow:
    """A row after normalisation, before anything is written."""

    line: int
    cells: list[str]
    fields: dict
    consents: list[tuple[str, str]] = field(default_factory=list)
    evidence: dict | None = None
    notes: list[str] = field(default_factory=list)
    stage_changed_at: datetime | None = None

    def keys(self) -> dict[str, str]:
        """The identity keys this row names, normalised as the database compares them:
        {"email": ..., "external_id": ..., "external_id:hubspot": ...}."""
        keys = {name: str(self.fields[name]) for name in IDENTITY if self.fields.get(name)}
        if "email" in keys:
            keys["email"] = email_normalize(keys["email"])
        for source, value in self.fields.get("external_ids", {}).items():
            keys[f"{SOURCE_ID_TARGET}{source}"] = value
        return keys


def row_contact_keys(keys: dict[str, str]) -> ContactKeys:
    """A row's keys (ParsedRow.keys) as the identity service takes them."""
    other_ids = {
        name[len(SOURCE_ID_TARGET) :]: value
        for name, value in keys.items()
        if name.startswith(SOURCE_ID_TARGET)
    }
    plain = {name: value for name, value in keys.items() if name in IDENTITY}
    return contact_keys(**plain, other_ids=other_ids)


def row_key_noun(name: str) -> str:
    """How a report names a key: "email", "external id", "hubspot id"."""
    if name.startswith(SOURCE_ID_TARGET):
        return f"{name[len(SOURCE_ID_TARGET) :]} id"
    return name.replace("_", " ")


def row_parse(
    line: int,
    cells: list[str],
    columns: list[str],
    mapping: dict,
    definitions: dict[str, AttributeDefinition] | None = None,
) -> ParsedRow:
    """Normalises one row, or raises RowRejected with the reason. `definitions`: the
    contact attribute definitions, read once by the caller for the whole file."""
    if any(cell.strip() for cell in cells[len(columns) :]):
        raise RowRejected(f"The row has {len(cells)} cells; the header names {len(columns)}.")
    values = {mapping[c]: v.strip() for c, v in zip(columns, cells, strict=False) if c in mapping}
    reasons: list[str] = []  # every reason the row is refused, not only the first
    fields = {}
    for name in CONTACT_TARGETS:
        if values.get(name):
            fields[name] = _reasoned(reasons, _NORMALISERS.get(name, _as_is), values[name], values)
    source_ids = _reasoned(reasons, _source_ids_parse, values) or {}
    if source_ids:
        fields["external_ids"] = source_ids
    if not any(fields.get(name) for name in IDENTITY) and not source_ids and not reasons:
        reasons.append("No email, phone or external id to identify the contact.")
    attributes = _reasoned(reasons, _attributes_parse, values, definitions)
    if attributes:
        fields["attributes"] = attributes
    row = ParsedRow(line=line, cells=cells, fields=fields)
    if values.get("lifecycle_stage_changed_at"):
        moment = values["lifecycle_stage_changed_at"]
        row.stage_changed_at = _reasoned(
            reasons, _occurred_at, moment, name="lifecycle_stage_changed_at"
        )
    _reasoned(reasons, _consent_parse, row, values)
    if reasons:
        raise RowRejected(" ".join(reasons))
    return row


def _reasoned(reasons: list[str], parse, *args, **kwargs):
    """parse(...)'s value, or None with its refusal added to `reasons`."""
    try:
        return parse(*args, **kwargs)
    except RowRejected as rejected:
        reasons.append(str(rejected))
        return None


def _source_ids_parse(values: dict) -> dict[str, str]:
    """{source: id} of the row's external-id columns of other systems; an empty cell is no
    id (it clears nothing)."""
    ids = {}
    for target in SOURCE_ID_TARGETS:
        value = values.get(target, "")
        if len(value) > MAX_ID:
            source = target[len(SOURCE_ID_TARGET) :]
            raise RowRejected(f"The {source} id is longer than {MAX_ID} characters.")
        if value:
            ids[target[len(SOURCE_ID_TARGET) :]] = value
    return ids


def _attributes_parse(values: dict, definitions: dict | None) -> dict:
    """The row's attribute cells read by their types; an empty cell changes nothing."""
    cells = {
        target[len(ATTRIBUTE_TARGET) :]: value
        for target, value in values.items()
        if target.startswith(ATTRIBUTE_TARGET) and value
    }
    if not cells:
        return {}
    try:
        return attributes_validate(
            object_type=AttributeObject.CONTACT,
            values=cells,
            partial=True,
            from_text=True,
            definitions=definitions,
        )
    except AttributesError as error:
        reasons = [f"Attribute {key}: {' '.join(text)}" for key, text in error.errors.items()]
        raise RowRejected(" ".join(reasons)) from error


def _as_is(value: str, values: dict) -> str:
    return value


def _email(value: str, values: dict) -> str:
    try:
        validate_email(value)
    except ValidationError as error:
        raise RowRejected(f"Email {value!r} is not a valid address.") from error
    return value


def _phone(value: str, values: dict) -> str:
    country = _country_or_none(values)
    known = country in phonenumbers.SUPPORTED_REGIONS
    try:
        return phone_e164(value, country if known else None)
    except InvalidPhone as error:
        raise RowRejected(f"Phone number {value!r} is not valid.") from error


def _time_zone(value: str, values: dict) -> str:
    if value not in _time_zones():
        raise RowRejected(f"Time zone {value!r} is not an IANA time zone, e.g. America/Chicago.")
    return value


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _country(value: str, values: dict) -> str:
    try:
        return country_normalize(value)
    except ContactsError as error:
        raise RowRejected(f"Country: {error.message}") from error


def _country_or_none(values: dict) -> str | None:
    try:
        return country_normalize(values["country"]) if values.get("country") else None
    except ContactsError:
        return None  # the country column rejects the row with its own reason


def _region(value: str, values: dict) -> str:
    """The postal code ("Florida" -> FL). Without a country column the contact's country is
    not known yet: what is not a US or Canadian region is left for the contact services to
    check against the contact's own country (and reject the row with the reason)."""
    country = _country_or_none(values)
    try:
        return region_normalize(value, country)
    except ContactsError as error:
        if country is None:
            return value
        raise RowRejected(f"Region: {error.message}") from error


def _choice(choices, noun: str):
    """A choice by its key or its label; `choices` is a TextChoices or, for the customer's
    own stages, a function giving (key, label) pairs (read per row: they are data)."""

    def normalise(value: str, values: dict) -> str:
        pairs = choices.choices if isinstance(choices, type) else choices()
        known = {_choice_key(str(label)): key for key, label in pairs}
        known |= {_choice_key(key): key for key, _ in pairs}
        if _choice_key(value) not in known:
            allowed = ", ".join(key for key, _ in pairs)
            raise RowRejected(f"Unknown {noun} {value!r}; use one of: {allowed}.")
        return known[_choice_key(value)]

    return normalise


def _choice_key(value: str) -> str:
    return re.sub(r"[\s_-]+", " ", value.strip().lower())


_NORMALISERS = {
    "email": _email,
    "phone": _phone,
    "time_zone": _time_zone,
    "region": _region,
    "country": _country,
    "kind": _choice(ContactKind, "kind"),
    "lifecycle_stage": _choice(lifecycle_choices, "lifecycle stage"),
    "buying_role": _choice(BuyingRole, "buying role"),
}


def _consent_parse(row: ParsedRow, values: dict) -> None:
    """Consent is taken only with its evidence: a yes without it becomes a note."""
    for target, (channel, label) in CONSENT_CHANNELS.items():
        answer = values.get(target, "").lower()
        if answer and answer not in YES | NO:
            raise RowRejected(
                f"{target} {values[target]!r} is neither yes nor no (nor opted_in, opted_out)."
            )
        if answer in YES:
            row.consents.append((channel, label))
    if not row.consents:
        return
    missing = _evidence_missing(values)
    if missing:
        labels = " and ".join(label for _, label in row.consents)
        row.notes.append(f"{labels} consent not recorded: no evidence (needs {missing}).")
        row.consents = []
        return
    row.evidence = {
        "occurred_at": _occurred_at(values["consent_occurred_at"]),
        "ip_address": _ip(values.get("consent_ip", "")),
        "page_url": _url(values.get("consent_page_url", "")),
        "disclosure_text": values.get("consent_disclosure_text", ""),
        "user_agent": values.get("consent_user_agent", ""),
    }


def _evidence_missing(values: dict) -> str:
    """What the row lacks to prove consent: when it was given, and where or in what words."""
    if not values.get("consent_occurred_at"):
        return "consent_occurred_at"
    proof = ("consent_ip", "consent_page_url", "consent_disclosure_text")
    if any(values.get(name) for name in proof):
        return ""
    return "consent_ip, consent_page_url or consent_disclosure_text"


def _occurred_at(value: str, *, name: str = "consent_occurred_at") -> datetime:
    try:
        parsed = dateparse.parse_datetime(value)
        day = None if parsed else dateparse.parse_date(value)
    except ValueError:
        parsed = day = None
    if day:
        parsed = datetime(day.year, day.month, day.day)
    if parsed is None:
        raise RowRejected(
            f"{name} {value!r} is not an ISO 8601 date and time, "
            "e.g. 2024-03-04 14:30 or 2024-03-04T14:30:00Z."
        )
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    if parsed > timezone.now() + timedelta(minutes=5):
        raise RowRejected(f"{name} {value!r} is in the future.")
    return parsed


def _ip(value: str) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError as error:
        raise RowRejected(f"consent_ip {value!r} is not an IP address.") from error


def _url(value: str) -> str:
    try:
        if value:
            URLValidator(schemes=["http", "https"])(value)
    except ValidationError as error:
        raise RowRejected(f"consent_page_url {value!r} is not an http(s) URL.") from error
    if len(value) > PAGE_URL_MAX_LENGTH:
        raise RowRejected(f"consent_page_url is longer than {PAGE_URL_MAX_LENGTH} characters.")
    return value
