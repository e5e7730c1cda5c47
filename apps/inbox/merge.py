"""The inbox's part of a contact merge: the duplicate's conversations are the survivor's."""

from apps.contacts.merge import MergeContext, MergePart, merge_part_register
from apps.contacts.models import Contact
from apps.inbox.models import Conversation


def conversations_merge(survivor: Contact, duplicate: Contact, context: MergeContext) -> int:
    return Conversation.objects.filter(contact=duplicate).update(contact=survivor)


def inbox_merge_parts_register() -> None:
    merge_part_register(
        "inbox.conversations",
        MergePart(
            "Inbox conversations",
            lambda contact: Conversation.objects.filter(contact=contact).count(),
            conversations_merge,
        ),
    )
