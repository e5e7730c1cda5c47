"""A journey's settings (trigger, entry, goal, rules) are part of its version: a change to a
live journey's cap or trigger waits in a draft, runs nowhere until an approver who did not
write it publishes it, and then applies to new entrants while enrollments left on the old
version keep its settings (invariant 14)."""

import importlib
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission

from apps.accounts import roles
from apps.journeys.models import Enrollment, Journey, JourneyVersion, Step
from apps.journeys.services import JourneyError
from apps.journeys.version_diff import version_changes
from apps.journeys.versions import (
    journey_draft_start,
    version_approve,
    version_publish,
    version_settings_save,
    version_submit,
)
from apps.sends.models import MessageStatus, OutboundMessage
from tests.journeys.builders import journey_build, sms_template
from tests.journeys.scenario import advance, happen
from tests.journeys.test_journeys_api import token_client
from tests.stages import enterprise_pipeline

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(make_user):
    return make_user(roles.MARKETER, username="mara")


@pytest.fixture
def approver(make_user):
    return make_user(roles.APPROVER, username="alex")


def three_texts_an_hour_apart(**fields) -> Journey:
    """Live v1: starts on demo_request, at most 2 texts per contact in 24 h."""
    first, second, third = (
        sms_template(name=name, body=f"Cue Demo: {name}. Reply STOP to opt out.")
        for name in ("First", "Second", "Third")
    )
    return journey_build(
        steps=[
            ("first", "send_sms", {"template": first.pk, "next": "pause1"}),
            ("pause1", "wait", {"hours": 1, "next": "second"}),
            ("second", "send_sms", {"template": second.pk, "next": "pause2"}),
            ("pause2", "wait", {"hours": 1, "next": "third"}),
            ("third", "send_sms", {"template": third.pk}),
        ],
        trigger_event_type="demo_request",
        cap_messages=2,
        cap_hours=24,
        **fields,
    )


def draft_v2(journey, marketer):
    """v2 changes only the settings: a cap of 1 and the webinar_signup trigger."""
    draft = journey_draft_start(actor=marketer, journey=journey)
    changed = version_settings_save(
        actor=marketer,
        version=draft,
        values={"cap_messages": 1, "trigger_event_type": "webinar_signup"},
    )
    assert changed == ["trigger_event_type", "cap_messages"]
    return draft


def enters(contact, event_type, key, capture) -> Enrollment | None:
    with capture(execute=True):
        happen(contact, event_type, key)
    return Enrollment.objects.filter(contact=contact).first()


def run_three_hours(clock, capture) -> None:
    for _ in range(2):
        clock.shift(timedelta(hours=1))
        advance(capture)


def texts_of(contact) -> list[tuple[str, str]]:
    """(step key, what happened: "went" or the suppression's reason code) in order."""
    keys = dict(Step.objects.values_list("pk", "key"))
    rows = OutboundMessage.objects.filter(contact=contact).order_by("pk")
    return [
        (keys[step_id], code if status == MessageStatus.SUPPRESSED else "went")
        for step_id, status, code in rows.values_list("step_id", "status", "reason_code")
    ]


def test_a_draft_changes_nothing_that_runs_until_it_is_published(
    clock, marketer, opted_in_contact, django_capture_on_commit_callbacks
):
    # Given live v1 (demo_request, cap 2 in 24 h) and a submitted draft v2 (webinar_signup, cap 1)
    journey = three_texts_an_hour_apart()
    version_submit(actor=marketer, version=draft_v2(journey, marketer))
    capture = django_capture_on_commit_callbacks
    # When an event of v2's trigger happens: nobody enters
    newcomer = opted_in_contact()
    assert enters(newcomer, "webinar_signup", "signup-1", capture) is None
    # And v1's trigger still enrolls, on v1, with v1's cap of 2
    ada = opted_in_contact()
    enrollment = enters(ada, "demo_request", "demo-1", capture)
    assert enrollment.version == journey.live_version
    run_three_hours(clock, capture)
    assert texts_of(ada) == [("first", "went"), ("second", "went"), ("third", "journey_cap")]
    assert OutboundMessage.objects.filter(contact=newcomer).count() == 0
    journey.refresh_from_db()
    assert (journey.trigger_event_type, journey.cap_messages) == ("demo_request", 2)


def test_after_publishing_new_entrants_follow_v2_and_an_enrollment_on_v1_keeps_its_cap(
    clock, marketer, approver, opted_in_contact, django_capture_on_commit_callbacks
):
    journey = three_texts_an_hour_apart()
    v1 = journey.live_version
    capture = django_capture_on_commit_callbacks
    # Given Ada running on v1 and draft v2 submitted by its author
    ada = opted_in_contact()
    assert enters(ada, "demo_request", "demo-ada", capture).version == v1
    draft = draft_v2(journey, marketer)
    version_submit(actor=marketer, version=draft)
    # The author cannot approve it
    with pytest.raises(JourneyError) as refused:
        version_approve(actor=marketer, version=draft)
    assert refused.value.code == "permission_denied"
    # When an approver who did not write it approves and publishes it
    version_approve(actor=approver, version=draft)
    version_publish(actor=approver, version=draft)
    journey.refresh_from_db()
    assert (journey.live_version, journey.trigger_event_type, journey.cap_messages) == (
        draft, "webinar_signup", 1,
    )  # fmt: skip
    # Then v2's trigger enrolls (on v2) and v1's no longer does
    bea, cleo = opted_in_contact(), opted_in_contact()
    assert enters(bea, "webinar_signup", "signup-bea", capture).version == draft
    assert enters(cleo, "demo_request", "demo-cleo", capture) is None
    run_three_hours(clock, capture)
    # Ada keeps v1's cap of 2; Bea has v2's cap of 1
    assert texts_of(ada) == [("first", "went"), ("second", "went"), ("third", "journey_cap")]
    assert texts_of(bea) == [
        ("first", "went"),
        ("second", "journey_cap"),
        ("third", "journey_cap"),
    ]
    assert OutboundMessage.objects.filter(contact=cleo).count() == 0
    suppressed = OutboundMessage.objects.filter(contact=bea, reason_code="journey_cap").first()
    assert suppressed.reason == "Test journey already sent 1 in 24 h (its cap is 1)."


def test_an_enrollment_on_v1_ends_on_v1s_goal_after_v2_changed_the_goal(
    clock, marketer, approver, opted_in_contact, django_capture_on_commit_callbacks
):
    # Given Ada running on v1, whose goal is meeting_booked
    journey = three_texts_an_hour_apart(exit_event_types=["meeting_booked"])
    capture = django_capture_on_commit_callbacks
    ada, bea = opted_in_contact(), opted_in_contact()
    enters(ada, "demo_request", "demo-ada", capture)
    # And v2, whose goal is trial_started, published; Bea enters on v2
    draft = journey_draft_start(actor=marketer, journey=journey)
    version_settings_save(
        actor=marketer, version=draft, values={"exit_event_types": ["trial_started"]}
    )
    version_submit(actor=marketer, version=draft)
    version_approve(actor=approver, version=draft)
    version_publish(actor=approver, version=draft)
    assert enters(bea, "demo_request", "demo-bea", capture).version == draft
    # When both book a meeting: v1's goal ends Ada's journey, Bea's goes on
    with capture(execute=True):
        happen(ada, "meeting_booked", "meet-ada")
        happen(bea, "meeting_booked", "meet-bea")
    states = dict(Enrollment.objects.values_list("contact_id", "state"))
    assert (states[ada.pk], states[bea.pk]) == ("goal_reached", "waiting")


def test_an_approver_who_changed_the_drafts_settings_cannot_approve_it(marketer, approver):
    # Given an approver who may also edit journeys, and who changed the draft's holdout
    journey = three_texts_an_hour_apart()
    draft = draft_v2(journey, marketer)
    approver.user_permissions.add(
        Permission.objects.get(content_type__app_label="journeys", codename="change_journeyversion")
    )
    version_settings_save(actor=approver, version=draft, values={"holdout_percent": 10})
    version_submit(actor=marketer, version=draft)
    # Then they may not approve it: they wrote part of it
    with pytest.raises(JourneyError) as refused:
        version_approve(actor=approver, version=draft)
    assert refused.value.code == "self_approval"
    draft.refresh_from_db()
    assert (draft.status, draft.holdout_percent) == ("submitted", 10)


def test_the_history_says_which_settings_a_version_changes(marketer):
    journey = three_texts_an_hour_apart()
    draft = draft_v2(journey, marketer)
    version_settings_save(
        actor=marketer,
        version=draft,
        values={"reentry": "after_days", "reentry_days": 30, "send_weekdays": [0, 1, 2, 3, 4]},
    )
    draft.refresh_from_db()
    assert version_changes(journey.live_version, draft) == [
        "Trigger: demo_request → webinar_signup.",
        "Re-entry: never → after 30 days.",
        "Cap: 2 in 24 h → 1 in 24 h.",
        "Sending days: any day → Mon, Tue, Wed, Thu, Fri.",
    ]


def test_only_a_drafts_settings_change_and_bad_values_are_refused_with_their_field(marketer):
    journey = three_texts_an_hour_apart()
    live = journey.live_version
    with pytest.raises(JourneyError) as refused:
        version_settings_save(actor=marketer, version=live, values={"cap_messages": 5})
    assert refused.value.field == "status"
    draft = journey_draft_start(actor=marketer, journey=journey)
    for values, field in [
        ({"holdout_percent": 80}, "holdout_percent"),
        ({"send_weekdays": [7]}, "send_weekdays"),
        ({"trigger_filters": ["form"]}, "trigger_filters"),
        ({"trigger_kind": "calendar"}, "trigger_kind"),
        ({"name": "Renamed"}, "name"),
    ]:
        with pytest.raises(JourneyError) as refused:
            version_settings_save(actor=marketer, version=draft, values=values)
        assert refused.value.field == field, values
    draft.refresh_from_db()
    live.refresh_from_db()
    assert (draft.holdout_percent, draft.send_weekdays, draft.trigger_kind) == (0, [], "event")
    assert (live.cap_messages, live.holdout_percent) == (2, 0)


# --- the API -----------------------------------------------------------------------------


def test_the_api_changes_a_drafts_settings_and_refuses_the_live_versions(marketer, approver):
    journey = three_texts_an_hour_apart()
    author = token_client(marketer)
    draft = author.post(f"/api/v1/journeys/{journey.pk}/draft/", format="json").json()
    url = f"/api/v1/journeys/versions/{draft['id']}/settings/"
    assert (draft["trigger_event_type"], draft["cap_messages"]) == ("demo_request", 2)
    response = author.patch(
        url, {"trigger_event_type": "webinar_signup", "cap_messages": 1}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["trigger_event_type"], body["cap_messages"]) == (
        "draft", "webinar_signup", 1,
    )  # fmt: skip
    assert "Trigger: demo_request → webinar_signup." in body["changes"]
    journey.refresh_from_db()
    assert (journey.trigger_event_type, journey.cap_messages) == ("demo_request", 2)
    live = f"/api/v1/journeys/versions/{journey.live_version_id}/settings/"
    refused = author.patch(live, {"cap_messages": 5}, format="json")
    assert refused.status_code == 400
    assert list(refused.json()) == ["status"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"holdout_percent": 80}, "holdout_percent"),
        ({"trigger_event_type": "Demo Request"}, "trigger_event_type"),
        ({"trigger_event_type": "Demo\u0000"}, "trigger_event_type"),
        ({"send_weekdays": [1, 9]}, "send_weekdays"),
        ({"exit_lifecycle_stage": "nowhere"}, "exit_lifecycle_stage"),
        ({"entry_segment": 999999}, "entry_segment"),
        ({"trigger_filters": "form=demo"}, "trigger_filters"),
        ({"name": "Renamed"}, "name"),
    ],
)
def test_the_api_refuses_bad_settings_with_the_field_and_changes_nothing(marketer, payload, field):
    journey = three_texts_an_hour_apart()
    author = token_client(marketer)
    draft = author.post(f"/api/v1/journeys/{journey.pk}/draft/", format="json").json()
    response = author.patch(
        f"/api/v1/journeys/versions/{draft['id']}/settings/", payload, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == [field]
    version = journey.versions.get(pk=draft["id"])
    assert version.settings() == journey.live_version.settings()


def test_the_api_refuses_settings_that_are_not_an_object(marketer):
    journey = three_texts_an_hour_apart()
    author = token_client(marketer)
    draft = author.post(f"/api/v1/journeys/{journey.pk}/draft/", format="json").json()
    response = author.patch(
        f"/api/v1/journeys/versions/{draft['id']}/settings/", [1, 2], format="json"
    )
    assert response.status_code == 400


# --- the migration -----------------------------------------------------------------------


def test_the_migration_gives_every_version_and_its_history_the_journeys_settings(marketer):
    from django.apps import apps

    migration = importlib.import_module("apps.journeys.migrations.0007_version_settings")
    journey = three_texts_an_hour_apart(reentry="after_days", reentry_days=30)
    journey_draft_start(actor=marketer, journey=journey)
    # As before the migration: versions held no settings (the columns' defaults)
    defaults = {"trigger_event_type": "", "cap_messages": None, "cap_hours": None,
                "reentry": "never", "reentry_days": None}  # fmt: skip
    JourneyVersion.objects.update(**defaults)
    JourneyVersion.history.update(**defaults)
    migration.settings_copy(apps, None)
    expected = journey.settings()
    assert [v.settings() == expected for v in JourneyVersion.objects.order_by("number")] == [
        True,
        True,
    ]
    assert {
        (row.trigger_event_type, row.cap_messages, row.reentry_days)
        for row in JourneyVersion.history.all()
    } == {("demo_request", 2, 30)}


def test_the_api_sets_a_deal_stage_goal_says_it_in_words_and_refuses_a_lost_stage(marketer):
    enterprise = enterprise_pipeline()
    journey = three_texts_an_hour_apart()
    author = token_client(marketer)
    draft = author.post(f"/api/v1/journeys/{journey.pk}/draft/", format="json").json()
    url = f"/api/v1/journeys/versions/{draft['id']}/settings/"
    dropped = enterprise.stages.get(key="dropped")

    for refused_value in (dropped.pk, 999999, "nego"):
        refused = author.patch(url, {"exit_pipeline_stage": refused_value}, format="json")
        assert refused.status_code == 400, refused_value
        assert list(refused.json()) == ["exit_pipeline_stage"]
    nego = enterprise.stages.get(key="nego")
    response = author.patch(url, {"exit_pipeline_stage": nego.pk}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["exit_pipeline_stage"] == nego.pk
    assert "Goal deal stage: none → Enterprise: Negotiation." in body["changes"]
    assert journey.versions.get(pk=draft["id"]).exit_pipeline_stage_id == nego.pk
    journey.refresh_from_db()
    assert journey.exit_pipeline_stage_id is None  # live until published
