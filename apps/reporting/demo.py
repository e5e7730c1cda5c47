"""The demo's reports: a fortnight of past journey texts (sent, delivered, some failed,
some clicked), then attribution and daily rollups built as the beat would build them, so a
new user's dashboard shows real charts at once. Running it again recomputes the same days
and adds no second history.

The history ends four days ago: nothing in it counts against today's frequency caps, the
duplicate window or the fatigue guard's rolling window (72 h by default), so the demo's live
journeys send, and are judged, as they would be without it."""

from datetime import timedelta

from django.utils import timezone

from apps.journeys.models import Journey, Step, StepKind
from apps.library.models import MessageTemplate
from apps.reporting.models import AttributionSettings, FatigueSettings
from apps.reporting.services.rollups import reporting_refresh
from apps.sends.models import (
    LinkClick,
    MessageCategory,
    MessageOrigin,
    MessageStatus,
    OutboundMessage,
    TrackedLink,
)

HISTORY_DAYS = range(4, 18)  # days ago
SEND_KEY = "demo-history:{step}:{contact}:{days_ago}"


def seed(workspace: dict) -> None:
    AttributionSettings.current()
    FatigueSettings.current()
    demo_history_ensure(contacts=list(workspace["contacts"].values()))
    workspace["reporting_days"] = reporting_refresh()


def demo_history_ensure(*, contacts: list) -> int:
    """The past texts of the live journeys' SMS steps to the demo contacts; returns how
    many it added (0 when they are there already)."""
    now, added = timezone.now(), 0
    for number, step in enumerate(_sms_steps()):
        version = MessageTemplate.objects.get(pk=step.config["template"]).current_version
        for days_ago in HISTORY_DAYS:
            for offset, contact in enumerate(contacts):
                if (days_ago + offset + number) % 3 == 0:
                    continue  # not everyone gets every step every day
                seed = days_ago + offset * 7 + number
                added += _past_text(step, version, contact, days_ago, seed, now)
    return added


def _sms_steps() -> list[Step]:
    live = Journey.objects.exclude(live_version=None).values_list("live_version_id", flat=True)
    steps = Step.objects.filter(version_id__in=list(live), kind=StepKind.SEND_SMS)
    return [step for step in steps.order_by("pk") if step.config.get("template")]


def _past_text(step, version, contact, days_ago: int, seed: int, now) -> int:
    key = SEND_KEY.format(step=step.pk, contact=contact.pk, days_ago=days_ago)
    if (
        version is None
        or not contact.phone
        or OutboundMessage.objects.filter(send_key=key).exists()
    ):
        return 0
    sent_at = now - timedelta(days=days_ago, hours=seed % 7)
    failed = seed % 11 == 0
    message = OutboundMessage.objects.create(
        contact=contact,
        to_address=str(contact.phone),
        template_version=version,
        body=version.body,
        category=MessageCategory.MARKETING,
        origin=MessageOrigin.JOURNEY,
        journey_id=step.journey_id,
        step_id=step.pk,
        send_key=key,
        status=MessageStatus.FAILED if failed else MessageStatus.DELIVERED,
        error_code="30007" if failed else "",
        queued_at=sent_at,
        sent_at=sent_at,
        delivered_at=None if failed else sent_at + timedelta(seconds=4),
        finished_at=sent_at + timedelta(seconds=4),
    )
    OutboundMessage.objects.filter(pk=message.pk).update(created_at=sent_at)
    if not failed and seed % 4 == 0:
        _clicked(message, sent_at + timedelta(minutes=12))
    return 1


def _clicked(message: OutboundMessage, at) -> None:
    link = TrackedLink.objects.create(
        token=f"demo{message.pk}",
        message=message,
        key="demo",
        destination="https://example.com/demo",
        is_key_link=True,
    )
    click = LinkClick.objects.create(link=link, user_agent="Mozilla/5.0 (demo)")
    LinkClick.objects.filter(pk=click.pk).update(at=at)
