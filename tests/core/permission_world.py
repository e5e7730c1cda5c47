"""The data the permission matrix runs against: one signed-in client per role, one row of
every model the admin shows (so every change page has a real id), and the sales teams whose
tasks the object-level checks are about.

Two teams. East is managed by the "Sales manager" identity (morgan) and holds the "Sales rep"
identity (rita) and a second rep (bob); West holds two more (wes, wren). Rita, bob and wes
each own a contact with an open task; rita and bob also both have a task on one contact
that rita owns, and bob has a closed task too."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group
from django.core import signing
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from apps.accounts import roles
from apps.accounts.demo import DEMO_BRAND
from apps.accounts.models import BRAND_ID, Brand, Program
from apps.consent.models import (
    Channel,
    ConsentAction,
    ConsentAttempt,
    ConsentDisclosure,
    ConsentSource,
    OptInForm,
    Purpose,
    Suppression,
)
from apps.consent.services import Evidence, consent_opt_in, preference_set, suppression_add
from apps.contacts.models import (
    AttributeDefinition,
    ContactImport,
    DataSubjectRequest,
    EventHandlerFailure,
    EventWeight,
    LifecycleStageDefinition,
    Opportunity,
    OpportunityImport,
    Pipeline,
    PipelineStage,
    Segment,
)
from apps.crm.models import (
    Connection,
    Direction,
    FieldMapping,
    ObjectType,
    RecordError,
    StageMapping,
    System,
)
from apps.inbox.models import Conversation, InboxPolicy, SavedReply
from apps.journeys import versions as journey_versions
from apps.journeys.models import Activity, Enrollment, Journey, JourneyStatus, Step
from apps.library.services import (
    template_create,
    version_approve,
    version_reject,
    version_submit,
)
from apps.reporting.models import (
    Attribution,
    AttributionSettings,
    AuditReport,
    DailyRollup,
    FatigueBreach,
    FatigueSettings,
    RetentionRun,
)
from apps.routing.models import (
    FollowUpTask,
    IntentPhrase,
    RoutingRule,
    WebhookDelivery,
    WebhookEndpoint,
)
from apps.segment_intake.keys import write_key_create
from apps.segment_intake.models import SegmentRejection
from apps.sends.models import (
    FrequencyCap,
    InboundMessage,
    KeywordRule,
    LinkClick,
    OutboundMessage,
    Sender,
    SenderPool,
    TrackedLink,
)
from apps.sends.unsubscribe import SALT as UNSUBSCRIBE_SALT
from tests.factories import (
    CompanyFactory,
    ContactFactory,
    EventFactory,
    TeamFactory,
    UserFactory,
)

ANONYMOUS = "Anonymous"
IDENTITIES = (*roles.ROLES, ANONYMOUS)

SMS_BODY = (
    'Cue Demo: hi {{ contact.first_name | "there" }}, your demo is booked. '
    "Details: {link:details} Reply STOP to opt out."
)
LINKS = {"details": {"url": "https://www.example.com/demo", "key": True}}


@dataclass
class World:
    users: dict[str, object] = field(default_factory=dict)  # identity -> user (no anonymous)
    clients: dict[str, Client] = field(default_factory=dict)  # identity -> signed-in client
    objects: dict[str, object] = field(default_factory=dict)  # "app.model" -> one row
    extra: dict[str, object] = field(default_factory=dict)  # named rows the tests use

    def fill(self, value):
        """`value` with "{name.attr}" in its strings filled in from the rows, e.g.
        "/tasks/{bob_task.pk}/"; a row of the admin's is named by its model ("contactimport")."""
        if isinstance(value, str):
            return value.format_map(_Names(self)) if "{" in value else value
        if isinstance(value, dict):
            return {key: self.fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        return value


class _Names(dict):
    def __init__(self, world: World):
        super().__init__({label.split(".")[1]: row for label, row in world.objects.items()})
        self.update({user.username: user for user in world.users.values()})
        self.update(world.extra)

    def __missing__(self, key: str):
        if key == "newest_journey":  # what loading a blueprint made
            return Journey.objects.latest("pk")
        raise KeyError(key)


def world_build() -> World:
    world = World()
    _people(world)
    _crm(world)
    _consent(world)
    _library(world)
    _sends(world)
    _routing(world)
    _inbox(world)
    _journeys(world)
    _reporting(world)
    _crm_connectors(world)
    _platform(world)
    _sign_in(world)
    for identity in IDENTITIES:
        client = Client()
        if identity != ANONYMOUS:
            client.force_login(world.users[identity])
        world.clients[identity] = client
    return world


def _people(world: World) -> None:
    east, west = TeamFactory(name="East"), TeamFactory(name="West")
    names = {
        roles.MARKETER: "mia",
        roles.APPROVER: "abe",
        roles.COMPLIANCE: "cora",
        roles.SALES_REP: "rita",
        roles.SALES_MANAGER: "morgan",
        roles.ADMIN: "ada",
    }
    for role, username in names.items():
        team = east if role in (roles.SALES_REP, roles.SALES_MANAGER) else None
        world.users[role] = UserFactory(
            role=role, username=username, first_name=username.capitalize(), team=team
        )
    east.manager = world.users[roles.SALES_MANAGER]
    east.save()
    world.extra.update(
        east=east,
        west=west,
        bob=UserFactory(
            role=roles.SALES_REP, username="bob", first_name="Bob", last_name="Other", team=east
        ),
        wes=UserFactory(
            role=roles.SALES_REP, username="wes", first_name="Wes", last_name="West", team=west
        ),
        wren=UserFactory(
            role=roles.SALES_REP, username="wren", first_name="Wren", last_name="West", team=west
        ),
        author=UserFactory(role=roles.MARKETER, username="max"),
    )
    world.objects["accounts.user"] = world.extra["author"]
    world.objects["accounts.team"] = east
    brand, _ = Brand.objects.get_or_create(pk=BRAND_ID, defaults=DEMO_BRAND)
    brand.save()  # a history row, as an edit leaves (the migration's seed leaves none)
    world.objects["accounts.brand"] = brand
    world.objects["accounts.program"] = Program.objects.create(name="Fleet tips")
    world.objects["auth.group"] = Group.objects.get(name=roles.MARKETER)
    world.objects["authtoken.tokenproxy"] = Token.objects.create(user=world.extra["author"])


def _crm(world: World) -> None:
    rita, bob, wes = world.users[roles.SALES_REP], world.extra["bob"], world.extra["wes"]
    company = CompanyFactory(name="Northwind")
    contact = ContactFactory(first_name="Xena", last_name="General", company=company)
    world.extra.update(
        contact=contact,
        rita_contact=ContactFactory(first_name="Rhea", last_name="Ritas", owner=rita),
        bob_contact=ContactFactory(first_name="Boris", last_name="Bobs", owner=bob),
        wes_contact=ContactFactory(first_name="Wanda", last_name="Wests", owner=wes),
        shared_contact=ContactFactory(first_name="Sasha", last_name="Shared", owner=rita),
    )
    write_key, _key = write_key_create(name="Website")
    event = EventFactory(contact=contact)
    pipeline = Pipeline.objects.create(key="matrix_test", label="Matrix test")
    world.objects.update(
        {
            "contacts.contact": contact,
            "contacts.company": company,
            "contacts.opportunity": Opportunity.objects.create(
                name="Northwind deal", contact=contact, company=company, opened_at=timezone.now()
            ),
            "contacts.event": event,
            "contacts.eventhandlerfailure": EventHandlerFailure.objects.create(
                event=event, handler="journeys", last_error="RuntimeError", failed_at=timezone.now()
            ),
            "contacts.eventweight": EventWeight.objects.create(
                type="matrix_test", weight=1.0, half_life_days=7
            ),
            "contacts.attributedefinition": AttributeDefinition.objects.create(
                key="matrix_test", label="Matrix test", type="text"
            ),
            # Stages nobody is at, so that the admin may delete them.
            "contacts.lifecyclestagedefinition": LifecycleStageDefinition.objects.create(
                key="matrix_test", label="Matrix test", order=99, meaning="prospect"
            ),
            "contacts.pipeline": pipeline,
            "contacts.pipelinestage": PipelineStage.objects.create(
                pipeline=pipeline, key="matrix_test", label="Matrix test", order=1, meaning="open"
            ),
            "contacts.segment": Segment.objects.create(
                name="High intent",
                rules={"all": [{"field": "intent_band", "op": "eq", "value": "high"}]},
            ),
            "contacts.datasubjectrequest": DataSubjectRequest.objects.create(
                kind=DataSubjectRequest.Kind.EXPORT,
                contact_id=contact.pk,
                actor=world.users[roles.COMPLIANCE],
                format="json",
                counts={"Events": 1},
                at=timezone.now(),
            ),
            "contacts.contactimport": ContactImport.objects.create(
                file=ContentFile(b"email\nnew@example.com\n", name="people.csv"),
                original_name="people.csv",
                status=ContactImport.Status.DONE,
                created_by=world.users[roles.MARKETER],
            ),
            "contacts.opportunityimport": OpportunityImport.objects.create(
                file=ContentFile(b"name,stage\nFleet,demo\n", name="deals.csv"),
                original_name="deals.csv",
                status=OpportunityImport.Status.DONE,
                created_by=world.users[roles.ADMIN],
            ),
            "segment_intake.segmentwritekey": write_key,
            "segment_intake.segmentrejection": SegmentRejection.objects.create(
                write_key=write_key,
                message_id="m-1",
                type="track",
                reason="Give a userId or an anonymousId.",
                received_at=timezone.now(),
            ),
        }
    )


def _consent(world: World) -> None:
    contact = world.extra["contact"]
    record = consent_opt_in(
        contact=contact,
        channel=Channel.SMS,
        purpose=Purpose.MARKETING,
        source=ConsentSource.API,
        evidence=Evidence(note="matrix"),
    )
    disclosure = ConsentDisclosure.objects.create(
        key="matrix-terms", version=1, text="Msg & data rates may apply. Reply STOP to opt out."
    )
    world.objects.update(
        {
            "consent.consentrecord": record,
            "consent.consentattempt": ConsentAttempt.objects.create(
                contact=contact,
                address="+14155550998",
                channel=Channel.SMS,
                purpose=Purpose.MARKETING,
                action=ConsentAction.OPT_IN,
                source=ConsentSource.IMPORT,
                reason_code="revoked_by_consumer",
                reason="The number said STOP.",
            ),
            "consent.consentstate": contact.consent_states.get(),
            "consent.suppression": suppression_add(
                address="+14155550999", reason=Suppression.Reason.MANUAL, source="admin"
            ),
            "consent.preference": preference_set(contact=contact, sms_enabled=True),
            "consent.consentdisclosure": disclosure,
            "consent.optinform": OptInForm.objects.create(
                slug="matrix-form",
                name="Matrix form",
                brand="Cue Demo",
                program_name="Cue Demo alerts",
                help_contact="help@example.com",
                disclosure=disclosure,
                purposes=["marketing"],
            ),
        }
    )


def _draft(author, name: str):
    """A marketing SMS template and its first draft, written by `author`."""
    template = template_create(
        actor=author, name=name, channel="sms", purpose="remind", category="marketing",
        body=SMS_BODY, links=LINKS,
    )  # fmt: skip
    return template.versions.get()


def _library(world: World) -> None:
    author, approver = world.extra["author"], world.users[roles.APPROVER]
    approved, submitted, draft, rejected = (
        _draft(author, name) for name in ("Demo", "Waiting", "Still a draft", "Sent back")
    )
    for version in (approved, submitted, rejected):
        version_submit(actor=author, version=version, notify=False)
    version_approve(actor=approver, version=approved, notify=False)
    version_reject(actor=approver, version=rejected, comment="Too long.", notify=False)
    for version in (approved, submitted, draft, rejected):
        version.refresh_from_db()
    world.extra.update(
        template=approved.template, approved=approved, submitted=submitted, draft=draft,
        rejected=rejected,
    )  # fmt: skip
    world.objects.update(
        {
            "library.messagetemplate": approved.template,
            "library.templateversion": approved,
            "library.templateapproval": approved.approvals.get(),
        }
    )


def _sends(world: World) -> None:
    contact, email_contact = world.extra["contact"], world.extra["rita_contact"]
    message = OutboundMessage.objects.create(
        contact=contact,
        to_address=str(contact.phone),
        template_version=world.extra["approved"],
        body="Cue Demo: see you at 3. Reply STOP to opt out.",
        category="marketing",
        origin="journey",
        send_key="matrix-sms",
        status="delivered",
        sent_at=timezone.now(),
    )
    email = OutboundMessage.objects.create(
        contact=email_contact,
        channel="email",
        to_address=email_contact.email,
        subject="Your demo",
        body="See you there.",
        category="marketing",
        origin="journey",
        send_key="matrix-email",
        status="sent",
    )
    link = TrackedLink.objects.create(
        token="matrixtoken",
        message=message,
        key="details",
        destination="https://www.example.com/demo",
        is_key_link=True,
    )
    world.extra.update(
        message=message, unsubscribe_token=signing.dumps(email.pk, salt=UNSUBSCRIBE_SALT)
    )
    sender = Sender.objects.create(
        name="Matrix line", kind="long_code", address="+13125550111", mps=1
    )
    pool = SenderPool.objects.create(name="Matrix pool")
    pool.senders.set([sender])
    world.objects.update(
        {
            "sends.outboundmessage": message,
            "sends.trackedlink": link,
            "sends.linkclick": LinkClick.objects.create(link=link, user_agent="Mozilla/5.0"),
            "sends.inboundmessage": InboundMessage.objects.create(
                provider_sid="SM" + "9" * 32,
                from_address=str(contact.phone),
                to_address="+13125550000",
                body="Tell me more",
                contact=contact,
            ),
            "sends.frequencycap": FrequencyCap.objects.create(
                name="Matrix cap", category="marketing", window_hours=24, max_messages=5
            ),
            "sends.keywordrule": KeywordRule.objects.create(
                keyword="PRICING", kind=KeywordRule.Kind.REPLY, reply="Prices: example.com"
            ),
            "sends.sender": sender,
            "sends.senderpool": pool,
        }
    )


def _task(contact, owner, team, reason: str, **fields) -> FollowUpTask:
    now = timezone.now()
    return FollowUpTask.objects.create(
        contact=contact,
        owner=owner,
        team=team,
        signal_type="reply",
        reason_code=reason,
        reason=reason,
        assignment="owner",
        sla_minutes=60,
        sla_clock="clock",
        warn_at=now + timedelta(minutes=45),
        due_at=now + timedelta(hours=1),
        **fields,
    )


def _nobodys(first_name: str):
    """A contact nobody owns, whose task waits in a team queue."""
    return ContactFactory(first_name=first_name, last_name="Queued", owner=None)


def _routing(world: World) -> None:
    x = world.extra
    rita, bob, wes = world.users[roles.SALES_REP], x["bob"], x["wes"]
    x.update(
        rita_task=_task(x["rita_contact"], rita, x["east"], "Rita asked for pricing"),
        bob_task=_task(x["bob_contact"], bob, x["east"], "Bob's lead wants a call"),
        wes_task=_task(x["wes_contact"], wes, x["west"], "Wes's lead booked a demo"),
        rita_shared_task=_task(x["shared_contact"], rita, x["east"], "Shared: Rita's follow-up"),
        bob_shared_task=_task(x["shared_contact"], bob, x["east"], "Shared: Bob's secret note"),
        east_queue_task=_task(_nobodys("Quinn"), None, x["east"], "Waits in East's queue"),
        west_queue_task=_task(_nobodys("Walt"), None, x["west"], "Waits in West's queue"),
        bob_done_task=_task(
            x["bob_contact"],
            bob,
            x["east"],
            "Bob closed this one",
            status="done",
            outcome="connected",
            completed_at=timezone.now(),
        ),
    )
    endpoint = WebhookEndpoint.objects.create(
        name="CRM", url="https://crm.example.com/hooks", events=["task.created"]
    )
    world.objects.update(
        {
            "routing.followuptask": x["bob_task"],
            "routing.routingrule": RoutingRule.objects.create(name="Replies", team=x["east"]),
            "routing.intentphrase": IntentPhrase.objects.create(
                phrase="ring me", intent="positive"
            ),
            "routing.webhookendpoint": endpoint,
            "routing.webhookdelivery": WebhookDelivery.objects.create(
                endpoint=endpoint, event="task.created", key="task.created:1", payload={"id": 1}
            ),
        }
    )


def _inbox(world: World) -> None:
    """Conversations: Rita's, Bob's (East), Wes's (West), and one from an unknown number
    nobody has taken."""
    x = world.extra
    rita, now = world.users[roles.SALES_REP], timezone.now()

    def conversation(contact, user, team, their):
        return Conversation.objects.create(
            their_address=their,
            our_address="+13125550000",
            contact=contact,
            assigned_user=user,
            assigned_team=team,
            last_message_at=now,
            last_message_text="A question",
        )

    x.update(
        rita_conversation=conversation(x["rita_contact"], rita, x["east"], "+13125550101"),
        bob_conversation=conversation(x["bob_contact"], x["bob"], x["east"], "+13125550102"),
        wes_conversation=conversation(x["wes_contact"], x["wes"], x["west"], "+13125550103"),
        open_conversation=conversation(None, None, None, "+13125550104"),
    )
    world.objects.update(
        {
            "inbox.conversation": x["bob_conversation"],
            "inbox.savedreply": SavedReply.objects.create(title="Thanks", body="Thanks!"),
            "inbox.inboxpolicy": InboxPolicy.objects.create(team=x["east"]),
        }
    )


def _journey_versions(world: World, draft_journey: Journey) -> dict:
    """A draft version (the draft journey's first), one submitted for review and one
    approved, each written by the author, who is none of the identities."""
    author, approver = world.extra["author"], world.users[roles.APPROVER]
    made = {"journey_draft": draft_journey.versions.get()}
    for name, stage in (("journey_submitted", "submit"), ("journey_approved", "approve")):
        journey = Journey.objects.create(
            name=f"Reviewed: {name}",
            trigger_event_type="demo_request",
            status=JourneyStatus.ACTIVE,
            activated_at=timezone.now(),
        )
        journey.first_step = Step.objects.create(journey=journey, key="done", kind="exit")
        journey.save()
        version = journey_versions.journey_draft_start(actor=author, journey=journey)
        journey_versions.version_submit(actor=author, version=version)
        if stage == "approve":
            journey_versions.version_approve(actor=approver, version=version)
        made[name] = version
    return made


def _journeys(world: World) -> None:
    journey = Journey.objects.create(
        name="Webinar follow-up",
        trigger_event_type="webinar_registered",
        status=JourneyStatus.DRAFT,
        owner=world.extra["author"],
    )
    journey.first_step = Step.objects.create(journey=journey, key="done", kind="exit")
    journey.save()
    live = Journey.objects.create(
        name="Live journey",
        trigger_event_type="pricing_view",
        status=JourneyStatus.ACTIVE,
        activated_at=timezone.now(),
    )
    live.first_step = Step.objects.create(journey=live, key="done", kind="exit")
    live.save()
    enrollment = Enrollment.objects.create(journey=journey, contact=world.extra["contact"])
    world.extra.update(journey=journey, live_journey=live, **_journey_versions(world, journey))
    world.objects.update(
        {
            "journeys.journey": journey,
            "journeys.enrollment": enrollment,
            "journeys.activity": Activity.objects.create(
                enrollment=enrollment, kind=Activity.Kind.ENTERED, reason="matrix"
            ),
        }
    )


def _reporting(world: World) -> None:
    now, admin = timezone.now(), world.users[roles.ADMIN]
    report = AuditReport.objects.create(
        period_start=now - timedelta(days=7),
        period_end=now,
        trigger="on_demand",
        requested_by=admin,
        started_at=now,
        finished_at=now,
    )
    world.objects.update(
        {
            "reporting.auditreport": report,
            "reporting.audittrail": report,
            "reporting.retentionrun": RetentionRun.objects.create(
                target=RetentionRun.Target.values[0], cutoff=now, rows=0, ran_at=now, actor=admin
            ),
            "reporting.dailyrollup": DailyRollup.objects.create(day=date.today(), computed_at=now),
            "reporting.attribution": Attribution.objects.create(
                kind="meeting",
                conversion_id=1,
                contact_id=world.extra["contact"].pk,
                converted_at=now,
                message=world.extra["message"],
                touch_type="click",
                touched_at=now,
                journey_id=world.extra["journey"].pk,
                credit=1,
                model="last_touch",
                computed_at=now,
            ),
            "reporting.fatiguebreach": FatigueBreach.objects.create(
                journey=world.extra["journey"],
                template=world.extra["template"],
                metric="opt_out",
                window_start=now,
                detected_at=now,
                messages=100,
                hits=9,
                rate_percent=Decimal("9"),
                limit_percent=Decimal("5"),
                reason="matrix",
            ),
            "reporting.attributionsettings": _saved(AttributionSettings.current()),
            "reporting.fatiguesettings": _saved(FatigueSettings.current()),
        }
    )


def _crm_connectors(world: World) -> None:
    """A HubSpot connection with a deal it could not take (its stage is mapped to nothing),
    and mappings made here, so that they have history."""
    now = timezone.now()
    deal = {
        "object_type": "deal",
        "id": "matrix-deal",
        "modified_at": now.isoformat(),
        "properties": {"dealname": "Matrix deal", "pipeline": "default", "dealstage": "nowhere"},
        "archived": False,
        "associations": {},
        "stage_history": [],
        "converted_to": None,
    }
    world.extra["crm_error"] = RecordError.objects.create(
        system=System.HUBSPOT,
        direction=Direction.IN,
        object_type=ObjectType.DEAL,
        record_id="matrix-deal",
        error="Stage 'nowhere' of pipeline 'default' is not mapped to a Cue stage.",
        record=deal,
        last_failed_at=now,
    )
    world.objects.update(
        {
            "crm.connection": Connection.objects.create(system=System.HUBSPOT),
            "crm.fieldmapping": FieldMapping.objects.create(
                system=System.HUBSPOT,
                object_type=ObjectType.CONTACT,
                crm_field="matrix_test",
                cue_field="first_name",
            ),
            "crm.stagemapping": StageMapping.objects.create(
                system=System.HUBSPOT,
                kind=StageMapping.Kind.DEAL,
                crm_pipeline="default",
                crm_stage="matrix_test",
                pipeline_stage=PipelineStage.objects.get(pipeline__key="sales", key="demo"),
            ),
        }
    )


def _saved(row):
    """A migration made the row, without history; save it once so it has a history entry."""
    row.save()
    return row


def _platform(world: World) -> None:
    interval = IntervalSchedule.objects.create(every=7, period=IntervalSchedule.DAYS)
    world.objects.update(
        {
            "django_celery_beat.intervalschedule": interval,
            "django_celery_beat.crontabschedule": CrontabSchedule.objects.create(minute="7"),
            "django_celery_beat.solarschedule": SolarSchedule.objects.create(
                event="sunrise", latitude=Decimal("40"), longitude=Decimal("-74")
            ),
            "django_celery_beat.clockedschedule": ClockedSchedule.objects.create(
                clocked_time=timezone.now()
            ),
            "django_celery_beat.periodictask": PeriodicTask.objects.create(
                name="matrix task", task="apps.core.tasks.heartbeat", interval=interval
            ),
        }
    )


def _sign_in(world: World) -> None:
    """A lockout, its logs, and a second factor being set up (unconfirmed: its owner is not
    asked for a code, so the world's sessions stay as they are)."""
    author, when = world.extra["author"], timezone.now()
    seen = {"ip_address": "203.0.113.9", "user_agent": "matrix", "attempt_time": when}
    world.objects.update(
        {
            "axes.accessattempt": AccessAttempt.objects.create(
                username="locked-out", failures_since_start=5, get_data="", post_data="", **seen
            ),
            "axes.accesslog": AccessLog.objects.create(username=author.username, **seen),
            "axes.accessfailurelog": AccessFailureLog.objects.create(
                username="locked-out", locked_out=True, **seen
            ),
            "otp_totp.totpdevice": TOTPDevice.objects.create(
                user=author, name="matrix phone", confirmed=False
            ),
            "otp_static.staticdevice": StaticDevice.objects.create(
                user=author, name="matrix codes", confirmed=False
            ),
        }
    )
