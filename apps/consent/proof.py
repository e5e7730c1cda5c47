"""A contact's consent proof: every ledger row with its evidence and the current state,
as rows for the admin page and as JSON / CSV exports. Reads only."""

import json
from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils import timezone

from apps.consent.models import (
    Channel,
    ConsentAction,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    Purpose,
)
from apps.consent.selectors import consent_ledger
from apps.contacts.models import Contact
from apps.contacts.selectors import TimelineEntry
from apps.core.spreadsheets import csv_write

RECORD_COLUMNS = [
    "record_id", "occurred_at", "recorded_at", "channel", "purpose", "action", "source",
    "address", "ip_address", "user_agent", "page_url", "disclosure_id", "disclosure",
    "disclosure_text", "form_id", "form_slug", "actor", "inbound_message_sid", "keyword", "note",
]  # fmt: skip
STATE_COLUMNS = [
    "channel", "purpose", "status", "address", "last_record_id", "opted_in_at", "confirmed_at",
    "opted_out_at",
]  # fmt: skip
ACTION_VERBS = {
    ConsentAction.OPT_IN: "Opted in to",
    ConsentAction.OPT_OUT: "Opted out of",
    ConsentAction.CONFIRM: "Confirmed",
}


@dataclass(frozen=True)
class ConsentProof:
    contact: Contact
    records: list[dict]
    states: list[dict]
    generated_at: datetime


def consent_proof(*, contact: Contact) -> ConsentProof:
    states = ConsentState.objects.filter(contact=contact).order_by("channel", "purpose")
    return ConsentProof(
        contact=contact,
        records=[record_row(record) for record in consent_ledger(contact=contact)],
        states=[state_row(state) for state in states],
        generated_at=timezone.now(),
    )


def record_row(record: ConsentRecord) -> dict:
    return {
        "record_id": record.pk,
        "occurred_at": record.occurred_at,
        "recorded_at": record.recorded_at,
        "channel": record.channel,
        "purpose": record.purpose,
        "action": record.action,
        "source": record.source,
        "address": record.address,
        "ip_address": record.ip_address or "",
        "user_agent": record.user_agent,
        "page_url": record.page_url,
        "disclosure_id": record.disclosure_id,
        "disclosure": str(record.disclosure) if record.disclosure else "",
        "disclosure_text": record.disclosure_text,
        "form_id": record.form_id,
        "form_slug": record.form.slug if record.form else "",
        "actor": record.actor.get_username() if record.actor else "",
        "inbound_message_sid": record.inbound_message_sid,
        "keyword": record.keyword,
        "note": record.note,
    }


def state_row(state: ConsentState) -> dict:
    return {
        "channel": state.channel,
        "purpose": state.purpose,
        "status": state.status,
        "address": state.address,
        "last_record_id": state.last_record_id,
        "opted_in_at": state.opted_in_at,
        "confirmed_at": state.confirmed_at,
        "opted_out_at": state.opted_out_at,
    }


def proof_json(proof: ConsentProof) -> str:
    contact = proof.contact
    document = {
        "contact": {
            "id": contact.pk,
            "name": contact.full_name,
            "phone": str(contact.phone),
            "email": contact.email,
        },
        "generated_at": proof.generated_at,
        "states": proof.states,
        "records": proof.records,
    }
    return json.dumps(document, indent=2, default=_json_value, ensure_ascii=False)


def _json_value(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def proof_csv(proof: ConsentProof) -> str:
    """The ledger rows, one per line, safe to open in a spreadsheet."""
    return csv_write(
        columns=RECORD_COLUMNS,
        rows=([row[column] for column in RECORD_COLUMNS] for row in proof.records),
        crlf=True,
    )


def consent_timeline_entries(contact: Contact, limit: int) -> list[TimelineEntry]:
    """The contact's ledger on their timeline, each entry linking to the consent proof."""
    records = consent_ledger(contact=contact).order_by("-occurred_at", "-id")[:limit]
    url = reverse("admin:consent_consentrecord_proof", args=[contact.pk])
    return [
        TimelineEntry(
            at=record.occurred_at,
            kind="consent",
            title=record_title(record),
            detail=evidence_summary(record),
            url=url,
        )
        for record in records
    ]


def record_title(record: ConsentRecord) -> str:
    """e.g. "Opted in to SMS marketing via web form"."""
    channel, purpose, source = (
        _in_sentence(choices(value).label)
        for choices, value in (
            (Channel, record.channel),
            (Purpose, record.purpose),
            (ConsentSource, record.source),
        )
    )
    if record.action == ConsentAction.NEW_ADDRESS:
        title = f"{channel} {purpose} consent ended: the address changed"
        return title[:1].upper() + title[1:]
    verb = ACTION_VERBS.get(record.action, record.action)
    return f"{verb} {channel} {purpose} via {source}"


def _in_sentence(label: str) -> str:
    """ "Web form" -> "web form"; acronyms such as "SMS keyword" or "API" stay as they are."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def evidence_summary(record: ConsentRecord) -> str:
    parts = [
        ("address", record.address),
        ("keyword", record.keyword),
        ("IP", record.ip_address),
        ("form", record.form.slug if record.form else ""),
        ("disclosure", str(record.disclosure) if record.disclosure else ""),
        ("by", record.actor.get_username() if record.actor else ""),
        ("note", record.note),
    ]
    return ", ".join(f"{name} {value}" for name, value in parts if value)
