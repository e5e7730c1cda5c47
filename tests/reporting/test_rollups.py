"""Daily rollups equal a direct count of what they summarise, and the incremental refresh
recomputes only the days that new rows touch."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Sum

from apps.accounts.services import system_user
from apps.contacts.models import Event
from apps.reporting.models import Attribution, DailyRollup, RollupState
from apps.reporting.services.rollups import reporting_refresh, rollups_rebuild
from apps.routing.models import FollowUpTask
from apps.sends.models import InboundMessage, LinkClick, OutboundMessage
from tests.reporting.conftest import T
from tests.reporting.scenario import frozen

pytestmark = pytest.mark.django_db

DAY, HOUR = timedelta(days=1), timedelta(hours=1)
NOW = T + 2 * DAY + 6 * HOUR
COUNTERS = ["enrolled", "enrolled_holdout", "sent", "delivered", "failed", "human_clicks",
            "bot_clicks", "replies", "opt_outs", "complaints", "quiet_hours_deferrals",
            "cap_suppressions", "tasks_created", "sla_met", "sla_missed", "meetings"]  # fmt: skip


def task(contact, message, *, created, due, touched=None):
    with frozen(created):
        return FollowUpTask.objects.create(
            contact=contact, signal_type="reply", reason_code="reply", reason="Replied",
            context={"message_id": message.pk}, journey_id=message.journey_id,
            assignment="queue", sla_minutes=15, sla_clock="clock", warn_at=due, due_at=due,
            created_at=created, first_touch_at=touched,
            status="in_progress" if touched else "open",
        )  # fmt: skip


@pytest.fixture
def activity(scenario, rules):
    """Three days of a journey: messages on both steps, deliveries, a failure, a carrier
    opt-out, human and bot clicks, replies, a STOP, deferrals, cap suppressions, tasks,
    enrollments (one in the holdout) and a meeting after a click."""
    rules.count_deliveries = False
    rules.save()
    system_user()
    people = [scenario.contact() for _ in range(4)]
    for day in range(3):
        at = T + day * DAY
        for index, person in enumerate(people):
            scenario.enrollment(person, at=at - HOUR, holdout=index == 3)
            if index == 3:
                continue
            message = scenario.message(
                person, sent_at=at + index * HOUR, step=index % 2, delivered_at=at + index * HOUR
            )
            scenario.click(message, at + index * HOUR + 5 * 60 * timedelta(seconds=1))
            scenario.click(message, at + index * HOUR, bot=True)
            if index == 0:
                scenario.reply(message, at + 2 * HOUR)
                task(person, message, created=at + 2 * HOUR, due=at + 3 * HOUR,
                     touched=at + 2 * HOUR + 7 * 60 * timedelta(seconds=1))  # fmt: skip
            if index == 1:
                scenario.decision(message, at - 2 * HOUR, "quiet_hours")
                scenario.decision(message, at - 2 * HOUR, "frequency_cap")
                task(
                    person,
                    message,
                    created=at + HOUR,
                    due=at + HOUR + 15 * 60 * timedelta(seconds=1),
                )
        failed = scenario.message(
            people[2], sent_at=at + 5 * HOUR, status="failed", error_code="30003"
        )
        blocked = scenario.message(
            people[1], sent_at=at + 6 * HOUR, status="failed", error_code="21610"
        )
        assert failed.finished_at and blocked.finished_at
    stopped = OutboundMessage.objects.filter(contact=people[2]).order_by("sent_at").first()
    scenario.stop(stopped, T + 20 * HOUR)
    scenario.meeting(people[0], T + 3 * HOUR)
    return people


def rollup_sums(**filters) -> dict:
    rows = DailyRollup.objects.filter(**filters)
    totals = rows.aggregate(**{name: Sum(name) for name in COUNTERS})
    return {name: totals[name] or 0 for name in COUNTERS}


def direct_counts(day_start, day_end, journey_id) -> dict:
    """The same figures counted straight from the source tables."""
    journey_messages = OutboundMessage.objects.filter(journey_id=journey_id, origin="journey")
    in_range = {"gte": day_start, "lt": day_end}

    def between(field):
        return {f"{field}__{op}": value for op, value in in_range.items()}

    from apps.journeys.models import Enrollment
    from apps.sends.models import MessageEvent

    enrollments = Enrollment.objects.filter(journey_id=journey_id, **between("entered_at"))
    clicks = LinkClick.objects.filter(link__message__in=journey_messages, **between("at"))
    decisions = MessageEvent.objects.filter(message__in=journey_messages, **between("at"))
    tasks = FollowUpTask.objects.filter(journey_id=journey_id, **between("created_at"))
    failed = journey_messages.filter(status="failed", **between("finished_at"))
    return {
        "enrolled": enrollments.filter(is_holdout=False).count(),
        "enrolled_holdout": enrollments.filter(is_holdout=True).count(),
        "sent": journey_messages.filter(**between("sent_at")).count(),
        "delivered": journey_messages.filter(**between("delivered_at")).count(),
        "failed": failed.count(),
        "human_clicks": clicks.filter(is_bot=False).count(),
        "bot_clicks": clicks.filter(is_bot=True).count(),
        "replies": Event.objects.filter(type="sms_reply", **between("occurred_at")).count(),
        "opt_outs": InboundMessage.objects.filter(
            keyword_kind="opt_out", **between("received_at")
        ).count()
        + failed.filter(error_code="21610").count(),
        "complaints": failed.filter(error_code="21610").count(),
        "quiet_hours_deferrals": decisions.filter(detail__reason_code="quiet_hours").count(),
        "cap_suppressions": decisions.filter(detail__reason_code="frequency_cap").count(),
        "tasks_created": tasks.count(),
        "sla_met": tasks.filter(first_touch_at__isnull=False).count(),
        "sla_missed": tasks.filter(first_touch_at__isnull=True).count(),
        "meetings": Attribution.objects.filter(
            kind="meeting_booked", **between("converted_at")
        ).count(),
    }


def test_it_rolls_up_exactly_what_a_direct_count_finds(scenario, activity):
    with frozen(NOW):
        reporting_refresh()
    journey = scenario.journey.pk
    start = datetime(2026, 3, 9, tzinfo=UTC)
    assert rollup_sums(journey_id=journey) == direct_counts(start, start + 5 * DAY, journey)
    for day in range(3):
        on = (T + day * DAY).date()
        midnight = datetime.combine(on, datetime.min.time(), tzinfo=UTC)
        assert rollup_sums(journey_id=journey, day=on) == direct_counts(
            midnight, midnight + DAY, journey
        ), on
    assert rollup_sums()["sent"] == 9
    assert rollup_sums()["human_clicks"] == 9
    assert rollup_sums()["meetings"] == 1


def test_it_splits_by_template_version_and_step(scenario, activity):
    with frozen(NOW):
        reporting_refresh()
    first, second = scenario.versions
    assert rollup_sums(template_version_id=first.pk)["sent"] == 6  # people 0 and 2, 3 days
    assert rollup_sums(template_version_id=second.pk)["sent"] == 3
    assert rollup_sums(step_id=scenario.steps[1].pk)["sent"] == 3
    assert set(
        DailyRollup.objects.exclude(template_version_id=0).values_list("template_id", flat=True)
    ) == {first.template_id, second.template_id}


def test_it_keeps_failures_by_error_and_minutes_to_first_touch(scenario, activity):
    with frozen(NOW):
        reporting_refresh()
    errors, minutes = {}, {}
    for row in DailyRollup.objects.all():
        for code, n in row.failed_by_error.items():
            errors[code] = errors.get(code, 0) + n
        for bucket, n in row.first_touch_minutes.items():
            minutes[bucket] = minutes.get(bucket, 0) + n
    assert errors == {"30003": 3, "21610": 3}
    assert minutes == {"7": 3}


def test_it_recomputes_only_the_days_new_rows_touch(scenario, activity):
    with frozen(NOW):
        reporting_refresh()
    message = OutboundMessage.objects.filter(contact=activity[1], sent_at__date=T.date()).first()
    later = NOW + 3 * DAY
    with frozen(later):
        scenario.click(message, later - HOUR)  # a click today on a message of four days ago
        days = reporting_refresh()
    assert days == [(later - DAY).date(), later.date()]
    with frozen(later):
        scenario.reply(message, T + 30 * 60 * timedelta(seconds=1))  # a late-recorded reply
        days = reporting_refresh()
    assert days == [T.date(), (later - DAY).date(), later.date()]
    assert rollup_sums(day=T.date())["replies"] == 2
    state = RollupState.objects.get(name="rollups")
    assert state.last_days == [day.isoformat() for day in days]


def test_it_changes_no_row_when_rebuilt_twice(scenario, activity):
    with frozen(NOW):
        reporting_refresh()
        before = list(DailyRollup.objects.order_by("day", "journey_id", "template_version_id",
                                                   "step_id").values(*COUNTERS))  # fmt: skip
        rollups_rebuild(first=(T - DAY).date(), last=NOW.date())
    after = list(DailyRollup.objects.order_by("day", "journey_id", "template_version_id",
                                              "step_id").values(*COUNTERS))  # fmt: skip
    assert after == before
