"""Writes to the CRM core: contacts, companies and opportunities."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.contacts.attributes import attributes_merge, attributes_validate
from apps.contacts.errors import ContactsError, contact_erased_refusal
from apps.contacts.external_ids import ExternalIdsError, external_id_api_sync, external_ids_write
from apps.contacts.identity import API, contact_keys, identity_contact
from apps.contacts.models import (
    AttributeDefinition,
    AttributeObject,
    Company,
    Contact,
    Opportunity,
)
from apps.contacts.regions import country_normalize, region_normalize
from apps.contacts.stage_changes import (
    lifecycle_change_record,
    lifecycle_change_superseded,
    lifecycle_superseded_record,
    opportunity_stage_change_insert,
    opportunity_stage_change_record,
    opportunity_stage_locked,
    stage_change_superseded,
    stage_time_newest,
)
from apps.contacts.stages import pipeline_stage, stage_is_closed

CONTACT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "external_id",
    "time_zone",
    "region",
    "country",
    "company",
    "owner",
    "kind",
    "lifecycle_stage",
    "buying_role",
    "source",
    "attributes",  # a partial change: the keys named are set (null clears), others kept
)
# {source: id or None}: the contact's ids in other systems, set or cleared per source
# ("api" is external_id); not a column, so written apart from the others.
EXTERNAL_IDS = "external_ids"


@dataclass(frozen=True)
class ContactUpsert:
    contact: Contact
    created: bool
    changed: list[str]


@transaction.atomic
def contact_upsert(*, fields: dict, stage_changed_at: datetime | None = None) -> ContactUpsert:
    """Creates the contact, or updates the one its external id, email or phone names.
    `stage_changed_at`: when a lifecycle stage change happened in the source (default now)."""
    fields, ids = _external_ids_apart(fields)
    existing = _contact_named(fields, ids)
    fields = _place_normalize(existing or Contact(), fields)  # "Florida" matches a stored FL
    fields = _attributes_merged(existing or Contact(), fields)
    if existing is None:
        created = _contact_save(Contact(), fields, stage_changed_at)
        external_ids_write(contact=created, ids=ids)
        return ContactUpsert(created, created=True, changed=[*fields, *_ids_named(ids)])
    changed = [name for name, value in fields.items() if getattr(existing, name) != value]
    if _stage_time_refreshed(existing, fields, stage_changed_at):
        changed.append("lifecycle_stage")  # the same stage, said to hold at a newer time
    if changed:
        _contact_save(existing, {name: fields[name] for name in changed}, stage_changed_at)
    external_ids_write(contact=existing, ids=ids)
    return ContactUpsert(existing, created=False, changed=[*changed, *_ids_named(ids)])


def _stage_time_refreshed(contact: Contact, fields: dict, at: datetime | None) -> bool:
    if fields.get("lifecycle_stage") != contact.lifecycle_stage:
        return False
    current = contact.lifecycle_stage_changed_at
    return stage_time_newest(current, at) != current


def _ids_named(ids: dict) -> list[str]:
    return [EXTERNAL_IDS] if ids else []


def _external_ids_apart(fields: dict) -> tuple[dict, dict]:
    """The column fields, and the ids in sources other than "api" ({} when none). The
    "api" id of `external_ids` is the external_id field; giving both, different, is refused."""
    unknown = set(fields) - {*CONTACT_FIELDS, EXTERNAL_IDS}
    if unknown:
        raise ContactsError(f"Unknown contact field(s): {', '.join(sorted(unknown))}.")
    if EXTERNAL_IDS not in fields:
        return fields, {}
    fields = dict(fields)
    ids = dict(fields.pop(EXTERNAL_IDS) or {})
    if API in ids:
        api_id = ids.pop(API)
        if "external_id" in fields and (fields["external_id"] or None) != (api_id or None):
            raise ExternalIdsError(API, "Differs from external_id; give one of them.")
        fields["external_id"] = api_id
    return fields, ids


def _contact_named(fields: dict, ids: dict) -> Contact | None:
    """The contact the fields' keys name (identity's rules); keys naming two is refused."""
    keys = contact_keys(
        external_id=fields.get("external_id"),
        email=fields.get("email"),
        phone=fields.get("phone"),
        other_ids={source: value for source, value in ids.items() if value},
    )
    return identity_contact(keys)


@transaction.atomic
def contact_update(
    *,
    contact: Contact,
    fields: dict,
    stage_changed_at: datetime | None = None,
    definitions: dict[str, AttributeDefinition] | None = None,
) -> Contact:
    """`definitions`: the contact attribute definitions, when the caller has read them
    already (an import reads them once for the whole file)."""
    fields, ids = _external_ids_apart(fields)
    fields = _attributes_merged(contact, _place_normalize(contact, fields), definitions=definitions)
    contact = _contact_save(contact, fields, stage_changed_at)
    external_ids_write(contact=contact, ids=ids)
    return contact


def _attributes_merged(
    instance: Contact | Company | Opportunity,
    fields: dict,
    object_type: str = AttributeObject.CONTACT,
    definitions: dict[str, AttributeDefinition] | None = None,
) -> dict:
    """The fields with `attributes` as the object's whole new set: the change is checked
    against the definitions and merged into what the object has now. The stored set is
    read under a row lock (the caller's transaction), so that two changes of different
    keys at once both stay."""
    if "attributes" not in fields:
        return fields
    changes = attributes_validate(
        object_type=object_type,
        values=fields["attributes"] or {},
        partial=True,
        definitions=definitions,
    )
    current = instance.attributes
    if instance.pk is not None:
        locked = type(instance).objects.select_for_update().filter(pk=instance.pk)
        current = locked.values_list("attributes", flat=True).first()
    return {**fields, "attributes": attributes_merge(current, changes)}


def _place_normalize(contact: Contact, fields: dict) -> dict:
    """The fields with country as its ISO code and region as its postal code. Only what is
    being written is checked: an old unknown region must not block an unrelated change."""
    if "country" not in fields and "region" not in fields:
        return fields
    fields = dict(fields)
    if fields.get("country"):
        fields["country"] = country_normalize(fields["country"])
    country = fields.get("country") or contact.country
    region = fields.get("region", contact.region)
    if region and ("region" in fields or fields.get("country", country) != contact.country):
        fields["region"] = region_normalize(region, country)
    return fields


# Consent (a higher app) registers here: consent given for an old phone number or email
# must not carry over to the new one. Called in the saving transaction with
# (contact, field name, new value) whenever an existing contact's phone or email changes.
AddressChangeHandler = Callable[[Contact, str, str], None]
_address_change_handlers: dict[str, AddressChangeHandler] = {}
ADDRESS_FIELDS = ("phone", "email")


def address_change_handler_register(name: str, handler: AddressChangeHandler) -> None:
    _address_change_handlers[name] = handler


def _addresses_of(contact: Contact) -> dict[str, str]:
    return {name: str(getattr(contact, name) or "") for name in ADDRESS_FIELDS}


def contact_addresses_changed(contact: Contact, before: dict[str, str]) -> None:
    """Tells the registered handlers (consent: the old address's consent does not carry
    over) of each address that differs from `before`; for writers that save in bulk."""
    _address_changes_hand_off(contact, before)


def _address_changes_hand_off(contact: Contact, before: dict[str, str] | None) -> None:
    if before is None:
        return
    after = _addresses_of(contact)
    for name in ADDRESS_FIELDS:
        if after[name] and after[name].casefold() != before[name].casefold():
            for handler in _address_change_handlers.values():
                handler(contact, name, after[name])


def _contact_save(
    contact: Contact, fields: dict, stage_changed_at: datetime | None = None
) -> Contact:
    refusal = contact_erased_refusal(contact)
    if refusal is not None:
        raise refusal
    at = stage_changed_at or timezone.now()
    previous_stage, superseded = None, None
    if not contact._state.adding and "lifecycle_stage" in fields:
        previous_stage, superseded = lifecycle_change_superseded(contact, fields, at)
    if superseded is not None:
        fields = {name: value for name, value in fields.items() if name != "lifecycle_stage"}
    previous_addresses = None if contact._state.adding else _addresses_of(contact)
    for name, value in fields.items():
        setattr(contact, name, _empty_for(name) if value is None else value)
    if contact.email:
        contact.email = contact.email.strip()
    contact.external_id = contact.external_id or None
    stage_moved = "lifecycle_stage" in fields and previous_stage != contact.lifecycle_stage
    if stage_moved:
        contact.lifecycle_stage_changed_at = at
    elif "lifecycle_stage" in fields and superseded is None:
        contact.lifecycle_stage_changed_at = stage_time_newest(
            contact.lifecycle_stage_changed_at, stage_changed_at
        )
    try:
        # Uniqueness is left to the database (one statement, race-free), not checked first.
        contact.full_clean(validate_unique=False, validate_constraints=False)
        with transaction.atomic():
            contact.save()
            if "external_id" in fields:
                external_id_api_sync(contact)
    except ValidationError as error:
        raise _first_field_error(error) from error
    except IntegrityError as error:
        raise _unique_error(error) from error
    if stage_moved and previous_stage is not None:
        lifecycle_change_record(contact, previous_stage, contact.lifecycle_stage, at)
    if superseded is not None:
        lifecycle_superseded_record(contact, superseded, at)
    _address_changes_hand_off(contact, previous_addresses)
    return contact


_UNIQUE_FIELDS = {
    "contact_phone_unique": "phone",
    "contact_email_unique": "email",
    "contact_external_id_unique": "external_id",
}


def _unique_error(error: IntegrityError) -> ContactsError:
    """Names the field (and says it plainly) whichever database reported the clash."""
    text = str(error)
    messages = {c.name: c.violation_error_message for c in Contact._meta.constraints}
    for name, field in _UNIQUE_FIELDS.items():
        if name in text or f"contacts_contact.{field}" in text:
            return ContactsError(messages[name], field=field)
    return ContactsError("Another contact already has this email, phone or external id.")


def _empty_for(name: str):
    """What "no value" is for a field: NULL where the column allows it, else ""."""
    return None if Contact._meta.get_field(name).null else ""


def _first_field_error(error: ValidationError) -> ContactsError:
    for field, messages in error.message_dict.items():
        name = None if field == "__all__" else field
        return ContactsError(" ".join(messages), field=name)
    return ContactsError("Invalid contact.")


@transaction.atomic
def company_create(*, name: str, **fields) -> Company:
    """A new company (a caller holding its own key for it links the two itself)."""
    return _company_save(Company(), {"name": name, **fields})


@transaction.atomic
def company_update(*, company: Company, **fields) -> Company:
    """Changes this company; nothing is written when nothing differs."""
    return _company_save(company, fields)


def _company_save(company: Company, fields: dict) -> Company:
    values = _attributes_merged(company, fields, AttributeObject.COMPANY)
    # Compared as stored, so an empty value on an empty field is no change (and no history).
    values = {key: _company_value(key, value) for key, value in values.items()}
    if company.pk and all(getattr(company, key) == value for key, value in values.items()):
        return company
    for key, value in values.items():
        setattr(company, key, value)
    try:
        company.full_clean(validate_unique=False)
    except ValidationError as error:
        raise _first_field_error(error) from error
    company.save()
    return company


def _company_value(key: str, value):
    """None clears: a company's text fields hold "" for none, its employee count NULL."""
    return "" if value is None and key != "employee_count" else value


def company_upsert(*, name: str, external_id: str | None = None, **fields) -> Company:
    lookup = {"external_id": external_id} if external_id else {"name": name}
    company = Company.objects.filter(**lookup).first() or Company(**lookup)
    values = _attributes_merged(company, {"name": name, **fields}, AttributeObject.COMPANY)
    if company.pk and all(getattr(company, key) == value for key, value in values.items()):
        return company
    for key, value in values.items():
        setattr(company, key, value)
    company.save()
    return company


@transaction.atomic
def opportunity_upsert(
    *,
    external_id: str,
    name: str,
    stage: str,
    contact: Contact | None = None,
    stage_changed_at: datetime | None = None,
    **fields,
) -> Opportunity:
    """Creates or updates the opportunity the caller's own `external_id` names (the API, a
    CRM sync). The key is the caller's: nothing here builds one from the name.
    `stage_changed_at`: when a stage change happened in the source (default now)."""
    if not external_id:
        raise ContactsError("Give the opportunity's external id.", field="external_id")
    opportunity = Opportunity.objects.select_for_update().filter(external_id=external_id).first()
    if opportunity is None:
        return opportunity_create(
            external_id=external_id,
            name=name,
            stage=stage,
            contact=contact,
            stage_changed_at=stage_changed_at,
            **fields,
        )
    return opportunity_update(
        opportunity=opportunity,
        stage_changed_at=stage_changed_at,
        name=name,
        stage=stage,
        contact=contact,
        **fields,
    )


@transaction.atomic
def opportunity_create(
    *,
    name: str,
    stage: str,
    contact: Contact | None = None,
    external_id: str | None = None,
    stage_changed_at: datetime | None = None,
    attribute_definitions: dict[str, AttributeDefinition] | None = None,
    **fields,
) -> Opportunity:
    """A new opportunity; a stage is recorded with its time in the source (default now) and
    as `opportunity_created` and `stage_changed` events (journeys end on their goals).
    `attribute_definitions`: the opportunity attributes, when the caller (an import) has
    read them once for many rows."""
    opened_at = fields.pop("opened_at", None) or timezone.now()
    opportunity = Opportunity(external_id=external_id or None, opened_at=opened_at)
    fields = _attributes_merged(
        opportunity, fields, AttributeObject.OPPORTUNITY, attribute_definitions
    )
    return _opportunity_save(
        opportunity, {"name": name, "stage": stage, "contact": contact, **fields}, stage_changed_at
    )


@transaction.atomic
def opportunity_update(
    *,
    opportunity: Opportunity,
    stage_changed_at: datetime | None = None,
    attribute_definitions: dict[str, AttributeDefinition] | None = None,
    **values,
) -> Opportunity:
    """Changes this opportunity (and no other); a stage change is recorded as on create."""
    values = _attributes_merged(
        opportunity, values, AttributeObject.OPPORTUNITY, attribute_definitions
    )
    current = opportunity.stage_changed_at
    refreshed = "stage" in values and stage_time_newest(current, stage_changed_at) != current
    if refreshed or not all(getattr(opportunity, key) == value for key, value in values.items()):
        return _opportunity_save(opportunity, values, stage_changed_at)
    return opportunity


def _opportunity_save(
    opportunity: Opportunity, values: dict, stage_changed_at: datetime | None = None
) -> Opportunity:
    at = stage_changed_at or timezone.now()
    stage = values.get("stage", opportunity.stage)
    pipeline = values.get("pipeline", opportunity.pipeline)
    if pipeline_stage(pipeline_id=getattr(pipeline, "pk", None), key=stage) is None:
        message = f"{stage!r} is not a stage of the opportunity's pipeline."
        raise ContactsError(message, field="stage")
    created = opportunity._state.adding
    stored = None if created else opportunity_stage_locked(opportunity)
    previous_stage = stored.stage if stored else ""
    superseded = None
    if stored and stage != stored.stage and stage_change_superseded(stored.stage_changed_at, at):
        # The stage's place is its pipeline and key: an older move keeps both as stored.
        superseded, stage = stage, stored.stage
        values = {**values, "stage": stored.stage, "pipeline_id": stored.pipeline_id}
        values.pop("pipeline", None)
    for key, value in values.items():
        setattr(opportunity, key, value)
    opportunity.stage_changed_at = (
        at
        if stage != previous_stage
        else stage_time_newest(stored.stage_changed_at, stage_changed_at)
    )
    closed = stage_is_closed(pipeline_id=opportunity.pipeline_id, key=stage)
    if closed and not opportunity.closed_at:
        opportunity.closed_at = at
    if not closed:
        opportunity.closed_at = None  # reopened
    try:
        opportunity.full_clean(validate_unique=False)
        with transaction.atomic():
            opportunity.save()
    except ValidationError as error:
        raise _first_field_error(error) from error
    except IntegrityError as error:
        # Another request created the same external id a moment ago.
        raise ContactsError(
            "Another opportunity has this external id, or is being created with it; retry.",
            field="external_id",
        ) from error
    if stage != previous_stage:
        opportunity_stage_change_record(opportunity, previous_stage, created, stage_changed_at)
    if superseded is not None:
        opportunity_stage_change_insert(opportunity, superseded, at)
    return opportunity
