"""Who gets the task: the owner if working, else a fair turn among working reps with room,
else the team queue — with working hours read in each rep's own time zone."""

from datetime import UTC, datetime, time

import pytest

from apps.accounts import roles
from apps.routing.models import FollowUpTask, TaskNotification, TeamCursor
from apps.routing.services import rule_dry_run, signal_route
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

ALL_WEEK_NIGHTS = {day: (time(18), time(23, 59)) for day in range(7)}


@pytest.fixture
def rule(make_rule):
    return make_rule(name="Follow-ups", signal_types=["journey_step"])


def route(contact, key=None) -> FollowUpTask | None:
    context = {"key": key} if key else {}
    return signal_route(
        contact=contact,
        signal_type="journey_step",
        reason="Call after the webinar",
        context=context,
    )


def test_it_gives_the_task_to_the_contact_owner_when_they_are_working(rule, sam, riley):
    task = route(ContactFactory(owner=riley))
    assert (task.owner, task.assignment, task.assignment_note) == (
        riley,
        "owner",
        "The contact's owner.",
    )


def test_it_goes_round_robin_when_the_owner_is_out_of_hours(rule, make_rep, sam, riley):
    # Given an owner who works evenings only (it is 11:00 in New York)
    night_owl = make_rep("nora", hours=ALL_WEEK_NIGHTS)
    # When a signal comes for her contact
    task = route(ContactFactory(owner=night_owl))
    # Then the first rep in the rotation gets it, and the task says why
    assert (task.owner, task.assignment) == (sam, "round_robin")
    assert task.assignment_note == (
        "The owner Nora Rep is out of working hours (Tue 11:00 America/New_York); "
        "round robin in East Coast Sales chose Sam Rep."
    )


def test_it_goes_round_robin_when_the_contact_has_no_owner(rule, sam, riley):
    assert route(ContactFactory(owner=None)).owner == sam


def test_it_takes_turns_fairly(rule, sam, riley):
    owners = [route(ContactFactory(owner=None)).owner for _ in range(5)]
    assert owners == [sam, riley, sam, riley, sam]
    assert TeamCursor.objects.get().last_user == sam


def test_it_skips_a_rep_at_capacity(rule, make_rep, sam):
    # Given Riley can hold one open task and already has one
    riley = make_rep("riley", open_task_capacity=1)
    TeamCursor.objects.create(team=sam.team, last_user=sam)  # Riley's turn is next
    assert route(ContactFactory(owner=riley)).owner == riley  # owners are not capped
    # When the next unowned contact signals
    task = route(ContactFactory(owner=None))
    # Then Riley is skipped and Sam takes it
    assert task.owner == sam


def test_it_skips_reps_out_of_hours_and_the_team_manager(rule, make_rep, manager):
    make_rep("nora", hours=ALL_WEEK_NIGHTS)
    sam = make_rep("sam")
    assert route(ContactFactory(owner=None)).owner == sam
    assert route(ContactFactory(owner=None)).owner == sam  # never Nora, never Morgan


def test_it_queues_the_task_for_the_team_when_nobody_can_take_it(rule, make_rep, manager):
    nora = make_rep("nora", hours=ALL_WEEK_NIGHTS)
    make_rep("full", open_task_capacity=0)
    task = route(ContactFactory(owner=nora))
    assert (task.owner, task.team, task.assignment) == (None, nora.team, "queue")
    assert task.assignment_note == (
        "The owner Nora Rep is out of working hours (Tue 11:00 America/New_York); "
        "every working rep in East Coast Sales is at capacity; "
        "the task waits in the East Coast Sales queue."
    )
    notification = TaskNotification.objects.get()
    assert (notification.kind, notification.recipient) == ("queued", manager)


def test_a_queue_rule_sends_straight_to_the_queue(make_rule, sam):
    make_rule(signal_types=["journey_step"], strategy="queue")
    task = route(ContactFactory(owner=sam))
    assert (task.owner, task.assignment) == (None, "queue")


def test_a_round_robin_rule_ignores_the_owner(make_rule, sam, riley):
    make_rule(signal_types=["journey_step"], strategy="round_robin")
    assert route(ContactFactory(owner=riley)).owner == sam


@pytest.mark.parametrize(
    ("at", "zone", "working"),
    [
        # 09:00–17:00 weekdays, in the rep's own zone
        (datetime(2026, 3, 10, 15, 0, tzinfo=UTC), "America/New_York", True),  # Tue 11:00
        (datetime(2026, 3, 10, 15, 0, tzinfo=UTC), "America/Los_Angeles", False),  # Tue 08:00
        (datetime(2026, 3, 10, 16, 0, tzinfo=UTC), "America/Los_Angeles", True),  # Tue 09:00
        (datetime(2026, 3, 10, 15, 0, tzinfo=UTC), "Asia/Tokyo", False),  # Wed 00:00
        (datetime(2026, 3, 10, 1, 0, tzinfo=UTC), "Asia/Tokyo", True),  # Tue 10:00
        (datetime(2026, 3, 10, 15, 0, tzinfo=UTC), "Europe/London", True),  # Tue 15:00
        (datetime(2026, 3, 10, 17, 0, tzinfo=UTC), "Europe/London", False),  # Tue 17:00, closed
        (datetime(2026, 3, 14, 15, 0, tzinfo=UTC), "America/New_York", False),  # Saturday
        # Across the US spring-forward (8 March 2026): 13:30 UTC is 09:30 EDT, 08:30 EST.
        (datetime(2026, 3, 9, 13, 30, tzinfo=UTC), "America/New_York", True),
        (datetime(2026, 3, 6, 13, 30, tzinfo=UTC), "America/New_York", False),
    ],
)
def test_it_reads_working_hours_in_the_reps_own_time_zone(now, rule, make_rep, at, zone, working):
    now.move_to(at)
    owner = make_rep("owner", time_zone=zone)
    task = route(ContactFactory(owner=owner))
    assert (task.owner == owner) is working


def test_a_rep_with_no_working_hours_set_is_always_available(rule, make_rep, now):
    now.move_to(datetime(2026, 3, 14, 3, 0, tzinfo=UTC))  # Saturday night
    owner = make_rep("owner", hours={})
    assert route(ContactFactory(owner=owner)).owner == owner


def test_it_creates_nothing_when_no_rule_applies(make_rule, sam):
    make_rule(signal_types=["reply"])
    assert route(ContactFactory(owner=sam)) is None
    assert FollowUpTask.objects.count() == 0
    assert TaskNotification.objects.count() == 0


def test_signal_route_is_idempotent_by_its_key(rule, sam):
    contact = ContactFactory(owner=sam)
    first = route(contact, key="journey:1:call:1")
    again = route(contact, key="journey:1:call:1")
    assert (again.pk, again.signal_count) == (first.pk, 1)
    assert TaskNotification.objects.count() == 1


def test_signal_route_refuses_an_unknown_signal_type(rule, sam):
    from apps.routing.errors import RoutingError

    with pytest.raises(RoutingError, match="'telepathy' is not a signal type"):
        signal_route(contact=ContactFactory(), signal_type="telepathy", reason="x", context={})
    assert FollowUpTask.objects.count() == 0


def test_signal_route_uses_the_hinted_rule(make_rule, rule, sam):
    urgent = make_rule(name="VIP", signal_types=["reply"], priority=1, position=99)
    task = signal_route(
        contact=ContactFactory(owner=sam),
        signal_type="journey_step",
        reason="VIP asked for a call",
        context={},
        journey_id=4,
        rule_hint="VIP",
    )
    assert (task.rule, task.priority, task.reason_code) == (urgent, 1, "journey_step:4")


def test_the_dry_run_shows_rule_and_owner_and_creates_nothing(make_rule, make_rep, sam, riley):
    make_rule(name="Demo", signal_types=["demo_request"], position=1)
    reply_rule = make_rule(name="Replies", signal_types=["reply"], intents=["positive"])
    night_owl = make_rep("nora", hours=ALL_WEEK_NIGHTS)
    contact = ContactFactory(owner=night_owl)
    result = rule_dry_run(contact=contact, signal_type="reply", text="Sure, call me at 2pm")
    assert (result.rule, result.assignment.owner, result.classification.intent) == (
        reply_rule,
        sam,
        "positive",
    )
    assert [(c.rule.name, c.matched) for c in result.checks] == [
        ("Demo", False),
        ("Replies", True),
    ]
    assert result.summary == "Rule “Replies”: a new task for Sam Rep."
    assert FollowUpTask.objects.count() == 0
    assert TeamCursor.objects.count() == 0  # the rotation did not move


def test_the_dry_run_says_when_no_rule_applies(make_rule, sam):
    make_rule(signal_types=["reply"], intents=["positive"])
    result = rule_dry_run(contact=ContactFactory(owner=sam), signal_type="reply", text="No")
    assert (result.rule, result.summary) == (None, "No rule applies: no task would be created.")
    assert result.checks[0].why == "The intent is negative or not now; the rule wants positive"


def test_the_manager_role_is_not_in_the_rotation(make_user, team, rule):
    boss = make_user(roles.SALES_MANAGER, username="boss", team=team)
    team.manager = boss
    team.save()
    task = route(ContactFactory(owner=None))
    assert task.owner is None
