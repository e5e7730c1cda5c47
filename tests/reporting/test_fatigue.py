"""The fatigue guard pauses a journey whose opt-out or failure rate reaches the limit over
the window — by the system actor, once per breach, never on too little volume — and tells
the owner and the approvers why."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail

from apps.accounts import roles
from apps.accounts.models import User
from apps.accounts.services import SYSTEM_USERNAME
from apps.journeys.models import JourneyStatus
from apps.reporting.models import FatigueBreach, FatigueSettings
from apps.reporting.services.fatigue import fatigue_guard_run
from tests.reporting.conftest import BUILT_AT, T
from tests.reporting.scenario import Scenario, frozen

pytestmark = pytest.mark.django_db

HOUR, MINUTE = timedelta(hours=1), timedelta(minutes=1)


@pytest.fixture
def guard(db):
    rules = FatigueSettings.current()
    rules.window_hours, rules.min_messages = 24, 10
    rules.opt_out_percent_limit, rules.failure_percent_limit = Decimal("20"), Decimal("30")
    rules.save()
    return rules


@pytest.fixture
def owned(make_user):
    owner = make_user(roles.MARKETER, username="owen", email="owen@example.com")
    approver = make_user(roles.APPROVER, username="april", email="april@example.com")
    with frozen(BUILT_AT):
        scenario = Scenario(name="Pricing", owner=owner)
    return scenario, owner, approver


def send(scenario, count: int, *, opt_outs: int = 0, failures: int = 0, step: int = 0):
    """`count` messages in the last hours; the first `opt_outs` answered by STOP, the next
    `failures` failed."""
    for index in range(count):
        at = T - (index + 1) * 10 * MINUTE
        failed = opt_outs <= index < opt_outs + failures
        message = scenario.message(
            scenario.contact(), sent_at=at, step=step,
            status="failed" if failed else "delivered", delivered_at=None if failed else at,
            error_code="30003" if failed else "",
        )  # fmt: skip
        if index < opt_outs:
            scenario.stop(message, at + MINUTE)


def run():
    with frozen(T):
        return fatigue_guard_run()


def test_it_pauses_a_journey_when_the_opt_out_rate_reaches_the_limit(guard, owned):
    scenario, *_ = owned
    send(scenario, 10, opt_outs=2)
    breaches = run()
    scenario.journey.refresh_from_db()
    assert scenario.journey.status == JourneyStatus.PAUSED
    assert [(b.metric, b.messages, b.hits, b.rate_percent, b.journey_paused) for b in breaches] == [
        ("opt_out_rate", 10, 2, Decimal("20.00"), True)
    ]
    latest = scenario.journey.history.latest()
    assert latest.history_user.username == SYSTEM_USERNAME
    assert latest.history_change_reason == (
        "Paused by the fatigue guard: opt-out rate 20.00% ≥ 20.00% "
        f"(FatigueBreach #{breaches[0].pk})"
    )
    assert breaches[0].reason == (
        "opt-out rate 20.00% (2 of 10) for “Pricing reminder” over 24 h reached the 20.00% limit"
    )


def test_it_emails_the_owner_and_the_approvers(guard, owned, django_capture_on_commit_callbacks):
    scenario, *_ = owned
    send(scenario, 10, opt_outs=3)
    with django_capture_on_commit_callbacks(execute=True):
        run()
    assert len(mail.outbox) == 1
    approvers = User.objects.filter(groups__name=roles.APPROVER).order_by("pk")
    assert mail.outbox[0].to == ["owen@example.com", *approvers.values_list("email", flat=True)]
    assert "april@example.com" in mail.outbox[0].to
    assert mail.outbox[0].subject == "Cue paused “Pricing”: opt-out rate"
    assert "opt-out rate 30.00% (3 of 10)" in mail.outbox[0].body


def test_it_leaves_a_journey_just_below_the_limit_alone(guard, owned):
    scenario, *_ = owned
    send(scenario, 11, opt_outs=2)  # 18.18 %
    assert run() == []
    scenario.journey.refresh_from_db()
    assert scenario.journey.status == JourneyStatus.ACTIVE


def test_it_never_pauses_below_the_minimum_volume(guard, owned):
    scenario, *_ = owned
    send(scenario, 9, opt_outs=9)
    assert run() == []
    scenario.journey.refresh_from_db()
    assert scenario.journey.status == JourneyStatus.ACTIVE
    assert FatigueBreach.objects.count() == 0


def test_it_judges_each_template_on_its_own(guard, owned):
    scenario, *_ = owned
    send(scenario, 8, opt_outs=4, step=0)  # too few for the first template alone
    send(scenario, 8, step=1)
    assert run() == []


def test_it_pauses_on_failures_too(guard, owned):
    scenario, *_ = owned
    send(scenario, 10, failures=3)
    assert [(b.metric, b.hits) for b in run()] == [("failure_rate", 3)]


def test_it_never_pauses_twice_for_the_same_breach(guard, owned, make_user):
    scenario, *_ = owned
    send(scenario, 10, opt_outs=2)
    run()
    assert run() == []  # paused: nothing to pause
    scenario.journey.status = JourneyStatus.ACTIVE  # an approver resumes it
    scenario.journey.save()
    assert run() == []  # the same messages are not judged again
    assert FatigueBreach.objects.count() == 1
    scenario.journey.refresh_from_db()
    assert scenario.journey.status == JourneyStatus.ACTIVE


def test_it_pauses_again_on_a_new_breach_after_resuming(guard, owned):
    scenario, *_ = owned
    send(scenario, 10, opt_outs=2)
    run()
    scenario.journey.status = JourneyStatus.ACTIVE
    scenario.journey.save()
    later = T + 2 * HOUR
    for index in range(10):
        message = scenario.message(scenario.contact(), sent_at=later - index * MINUTE)
        if index < 5:
            scenario.stop(message, later)
    with frozen(later + MINUTE):
        breaches = fatigue_guard_run()
    assert [(b.messages, b.hits, b.window_start) for b in breaches] == [(10, 5, T)]


def test_it_does_nothing_when_switched_off(guard, owned):
    scenario, *_ = owned
    guard.is_enabled = False
    guard.save()
    send(scenario, 10, opt_outs=5)
    assert run() == []
