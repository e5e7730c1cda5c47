"""The routing app's part of a contact merge: the duplicate's follow-up tasks, open or
done, are the survivor's now (each keeps its owner, SLA clock and history)."""

from apps.contacts.merge import MergeContext, MergePart, merge_part_register
from apps.contacts.models import Contact
from apps.routing.models import FollowUpTask


def tasks_merge(survivor: Contact, duplicate: Contact, context: MergeContext) -> int:
    return FollowUpTask.objects.filter(contact=duplicate).update(contact=survivor)


def routing_merge_parts_register() -> None:
    merge_part_register(
        "routing.tasks",
        MergePart(
            "Follow-up tasks",
            lambda contact: FollowUpTask.objects.filter(contact=contact).count(),
            tasks_merge,
        ),
    )
