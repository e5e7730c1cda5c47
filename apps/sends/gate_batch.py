"""The send gate for many messages at once: the same checks as `gate_evaluate`, reading
their facts from one query per question per batch (suppression by address list, consent
and preferences by contact list, caps and duplicates by one grouped count over the window,
the journeys' facts through their prefetch); quiet hours and sending days stay per contact
in Python. The caller holds every contact's lock (contacts_lock), and a batch holds at
most one message per contact: the messages of a batch do not count against each other."""

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import Count, prefetch_related_objects

from apps.consent.models import Suppression, address_erased_key
from apps.consent.selectors import AddressConsent, consents_of_ledger
from apps.contacts.models import Contact
from apps.sends.models import MessageStatus, OutboundMessage
from apps.sends.policy import (
    GateFacts,
    GateResult,
    counts_since,
    gate_decide,
    gate_extra_prefetch,
    suppression_key,
)


def gates_evaluate(*, messages: list, at: datetime, known: dict | None = None) -> list[GateResult]:
    """gate_evaluate for each message (one per contact), in order. `known` holds what the
    caller already loaded under its locks for the extra checks' store (the journeys' engine:
    the enrollments it is advancing), so their prefetch does not read it again; dispatch
    passes nothing, and reads every fact afresh."""
    contacts = {m.contact_id for m in messages if m.contact_id is not None}
    if len(contacts) != len([m for m in messages if m.contact_id is not None]):
        raise ValueError("A gate batch holds at most one message per contact.")
    facts = BatchFacts(messages, at, known)
    return [gate_decide(message=message, at=at, facts=facts) for message in messages]


def one_per_contact(items: list, contact_id) -> tuple[list, list]:
    """(the first item of each contact, the others), in order: what one gate batch may hold,
    and what must wait for the next. Items without a contact all go in the first."""
    first, rest, seen = [], [], set()
    for item in items:
        key = contact_id(item)
        (rest if key is not None and key in seen else first).append(item)
        seen.add(key)
    return first, rest


class BatchFacts(GateFacts):
    """GateFacts answered from per-batch reads, each made the first time it is asked."""

    def __init__(self, messages: list, at: datetime, known: dict | None = None):
        super().__init__()
        self.store.update(known or {})
        self.messages, self.at = messages, at
        self.own_ids = [m.pk for m in messages if m.pk is not None]
        self.loaded: dict = {}
        prefetch_related_objects([m.contact for m in messages if m.contact_id], "preference")
        gate_extra_prefetch(messages, at, self.store)

    def _once(self, key, load):
        if key not in self.loaded:
            self.loaded[key] = load()
        return self.loaded[key]

    def erased(self, message) -> bool:
        return message.contact_id in self._once("erased", self._erased_load)

    def _erased_load(self) -> set[int]:
        ids = [m.contact_id for m in self.messages if m.contact_id is not None]
        erased = Contact.objects.filter(pk__in=ids, erased_at__isnull=False)
        return set(erased.values_list("pk", flat=True))

    def suppression(self, message) -> Suppression | None:
        entries = self._once(
            ("suppression", message.channel), lambda: self._suppression_load(message.channel)
        )
        key = suppression_key(message)
        found = entries.get(key, []) + entries.get(address_erased_key(key), [])
        return min(found, key=lambda entry: (entry.created_at, entry.pk), default=None)

    def _suppression_load(self, channel: str) -> dict[str, list[Suppression]]:
        keys = {suppression_key(m) for m in self.messages if m.channel == channel}
        addresses = keys | {address_erased_key(key) for key in keys}
        entries = defaultdict(list)
        for entry in Suppression.objects.filter(channel=channel, address__in=addresses):
            entries[entry.address].append(entry)
        return entries

    def consent(self, message, purpose: str) -> AddressConsent:
        key = ("consent", message.channel, purpose)
        found = self._once(key, lambda: self._consent_load(message.channel, purpose))
        return found[message.contact_id]

    def _consent_load(self, channel: str, purpose: str) -> dict[int, AddressConsent]:
        # The batch's contacts gathered once per question, not once per message asking it.
        contacts = [m.contact for m in self.messages if m.contact_id and m.channel == channel]
        return consents_of_ledger(contacts=contacts, channel=channel, purpose=purpose)

    def preference(self, message):
        contact = message.contact
        if contact is None or contact.pk is None:
            return None
        return getattr(contact, "preference", None)  # prefetched for the whole batch

    def caps(self, message) -> list:
        key = ("caps", message.channel, message.category)
        return self._once(key, lambda: GateFacts.caps(self, message))

    def reserved(self, message, since: datetime) -> int:
        key = ("reserved", message.channel, message.category)
        counts = self._once(key, lambda: self._reserved_load(message))
        return counts.get((message.contact_id, since), 0)

    def _reserved_load(self, message) -> dict:
        """One grouped count: for each contact, its reserving messages in each cap window."""
        sinces = {self.at - timedelta(hours=cap.window_hours) for cap in self.caps(message)}
        if not sinces:
            return {}
        names = {since: f"since_{i}" for i, since in enumerate(sorted(sinces))}
        contacts = [
            m.contact_id
            for m in self.messages
            if (m.channel, m.category) == (message.channel, message.category)
        ]
        rows = (
            OutboundMessage.objects.filter(
                contact_id__in=contacts,
                channel=message.channel,
                category=message.category,
                status__in=MessageStatus.reserving(),
            )
            .exclude(pk__in=self.own_ids)
            .values("contact_id")
            .annotate(
                **{name: Count("pk", filter=counts_since(since)) for since, name in names.items()}
            )
        )
        return {
            (row["contact_id"], since): row[name] for row in rows for since, name in names.items()
        }

    def twin(self, message, since: datetime):
        twins = self._once(("twins", since), lambda: self._twins_load(since))
        return twins.get((message.contact_id, message.template_version_id))

    def _twins_load(self, since: datetime) -> dict:
        pairs = {(m.contact_id, m.template_version_id) for m in self.messages}
        rows = (
            OutboundMessage.objects.filter(
                contact_id__in={contact for contact, _ in pairs},
                template_version_id__in={version for _, version in pairs},
                status__in=MessageStatus.reserving(),
            )
            .filter(counts_since(since))
            .exclude(pk__in=self.own_ids)
            .order_by("pk")
        )
        twins: dict = {}
        for row in rows:
            twins.setdefault((row.contact_id, row.template_version_id), row)
        return twins


__all__ = ["BatchFacts", "gates_evaluate", "one_per_contact"]
