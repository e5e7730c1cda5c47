"""The reporting app's part of a contact merge: attribution credited to the duplicate is
credited to the survivor (the next refresh would find the same, from the moved messages)."""

from apps.contacts.merge import MergeContext, MergePart, merge_part_register
from apps.contacts.models import Contact
from apps.reporting.models import Attribution


def attribution_merge(survivor: Contact, duplicate: Contact, context: MergeContext) -> int:
    return Attribution.objects.filter(contact_id=duplicate.pk).update(contact_id=survivor.pk)


def reporting_merge_parts_register() -> None:
    merge_part_register(
        "reporting.attribution",
        MergePart(
            "Attribution rows",
            lambda contact: Attribution.objects.filter(contact_id=contact.pk).count(),
            attribution_merge,
        ),
    )
