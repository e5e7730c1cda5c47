"""Dispatch in batches: claim many queued messages by one conditional UPDATE, gate them again
as a batch under their contacts' locks, take their pacing slots in one step, call the transport for
each concurrently through one reused client, and record what happened in bulk. Messages the
batch's slots cannot reach go back to the broker unclaimed; a batch claimed ahead of its slots
hands its calls on to tasks due at them rather than sleep in a pool process. Each message
is still sent at most once; a send whose outcome is unknown is reconciled with the provider,
never sent again blindly."""

import logging
import math
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from apps.sends.gate_batch import gates_evaluate, one_per_contact
from apps.sends.models import Decision, MessageEvent, MessageStatus, OutboundMessage
from apps.sends.policy import quiet_hours_cover
from apps.sends.quiet_hours import Recipient, recipient_validity_seconds
from apps.sends.selectors.senders import sender_for_message
from apps.sends.services.messages import contacts_lock, decision_apply
from apps.sends.services.outcomes import outcome_failure, outcomes_sent
from apps.sends.services.pacing import pace_next_free, pace_slots_take, sender_rate
from apps.sends.transports import transport_for
from apps.sends.transports.base import SendResult, TransportError
from apps.sends.transports.twilio import SEND_THREADS

logger = logging.getLogger(__name__)

MAX_PACING_SLEEP = 6.0  # a batch takes the slots of this many seconds ahead at most
# A batch whose first slot is further ahead than this (it was claimed PACED_RETURN_EARLY
# ahead of its slots) does not sleep in its pool process until then: its calls go to tasks
# due at their slots, which Celery keeps in the worker's timer meanwhile. Each task makes
# the calls of CALLS_GROUP_SPAN of slots, each at its slot, so no task holds a process
# longer than that while another sender's batch waits for one (a task per call would
# cost more than a pool process of a loaded machine gets done). The slots are taken at
# the claim: a task that starts late makes its overdue calls at once, and the schedule
# after them loses nothing.
CALLS_HAND_ON_BEYOND = 0.5
CALLS_GROUP_SPAN = 1.0
# A calls task run later than this after the claim (a worker restarted, its task restored
# from the broker) makes no call: the sweep reconciles those messages, and a call it made
# could race the sweep's hand-back (which waits IN_FLIGHT_TOO_LONG, far longer).
CALLS_TASK_LIVES = timedelta(minutes=2)
# A batch handed back comes this long before its senders' next free slot: time to claim and
# gate it again before that slot, so the schedule never idles meanwhile (a claim and gate
# of 50 took up to 2 s on a loaded 2-core machine). A batch finding every sender's schedule
# taken further ahead goes back without a claim, and one whose claim finds it so takes no
# slot: it would hold a worker process only to wait for them.
PACED_RETURN_EARLY = 3.0
DISPATCH_BATCH = 50  # messages one dispatch task claims: a batch's slots fit one pacing wait
# A dispatch task not run by then is dropped by the worker; until then the sweep leaves its
# messages alone, so a long queue never collects a second task for the same message.
DISPATCH_TASK_LIVES = timedelta(minutes=15)


def message_dispatch(*, message_id: int) -> str:
    """Sends one queued message at most once. Returns what happened, for logs and tests."""
    return messages_dispatch(message_ids=[message_id])[message_id]


def messages_dispatch(*, message_ids: list[int]) -> dict[int, str]:
    """Sends each queued message among `message_ids` at most once; answers what happened
    to each ("not_claimed" for those another run has, or that are no longer queued)."""
    outcomes = dict.fromkeys(message_ids, "not_claimed")
    if unclaimed := _beyond_reach(message_ids):
        _unclaimed_hand_back(unclaimed)
        handed_back = {pk for leftover in unclaimed for pk in leftover.ids}
        outcomes.update(dict.fromkeys(handed_back, "repaced"))
        message_ids = [pk for pk in message_ids if pk not in handed_back]
    by_sender = defaultdict(list)
    for message in _claim(message_ids):
        if message.status != MessageStatus.SENDING:
            outcomes[message.pk] = message.status
        else:
            # One batch per sender too: each is paced at its own rate and sent from it.
            by_sender[(message.channel, sender_for_message(message))].append(message)
    # Every sender's slots are taken before any call is made, and the calls of all of them
    # are made together in slot order: one sender's batch never waits behind another's
    # while its schedule runs idle.
    batches = [_slots_take(transport_for(messages[0]), messages) for messages in by_sender.values()]
    _repaced_hand_back(batches)
    for batch in batches:
        outcomes.update(dict.fromkeys((m.pk for m in batch.repaced), "repaced"))
    handed_on = _calls_hand_on(batches)
    return {**outcomes, **(_batches_send(batches) if handed_on is None else handed_on)}


def messages_call(*, slots: dict[int, datetime], claimed_at: datetime) -> dict[int, str]:
    """Makes the calls a dispatch claimed and handed on (`slots`: each message's pacing
    slot), each at its slot, once: the messages still in the claim of `claimed_at` are taken
    by one conditional UPDATE, so a second run of the task calls nothing."""
    outcomes = dict.fromkeys(slots, "not_claimed")
    by_sender = defaultdict(list)
    for message in _calls_claim(list(slots), claimed_at):
        by_sender[(message.channel, sender_for_message(message))].append(message)
    batches = []
    for messages in by_sender.values():
        transport = transport_for(messages[0])
        calls = _paced_calls(transport, messages, [slots[message.pk] for message in messages])
        batches.append(SenderBatch(transport, calls, [], max(call.slot for call in calls)))
    return {**outcomes, **_batches_send(batches)}


def _batches_send(batches: list["SenderBatch"]) -> dict[int, str]:
    answers = _calls_make([call for batch in batches for call in batch.calls])
    outcomes = {}
    for batch in batches:
        outcomes.update(_outcomes_record(batch, answers))
    return outcomes


def _calls_hand_on(batches: list["SenderBatch"]) -> dict[int, str] | None:
    """Hands the batch's calls on to tasks due at their slots (CALLS_GROUP_SPAN) when the
    first slot is more than CALLS_HAND_ON_BEYOND away, and answers what became of each
    message ("handed_on"; "repaced" when the broker refused its task: it goes back to the
    queue with no attempt used). None when the batch makes its calls itself."""
    from apps.sends.tasks import messages_call_task

    calls = sorted((call for batch in batches for call in batch.calls), key=lambda c: c.slot)
    now = timezone.now()
    if not calls or (calls[0].slot - now).total_seconds() <= CALLS_HAND_ON_BEYOND:
        return None
    if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        # The filesystem broker is read once a second (a task would start up to a second
        # after its slot) and runs the single-process default, which gains no free process.
        return None
    claimed_at = calls[0].message.claimed_at  # one claim: the same moment for every message
    outcomes = {}
    for group in _calls_grouped(calls):
        slots = [[call.message.pk, call.slot.isoformat()] for call in group]
        try:
            messages_call_task.apply_async(
                (slots, claimed_at.isoformat()),
                countdown=(group[0].slot - now).total_seconds(),
                expires=claimed_at + CALLS_TASK_LIVES,
            )
        except Exception:  # kombu raises many kinds: connection, timeout, DNS, auth
            logger.warning("%d calls handed back to the queue", len(group), exc_info=True)
            messages = [call.message for call in group]
            messages_requeue(messages=messages, at=group[0].slot, reason="paced", attempted=False)
            outcomes.update((message.pk, "repaced") for message in messages)
        else:
            outcomes.update((call.message.pk, "handed_on") for call in group)
    return outcomes


def _calls_grouped(calls: list["PacedCall"]) -> list[list["PacedCall"]]:
    """`calls` (in slot order) in runs of less than CALLS_GROUP_SPAN from first to last."""
    groups = []
    for call in calls:
        if groups and (call.slot - groups[-1][0].slot).total_seconds() < CALLS_GROUP_SPAN:
            groups[-1].append(call)
        else:
            groups.append([call])
    return groups


def _calls_claim(message_ids: list[int], claimed_at: datetime) -> list[OutboundMessage]:
    """The messages among `message_ids` still sending under the claim of `claimed_at`,
    taken by one conditional UPDATE that moves their claim to now (the sweep's clock for
    an unknown outcome starts again at the call). None once CALLS_TASK_LIVES has passed."""
    now = timezone.now()
    if not message_ids or claimed_at < now - CALLS_TASK_LIVES:
        return []
    table = OutboundMessage._meta.db_table
    marks = ", ".join(["%s"] * len(message_ids))
    sql = (
        f"UPDATE {table} SET claimed_at = %s "
        f"WHERE id IN ({marks}) AND status = %s AND claimed_at = %s RETURNING id"
    )
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(sql, [adapt(now), *message_ids, MessageStatus.SENDING, adapt(claimed_at)])
        won = [row[0] for row in cursor.fetchall()]
    return list(
        OutboundMessage.objects.select_related(
            "contact", "template_version", "from_sender__program"
        )
        .filter(pk__in=won)
        .order_by("pk")
    )


@dataclass(frozen=True)
class Unclaimed:
    """Queued messages of one sender a batch leaves alone, and when that sender's first
    slot for them begins; `excess` when the sender is in reach but has fewer slots in
    reach than messages (these are due at that slot, as a handed-back message is)."""

    ids: list[int]
    at: datetime
    excess: bool


def _beyond_reach(message_ids: list[int]) -> list[Unclaimed]:
    """The queued messages among `message_ids` the batch's slots cannot reach: all of a
    sender whose schedule is taken further ahead than PACED_RETURN_EARLY, and those past
    the slots of MAX_PACING_SLEEP for the others. Read without a claim or a lock, so they
    cost a look, not a claim and a gate that would only hand them back."""
    queued = list(
        OutboundMessage.objects.filter(pk__in=message_ids, status=MessageStatus.QUEUED)
        .select_related("from_sender__program")
        .order_by("pk")
    )
    by_sender = defaultdict(list)
    for message in queued:
        by_sender[transport_for(message).sender].append(message.pk)
    now = timezone.now()
    unclaimed = []
    for sender, ids in by_sender.items():
        free = pace_next_free(sender=sender, at=now)
        lead = (free - now).total_seconds()
        if lead > PACED_RETURN_EARLY + 0.1:  # a timer's tenth of a second early is on time
            unclaimed.append(Unclaimed(ids, free, excess=False))
            continue
        interval = 1 / sender_rate(sender)
        fit = math.floor((MAX_PACING_SLEEP - lead) / interval + 1e-9) + 1
        if len(ids) > fit:
            at = free + timedelta(seconds=fit * interval)
            unclaimed.append(Unclaimed(ids[fit:], at, excess=True))
    return unclaimed


def _unclaimed_hand_back(unclaimed: list[Unclaimed]) -> None:
    """Sends the messages a batch left alone back to the broker, every sender's together
    in one task due PACED_RETURN_EARLY before the first of their slots (as
    _repaced_hand_back does for claimed ones); the excess is marked due at its slot."""
    for leftover in unclaimed:
        if leftover.excess:
            OutboundMessage.objects.filter(pk__in=leftover.ids, status=MessageStatus.QUEUED).update(
                next_attempt_at=leftover.at
            )
    first = min(leftover.at for leftover in unclaimed)
    messages_enqueue(
        message_ids=sorted(pk for leftover in unclaimed for pk in leftover.ids),
        countdown=max(0.0, (first - timezone.now()).total_seconds() - PACED_RETURN_EARLY),
    )


@transaction.atomic
def _claim(message_ids: list[int]) -> list[OutboundMessage]:
    """queued → sending, only for the caller that wins each; the gate runs again in the same
    transaction under the contacts' locks, so a STOP that landed since creation wins."""
    contacts_lock(
        OutboundMessage.objects.filter(pk__in=message_ids, status=MessageStatus.QUEUED)
        .exclude(contact=None)
        .values_list("contact_id", flat=True)
    )
    now = timezone.now()
    won = _claim_update(message_ids, now)
    messages = list(
        OutboundMessage.objects.select_related(
            "contact", "template_version", "from_sender__program"
        )
        .filter(pk__in=won)
        .order_by("pk")
    )
    allowed = _gate_again(messages, now)
    MessageEvent.objects.bulk_create(
        MessageEvent(
            message=message,
            kind=MessageEvent.Kind.TRANSITION,
            status=MessageStatus.SENDING,
            detail={
                "attempt": message.attempts,
                "gate": "allowed at dispatch",
                "inputs": result.inputs,
            },
        )
        for message, result in allowed
    )
    return messages


def _gate_again(messages: list[OutboundMessage], now: datetime) -> list[tuple]:
    """The allowed among `messages` with their gate results, gated as a batch: in rounds of
    one message per contact, each round's refusals applied before the next, so a contact's
    later message is gated against her earlier ones exactly as one by one."""
    allowed, pending = [], messages
    while pending:
        batch, pending = one_per_contact(pending, lambda message: message.contact_id)
        for message, result in zip(batch, gates_evaluate(messages=batch, at=now), strict=True):
            if result.decision == Decision.ALLOW:
                allowed.append((message, result))
            else:
                decision_apply(message=message, result=result, at=now, stage="dispatch")
    return allowed


def _claim_update(message_ids: list[int], now: datetime) -> list[int]:
    """One conditional UPDATE … RETURNING: each message goes to exactly one claimer."""
    if not message_ids:
        return []
    table = OutboundMessage._meta.db_table
    marks = ", ".join(["%s"] * len(message_ids))
    sql = (
        f"UPDATE {table} SET status = %s, claimed_at = %s, attempts = attempts + 1 "
        f"WHERE id IN ({marks}) AND status = %s RETURNING id"
    )
    claimed_at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(sql, [MessageStatus.SENDING, claimed_at, *message_ids, MessageStatus.QUEUED])
        return [row[0] for row in cursor.fetchall()]


@dataclass(frozen=True)
class PacedCall:
    """One provider call to make at its pacing slot."""

    transport: object
    message: OutboundMessage
    slot: datetime
    status_callback: str
    validity: int | None


@dataclass(frozen=True)
class SenderBatch:
    """One sender's claimed messages: the calls with a slot in reach, the messages left
    over for later slots, and when the first of those begins."""

    transport: object
    calls: list[PacedCall]
    repaced: list[OutboundMessage]
    next_free_at: datetime


def _slots_take(transport, messages: list[OutboundMessage]) -> SenderBatch:
    """Takes the batch's slots in one step; those without a slot in reach are left over."""
    sender = transport.sender
    slots = pace_slots_take(
        sender=sender,
        rate=sender_rate(sender),
        count=len(messages),
        max_wait=MAX_PACING_SLEEP,
        max_lead=PACED_RETURN_EARLY,
    )
    paced, unpaced = messages[: len(slots.taken)], messages[len(slots.taken) :]
    calls = _paced_calls(transport, paced, slots.taken)
    return SenderBatch(transport, calls, unpaced, slots.next_free_at)


def _paced_calls(transport, messages: list[OutboundMessage], slots: list[datetime]):
    return [
        PacedCall(transport, message, slot, _status_callback(message), _validity(message, slot))
        for message, slot in zip(messages, slots, strict=True)
    ]


def _repaced_hand_back(batches: list[SenderBatch]) -> None:
    """The messages without a slot in reach go back to the queue without a call, every
    sender's together in one task due shortly before the first of their next free slots:
    one process then takes the next slots of every sender, instead of a task per sender
    each holding a process while it waits for its own."""
    waiting = [batch for batch in batches if batch.repaced]
    if not waiting:
        return
    # No call was made: the claim's attempt is given back, so that pacing never uses up
    # the attempts (MAX_ATTEMPTS) or lengthens the backoff meant for provider errors.
    messages_requeue(
        messages=[message for batch in waiting for message in batch.repaced],
        at=min(batch.next_free_at for batch in waiting),
        reason="paced",
        attempted=False,
        early=PACED_RETURN_EARLY,
    )


def _outcomes_record(batch: SenderBatch, answers: dict) -> dict[int, str]:
    """What the provider answered for the batch's calls, recorded in bulk for the sent."""
    outcomes = {}
    sent = [(c.message, answers[c.message.pk]) for c in batch.calls]
    sent = [(message, answer) for message, answer in sent if _is_sent(answer)]
    outcomes_sent(sent=sent, sender=batch.transport.sender)
    outcomes.update((message.pk, "sent") for message, _ in sent)
    for call in batch.calls:
        answer = answers[call.message.pk]
        if not _is_sent(answer):
            outcomes[call.message.pk] = outcome_failure(message=call.message, error=answer)
    return outcomes


def _is_sent(answer) -> bool:
    return isinstance(answer, SendResult)


def _calls_make(calls: list[PacedCall]) -> dict[int, SendResult | TransportError]:
    """Each call at its slot, by message: the calls of transports that touch no database
    (Twilio) concurrently, whatever their sender, in slot order so that no thread waits for
    a late slot while an earlier one is due; the others in turn meanwhile."""
    threaded = sorted(
        (c for c in calls if getattr(c.transport, "calls_in_threads", False)),
        key=lambda call: call.slot,
    )
    in_turn = [c for c in calls if not getattr(c.transport, "calls_in_threads", False)]
    if len(threaded) < 2:
        in_turn, threaded = threaded + in_turn, []
    answers = {}
    with ThreadPoolExecutor(max_workers=max(1, min(SEND_THREADS, len(threaded)))) as pool:
        made = pool.map(_call_at_slot, threaded)
        answers.update((call.message.pk, _call_at_slot(call)) for call in in_turn)
        answers.update(zip((call.message.pk for call in threaded), made, strict=True))
    return answers


def _call_at_slot(call: PacedCall) -> SendResult | TransportError:
    wait = (call.slot - timezone.now()).total_seconds()
    if wait > 0:
        time.sleep(wait)
    try:
        return call.transport.send(
            call.message, status_callback=call.status_callback, validity_seconds=call.validity
        )
    except TransportError as error:
        return error


def message_requeue(*, message: OutboundMessage, at, reason: str, attempted: bool = True) -> None:
    messages_requeue(messages=[message], at=at, reason=reason, attempted=attempted)


def messages_requeue(
    *, messages: list[OutboundMessage], at, reason: str, attempted: bool = True, early=0.0
) -> None:
    """Hands claimed messages back to the queue: a short countdown brings them back near
    `at` (`early` seconds before: paced ones then wait for their slot, so the sender's
    schedule never idles while their task travels), and the sweep catches them if that
    enqueue is lost."""
    if not messages:
        return
    uncount = {} if attempted else {"attempts": F("attempts") - 1}
    ids = [message.pk for message in messages]
    with transaction.atomic():
        OutboundMessage.objects.filter(pk__in=ids, status=MessageStatus.SENDING).update(
            status=MessageStatus.QUEUED, next_attempt_at=at, **uncount
        )
        MessageEvent.objects.bulk_create(
            MessageEvent(
                message_id=pk,
                kind=MessageEvent.Kind.TRANSITION,
                status=MessageStatus.QUEUED,
                detail={"reason": reason, "next_attempt_at": at.isoformat()},
            )
            for pk in ids
        )
    countdown = max(0.0, min((at - timezone.now()).total_seconds() - early, 60.0))
    messages_enqueue(message_ids=ids, countdown=countdown)


def messages_enqueue(*, message_ids: list[int], countdown: float = 0.0) -> int:
    """Sends dispatch tasks of up to DISPATCH_BATCH messages each and marks the messages
    until when their task lives. Answers how many were enqueued; a chunk the broker refused
    keeps no mark, so the sweep enqueues it again when due."""
    from apps.sends.tasks import messages_dispatch_task

    enqueued = 0
    for start in range(0, len(message_ids), DISPATCH_BATCH):
        chunk = message_ids[start : start + DISPATCH_BATCH]
        expires = timezone.now() + timedelta(seconds=countdown) + DISPATCH_TASK_LIVES
        try:
            messages_dispatch_task.apply_async((chunk,), countdown=countdown, expires=expires)
        except Exception:  # kombu raises many kinds: connection, timeout, DNS, auth
            logger.warning("Enqueue of %d messages left to the sweep", len(chunk), exc_info=True)
            continue
        OutboundMessage.objects.filter(
            Q(dispatch_task_expires_at=None) | Q(dispatch_task_expires_at__lt=expires),
            pk__in=chunk,
            status=MessageStatus.QUEUED,
        ).update(dispatch_task_expires_at=expires)
        enqueued += len(chunk)
    return enqueued


def _status_callback(message: OutboundMessage) -> str:
    return f"{settings.PUBLIC_BASE_URL}{reverse('twilio-status')}?m={message.pk}"


def _validity(message: OutboundMessage, at: datetime) -> int | None:
    """Twilio's ValidityPeriod: the same recipient window the gate just allowed, so a text
    still queued at Twilio when the window closes fails instead of landing in quiet time."""
    if not quiet_hours_cover(message):
        return None
    recipient = Recipient.of(message.contact, message.to_address)
    return recipient_validity_seconds(recipient=recipient, at=max(at, timezone.now()))


def retry_at(attempts: int):
    """Exponential backoff for transient errors: 30 s, 1 min, 2 min, … capped at 30 min."""
    return timezone.now() + timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 1800))
