"""The sends app's part of a contact merge: the duplicate's messages, both ways, are the
survivor's now (their tracked links and clicks hang off the messages and follow them)."""

from apps.contacts.merge import MergeContext, MergePart, merge_part_register
from apps.contacts.models import Contact
from apps.sends.models import InboundMessage, OutboundMessage


def _move(model):
    def move(survivor: Contact, duplicate: Contact, context: MergeContext) -> int:
        return model.objects.filter(contact=duplicate).update(contact=survivor)

    return move


def sends_merge_parts_register() -> None:
    for name, label, model in (
        ("sends.outbound", "Outbound messages", OutboundMessage),
        ("sends.inbound", "Inbound messages", InboundMessage),
    ):
        count = lambda contact, model=model: model.objects.filter(contact=contact).count()  # noqa: E731
        merge_part_register(name, MergePart(label, count, _move(model)))
