"""This app's part of a contact merge: the duplicate's anonymousIds name the survivor now."""

from apps.contacts.merge import MergeContext, MergePart, merge_part_register
from apps.contacts.models import Contact
from apps.segment_intake.models import AnonymousId


def anonymous_ids_merge(survivor: Contact, duplicate: Contact, context: MergeContext) -> int:
    return AnonymousId.objects.filter(contact=duplicate).update(contact=survivor)


def segment_merge_parts_register() -> None:
    merge_part_register(
        "segment_intake.anonymous_ids",
        MergePart(
            "Segment anonymous ids",
            lambda contact: AnonymousId.objects.filter(contact=contact).count(),
            anonymous_ids_merge,
        ),
    )
