"""Inbound texts: stored once on the contact's thread, keywords acted on in the same
request (an opt-out takes effect at once), everything else handed on by a worker as an
sms_reply event."""

import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.accounts.selectors import brand_current
from apps.consent.models import (
    Channel,
    ConsentAction,
    ConsentRecord,
    ConsentSource,
    ConsentStatus,
    Purpose,
    Suppression,
)
from apps.consent.selectors import consent_for_address
from apps.consent.services import (
    Evidence,
    consent_confirm,
    consent_opt_in,
    consent_revoke_channel,
    suppression_add,
    suppression_remove,
)
from apps.contacts.events import record_event
from apps.contacts.models import Contact, EventType
from apps.core.queue import task_send
from apps.sends import keywords
from apps.sends.hooks import reply_fire
from apps.sends.models import (
    InboundMessage,
    KeywordRule,
    MessageOrigin,
    OutboundMessage,
    Sender,
)
from apps.sends.selectors.senders import sender_for_inbound
from apps.sends.services.messages import message_create, messages_cancel_to_address

logger = logging.getLogger(__name__)

CONFIRMATION_WINDOW = timedelta(minutes=5)
REPLY_WAITING = "stored; to be handed to routing"
LOST_HAND_ON_AFTER = timedelta(minutes=2)
SWEEP_BATCH = 500
E164 = re.compile(r"\+[1-9][0-9]{6,14}")


@dataclass(frozen=True)
class InboundText:
    sid: str
    from_address: str
    to_address: str
    body: str
    messaging_service_sid: str = ""  # when To is one of a Messaging Service's numbers


@dataclass(frozen=True)
class KeywordRules:
    """The active custom keywords for the number a text came in on (every sender's, that
    sender's and its program's), read once per inbound text."""

    custom: dict[str, str]  # keyword -> keywords.OPT_OUT / OPT_IN / HELP
    replies: dict[str, tuple[int, str]]  # case-folded keyword -> (rule id, auto-reply)

    @classmethod
    def active(cls, sender: Sender | None) -> "KeywordRules":
        kinds = {"opt_out": keywords.OPT_OUT, "opt_in": keywords.OPT_IN, "help": keywords.HELP}
        custom, replies = {}, {}
        # Plain rows, not model instances: this runs in every inbound webhook.
        rows = (
            KeywordRule.objects.filter(is_active=True)
            .filter(_rules_of(sender))
            # Every sender's first, then the program's, then the sender's own: the last wins.
            .order_by(F("sender").asc(nulls_first=True), F("program").asc(nulls_first=True))
            .values_list("pk", "keyword", "kind", "reply")
        )
        for pk, keyword, kind, reply in rows:
            if kind == KeywordRule.Kind.REPLY:
                replies[keyword.casefold()] = (pk, reply)
            elif _custom_usable(pk, keyword, kinds[kind]):
                custom[keyword] = kinds[kind]
        return cls(custom, replies)


def _rules_of(sender: Sender | None) -> Q:
    """Rules for every sender, plus this sender's own and its program's."""
    scope = Q(sender=None, program=None)
    if sender is None:
        return scope
    scope |= Q(sender=sender)
    if sender.program_id:
        scope |= Q(program_id=sender.program_id, sender=None)
    return scope


def _custom_usable(pk: int, keyword: str, kind: str) -> bool:
    """A rule saved before the classifier learnt to refuse it (e.g. "STP" as an opt-in, now
    read as a misspelt STOP) is left out, so one bad row never fails every inbound text."""
    try:
        keywords.custom_keyword_check(keyword, kind)
    except ValueError as error:
        logger.warning("keyword rule %s is ignored: %s", pk, error)
        return False
    return True


def inbound_receive(*, text: InboundText) -> InboundMessage:
    """Stores the text once (a repeated webhook changes nothing) and acts on it: a keyword
    in this same request, so that an opt-out holds before the webhook answers; any other
    reply right after, in a worker (`inbound_reply_handle`)."""
    sender = sender_for_inbound(
        to_address=text.to_address, messaging_service_sid=text.messaging_service_sid
    )
    rules = KeywordRules.active(sender)
    match = keywords.keyword_classify(text.body, custom=rules.custom)
    if match.kind == keywords.NONE:
        return _reply_store(text, match)
    return _keyword_receive(text, match, rules)


def _reply_store(text: InboundText, match) -> InboundMessage:
    """A single INSERT, committed on its own: what a reply leads to (auto-reply, routing,
    journeys) needs it stored, not done, before Twilio gets its answer."""
    inbound = _inbound_insert(text, match, outcome=REPLY_WAITING, handled=False)
    if inbound is None:
        return InboundMessage.objects.get(provider_sid=text.sid)
    transaction.on_commit(lambda: _reply_hand_on(inbound.pk))
    return inbound


@transaction.atomic
def _keyword_receive(text: InboundText, match, rules: KeywordRules) -> InboundMessage:
    inbound = _inbound_insert(text, match, outcome="", handled=True)
    if inbound is None:
        return InboundMessage.objects.get(provider_sid=text.sid)
    inbound.outcome = _ACTIONS[match.kind](inbound, match, rules)
    InboundMessage.objects.filter(pk=inbound.pk).update(outcome=inbound.outcome)
    reply_fire(inbound, lambda: _last_outbound(inbound))
    return inbound


def inbound_reply_handle(*, inbound_id: int) -> str | None:
    """Does once what a stored reply asks for: a custom auto-reply, then the sms_reply
    event for routing and journeys. None when another run has done it already; a failure
    rolls back and leaves the reply for the sweep."""
    with transaction.atomic():
        claimed = InboundMessage.objects.filter(pk=inbound_id, handled_at=None).update(
            handled_at=timezone.now()
        )
        if not claimed:
            return None
        inbound = InboundMessage.objects.select_related("contact").get(pk=inbound_id)
        inbound.outcome = _reply(inbound, None, KeywordRules.active(_sender_of(inbound)))
        InboundMessage.objects.filter(pk=inbound_id).update(outcome=inbound.outcome)
        reply_fire(inbound, lambda: _last_outbound(inbound))
    return inbound.outcome


def inbound_unhandled_hand_on(*, older_than: timedelta = LOST_HAND_ON_AFTER) -> int:
    """Hands on again the replies whose task never ran (broker down, worker lost)."""
    cutoff = timezone.now() - older_than
    ids = list(
        InboundMessage.objects.filter(handled_at=None, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for pk in ids:
        _reply_hand_on(pk)
    return len(ids)


def _reply_hand_on(inbound_id: int) -> None:
    from apps.sends.tasks import inbound_reply_handle_task

    task_send(inbound_reply_handle_task, inbound_id)  # lost: the sweep hands it on later


def _inbound_insert(
    text: InboundText, match, *, outcome: str, handled: bool
) -> InboundMessage | None:
    """One INSERT … ON CONFLICT DO NOTHING: the provider's message id decides whether this
    is the first delivery of the webhook (a row comes back) or a repeat (nothing does).
    The sender's contact is found by the same statement."""
    now = timezone.now()
    inbound = InboundMessage(
        provider_sid=text.sid,
        from_address=text.from_address,
        to_address=text.to_address,
        messaging_service_sid=text.messaging_service_sid,
        body=text.body[:1600],
        keyword_kind=match.kind,
        keyword=match.keyword[:160],
        classification_rule=str(match.rule),
        classification_language=match.language,
        classification_detail=match.detail[:300],
        outcome=outcome,
        received_at=now,
        handled_at=now if handled else None,
    )
    columns = ["provider_sid", "from_address", "to_address", "messaging_service_sid", "body"]
    columns += ["keyword_kind", "keyword"]
    columns += ["classification_rule", "classification_language", "classification_detail"]
    values = [getattr(inbound, column) for column in columns]
    ops = connection.ops
    columns += ["outcome", "received_at", "handled_at", "contact_id"]
    values += [outcome, ops.adapt_datetimefield_value(now)]
    values += [ops.adapt_datetimefield_value(inbound.handled_at), _phone_key(text.from_address)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {InboundMessage._meta.db_table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(['%s'] * (len(columns) - 1))}, "
            f"(SELECT id FROM {Contact._meta.db_table} WHERE phone = %s ORDER BY id LIMIT 1)) "
            "ON CONFLICT (provider_sid) DO NOTHING RETURNING id, contact_id",
            values,
        )
        row = cursor.fetchone()
    if row is None:
        return None
    inbound.pk, inbound.contact_id = row
    return inbound


def _phone_key(address: str) -> str:
    """The sender as the phone column stores it: E.164, which is how Twilio sends it, so
    only another form is parsed. (The webhook refuses a text without a sender.)"""
    if E164.fullmatch(address):
        return address
    return Contact._meta.get_field("phone").get_prep_value(address)


def _evidence(inbound: InboundMessage, match) -> Evidence:
    return Evidence(
        inbound_message_sid=inbound.provider_sid,
        keyword=match.keyword,
        note=f"Inbound SMS: {inbound.body[:200]}",
    )


def _opt_out(inbound: InboundMessage, match, rules: KeywordRules) -> str:
    """STOP and every reasonable revocation: consent ends now, queued messages are cancelled,
    and one confirmation follows (never two within five minutes)."""
    # The number itself is suppressed, whoever owns it now or later; the contact's ledger
    # records the revocation as evidence.
    suppression_add(
        address=inbound.from_address,
        reason=Suppression.Reason.OPT_OUT_KEYWORD
        if inbound.contact is not None
        else Suppression.Reason.STOP_UNKNOWN_SENDER,
        source=ConsentSource.KEYWORD,
        contact=inbound.contact,
        note=f"{match.keyword} ({inbound.provider_sid})",
    )
    if inbound.contact is not None:
        consent_revoke_channel(
            contact=inbound.contact,
            channel=Channel.SMS,
            source=ConsentSource.KEYWORD,
            evidence=_evidence(inbound, match),
        )
    cancelled = messages_cancel_to_address(
        address=inbound.from_address,
        reason_code="opted_out",
        reason=f"The recipient replied {match.keyword!r}.",
    )
    _reply_once(
        inbound,
        "stop",
        _signed("You're unsubscribed and will get no more messages. Reply START to resubscribe."),
    )
    return f"opted out; {cancelled} queued message(s) cancelled"


def _opt_in(inbound: InboundMessage, match, rules: KeywordRules) -> str:
    """START/UNSTOP resubscribe only where the ledger holds an earlier opt-in to return to."""
    suppression_remove(address=inbound.from_address)
    contact = inbound.contact
    if contact is None or not _had_opt_in(contact, Purpose.MARKETING, inbound.from_address):
        consent = "no earlier marketing opt-in, so marketing stays off"
    else:
        consent_opt_in(
            contact=contact,
            channel=Channel.SMS,
            purpose=Purpose.MARKETING,
            source=ConsentSource.KEYWORD,
            evidence=_evidence(inbound, match),
        )
        consent = "marketing resumed"
    if contact is not None:
        consent_opt_in(
            contact=contact,
            channel=Channel.SMS,
            purpose=Purpose.TRANSACTIONAL,
            source=ConsentSource.KEYWORD,
            evidence=_evidence(inbound, match),
        )
    _reply_once(
        inbound,
        "start",
        _signed("You're resubscribed. Reply HELP for help, STOP to opt out."),
    )
    return f"resubscribed ({consent})"


def _had_opt_in(contact: Contact, purpose: str, address: str) -> bool:
    """An opt-in given for this number: one given for the contact's old number is not."""
    return ConsentRecord.objects.filter(
        contact=contact,
        channel=Channel.SMS,
        purpose=purpose,
        action=ConsentAction.OPT_IN,
        address=_phone_key(address),
    ).exists()


def _confirm(inbound: InboundMessage, match, rules: KeywordRules) -> str:
    """YES confirms a pending double opt-in; otherwise it is a reply like any other."""
    contact = inbound.contact
    status = (
        consent_for_address(
            contact=contact,
            channel=Channel.SMS,
            purpose=Purpose.MARKETING,
            address=inbound.from_address,
        )
        if contact
        else None
    )
    if status == ConsentStatus.PENDING:
        consent_confirm(
            contact=contact, source=ConsentSource.KEYWORD, evidence=_evidence(inbound, match)
        )
        # The consumer confirmed from the number: their own earlier STOP is lifted.
        suppression_remove(address=inbound.from_address)
        _reply_once(
            inbound,
            "confirm",
            _signed(
                "Thanks, you're confirmed. Msg & data rates may apply. "
                "Reply HELP for help, STOP to opt out."
            ),
        )
        return "double opt-in confirmed"
    return _reply(inbound, match, rules)


def _help(inbound: InboundMessage, match, rules: KeywordRules) -> str:
    sender = _sender_of(inbound)
    program = sender.program if sender is not None else None
    help_text = brand_current().help_text(program) or _signed("Reply STOP to opt out.")
    _reply_once(inbound, "help", help_text)
    return "help sent"


def _signed(text: str) -> str:
    """A keyword reply opens with the brand's name, as set in the admin at this moment."""
    name = brand_current().name
    return f"{name}: {text}" if name else text


def _reply(inbound: InboundMessage, match, rules: KeywordRules) -> str:
    """Any other text: custom auto-replies, then the hand-off to routing and journeys."""
    rule_id, auto_reply = rules.replies.get(inbound.body.strip().casefold(), (None, ""))
    if auto_reply:
        _reply_once(inbound, f"rule-{rule_id}", auto_reply)
    if inbound.contact is None:
        return "stored (unknown sender)"
    last = _last_outbound(inbound)
    record_event(
        contact=inbound.contact,
        type=EventType.SMS_REPLY,
        occurred_at=inbound.received_at,
        idempotency_key=f"inbound:{inbound.provider_sid}",
        source="sms",
        properties={
            "body": inbound.body[:1600],
            "inbound_message_id": inbound.pk,
            "message_id": last.pk if last else None,
            "journey_id": last.journey_id if last else None,
        },
    )
    return "handed to routing as sms_reply"


def _last_outbound(inbound: InboundMessage) -> OutboundMessage | None:
    return (
        OutboundMessage.objects.filter(to_address=inbound.from_address, sent_at__isnull=False)
        .order_by("-sent_at")
        .first()
    )


def _reply_once(inbound: InboundMessage, kind: str, body: str) -> None:
    """At most one automatic reply of a kind to a number within five minutes."""
    since = timezone.now() - CONFIRMATION_WINDOW
    if OutboundMessage.objects.filter(
        to_address=inbound.from_address,
        origin=MessageOrigin.KEYWORD_REPLY,
        send_key__startswith=f"keyword:{kind}:",
        created_at__gte=since,
    ).exists():
        return
    message_create(
        send_key=f"keyword:{kind}:{inbound.provider_sid}",
        origin=MessageOrigin.KEYWORD_REPLY,
        category="transactional",
        contact=inbound.contact,
        to_address=inbound.from_address,
        body=body,
        from_sender=_sender_of(inbound),  # the reply threads
    )


def _sender_of(inbound: InboundMessage) -> Sender | None:
    return sender_for_inbound(
        to_address=inbound.to_address, messaging_service_sid=inbound.messaging_service_sid
    )


_ACTIONS = {
    keywords.OPT_OUT: _opt_out,
    keywords.OPT_IN: _opt_in,
    keywords.CONFIRM: _confirm,
    keywords.HELP: _help,
    keywords.NONE: _reply,
}
