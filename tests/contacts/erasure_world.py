"""A person with rows of every kind Cue keeps about someone, and a scan of every column of
every table for what identifies them."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import time_machine
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from apps.consent.models import (
    Channel,
    ConsentAttempt,
    ConsentSource,
    Preference,
    Purpose,
)
from apps.consent.services import Evidence, consent_opt_in
from apps.contacts.models import (
    AttributeDefinition,
    Company,
    Contact,
    ContactExternalId,
    ContactImport,
    ContactMerge,
    Event,
    Opportunity,
    OpportunityStageChange,
)
from apps.contacts.services import contact_update
from apps.crm.models import ConsentFlag, OutboxItem, RecordError
from apps.inbox.models import Conversation, ConversationNote
from apps.journeys.models import Activity, Enrollment, EnrollmentState
from apps.reporting.models import Attribution, AuditFinding, AuditReport
from apps.routing.models import (
    FollowUpTask,
    TaskNotification,
    TaskSignal,
    WebhookDelivery,
    WebhookEndpoint,
)
from apps.segment_intake.models import AnonymousId, SegmentRejection, SegmentWriteKey
from apps.sends.models import (
    InboundMessage,
    LinkClick,
    MessageEvent,
    OutboundMessage,
    TrackedLink,
)
from apps.sends.services.inbound import InboundText, inbound_receive

MIDDAY = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
PHONE, NATIONAL = "+14155550142", "4155550142"
EMAIL, OLD_EMAIL = "zelphine.q@erase-test.example", "zq.old@erase-test.example"
FIRST, LAST = "Zelphine", "Quarrington"
API_ID, SEGMENT_ID, ANONYMOUS_ID = "crm-zq-7731", "seg-zq-5521", "anon-zq-9001"
HUBSPOT_ID = "hs-zq-4410"
NICKNAME = "Zeezee"
OUTBOUND_TEXT = "Hi Zelphine, your quill order code is marmalade-42"
REPLY_TEXT = "Call me at 4155550142 about the quill order, thanks heaps"
TASK_NOTE = "Left a voicemail about the quill order"
CLICK_IP, CONSENT_IP = "203.0.113.77", "198.51.100.23"
USER_AGENT = "ZqBrowser/7.7 (erase-test)"
TRACES = [
    PHONE, NATIONAL, EMAIL, OLD_EMAIL, FIRST, LAST, API_ID, SEGMENT_ID, ANONYMOUS_ID,
    HUBSPOT_ID, NICKNAME, OUTBOUND_TEXT, REPLY_TEXT, TASK_NOTE, CLICK_IP, CONSENT_IP, USER_AGENT,
    "marmalade-42",
]  # fmt: skip
TWILIO_NUMBER = "+13125550000"


@dataclass
class Person:
    contact: Contact
    outbound: OutboundMessage
    created: dict[str, int]  # part name -> rows made here, as the export should count them


def person_with_everything(*, admin, rep, journey) -> Person:
    """Zelphine: every kind of row Cue keeps about a person, with her traces in them."""
    with time_machine.travel(MIDDAY - timedelta(days=1), tick=False):
        AttributeDefinition.objects.create(key="nickname", label="Nickname", type="text", pii=True)
        AttributeDefinition.objects.create(key="plan", label="Plan", type="text")
        AttributeDefinition.objects.create(
            object_type="company", key="billing_name", label="Billing", type="text", pii=True
        )
        company = Company.objects.create(
            name="Quill Corp", attributes={"billing_name": f"{FIRST} {LAST}"}
        )
        contact = Contact.objects.create(
            first_name=FIRST, last_name=LAST, email=OLD_EMAIL, phone=PHONE, external_id=API_ID,
            time_zone="America/Los_Angeles", region="CA", company=company,
            attributes={"nickname": NICKNAME, "plan": "pro"},
        )  # fmt: skip
    with time_machine.travel(MIDDAY - timedelta(hours=20), tick=False):
        contact = contact_update(contact=contact, fields={"email": EMAIL})  # history: old email
    ContactExternalId.objects.create(contact=contact, source="api", value=API_ID)
    ContactExternalId.objects.create(contact=contact, source="segment", value=SEGMENT_ID)
    ContactExternalId.objects.create(contact=contact, source="hubspot", value=HUBSPOT_ID)
    AnonymousId.objects.create(anonymous_id=ANONYMOUS_ID, contact=contact)
    key = SegmentWriteKey.objects.create(name="web", key_hash="h" * 64, prefix="abc")
    SegmentRejection.objects.create(
        write_key=key, type="identify", reason="bad trait", received_at=MIDDAY,
        payload=f'{{"userId": "{SEGMENT_ID}", "traits": {{"email": "{EMAIL}"}}}}',
    )  # fmt: skip
    for n in range(2):
        Event.objects.create(
            contact=contact, type="form_submit", occurred_at=MIDDAY, source="web",
            idempotency_key=f"form-{EMAIL}-{n}",
            properties={"email": EMAIL, "comment": REPLY_TEXT, "name": f"{FIRST} {LAST}"},
        )  # fmt: skip
    deal = Opportunity.objects.create(
        name=f"{LAST} renewal", contact=contact, company=company, opened_at=MIDDAY
    )
    OpportunityStageChange.objects.create(
        opportunity=deal, from_stage="discovery", to_stage="demo", changed_at=MIDDAY
    )
    with time_machine.travel(MIDDAY - timedelta(hours=2), tick=False):
        consent_opt_in(
            contact=contact, channel=Channel.SMS, purpose=Purpose.MARKETING,
            source=ConsentSource.WEB_FORM,
            evidence=Evidence(
                ip_address=CONSENT_IP, user_agent=USER_AGENT, note=f"Spoke with {FIRST}",
                page_url=f"https://quill.example/optin?email={EMAIL}",
            ),
        )  # fmt: skip
    Preference.objects.create(contact=contact, topics=["quills"])
    ConsentAttempt.objects.create(
        contact=contact, address=PHONE, channel="sms", purpose="marketing", action="opt_in",
        source="import", reason_code="revoked", reason=f"{PHONE} revoked its consent",
    )  # fmt: skip
    outbound = OutboundMessage.objects.create(
        contact=contact, to_address=PHONE, body=OUTBOUND_TEXT, category="marketing",
        origin="journey", send_key="zq-1", status="delivered", sent_at=MIDDAY,
        reason=f"{PHONE} may be texted",
    )  # fmt: skip
    MessageEvent.objects.create(message=outbound, kind="provider", detail={"To": PHONE})
    link = TrackedLink.objects.create(
        token="zqtoken", message=outbound, key="pricing",
        destination=f"https://quill.example/p?e={EMAIL}",
    )  # fmt: skip
    LinkClick.objects.create(link=link, ip_address=CLICK_IP, user_agent=USER_AGENT)
    reply = InboundMessage.objects.create(
        provider_sid="SM" + "4" * 32, from_address=PHONE, to_address=TWILIO_NUMBER,
        body=REPLY_TEXT, contact=contact, classification_detail="call me",
    )  # fmt: skip
    with time_machine.travel(MIDDAY + timedelta(minutes=5), tick=False):
        inbound_receive(
            text=InboundText(
                sid="SM" + "5" * 32, from_address=PHONE, to_address=TWILIO_NUMBER, body="STOP"
            )
        )
    task = FollowUpTask.objects.create(
        contact=contact, owner=rep, signal_type="reply", reason_code="reply",
        reason=f"{FIRST} {LAST} replied: {REPLY_TEXT}", context={"body": REPLY_TEXT},
        assignment="owner", sla_minutes=60, sla_clock="clock", outcome_note=TASK_NOTE,
        warn_at=MIDDAY + timedelta(minutes=45), due_at=MIDDAY + timedelta(hours=1),
    )  # fmt: skip
    TaskSignal.objects.create(
        task=task, signal_type="reply", reason=f"{FIRST} replied", context={"text": REPLY_TEXT}
    )
    conversation = Conversation.objects.get(their_address=PHONE)  # the STOP above landed there
    ConversationNote.objects.create(conversation=conversation, author=rep, body=TASK_NOTE)
    Conversation.objects.filter(pk=conversation.pk).update(last_message_text=REPLY_TEXT)
    note = OutboundMessage.objects.create(
        recipient_user=rep, to_address="+13125550999", category="notification",
        origin="notification", send_key="task-note-1", status="sent",
        body=f"New task: {FIRST} {LAST} replied",
    )  # fmt: skip
    TaskNotification.objects.create(
        task=task, kind="assigned", recipient=rep, by_sms=True, sms_message_id=note.pk
    )
    endpoint = WebhookEndpoint.objects.create(name="CRM", url="https://crm.example/hook")
    WebhookDelivery.objects.create(
        endpoint=endpoint, event="task.created", key=f"task.created:{task.pk}",
        payload={"id": task.pk, "contact": {"id": contact.pk, "email": EMAIL, "phone": PHONE,
                                            "name": f"{FIRST} {LAST}", "external_id": API_ID}},
    )  # fmt: skip
    enrollment = Enrollment.objects.create(
        journey=journey, contact=contact, state=EnrollmentState.WAITING
    )
    Activity.objects.create(enrollment=enrollment, kind="message", reason=f"Sent to {PHONE}")
    Attribution.objects.create(
        kind="meeting", conversion_id=1, contact_id=contact.pk, converted_at=MIDDAY,
        message=outbound, touch_type="click", touched_at=MIDDAY, journey_id=journey.pk,
        credit=1, model="last_touch", computed_at=MIDDAY,
    )  # fmt: skip
    report = AuditReport.objects.create(
        period_start=MIDDAY, period_end=MIDDAY, trigger="on_demand", requested_by=admin,
        started_at=MIDDAY,
    )  # fmt: skip
    AuditFinding.objects.create(
        report=report, check_name="no_consent", count=1,
        rows=[{"id": outbound.pk, "contact_id": contact.pk, "to_address": PHONE}],
    )  # fmt: skip
    LogEntry.objects.create(
        user=admin, content_type=ContentType.objects.get_for_model(Contact),
        object_id=str(contact.pk), object_repr=f"{FIRST} {LAST}", action_flag=CHANGE,
        change_message='[{"changed": {"fields": ["Email"]}}]',
    )  # fmt: skip
    ContactImport.objects.create(
        file="imports/2026/03/people.csv", original_name="people.csv", status="done",
        rejected_rows=[
            {"line": 2, "reason": "bad region", "row": {"email": EMAIL, "first_name": FIRST}},
            {"line": 3, "reason": "bad phone", "row": {"email": "someone@else.example"}},
        ],
    )  # fmt: skip
    ContactMerge.objects.create(
        survivor=contact, duplicate_id=10**9, duplicate_label=f"{FIRST} Q. ({OLD_EMAIL})",
        reason="Same person", moved={}, filled=[],
    )  # fmt: skip
    _crm_rows(contact)
    del reply
    return Person(contact=contact, outbound=outbound, created={})


def _crm_rows(contact: Contact) -> None:
    """What Cue owes HubSpot about her, a HubSpot record of hers kept with a sync error,
    and the consent flags read from it."""
    OutboxItem.objects.create(
        system="hubspot", kind="activity", key="reply:zq-1", contact_id=contact.pk,
        payload={"direction": "inbound", "status": "replied", "body": REPLY_TEXT},
    )  # fmt: skip
    RecordError.objects.create(
        system="hubspot", direction="in", object_type="contact", record_id=HUBSPOT_ID,
        error=f"Taken without: phone {NATIONAL} is not valid", last_failed_at=MIDDAY,
        record={"id": HUBSPOT_ID, "properties": {"email": EMAIL, "firstname": FIRST}},
    )  # fmt: skip
    ConsentFlag.objects.create(system="hubspot", record_id=HUBSPOT_ID, opted_out=True)


# --- The scan ------------------------------------------------------------------------------


def traces_left(values: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, value) for every value still found, case-insensitively, in any
    column of any table the database has (with or without a model), read as text."""
    found = []
    with connection.cursor() as cursor:
        for table in _tables(cursor):
            columns = _columns(cursor, table)
            for column in columns:
                if not _contains(cursor, table, column, values):
                    continue
                found += [
                    (table, column, v) for v in values if _contains(cursor, table, column, [v])
                ]
    return found


def _tables(cursor) -> list[str]:
    tables = [t.name for t in connection.introspection.get_table_list(cursor) if t.type == "t"]
    if connection.vendor == "postgresql":  # information_schema: every base table, model or not
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
        tables = sorted(set(tables) | {row[0] for row in cursor.fetchall()})
    return tables


def _columns(cursor, table: str) -> list[str]:
    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = %s AND data_type IN ('text', 'character "
            "varying', 'character', 'json', 'jsonb', 'inet', 'cidr', 'USER-DEFINED')",
            [table],
        )
        return [row[0] for row in cursor.fetchall()]
    return [c.name for c in connection.introspection.get_table_description(cursor, table)]


def _contains(cursor, table: str, column: str, values: list[str]) -> bool:
    quote = connection.ops.quote_name
    text = f"LOWER(CAST({quote(column)} AS TEXT))"
    where = " OR ".join([f"{text} LIKE %s"] * len(values))
    cursor.execute(
        f"SELECT 1 FROM {quote(table)} WHERE {where} LIMIT 1",
        [f"%{value.lower()}%" for value in values],
    )
    return cursor.fetchone() is not None


def model_tables_scanned() -> set[str]:
    """Every model's table, auto-created (m2m, history) included: the scan must see each."""
    return {m._meta.db_table for m in apps.get_models(include_auto_created=True)}
