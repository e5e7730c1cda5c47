"""The sends app's parts of a data-subject request (registered in ready()).

Messages stay as rows (reports, caps history and attribution count them) with the
person taken out: the address becomes its keyed hash (the same one the ledger and the
suppression list keep, so the compliance audit still matches them), the text goes, and
the gate's reasons and provider errors lose the number. Messages not yet handed to the
provider are cancelled first. A message being handed over right now (claimed, "sending")
makes the erasure wait: what the provider answers would otherwise be written back after it.
"""

from django.db.models import Q

from apps.contacts.erasure.registry import (
    ErasureContext,
    ErasurePart,
    erasure_part_register,
    traces_gather,
)
from apps.contacts.erasure.rows import rows_export, rows_scrub
from apps.contacts.erasure.traces import PersonTraces, address_erased_key
from apps.contacts.models import Contact
from apps.sends.models import (
    InboundMessage,
    LinkClick,
    MessageEvent,
    MessageStatus,
    OutboundMessage,
    TrackedLink,
)
from apps.sends.services.messages import messages_cancel

IN_FLIGHT = (
    "A message to this person is being handed to the provider right now; erase again "
    "once it has an outcome (usually within a minute)."
)
ONE_WORD_KEYWORD = 20


def _outbound(contact: Contact, traces: PersonTraces | None = None):
    """Their messages, and any to one of their addresses that no contact was named on
    (a STOP confirmation to a number before it was a contact)."""
    traces = traces or traces_gather(contact)
    anonymous = Q(contact=None, recipient_user=None, to_address__in=traces.address_forms)
    return OutboundMessage.objects.filter(Q(contact=contact) | anonymous)


def _inbound(contact: Contact, traces: PersonTraces | None = None):
    traces = traces or traces_gather(contact)
    return InboundMessage.objects.filter(
        Q(contact=contact) | Q(from_address__in=traces.address_forms)
    )


def _sends_traces(contact: Contact, traces: PersonTraces) -> None:
    for to, body in OutboundMessage.objects.filter(contact=contact).values_list(
        "to_address", "body"
    ):
        traces.address_add(to)
        traces.text_add(body)
    for sender, body in InboundMessage.objects.filter(contact=contact).values_list(
        "from_address", "body"
    ):
        traces.address_add(sender)
        traces.text_add(body)


def _in_flight(contact: Contact) -> str | None:
    sending = OutboundMessage.objects.filter(contact=contact, status=MessageStatus.SENDING)
    return IN_FLIGHT if sending.exists() else None


def _outbound_erase(contact: Contact, context: ErasureContext) -> int:
    messages = _outbound(contact, context.traces)
    messages_cancel(
        queryset=messages, reason_code="contact_erased", reason="The contact's data was erased."
    )
    changed = 0
    for row in messages.values("pk", "to_address"):
        changed += OutboundMessage.objects.filter(pk=row["pk"]).update(
            to_address=address_erased_key(row["to_address"]), body="", subject="", html=""
        )
    rows_scrub(messages, ["reason", "error_message"], context.traces)
    return changed


def _message_log(contact: Contact, traces: PersonTraces | None = None):
    return MessageEvent.objects.filter(message__in=_outbound(contact, traces))


def _message_log_erase(contact: Contact, context: ErasureContext) -> int:
    return rows_scrub(_message_log(contact, context.traces), ["detail"], context.traces)


def _links(contact: Contact, traces: PersonTraces | None = None):
    return TrackedLink.objects.filter(message__in=_outbound(contact, traces))


def _links_erase(contact: Contact, context: ErasureContext) -> int:
    """A destination personalised with the person's email or id loses it."""
    return rows_scrub(_links(contact, context.traces), ["destination"], context.traces)


def _clicks(contact: Contact, traces: PersonTraces | None = None):
    return LinkClick.objects.filter(link__in=_links(contact, traces))


def _clicks_erase(contact: Contact, context: ErasureContext) -> int:
    """The click stays (it counted as a click); where it came from goes."""
    return _clicks(contact, context.traces).update(ip_address=None, user_agent="")


def _inbound_erase(contact: Contact, context: ErasureContext) -> int:
    changed = 0
    rows = _inbound(contact, context.traces).values("pk", "from_address", "keyword", "outcome")
    for row in rows:
        keyword = row["keyword"]
        single_word = len(keyword) <= ONE_WORD_KEYWORD and " " not in keyword.strip()
        changed += InboundMessage.objects.filter(pk=row["pk"]).update(
            from_address=address_erased_key(row["from_address"]),
            body="",
            keyword=keyword if single_word and not context.traces.mentions(keyword) else "",
            classification_detail="",
            outcome=context.traces.scrub(row["outcome"]),
        )
    return changed


def sends_erasure_parts_register() -> None:
    register = erasure_part_register
    register(
        "sends.outbound",
        ErasurePart(
            "Outbound messages",
            lambda c: rows_export(_outbound(c)),
            lambda c: _outbound(c).count(),
            _outbound_erase,
            _sends_traces,
            _in_flight,
        ),
    )
    register(
        "sends.message_log",
        ErasurePart(
            "Message decision and delivery log",
            lambda c: rows_export(_message_log(c)),
            lambda c: _message_log(c).count(),
            _message_log_erase,
        ),
    )
    register(
        "sends.links",
        ErasurePart(
            "Tracked links",
            lambda c: rows_export(_links(c)),
            lambda c: _links(c).count(),
            _links_erase,
        ),
    )
    register(
        "sends.clicks",
        ErasurePart(
            "Link clicks",
            lambda c: rows_export(_clicks(c)),
            lambda c: _clicks(c).count(),
            _clicks_erase,
        ),
    )
    register(
        "sends.inbound",
        ErasurePart(
            "Inbound replies",
            lambda c: rows_export(_inbound(c)),
            lambda c: _inbound(c).count(),
            _inbound_erase,
        ),
    )
