"""The simulator: the path a contact would take now, entry checks first, then each step with
the send gate's decision as of now — and nothing sent, nothing written."""

import logging
from datetime import UTC, datetime

import pytest
import time_machine
from django.apps import apps
from django.urls import reverse

from apps.accounts import roles
from apps.contacts.models import Segment
from apps.journeys.models import Enrollment, JourneyStatus
from apps.journeys.services import holdout_for
from apps.journeys.simulator import ContactDescription, journey_simulate
from apps.sends.testing.fake_twilio import FakeTwilio
from tests.factories import ContactFactory
from tests.journeys.builders import journey_build, sms_template

pytestmark = pytest.mark.django_db

# 02:00 in Chicago (CDT): inside quiet hours, which end at 08:00 local, 13:00 UTC.
NIGHT = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)
MORNING = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)
LEADS = {"all": [{"field": "lifecycle_stage", "op": "in", "value": ["lead", "mql"]}]}
NO_SMS_CONSENT = "Marketing needs an active, confirmed opt-in; no SMS consent is on record."


def lead_check_journey(**fields):
    """Leads and MQLs get one text; everyone else leaves at once."""
    return journey_build(
        steps=[
            ("check", "branch", {"condition": {"rules": LEADS}, "then": "text", "else": "done"}),
            ("text", "send_sms", {"template": sms_template().pk, "on_suppressed": "exit"}),
            ("done", "exit", {}),
        ],
        **fields,
    )


def simulate(journey, event_type="webinar_registered", **kwargs):
    return journey_simulate(journey=journey, event_type=event_type, **kwargs)


def described(**fields):
    return ContactDescription(
        **{"time_zone": "America/Chicago", "region": "IL", "phone": "+13125550100", **fields}
    )


def test_it_follows_a_branch_both_ways_for_contacts_in_the_crm(clock, opted_in_contact):
    journey = lead_check_journey()
    # Given a lead and a customer, both opted in
    lead = opted_in_contact(lifecycle_stage="lead")
    customer = opted_in_contact(lifecycle_stage="customer")
    # When each is simulated
    for_lead = simulate(journey, contact=lead)
    for_customer = simulate(journey, contact=customer)
    # Then the lead takes "then" and would get the text now; the customer leaves
    assert for_lead.path == ["check", "text"]
    assert for_lead.steps[0].outcome == "The contact matches the rules: takes 'then'."
    assert (for_lead.steps[1].decision, for_lead.steps[1].reason) == (
        "allow",
        "Every rule allows it.",
    )
    assert for_lead.steps[1].outcome == "Sends “Webinar reminder” now."
    assert for_lead.ending == "End of the journey (completed)."
    assert for_customer.path == ["check", "done"]
    assert for_customer.steps[0].outcome == "The contact does not match the rules: takes 'else'."
    assert for_customer.ending == "Ends here (completed)."


def test_it_follows_a_branch_both_ways_for_a_described_contact(clock):
    journey = lead_check_journey()
    as_lead = simulate(journey, description=described(lifecycle_stage="mql"))
    as_customer = simulate(journey, description=described(lifecycle_stage="customer"))
    assert as_lead.path == ["check", "text"]
    assert as_lead.steps[1].decision == "allow"
    assert (
        as_lead.contact_label
        == "a described low-intent marketing qualified lead in America/Chicago"
    )
    assert as_customer.path == ["check", "done"]


def test_it_shows_the_holdout_draw_and_does_not_message_the_holdout(clock, opted_in_contact):
    journey = lead_check_journey(holdout_percent=50)
    contacts = [opted_in_contact() for _ in range(12)]
    held = next(c for c in contacts if holdout_for(c.pk, journey))
    treated = next(c for c in contacts if not holdout_for(c.pk, journey))

    for_held = simulate(journey, contact=held)
    for_treated = simulate(journey, contact=treated)

    assert for_held.checks[3].detail == (
        "In the holdout (50% are held out): enters, but is never messaged."
    )
    assert (for_held.steps[1].outcome, for_held.steps[1].decision) == (
        "In the holdout: not messaged.",
        "",
    )
    assert for_treated.checks[3].detail == "Not in the holdout (50% are held out): is messaged."
    assert for_treated.steps[1].decision == "allow"


def test_it_shows_a_quiet_hours_deferral(opted_in_contact):
    journey = lead_check_journey()
    contact = opted_in_contact()
    with time_machine.travel(NIGHT, tick=False):
        simulation = simulate(journey, contact=contact)
    [_, text] = simulation.steps
    assert (text.decision, text.reason_code, text.until) == ("defer", "quiet_hours", MORNING)
    assert text.reason == "02:00 in America/Chicago is outside 08:00–21:00 (default)"
    assert text.outcome == (
        "Deferred: “Webinar reminder” would not go now. 02:00 in America/Chicago is outside "
        "08:00–21:00 (default) The contact waits here for it, then goes on."
    )


def test_it_shows_the_suppression_of_a_contact_without_consent(clock):
    journey = lead_check_journey()
    no_consent = ContactFactory(time_zone="America/Chicago", region="IL")

    for_saved = simulate(journey, contact=no_consent)
    for_described = simulate(journey, description=described(sms_consent="none"))

    for simulation in (for_saved, for_described):
        assert simulation.path == ["check", "text"]
        assert (simulation.steps[1].decision, simulation.steps[1].reason) == (
            "suppress",
            NO_SMS_CONSENT,
        )
        assert simulation.ending == f"Ends (suppressed): {NO_SMS_CONSENT}"


def test_it_does_not_enter_on_another_event_or_without_the_filters(clock, opted_in_contact):
    journey = lead_check_journey(trigger_filters={"webinar": "Route planning 101"})
    contact = opted_in_contact()

    other = simulate(journey, event_type="pricing_view", contact=contact)
    unfiltered = simulate(journey, contact=contact)
    filtered = simulate(
        journey, contact=contact, event_properties={"webinar": "Route planning 101"}
    )

    assert (other.enters, other.steps) == (False, [])
    assert other.ending == "Does not enter: Starts on webinar_registered, not on pricing_view."
    assert unfiltered.ending == (
        "Does not enter: webinar_registered matches, but its properties must include "
        "{'webinar': 'Route planning 101'}."
    )
    assert filtered.path == ["check", "text"]


def test_it_checks_the_entry_segment_for_a_described_contact(clock):
    segment = Segment.objects.create(
        name="High intent", rules={"all": [{"field": "intent_band", "op": "eq", "value": "high"}]}
    )
    journey = lead_check_journey(entry_segment=segment)

    high = simulate(journey, description=described(intent_band="high"))
    low = simulate(journey, description=described(intent_band="low"))

    assert high.checks[1].detail == "The contact is in the segment High intent."
    assert high.path == ["check", "text"]
    assert low.ending == "Does not enter: The contact is not in the segment High intent."


def test_it_refuses_re_entry_while_the_contact_runs_in_the_journey(clock, opted_in_contact):
    journey = lead_check_journey()
    contact = opted_in_contact()
    Enrollment.objects.create(journey=journey, contact=contact, state="waiting")
    simulation = simulate(journey, contact=contact)
    assert simulation.ending == "Does not enter: Already running in this journey."


def test_it_stops_at_the_first_wait_until_and_shows_both_edges(clock, opted_in_contact):
    journey = journey_build(
        steps=[
            ("pause", "wait", {"hours": 24, "next": "attend"}),
            (
                "attend",
                "wait_until",
                {
                    "events": ["webinar_attended"],
                    "within_hours": 3,
                    "next": "thanks",
                    "on_timeout": "missed",
                },
            ),
            ("thanks", "exit", {}),
            ("missed", "exit", {}),
        ]
    )
    simulation = simulate(journey, contact=opted_in_contact())
    assert simulation.path == ["pause", "attend"]
    assert simulation.steps[0].outcome == "Waits 24 h."
    assert simulation.steps[1].edges == (
        ("webinar_attended happens", "thanks"),
        ("no webinar_attended within 3 h", "missed"),
    )
    assert simulation.ending == (
        "At attend the path divides: what comes next depends on whether webinar_attended happens. "
        "Each way is followed."
    )


def test_it_takes_the_not_yet_branch_of_a_message_outcome_and_shows_a_split(
    clock, opted_in_contact
):
    journey = journey_build(
        steps=[
            ("text", "send_sms", {"template": sms_template().pk, "next": "clicked"}),
            (
                "clicked",
                "branch",
                {
                    "condition": {"step_outcome": {"step": "text", "is": "clicked"}},
                    "then": "done",
                    "else": "ab",
                },
            ),
            (
                "ab",
                "split",
                {
                    "variants": [
                        {"name": "A", "percent": 50, "next": "done"},
                        {"name": "B", "percent": 50},
                    ]
                },
            ),
            ("done", "exit", {}),
        ]
    )
    simulation = simulate(journey, contact=opted_in_contact())
    assert simulation.path == ["text", "clicked", "ab", "done"]
    assert simulation.steps[1].outcome == (
        "Whether the message of text will be clicked is not known yet: follows 'else' (it was not)."
    )
    assert simulation.steps[2].outcome == (
        "The variant is drawn when the contact enters (per enrollment): A 50% → done, "
        "B 50% → None. Following A."
    )


def test_it_stops_following_after_25_steps(clock, opted_in_contact):
    journey = journey_build(
        steps=[
            ("a", "create_task", {"reason": "ping", "next": "b"}),
            ("b", "create_task", {"reason": "pong", "next": "a"}),
        ]
    )
    simulation = simulate(journey, contact=opted_in_contact())
    assert len(simulation.steps) == 25
    assert simulation.ending == "Stopped following after 25 steps."


def test_it_reaches_the_goal_when_a_step_sets_the_goal_stage(clock, opted_in_contact):
    journey = journey_build(
        steps=[
            ("promote", "set_lifecycle_stage", {"stage": "sql", "next": "text"}),
            ("text", "send_sms", {"template": sms_template().pk}),
        ],
        exit_lifecycle_stage="mql",
    )
    simulation = simulate(journey, contact=opted_in_contact())
    assert simulation.path == ["promote"]
    assert simulation.ending == "Goal reached: lifecycle stage reached sql."


def test_it_notes_that_a_draft_journey_takes_nobody_in_yet(clock, opted_in_contact):
    journey = lead_check_journey(status=JourneyStatus.DRAFT)
    simulation = simulate(journey, contact=opted_in_contact())
    assert simulation.notes[0] == (
        "This journey is draft: nobody enters until it is active. The path is shown as if it were."
    )
    assert simulation.path == ["check", "text"]


# --- nothing sent, nothing written ---------------------------------------------------------


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


@pytest.fixture
def fake_twilio(settings):
    with FakeTwilio("AC" + "1" * 32, "test-auth-token") as fake:
        settings.TWILIO_ACCOUNT_SID = "AC" + "1" * 32
        settings.TWILIO_AUTH_TOKEN = "test-auth-token"
        settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "2" * 32
        settings.TWILIO_API_BASE_URL = fake.base_url
        yield fake


def test_it_sends_nothing_and_writes_nothing(
    clock,
    client,
    make_user,
    opted_in_contact,
    fake_twilio,
    caplog,
    django_capture_on_commit_callbacks,
):
    # Given a journey with a text and a marketer signed in
    journey = lead_check_journey(cap_messages=2, cap_hours=24, send_weekdays=[1])
    contact = opted_in_contact()
    client.force_login(make_user(roles.MARKETER))
    url = reverse("admin:journeys_journey_simulate", args=[journey.pk])
    before = row_counts()
    # When she simulates a contact from the CRM and a described one
    with caplog.at_level(logging.INFO), django_capture_on_commit_callbacks() as callbacks:
        saved = client.get(
            url, {"run": "1", "contact": contact.pk, "event_type": "webinar_registered"}
        )
        described_page = client.get(
            url,
            {
                "run": "1", "event_type": "webinar_registered", "lifecycle_stage": "lead",
                "kind": "prospect", "intent_band": "high", "time_zone": "America/Chicago",
                "region": "IL", "phone": "+13125550100", "sms_consent": "opted_in",
                "email_consent": "none",
            },
        )  # fmt: skip
    # Then both show a path with the gate's decision
    assert saved.context["simulation"].path == ["check", "text"]
    assert described_page.context["simulation"].path == ["check", "text"]
    assert saved.context["simulation"].steps[1].decision == "allow"
    assert described_page.context["simulation"].steps[1].decision == "allow"
    # And nothing was written, queued after commit, or handed to a transport
    assert row_counts() == before
    assert callbacks == []
    assert fake_twilio.requests == []
    assert [r for r in caplog.records if r.name == "cue.console_transport"] == []
