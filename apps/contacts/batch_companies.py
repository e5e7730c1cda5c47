"""Writing a batch of companies from another system (a CRM sync page) in a few statements,
through the rules of `company_create` / `company_update`: each field checked as the model
checks it, typed attributes merged into what the company has, history rows for every row
written, and nothing written for a company that does not change."""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from apps.accounts.services import system_user
from apps.contacts.attributes import attribute_definitions, attributes_merge, attributes_validate
from apps.contacts.batch_rows import history_rows_copy, instances_insert
from apps.contacts.errors import ContactsError
from apps.contacts.models import AttributeObject, Company

_NULLABLE = ("employee_count", "external_id")


@dataclass
class CompanyWrite:
    """One company as the other system holds it. `company`: the Cue company the caller's
    link names (None: a new one). `fields` are Company fields (None clears); `attributes`
    a partial change."""

    company: Company | None
    fields: dict[str, Any]
    attributes: dict[str, Any]


@dataclass
class CompanyWritten:
    company: Company | None = None
    created: bool = False
    changed: bool = False
    refused: str = ""


@transaction.atomic
def companies_write_many(items: list[CompanyWrite], *, reason: str) -> list[CompanyWritten]:
    """One result per item, in order; a refused item changes nothing and names why."""
    definitions = attribute_definitions(object_type=AttributeObject.COMPANY)
    known = [item.company.pk for item in items if item.company is not None]
    # Fresh copies under the rows' locks: two changes of different keys at once both stay.
    locked = Company.objects.select_for_update().in_bulk(known)
    new, changed, changed_fields, results = [], [], set(), []
    for item in items:
        result = CompanyWritten()
        results.append(result)
        try:
            values = _fields_clean(item.fields)
            changes = attributes_validate(
                object_type=AttributeObject.COMPANY,
                values=item.attributes,
                partial=True,
                definitions=definitions,
            )
        except ContactsError as error:
            result.refused = str(error)
            continue
        company = locked[item.company.pk] if item.company is not None else Company()
        values["attributes"] = attributes_merge(company.attributes, changes)
        differ = [name for name, value in values.items() if getattr(company, name) != value]
        for name in differ:
            setattr(company, name, values[name])
        result.company = company
        if company.pk is None:
            result.created = True
            new.append(company)
        elif differ:
            result.changed = True
            changed.append(company)
            changed_fields.update(differ)
    if new:  # set-based, with history rows copied from what was stored
        instances_insert(Company, new)
        history_rows_copy(
            Company, [c.pk for c in new], history_type="+", reason=reason,
            user_id=system_user().pk, at=timezone.now(),
        )  # fmt: skip
    if changed:
        bulk_update_with_history(
            changed, Company, sorted(changed_fields), default_change_reason=reason
        )
    return results


def _fields_clean(fields: dict[str, Any]) -> dict[str, Any]:
    clean = {}
    for name, value in fields.items():
        if value is None and name not in _NULLABLE:
            value = ""
        model_field = Company._meta.get_field(name)
        try:
            clean[name] = model_field.clean(value, None)
        except ValidationError as error:
            raise ContactsError(f"{name}: {' '.join(error.messages)}", field=name) from error
    return clean
