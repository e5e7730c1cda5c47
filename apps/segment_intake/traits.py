"""Segment traits → a contact's built-in fields.

Segment's reserved traits (segment.com/docs/connections/spec/identify/#traits) that Cue
has a field for are read; any other trait whose key is a custom contact attribute an admin
defined is stored as that attribute (checked against its definition); the rest are left
out. Consent is never read from
traits, whatever they are called: a trait carries no evidence of who agreed to what, when
and how, and consent in Cue is given only with its evidence (the consent API, the opt-in
form, a keyword reply).
"""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from apps.contacts.attributes import attribute_definitions
from apps.contacts.identity import phone_e164
from apps.contacts.models import AttributeObject, validate_time_zone
from apps.segment_intake.messages import Rejected

NAME_TRAITS = {"firstName": "first_name", "first_name": "first_name",
               "lastName": "last_name", "last_name": "last_name"}  # fmt: skip
MAX_NAME = 100
# Traits read as built-in fields: never also taken as custom attributes.
BUILT_IN_TRAITS = frozenset(
    {*NAME_TRAITS, "name", "email", "phone", "address", "timezone", "company"}
)


def traits_contact_fields(traits: dict) -> dict:
    """The contact fields the traits give; raises Rejected naming the first bad trait."""
    fields: dict = {}
    for trait, name in NAME_TRAITS.items():
        value = _text(traits, trait, MAX_NAME)
        if value:
            fields[name] = value
    full_name = _text(traits, "name", 2 * MAX_NAME)
    if full_name and not fields:
        first, _, last = full_name.partition(" ")
        fields.update(first_name=first[:MAX_NAME], last_name=last.strip()[:MAX_NAME])
    email = _text(traits, "email", 254)
    if email:
        fields["email"] = _email(email)
    phone = _text(traits, "phone", 64)
    if phone:
        fields["phone"] = _phone(phone)
    fields.update(_place(traits))
    return {name: value for name, value in fields.items() if value}


def traits_attributes(traits: dict) -> dict:
    """The traits named like a custom contact attribute, as given (the contact services
    check them against their definitions)."""
    candidates = traits.keys() - BUILT_IN_TRAITS
    if not candidates:
        return {}
    definitions = attribute_definitions(object_type=AttributeObject.CONTACT)
    return {key: traits[key] for key in candidates if key in definitions}


def company_of_traits(traits: dict) -> tuple[str | None, str | None]:
    """(name, id) of the `company` trait: a name, or an object with a name and an id."""
    company = traits.get("company")
    if isinstance(company, str):
        return company.strip()[:200] or None, None
    if isinstance(company, dict):
        name = _text(company, "name", 200, label="traits.company.name")
        company_id = company.get("id")
        return name, str(company_id)[:100] if isinstance(company_id, str | int) else None
    if company is not None:
        raise Rejected("traits.company must be a name or an object with a name.")
    return None, None


def _text(traits: dict, name: str, max_length: int, *, label: str | None = None) -> str | None:
    value = traits.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Rejected(f"{label or 'traits.' + name} must be a string.")
    value = value.strip()
    if len(value) > max_length:
        raise Rejected(f"{label or 'traits.' + name} is longer than {max_length} characters.")
    return value


def _email(email: str) -> str:
    try:
        validate_email(email)
    except ValidationError as error:
        raise Rejected(f"traits.email {email[:100]!r} is not a valid email address.") from error
    return email


def _phone(phone: str) -> str:
    try:
        return phone_e164(phone)
    except ValueError as error:
        raise Rejected(f"traits.phone {phone[:64]!r}: {error}") from error


def _place(traits: dict) -> dict:
    """State, country and time zone; the contact services normalise state and country."""
    fields = {}
    address = traits.get("address")
    if address is not None:
        if not isinstance(address, dict):
            raise Rejected("traits.address must be an object.")
        fields["region"] = _text(address, "state", 64, label="traits.address.state")
        fields["country"] = _text(address, "country", 64, label="traits.address.country")
    zone = _text(traits, "timezone", 64)
    if zone:
        try:
            validate_time_zone(zone)
        except ValidationError as error:
            raise Rejected(f"traits.timezone: {error.messages[0]}") from error
        fields["time_zone"] = zone
    return fields
