"""The builder picks, it does not take typing: the trigger event is chosen from the types Cue
knows and has seen (a new type only through an explicit "New event type…"), and the live
checks' data comes from the kinds' specs and the library's approved templates."""

from datetime import UTC, datetime

import pytest

from apps.contacts.models import Event, EventType
from apps.journeys.admin.forms import NEW_EVENT_TYPE, JourneyForm
from apps.journeys.admin.live_checks import builder_checks_data
from apps.journeys.steps import SPECS
from tests.factories import ContactFactory
from tests.journeys.builders import sms_template
from tests.sends.templates import draft_sms_version

pytestmark = pytest.mark.django_db


def form(**fields):
    data = {
        "name": "Trial nurture", "trigger_kind": "event", "reentry": "never",
        "holdout_percent": "0", **fields,
    }  # fmt: skip
    return JourneyForm(data=data)


def test_it_offers_the_known_and_the_seen_event_types(clock):
    Event.objects.create(
        contact=ContactFactory(),
        type="trial_started",
        occurred_at=datetime(2026, 3, 9, tzinfo=UTC),
        idempotency_key="seen-1",
    )
    choices = dict(form().fields["trigger_event_type"].choices)
    assert set(EventType.values) <= set(choices)
    assert choices["trial_started"] == "Trial started (trial_started)"
    assert choices["pricing_view"] == "Viewed pricing (pricing_view)"
    assert list(choices)[-1] == NEW_EVENT_TYPE


def test_a_typo_is_refused_and_a_new_type_needs_the_explicit_choice(clock):
    typo = form(trigger_event_type="pricing_veiw")
    assert typo.errors["trigger_event_type"] == [
        "Select a valid choice. pricing_veiw is not one of the available choices."
    ]
    new = form(trigger_event_type=NEW_EVENT_TYPE, trigger_event_type_new="trial_started")
    assert new.is_valid(), new.errors
    assert new.cleaned_data["trigger_event_type"] == "trial_started"
    unnamed = form(trigger_event_type=NEW_EVENT_TYPE, trigger_event_type_new="")
    assert unnamed.errors["trigger_event_type_new"] == ["Name the new event type."]
    bad = form(trigger_event_type=NEW_EVENT_TYPE, trigger_event_type_new="Trial Started!")
    assert bad.errors["trigger_event_type_new"] == [
        "An event type is a lowercase slug: letters, digits and underscores, e.g. trial_started."
    ]
    known = form(trigger_event_type="pricing_view", trigger_event_type_new="ignored_here")
    assert known.is_valid(), known.errors
    assert known.cleaned_data["trigger_event_type"] == "pricing_view"


def test_a_journeys_own_unseen_type_stays_choosable(clock):
    from tests.journeys.builders import journey_build

    journey = journey_build(steps=[("done", "exit", {})], trigger_event_type="legacy_signup")
    choices = dict(JourneyForm(instance=journey).fields["trigger_event_type"].choices)
    assert choices["legacy_signup"] == "legacy_signup"


BRANCH_FIELDS = ["then_step", "else_step", "outcome_step", "outcome_is", "condition"]


def test_the_live_checks_read_the_kinds_and_the_approved_templates():
    approved = sms_template(name="Reminder")
    draft = draft_sms_version(name="Unreviewed").template
    data = builder_checks_data()
    assert set(data["kinds"]) == set(SPECS)
    assert data["kinds"]["branch"] == {
        "edges": {"then_step": "then", "else_step": "else"},
        "waits": False,
        "variants": "",
        "template": "",
        "fields": BRANCH_FIELDS,
    }
    assert data["kinds"]["wait_until"]["edges"] == {"next_step": "next", "on_timeout": "timeout"}
    assert data["kinds"]["wait_until"]["waits"] is True
    assert data["kinds"]["split"]["variants"] == "variants"
    assert data["kinds"]["send_email"]["template"] == "email_template"
    # A fieldset both send kinds share shows each only its channel's template (and sender)
    assert data["kinds"]["send_sms"]["fields"] == [
        "next_step", "sms_template", "sms_sender", "on_suppressed", "on_deferred",
    ]  # fmt: skip
    assert data["kinds"]["send_email"]["fields"] == [
        "next_step", "email_template", "on_suppressed", "on_deferred",
    ]  # fmt: skip
    assert data["approved_templates"] == [approved.pk]
    version = approved.current_version
    assert data["previews"] == {approved.pk: version.body}
    assert draft.pk not in data["approved_templates"]
