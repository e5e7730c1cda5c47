"""Outbound webhooks for SMS activity and consent: message.status, message.clicked,
message.replied and consent.changed, so that a team on any CRM can record what the CRM
connectors record, with its own receiver.

Registered on the sends and consent hooks (`RoutingConfig.ready`), each with
`webhook_subscribed` as its listening check: when no active endpoint takes the event type,
the hook builds no records and nothing is written. Otherwise the deliveries are written in
the transaction that records the change and sent after commit, signed and retried like the
task webhooks (`apps.routing.services.webhooks`). Each batch reads its contacts in one query.
"""

from datetime import datetime

from apps.consent.hooks import ConsentChange, consent_change_handler_register
from apps.contacts.models import Contact
from apps.routing.models import WebhookEvent
from apps.routing.services.webhooks import (
    contact_payload,
    webhook_events_enqueue,
    webhook_subscribed,
)
from apps.sends.hooks import (
    LinkClicked,
    MessageFacts,
    MessageOutcome,
    ReplyReceived,
    link_click_handler_register,
    message_outcome_handler_register,
    reply_handler_register,
)

HANDLER = "routing.webhooks"


def activity_webhooks_register() -> None:
    message_outcome_handler_register(
        HANDLER, message_status_webhooks, listening=_listening(WebhookEvent.MESSAGE_STATUS)
    )
    link_click_handler_register(
        HANDLER, message_clicked_webhooks, listening=_listening(WebhookEvent.MESSAGE_CLICKED)
    )
    reply_handler_register(
        HANDLER, message_replied_webhooks, listening=_listening(WebhookEvent.MESSAGE_REPLIED)
    )
    consent_change_handler_register(
        HANDLER, consent_changed_webhooks, listening=_listening(WebhookEvent.CONSENT_CHANGED)
    )


def _listening(event: str):
    return lambda: webhook_subscribed(event)


def message_status_webhooks(outcomes: list[MessageOutcome]) -> None:
    contacts = _contacts(o.message.contact_id for o in outcomes)
    event = WebhookEvent.MESSAGE_STATUS
    webhook_events_enqueue(
        [
            (event, f"{event}:{o.message.message_id}:{o.status}", _status(o, contacts))
            for o in outcomes
        ]
    )


def message_clicked_webhooks(clicks: list[LinkClicked]) -> None:
    contacts = _contacts(c.message.contact_id for c in clicks)
    event = WebhookEvent.MESSAGE_CLICKED
    webhook_events_enqueue([(event, f"{event}:{c.click_id}", _click(c, contacts)) for c in clicks])


def message_replied_webhooks(replies: list[ReplyReceived]) -> None:
    contacts = _contacts(r.contact_id for r in replies)
    event = WebhookEvent.MESSAGE_REPLIED
    webhook_events_enqueue(
        [(event, f"{event}:{r.inbound_id}", _reply(r, contacts)) for r in replies]
    )


def consent_changed_webhooks(changes: list[ConsentChange]) -> None:
    contacts = _contacts(c.contact_id for c in changes)
    event = WebhookEvent.CONSENT_CHANGED
    webhook_events_enqueue(
        [
            (event, f"{event}:{c.contact_id}:{c.record_id}:{c.purpose}", _consent(c, contacts))
            for c in changes
        ]
    )


# --- Payloads (documented with an example each in the README) ---------------------------------


def _status(outcome: MessageOutcome, contacts: dict[int, Contact]) -> dict:
    return {
        **_message(outcome.message),
        "status": outcome.status,
        "at": _iso(outcome.at),
        "provider_sid": outcome.provider_sid,
        "error_code": outcome.error_code,
        "error_message": outcome.error_message,
        "reason_code": outcome.reason_code,
        "contact": contact_payload(contacts.get(outcome.message.contact_id)),
    }


def _click(click: LinkClicked, contacts: dict[int, Contact]) -> dict:
    return {
        "click_id": click.click_id,
        "at": _iso(click.at),
        "link": {"key": click.link_key, "key_link": click.is_key_link, "url": click.destination},
        "message": _message(click.message),
        "contact": contact_payload(contacts.get(click.message.contact_id)),
    }


def _reply(reply: ReplyReceived, contacts: dict[int, Contact]) -> dict:
    return {
        "inbound_message_id": reply.inbound_id,
        "received_at": _iso(reply.received_at),
        "from": reply.from_address,
        "to": reply.to_address,
        "body": reply.body,
        "classification": {
            "kind": reply.keyword_kind,
            "keyword": reply.keyword,
            "rule": reply.classification_rule,
        },
        "outcome": reply.outcome,
        "in_reply_to": _message(reply.in_reply_to) if reply.in_reply_to else None,
        "contact": contact_payload(contacts.get(reply.contact_id)),
    }


def _consent(change: ConsentChange, contacts: dict[int, Contact]) -> dict:
    return {
        "channel": change.channel,
        "purpose": change.purpose,
        "old_status": change.old_status,
        "new_status": change.new_status,
        "action": change.action,
        "source": change.source,
        "address": change.address,
        "ledger_record_id": change.record_id,
        "at": _iso(change.at),
        "contact": contact_payload(contacts.get(change.contact_id)),
    }


def _message(facts: MessageFacts) -> dict:
    template = None
    if facts.template_version_id is not None:
        template = {
            "id": facts.template_id,
            "name": facts.template_name,
            "version_id": facts.template_version_id,
            "version": facts.template_version_number,
        }
    return {
        "message_id": facts.message_id,
        "channel": facts.channel,
        "origin": facts.origin,
        "category": facts.category,
        "journey": (
            {"id": facts.journey_id, "step_id": facts.step_id, "enrollment_id": facts.enrollment_id}
            if facts.journey_id is not None
            else None
        ),
        "template": template,
    }


def _contacts(ids) -> dict[int, Contact]:
    wanted = {pk for pk in ids if pk is not None}
    return Contact.objects.in_bulk(wanted) if wanted else {}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
