"""The engine's step context: what a step's run asks is read from the database, and what it
does is done (messages created, tasks routed, stages set, activity logged)."""

from datetime import datetime

from apps.contacts.models import Event
from apps.journeys.activity import activity_log
from apps.journeys.models import Enrollment, Step
from apps.journeys.steps.send import step_senders_set
from apps.journeys.steps.split import split_choose


class LiveContext:
    """One enrollment's run, at `now`. `made` holds the messages a batch already created
    for its send steps, by send key (messages_for_sends)."""

    dry = False

    def __init__(self, enrollment: Enrollment, now: datetime, made: dict | None = None):
        self.enrollment, self.now, self.made = enrollment, now, made or {}

    @property
    def holdout(self) -> bool:
        return self.enrollment.is_holdout

    @property
    def journey(self):
        return self.enrollment.journey

    @property
    def settings(self):
        """The goal and rules it runs with: its version's (Enrollment.settings)."""
        return self.enrollment.settings

    @property
    def contact(self):
        return self.enrollment.contact

    def entered_at(self) -> datetime:
        return self.enrollment.step_entered_at or self.now

    def visit(self, step: Step) -> int:
        return int((self.enrollment.visits or {}).get(step.key, 1))

    def send_key(self, step: Step) -> str:
        """Enrollment + step + visit: a repeated run of the same visit finds what it made."""
        return f"journey:{self.enrollment.pk}:{step.key}:{self.visit(step)}"

    def trigger_properties(self) -> dict | None:
        event = self.enrollment.triggering_event
        return event.properties if event else None

    def log(self, step: Step, kind: str, reason: str, **detail) -> None:
        activity_log(self.enrollment, kind, reason, step_key=step.key, **detail)

    def message_send(self, step: Step, template_id):
        from apps.library.models import MessageTemplate
        from apps.sends.services.messages import message_create

        if made := self.made.get(self.send_key(step)):
            return made
        template = MessageTemplate.objects.select_related("current_version").get(pk=template_id)
        [intent] = step_senders_set(step, [self.message_intent(step, template)])
        return message_create(**intent, at=self.now)

    def message_intent(self, step: Step, template) -> dict:
        """What message_create (or a batch of them) needs for this step's message."""
        return {
            "send_key": self.send_key(step),
            "origin": "journey",
            "category": template.category,
            "channel": template.channel,
            "contact": self.enrollment.contact,
            "template_version": template.current_version,
            "journey_id": self.enrollment.journey_id,
            "enrollment_id": self.enrollment.pk,
            "step_id": step.pk,
        }

    def event_since(self, types: list[str], since: datetime) -> Event | None:
        return (
            Event.objects.filter(
                contact_id=self.enrollment.contact_id, type__in=types, occurred_at__gte=since
            )
            .order_by("occurred_at")
            .first()
        )

    def rules_hold(self, rules: dict) -> bool:
        from apps.contacts.segments import segment_contacts

        return segment_contacts(rules=rules).filter(pk=self.enrollment.contact_id).exists()

    def step_outcome(self, step_key: str, outcome: str) -> bool:
        """Whether the message an earlier step of this enrollment sent was delivered,
        clicked, replied to, opened or bounced."""
        from apps.sends.models import InboundMessage, LinkClick, OutboundMessage
        from apps.sends.selectors.email import emails_bounced

        version_id = getattr(self.enrollment.current_step, "version_id", None)
        step = Step.objects.filter(version_id=version_id, key=step_key).first()
        messages = OutboundMessage.objects.filter(
            enrollment_id=self.enrollment.pk, step_id=getattr(step, "pk", None)
        )
        if outcome == "delivered":
            return messages.filter(status="delivered").exists()
        if outcome == "clicked":
            return LinkClick.objects.filter(link__message__in=messages, is_bot=False).exists()
        if outcome == "replied":
            first = messages.filter(sent_at__isnull=False).order_by("sent_at").first()
            return (
                bool(first)
                and InboundMessage.objects.filter(
                    from_address=first.to_address, received_at__gte=first.sent_at
                ).exists()
            )
        if outcome == "bounced":
            return emails_bounced(messages=messages)
        if outcome == "opened":  # unreliable: mail clients pre-fetch images (the builder says so)
            ids = list(messages.values_list("pk", flat=True))
            return Event.objects.filter(
                contact_id=self.enrollment.contact_id,
                type="email_open",
                properties__message_id__in=ids,
            ).exists()
        return False

    def variant_choose(self, step: Step, variants: list[dict]) -> str:
        """Drawn once per enrollment and kept (saved with the enrollment)."""
        enrollment = self.enrollment
        chosen = (enrollment.variants or {}).get(step.key) or split_choose(
            enrollment.pk, step.key, variants
        )
        enrollment.variants = {**(enrollment.variants or {}), step.key: chosen}
        return chosen

    def task_create(self, step: Step, reason: str):
        from apps.routing.services import signal_route

        enrollment = self.enrollment
        return signal_route(
            contact=enrollment.contact,
            signal_type="journey_step",
            reason=reason,
            context={"enrollment_id": enrollment.pk, "step": step.key, "key": self.send_key(step)},
            journey_id=enrollment.journey_id,
        )

    def stage_set(self, stage: str) -> None:
        from apps.contacts.services import contact_update

        contact_update(contact=self.enrollment.contact, fields={"lifecycle_stage": stage})
