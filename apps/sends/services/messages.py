"""Creating messages: render, gate, reserve, and enqueue after commit. A message row is
inserted with its decision (never inserted, then updated); many at once go through the
batch gate and a few multi-row INSERTs."""

import logging
import secrets
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from apps.consent.models import Channel
from apps.contacts.models import Company, Contact
from apps.contacts.phones import phone_text
from apps.core.bulk import rows_insert
from apps.library.encoding import sms_analyze
from apps.library.placeholders import UNSUBSCRIBE_LINK, template_render
from apps.sends.errors import SendsError
from apps.sends.gate_batch import gates_evaluate, one_per_contact
from apps.sends.hooks import message_outcomes_fire
from apps.sends.models import (
    Decision,
    MessageEvent,
    MessageOrigin,
    MessageStatus,
    OutboundMessage,
    Sender,
    TrackedLink,
)
from apps.sends.policy import GateResult, gate_evaluate
from apps.sends.selectors.senders import senders_choose
from apps.sends.unsubscribe_links import unsubscribe_url

logger = logging.getLogger(__name__)

TEST_PREFIX = "[TEST] "


def contact_lock(contact_id: int | None) -> None:
    """Locks the contact's row until the transaction ends: counting for the caps and
    inserting the message become one step. (SQLite serialises writers instead.)"""
    if contact_id is not None:
        list(Contact.objects.select_for_update().filter(pk=contact_id).values_list("pk"))


def contacts_lock(contact_ids) -> None:
    """contact_lock for many contacts, in pk order (so two batches never deadlock)."""
    rows = Contact.objects.select_for_update().filter(pk__in=set(contact_ids)).order_by("pk")
    list(rows.values_list("pk"))


@transaction.atomic
def message_create(
    *,
    send_key: str,
    origin: str,
    category: str,
    channel: str = Channel.SMS,
    contact: Contact | None = None,
    recipient_user=None,
    to_address: str | None = None,
    template_version=None,
    body: str | None = None,
    subject: str = "",
    journey_id: int | None = None,
    enrollment_id: int | None = None,
    step_id: int | None = None,
    at: datetime | None = None,
    render_contact: Contact | None = None,
    from_sender: Sender | None = None,
) -> OutboundMessage:
    """Creates the message for one intent (its send key), once; gates it and, if allowed,
    reserves its place under the caps and enqueues its dispatch after commit.

    `render_contact` fills the placeholders instead of `contact` (a test send renders for
    a sample contact but goes to its composer). `from_sender` is the sender a step chose
    (apps.sends.selectors.senders.sender_choose); without one, it is chosen here."""
    existing = OutboundMessage.objects.filter(send_key=send_key).first()
    if existing:
        return existing
    contact_lock(contact.pk if contact else None)
    at = at or timezone.now()
    message = OutboundMessage(
        send_key=send_key,
        origin=origin,
        category=category,
        channel=channel,
        contact=contact,
        recipient_user=recipient_user,
        to_address=to_address or _address(contact, recipient_user, channel),
        template_version=template_version,
        subject=subject,
        journey_id=journey_id,
        enrollment_id=enrollment_id,
        step_id=step_id,
        from_sender=from_sender,
    )
    _senders_set([message])
    links = _content_render(message, body, contact if render_contact is None else render_contact)
    result = gate_evaluate(message=message, at=at)
    _decision_set(message, result, at)
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        return OutboundMessage.objects.get(send_key=send_key)
    TrackedLink.objects.bulk_create([TrackedLink(message=message, **link) for link in links])
    _decision_event(message, result, at, "create").save()
    _decisions_follow([message])
    return message


@transaction.atomic
def messages_create_batch(
    *, intents: list[dict], at: datetime, gate_known: dict | None = None
) -> dict[str, OutboundMessage]:
    """message_create for many intents (its keyword arguments, each with a contact and a
    template version), by send key: the contacts locked in one statement, one gate batch,
    the messages, their links and their decisions each one multi-row INSERT. A contact
    with several intents has the others made one at a time after the batch, so each is
    gated against the ones before it. `gate_known`: what the caller already loaded for the
    gate's extra checks (gates_evaluate's `known`)."""
    keys = [intent["send_key"] for intent in intents]
    made = {m.send_key: m for m in OutboundMessage.objects.filter(send_key__in=keys)}
    first, rest = one_per_contact(
        [i for i in intents if i["send_key"] not in made], lambda intent: intent["contact"].pk
    )
    if first:
        contacts_lock(intent["contact"].pk for intent in first)
        made.update(_batch_create(first, at, gate_known))
    for intent in rest:
        made[intent["send_key"]] = message_create(**intent, at=at)
    return made


def _batch_create(
    intents: list[dict], at: datetime, gate_known: dict | None = None
) -> dict[str, OutboundMessage]:
    messages, links = [], []
    for version in {intent["template_version"] for intent in intents}:
        if not version.is_sendable:  # asked once per version, not per message
            raise SendsError(
                "Only an approved template version can be sent.", field="template_version"
            )
    for intent in intents:
        contact = intent["contact"]
        message = OutboundMessage(**intent, to_address=_address(contact, None, intent["channel"]))
        links.append(_content_render(message, None, contact, version_checked=True))
        messages.append(message)
    _senders_set(messages)
    results = gates_evaluate(messages=messages, at=at, known=gate_known)
    for message, result in zip(messages, results, strict=True):
        _decision_set(message, result, at)
    try:
        with transaction.atomic():
            rows_insert(messages, with_ids=True)
    except IntegrityError:  # a send key made meanwhile: one at a time, as message_create does
        return {i["send_key"]: message_create(**i, at=at) for i in intents}
    TrackedLink.objects.bulk_create(
        TrackedLink(message=message, **link)
        for message, minted in zip(messages, links, strict=True)
        for link in minted
    )
    rows_insert(
        [
            _decision_event(message, result, at, "create")
            for message, result in zip(messages, results, strict=True)
        ]
    )
    _decisions_follow(messages)
    return {message.send_key: message for message in messages}


def _senders_set(messages: list[OutboundMessage]) -> None:
    """Chooses the sender of each text that has none (in one look-up for the batch), so the
    gate's sender rule, pacing and the transport all read the same one from the message."""
    unsent = [m for m in messages if m.channel == Channel.SMS and m.from_sender_id is None]
    if not unsent:
        return
    chosen = senders_choose(to_addresses=[m.to_address for m in unsent])
    for message in unsent:
        message.from_sender = chosen[message.to_address]


def _address(contact, user, channel: str) -> str:
    person = contact or user
    if person is None:
        raise SendsError("A message needs a contact, a user or an address.", field="to_address")
    address = phone_text(person.phone) if channel == Channel.SMS else person.email
    if not address:
        raise SendsError(
            f"{person} has no {'phone' if channel == Channel.SMS else 'email'}.", field="to_address"
        )
    return address


def _content_render(
    message: OutboundMessage, body: str | None, contact, *, version_checked: bool = False
) -> list[dict]:
    """Fills body and subject, from the approved template version (any version, for a
    test send to its composer) or the text given; returns the tracked links the body now
    carries."""
    links: list[dict] = []
    is_test = message.origin == MessageOrigin.TEST_SEND
    if message.template_version is not None:
        version = message.template_version
        if not is_test and not version_checked and not version.is_sendable:
            raise SendsError(
                "Only an approved template version can be sent.", field="template_version"
            )
        # The HTML part is rendered too, so its tracked links are minted with the text's.
        rendered = template_render(
            version=version,
            contact=contact,
            link_url=lambda key: _link_url(message, version, key, links),
        )
        message.body, message.subject = rendered.body, rendered.subject or message.subject
        if message.channel == Channel.EMAIL:
            message.html = rendered.html
    elif body is not None:
        message.body = body
    else:
        raise SendsError("A message needs a template version or a body.", field="body")
    if is_test:  # so that nobody mistakes a test for the real thing
        message.body = f"{TEST_PREFIX}{message.body}"
        if message.channel == Channel.EMAIL:
            message.subject = f"{TEST_PREFIX}{message.subject}"
    if message.channel == Channel.SMS:
        analysis = sms_analyze(message.body)
        message.encoding, message.segments = analysis.encoding, analysis.segments
    return links


def message_html(message: OutboundMessage) -> str:
    """The HTML part an email is sent with: the one stored when it was made. An email made
    before messages stored their HTML (queued across the upgrade) has it rendered now from
    its version, with the tracked links minted then and its own unsubscribe link."""
    if message.channel != Channel.EMAIL:
        return ""
    if message.html:
        return message.html
    version = message.template_version
    if version is None or not version.html.strip():
        return ""
    return _html_rendered_again(message, version)


def _html_rendered_again(message: OutboundMessage, version) -> str:
    tokens = dict(message.links.values_list("key", "token"))
    contact = message.contact if message.contact is not None else sample_contact()

    def link_url(key: str) -> str:
        if key == UNSUBSCRIBE_LINK:
            return unsubscribe_url(send_key=message.send_key)
        token = tokens.get(key, "")
        return f"{settings.PUBLIC_BASE_URL}{reverse('link-redirect', args=[token])}"

    return template_render(version=version, contact=contact, link_url=link_url).html


def sample_contact() -> Contact:
    """Who a test send is written for when no contact is chosen. Never saved."""
    return Contact(first_name="Alex", company=Company(name="Acme"))


def _link_url(message: OutboundMessage, version, key: str, links: list[dict]) -> str:
    if key == UNSUBSCRIBE_LINK:
        return unsubscribe_url(send_key=message.send_key)
    return _link_mint(version, key, links)


def _link_mint(version, key: str, links: list[dict]) -> str:
    """One unguessable token per link key in this message (a key used twice shares it)."""
    minted = next((link for link in links if link["key"] == key), None)
    if minted is None:
        declared = (version.links or {}).get(key) or {}
        minted = {
            "token": secrets.token_urlsafe(16),  # 128 bits, 22 characters
            "key": key,
            "destination": declared.get("url", ""),
            "is_key_link": bool(declared.get("key")),
        }
        links.append(minted)
    return f"{settings.PUBLIC_BASE_URL}{reverse('link-redirect', args=[minted['token']])}"


def message_gate(*, message: OutboundMessage, at: datetime, stage: str) -> GateResult:
    """Runs the gate (the caller holds the contact lock) and applies its decision."""
    result = gate_evaluate(message=message, at=at)
    decision_apply(message=message, result=result, at=at, stage=stage)
    return result


_STATUS_FOR = {
    Decision.ALLOW: MessageStatus.QUEUED,
    Decision.DEFER: MessageStatus.DEFERRED,
    Decision.HOLD: MessageStatus.HELD,
    Decision.SUPPRESS: MessageStatus.SUPPRESSED,
}


def decision_apply(*, message: OutboundMessage, result: GateResult, at: datetime, stage: str):
    """A new decision for a message already stored (the gate again at dispatch)."""
    _decision_set(message, result, at)
    message.save()
    _decision_event(message, result, at, stage).save()
    _decisions_follow([message])


def _decision_set(message: OutboundMessage, result: GateResult, at: datetime) -> None:
    message.status = _STATUS_FOR[result.decision]
    message.decision, message.reason_code, message.reason = (
        result.decision,
        result.reason_code,
        result.reason[:300],
    )
    message.next_attempt_at = result.until
    if message.status == MessageStatus.QUEUED:
        message.queued_at = at
    if message.status == MessageStatus.SUPPRESSED:
        message.finished_at = at


def _decision_event(message, result: GateResult, at: datetime, stage: str) -> MessageEvent:
    return MessageEvent(
        message=message,
        kind=MessageEvent.Kind.DECISION,
        status=message.status,
        detail={
            "stage": stage,
            "decision": result.decision,
            "reason_code": result.reason_code,
            "reason": result.reason,
            "until": result.until.isoformat() if result.until else None,
            "inputs": result.inputs,
            "at": at.isoformat(),
        },
    )


def _decisions_follow(messages: list[OutboundMessage]) -> None:
    """Queued ones go to dispatch after commit; suppressed ones have their outcome told."""
    for message in messages:
        if message.status == MessageStatus.QUEUED:
            message_enqueue_after_commit(message.pk)
    suppressed = [m.pk for m in messages if m.status == MessageStatus.SUPPRESSED]
    if suppressed:
        message_outcomes_fire(suppressed)


def message_enqueue_after_commit(message_id: int) -> None:
    """Enqueues the message's dispatch once the transaction commits, together with every
    other message the same transaction queued: a batch of messages becomes a few batch
    dispatch tasks instead of one task each."""
    connection = transaction.get_connection()
    pending = getattr(connection, "cue_dispatch_pending", None)
    if pending is None or pending.done or not pending.registered(connection):
        pending = connection.cue_dispatch_pending = _PendingDispatch()
    pending.message_ids.append(message_id)
    # Registered with each message, so that it runs whichever savepoint survives; the
    # first run enqueues them all and the others find nothing left to do.
    transaction.on_commit(pending)


class _PendingDispatch:
    """The messages queued in the current transaction; enqueued when it commits (lost: the
    sweep re-enqueues queued ones)."""

    def __init__(self):
        self.message_ids: list[int] = []
        self.done = False

    def registered(self, connection) -> bool:
        """False once the transaction that registered it rolled back (searched from the end:
        it was registered with the latest message)."""
        return any(callback is self for _, callback, _ in reversed(connection.run_on_commit))

    def __call__(self) -> None:
        from apps.sends.services.dispatch import messages_enqueue

        if not self.done:
            self.done = True
            messages_enqueue(message_ids=self.message_ids)


@transaction.atomic
def messages_cancel(*, queryset, reason_code: str, reason: str) -> int:
    """Cancels messages not yet handed to a provider; a claimed one is past stopping."""
    now = timezone.now()
    ids = list(queryset.filter(status__in=MessageStatus.cancellable()).values_list("pk", flat=True))
    if not ids:
        return 0
    cancelled = OutboundMessage.objects.filter(
        pk__in=ids, status__in=MessageStatus.cancellable()
    ).update(
        status=MessageStatus.CANCELED, reason_code=reason_code, reason=reason[:300], finished_at=now
    )
    # A dispatch may have claimed some in between: log only those this call cancelled.
    ids = list(
        OutboundMessage.objects.filter(
            pk__in=ids, status=MessageStatus.CANCELED, finished_at=now
        ).values_list("pk", flat=True)
    )
    MessageEvent.objects.bulk_create(
        [
            MessageEvent(
                message_id=pk,
                kind=MessageEvent.Kind.TRANSITION,
                status=MessageStatus.CANCELED,
                detail={"reason_code": reason_code, "reason": reason},
            )
            for pk in ids
        ]
    )
    message_outcomes_fire(ids)
    return cancelled


def messages_cancel_to_address(*, address: str, reason_code: str, reason: str) -> int:
    """Cancels what is waiting for this address, except keyword replies: the confirmation
    of an opt-out must still go out."""
    return messages_cancel(
        queryset=OutboundMessage.objects.filter(to_address=address).exclude(
            origin=MessageOrigin.KEYWORD_REPLY
        ),
        reason_code=reason_code,
        reason=reason,
    )
