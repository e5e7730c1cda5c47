"""The columns an opportunity import can fill, and one row's normalisation: every value is
checked before anything is written, and a bad one rejects the row with its reason.

What a row needs from the database is read once per import into an `ImportCatalog`.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import dateparse, timezone

from apps.contacts.attributes import AttributesError, attributes_validate
from apps.contacts.errors import ContactsError
from apps.contacts.identity import ContactKeys, contact_keys
from apps.contacts.models import AttributeObject, Pipeline
from apps.contacts.opportunity_imports.catalog import ATTRIBUTE_TARGET, ImportCatalog, RowRejected

IGNORE = "ignore"
OPPORTUNITY_TARGETS = {
    "external_id": "Opportunity external id (your key for it)",
    "name": "Name",
    "amount": "Amount",
    "currency": "Currency (three-letter code)",
    "pipeline": "Pipeline (key or label)",
    "stage": "Stage (key or label)",
    "close_date": "Close date",
    "stage_changed_at": "Stage changed at (ISO 8601)",
}
CONTACT_KEY_TARGETS = {
    "contact_external_id": "Contact: external id",
    "contact_email": "Contact: email",
    "contact_phone": "Contact: phone",
}
_SYNONYMS = {
    "external_id": "externalid opportunityid dealid opportunityexternalid crmid id",
    "name": "name opportunityname dealname opportunity deal",
    "amount": "amount value dealvalue dealamount",
    "currency": "currency currencycode",
    "pipeline": "pipeline dealpipeline",
    "stage": "stage dealstage opportunitystage",
    "close_date": "closedate closedat closed expectedclosedate",
    "stage_changed_at": "stagechangedat stagedate stagechangedate",
    "contact_external_id": "contactexternalid contactid contactcrmid",
    "contact_email": "contactemail email emailaddress",
    "contact_phone": "contactphone phone mobile phonenumber",
}
SYNONYMS = {word: target for target, words in _SYNONYMS.items() for word in words.split()}
MAX_AMOUNT = Decimal("999999999999.99")  # 14 digits, 2 after the point


# --- the column mapping


def target_choices(catalog: ImportCatalog) -> list:
    choices = [
        (IGNORE, "— ignore —"),
        ("Opportunity", list(OPPORTUNITY_TARGETS.items())),
        ("Contact it belongs to", list(CONTACT_KEY_TARGETS.items())),
    ]
    attributes = list(catalog.attribute_targets().items())
    return [*choices, ("Custom attributes", attributes)] if attributes else choices


def mapping_suggest(*, columns: list[str], catalog: ImportCatalog) -> dict[str, str]:
    """A target for each column whose name says what it holds; each target at most once."""
    synonyms = {**_attribute_synonyms(catalog), **SYNONYMS}
    suggested: dict[str, str] = {}
    for column in columns:
        target = synonyms.get(re.sub(r"[^a-z0-9]", "", column.lower()), IGNORE)
        suggested[column] = IGNORE if target in suggested.values() else target
    return suggested


def _attribute_synonyms(catalog: ImportCatalog) -> dict[str, str]:
    synonyms = {}
    for target, label in catalog.attribute_targets().items():
        for name in (target[len(ATTRIBUTE_TARGET) :], label):
            synonyms[re.sub(r"[^a-z0-9]", "", name.lower())] = target
    return synonyms


def mapping_clean(
    mapping: dict[str, str], columns: list[str], catalog: ImportCatalog
) -> dict[str, str]:
    """The mapping without ignored columns, or ContactsError(field="mapping") saying why."""
    unknown = sorted(set(mapping) - set(columns))
    if unknown:
        raise ContactsError(f"The file has no column {unknown[0]!r}.", field="mapping")
    chosen = {c: mapping[c] for c in columns if mapping.get(c, IGNORE) != IGNORE}
    labels = {**OPPORTUNITY_TARGETS, **CONTACT_KEY_TARGETS, **catalog.attribute_targets()}
    for target in chosen.values():
        if target not in labels:
            raise ContactsError(f"{target!r} is not a field to import into.", field="mapping")
    for target, count in Counter(chosen.values()).items():
        if count > 1:
            raise ContactsError(
                f"“{labels[target]}” is chosen for {count} columns.", field="mapping"
            )
    targets = set(chosen.values())
    if "external_id" not in targets and not {"name", "stage"} <= targets:
        raise ContactsError(
            "Map the opportunity's external id (to update opportunities), or its name and "
            "stage (to create them).",
            field="mapping",
        )
    return chosen


# --- one row


@dataclass
class ParsedRow:
    """A row after normalisation, before anything is written. `values` holds only what the
    row gives: an empty cell changes nothing."""

    line: int
    cells: list[str]
    external_id: str | None
    contact_keys: ContactKeys | None
    values: dict = field(default_factory=dict)
    pipeline: Pipeline | None = None
    stage_text: str = ""
    close_date: datetime | None = None
    stage_changed_at: datetime | None = None


def row_parse(
    line: int, cells: list[str], columns: list[str], mapping: dict, catalog: ImportCatalog
) -> ParsedRow:
    """Normalises one row, or raises RowRejected with the reason."""
    if any(cell.strip() for cell in cells[len(columns) :]):
        raise RowRejected(f"The row has {len(cells)} cells; the header names {len(columns)}.")
    given = {mapping[c]: v.strip() for c, v in zip(columns, cells, strict=False) if c in mapping}
    given = {target: value for target, value in given.items() if value}
    row = ParsedRow(
        line=line,
        cells=cells,
        external_id=given.get("external_id"),
        contact_keys=_contact_keys(given),
        pipeline=catalog.pipeline_named(given["pipeline"]) if "pipeline" in given else None,
        stage_text=given.get("stage", ""),
    )
    if "name" in given:
        row.values["name"] = given["name"][:200]
    if "amount" in given:
        row.values["amount"] = _amount(given["amount"])
    if "currency" in given:
        row.values["currency"] = _currency(given["currency"])
    if "close_date" in given:
        row.close_date = _moment(given["close_date"], "close_date", future_ok=True)
    if "stage_changed_at" in given:
        row.stage_changed_at = _moment(given["stage_changed_at"], "stage_changed_at")
    attributes = _attributes(given, catalog)
    if attributes:
        row.values["attributes"] = attributes
    return row


def _contact_keys(given: dict) -> ContactKeys | None:
    external_id = given.get("contact_external_id")
    email, phone = given.get("contact_email"), given.get("contact_phone")
    if not (external_id or email or phone):
        return None
    if email:
        try:
            validate_email(email)
        except ValidationError as error:
            raise RowRejected(f"Contact email {email!r} is not a valid address.") from error
    try:
        return contact_keys(external_id=external_id, email=email, phone=phone)
    except ContactsError as error:
        raise RowRejected(f"Contact phone {phone!r} is not valid.") from error


def _amount(text: str) -> Decimal:
    cleaned = re.sub(r"[\s,]", "", text).removeprefix("$")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise RowRejected(f"Amount {text!r} is not a number, e.g. 1200.50.")
    if amount < 0 or amount > MAX_AMOUNT:
        raise RowRejected(f"Amount {text!r} must be from 0 to {MAX_AMOUNT:,}.")
    return amount.quantize(Decimal("0.01"))


def _currency(text: str) -> str:
    code = text.upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise RowRejected(f"Currency {text!r} is not a three-letter ISO 4217 code, e.g. USD.")
    return code


def _moment(text: str, name: str, *, future_ok: bool = False) -> datetime:
    """An ISO 8601 date or date and time; a bare date is the start of that day, and a time
    without an offset is in Cue's time zone."""
    try:
        parsed = dateparse.parse_datetime(text)
        day = None if parsed else dateparse.parse_date(text)
    except ValueError:
        parsed = day = None
    if isinstance(day, date):
        parsed = datetime.combine(day, time())
    if parsed is None:
        raise RowRejected(
            f"{name} {text!r} is not an ISO 8601 date or date and time, "
            "e.g. 2026-03-04 or 2026-03-04T14:30:00Z."
        )
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    if not future_ok and parsed > timezone.now() + timedelta(minutes=5):
        raise RowRejected(f"{name} {text!r} is in the future.")
    return parsed


def _attributes(given: dict, catalog: ImportCatalog) -> dict:
    cells = {
        target[len(ATTRIBUTE_TARGET) :]: value
        for target, value in given.items()
        if target.startswith(ATTRIBUTE_TARGET)
    }
    if not cells:
        return {}
    try:
        return attributes_validate(
            object_type=AttributeObject.OPPORTUNITY,
            values=cells,
            partial=True,
            from_text=True,
            definitions=catalog.attributes,
        )
    except AttributesError as error:
        reasons = [f"Attribute {key}: {' '.join(text)}" for key, text in error.errors.items()]
        raise RowRejected(" ".join(reasons)) from error
