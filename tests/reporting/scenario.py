"""Hand-built reporting scenarios: a journey, its steps and templates, and messages,
clicks, replies, meetings and deals placed at exact moments (time_machine freezes the
clock for the columns the models stamp themselves)."""

import itertools
from datetime import datetime, timedelta
from decimal import Decimal

import time_machine

from apps.contacts.models import Event, Opportunity, OpportunityStageChange
from apps.journeys.models import Enrollment, EnrollmentState, Journey, JourneyStatus, Step
from apps.sends.models import (
    InboundMessage,
    LinkClick,
    MessageEvent,
    OutboundMessage,
    TrackedLink,
)
from tests.factories import ContactFactory
from tests.sends.templates import approved_sms_version

_keys = itertools.count(1)


def frozen(moment: datetime):
    return time_machine.travel(moment, tick=False)


class Scenario:
    """One journey with two SMS steps, each with its own approved template."""

    def __init__(self, *, name: str = "Webinar", holdout_percent: int = 0, owner=None):
        self.journey = Journey.objects.create(
            name=name, status=JourneyStatus.ACTIVE, trigger_event_type="webinar_registered",
            holdout_percent=holdout_percent, owner=owner,
        )  # fmt: skip
        self.versions = [
            approved_sms_version(name=f"{name} reminder"),
            approved_sms_version(name=f"{name} follow-up"),
        ]
        self.steps = [
            Step.objects.create(
                journey=self.journey,
                key=f"sms-{i}",
                kind="send_sms",
                config={"template": version.template_id},
                position=i,
            )
            for i, version in enumerate(self.versions)
        ]

    def contact(self, **fields):
        return ContactFactory(**fields)

    def message(
        self,
        contact,
        *,
        sent_at: datetime,
        step: int = 0,
        delivered_at: datetime | None = None,
        status: str | None = None,
        error_code: str = "",
        category: str = "marketing",
        origin: str = "journey",
        journey: Journey | None = None,
        version=None,
    ) -> OutboundMessage:
        """A message the gate let through at `sent_at` and the provider sent then."""
        journey = journey or self.journey
        version = version or self.versions[step]
        finished = sent_at if status in ("failed", "undelivered") else None
        with frozen(sent_at - timedelta(seconds=1)):
            return OutboundMessage.objects.create(
                channel="sms",
                contact=contact,
                to_address=str(contact.phone),
                template_version=version,
                body="Cue Demo: hello. Reply STOP to opt out.",
                category=category,
                origin=origin,
                journey_id=journey.pk if origin == "journey" else None,
                step_id=self.steps[step].pk if origin == "journey" else None,
                send_key=f"scenario-{next(_keys)}",
                status=status or ("delivered" if delivered_at else "sent"),
                decision="allow",
                reason_code="allowed",
                queued_at=sent_at,
                sent_at=None if status == "failed" else sent_at,
                delivered_at=delivered_at,
                finished_at=finished,
                error_code=error_code,
            )

    def click(self, message: OutboundMessage, at: datetime, *, bot: bool = False) -> LinkClick:
        link, _ = TrackedLink.objects.get_or_create(
            message=message, key="details",
            defaults={"token": f"t{next(_keys)}", "destination": "https://example.com/d"},
        )  # fmt: skip
        with frozen(at):
            return LinkClick.objects.create(
                link=link, ip_address="198.51.100.7", user_agent="Mozilla/5.0", is_bot=bot
            )

    def reply(self, message: OutboundMessage, at: datetime, body: str = "Yes please") -> Event:
        return Event.objects.create(
            contact=message.contact, type="sms_reply", occurred_at=at,
            properties={"body": body, "message_id": message.pk, "journey_id": message.journey_id},
            idempotency_key=f"reply-{next(_keys)}", source="sms",
        )  # fmt: skip

    def stop(self, message: OutboundMessage, at: datetime) -> InboundMessage:
        with frozen(at):
            return InboundMessage.objects.create(
                provider_sid=f"SM{next(_keys):032d}", from_address=message.to_address,
                to_address="+13125550000", body="STOP", contact=message.contact,
                keyword_kind="opt_out", keyword="STOP",
            )  # fmt: skip

    def meeting(self, contact, at: datetime) -> Event:
        return Event.objects.create(
            contact=contact, type="meeting_booked", occurred_at=at,
            idempotency_key=f"meeting-{next(_keys)}", source="crm",
        )  # fmt: skip

    def deal(self, contact, moves: list[tuple[str, datetime]], amount: int = 0) -> Opportunity:
        """An opportunity created at the first move's moment, then moved through stages."""
        opportunity = Opportunity.objects.create(
            name=f"Deal {next(_keys)}", contact=contact, stage=moves[-1][0],
            amount=Decimal(amount), opened_at=moves[0][1],
        )  # fmt: skip
        previous = ""
        for stage, at in moves:
            OpportunityStageChange.objects.create(
                opportunity=opportunity, from_stage=previous, to_stage=stage, changed_at=at
            )
            previous = stage
        return opportunity

    def enrollment(
        self, contact, *, at: datetime, holdout: bool = False, goal_at: datetime | None = None
    ) -> Enrollment:
        with frozen(at):
            return Enrollment.objects.create(
                journey=self.journey,
                contact=contact,
                current_step=self.steps[0],
                state=EnrollmentState.GOAL_REACHED if goal_at else EnrollmentState.COMPLETED,
                is_holdout=holdout,
                finished_at=goal_at or at,
            )

    def decision(self, message: OutboundMessage, at: datetime, reason_code: str) -> MessageEvent:
        with frozen(at):
            return MessageEvent.objects.create(
                message=message, kind="decision", status="deferred",
                detail={"decision": "defer", "reason_code": reason_code},
            )  # fmt: skip
