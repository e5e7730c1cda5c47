"""Journey versions: a live journey is changed through a draft that someone else approves;
what is live never changes in place, and running enrollments stay on their version unless
the publisher moves them along a mapping that is shown and recorded."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts import roles
from apps.contacts.events import record_event
from apps.journeys.engine.advance import enrollments_advance_due
from apps.journeys.models import Enrollment, JourneyVersion, Step
from apps.journeys.services import JourneyError, enrollment_start
from apps.journeys.version_diff import version_changes
from apps.journeys.versions import (
    enrollment_move_plan,
    journey_draft_start,
    version_approve,
    version_first_step_set,
    version_publish,
    version_reject,
    version_step_delete,
    version_step_save,
    version_submit,
)
from apps.sends.models import OutboundMessage
from tests.journeys.builders import journey_build, sms_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(make_user):
    return make_user(roles.MARKETER, username="mara")


@pytest.fixture
def approver(make_user):
    return make_user(roles.APPROVER, username="alex")


def live_journey():
    remind = sms_template()
    return journey_build(
        steps=[
            ("remind", "send_sms", {"template": remind.pk, "next": "wait"}),
            ("wait", "wait", {"hours": 24, "next": "done"}),
            ("done", "exit", {}),
        ]
    )


def draft_with_nudge(journey, marketer):
    """A draft that sends a nudge after the wait instead of ending."""
    draft = journey_draft_start(actor=marketer, journey=journey)
    nudge = sms_template(name="Nudge", body="Cue Demo: still coming? Reply STOP to opt out.")
    version_step_save(
        actor=marketer,
        version=draft,
        key="wait",
        kind="wait",
        config={"hours": 24, "next": "nudge"},
        position=1,
    )
    version_step_save(
        actor=marketer,
        version=draft,
        key="nudge",
        kind="send_sms",
        config={"template": nudge.pk, "next": "done"},
        position=3,
    )
    return draft


def through_review(draft, marketer, approver, **publish):
    version_submit(actor=marketer, version=draft, summary="Nudge after the wait")
    version_approve(actor=approver, version=draft)
    return version_publish(actor=approver, version=draft, **publish)


def enroll(journey, contact):
    enrollment = enrollment_start(journey=journey, contact=contact)
    enrollments_advance_due()
    enrollment.refresh_from_db()
    return enrollment


def test_it_makes_each_existing_journey_its_published_version_one(clock):
    journey = live_journey()
    [version] = JourneyVersion.objects.filter(journey=journey)
    assert (version.number, version.status) == (1, "published")
    assert journey.live_version == version
    assert set(version.steps.values_list("key", flat=True)) == {"remind", "wait", "done"}


def test_it_copies_the_live_steps_into_a_draft_and_leaves_the_live_version_alone(clock, marketer):
    journey = live_journey()
    live = journey.live_version
    before = list(live.steps.order_by("key").values_list("pk", "key", "kind", "config"))
    draft = draft_with_nudge(journey, marketer)
    assert (draft.number, draft.status, draft.author) == (2, "draft", marketer)
    assert list(draft.steps.order_by("position").values_list("key", flat=True)) == [
        "remind",
        "wait",
        "done",
        "nudge",
    ]
    assert draft.first_step.key == "remind" and draft.first_step.version == draft
    assert list(live.steps.order_by("key").values_list("pk", "key", "kind", "config")) == before
    journey.refresh_from_db()
    assert journey.live_version == live
    assert journey_draft_start(actor=marketer, journey=journey) == draft  # one in the works


def test_it_keeps_a_running_enrollment_on_the_version_it_entered(
    clock, marketer, approver, opted_in_contact
):
    journey = live_journey()
    old = journey.live_version
    early = enroll(journey, opted_in_contact(phone="+13125550101"))
    assert (early.state, early.current_step.key, early.version) == ("waiting", "wait", old)
    new = through_review(draft_with_nudge(journey, marketer), marketer, approver)
    journey.refresh_from_db()
    old.refresh_from_db()
    assert (journey.live_version, journey.first_step.version) == (new, new)
    assert (old.status, new.status, new.approver, new.published_by) == (
        "retired",
        "published",
        approver,
        approver,
    )
    late = enroll(journey, opted_in_contact(phone="+13125550102"))
    assert (late.version, late.current_step.version) == (new, new)
    clock.shift(timedelta(hours=25))
    enrollments_advance_due()
    early.refresh_from_db()
    late.refresh_from_db()
    assert (early.state, early.current_step.key, early.current_step.version) == (
        "completed",
        "done",
        old,
    )
    # The newer version's nudge went to the late entrant only.
    nudges = OutboundMessage.objects.filter(step_id=new.steps.get(key="nudge").pk)
    assert list(nudges.values_list("enrollment_id", flat=True)) == [late.pk]


def test_it_refuses_a_change_to_a_published_or_submitted_version(clock, marketer, approver):
    journey = live_journey()
    with pytest.raises(JourneyError, match="only a draft's steps and settings can be changed"):
        version_step_save(
            actor=marketer, version=journey.live_version, key="done", kind="exit", config={}
        )
    draft = draft_with_nudge(journey, marketer)
    version_submit(actor=marketer, version=draft)
    with pytest.raises(JourneyError, match="only a draft's steps and settings can be changed"):
        version_step_delete(actor=marketer, version=draft, key="nudge")
    assert draft.steps.count() == 4


def test_it_refuses_the_author_approving_their_own_version(clock, make_user):
    author = make_user(roles.ADMIN, username="ada")
    journey = live_journey()
    draft = journey_draft_start(actor=author, journey=journey)
    version_submit(actor=author, version=draft)
    with pytest.raises(JourneyError, match="someone else must approve it") as refused:
        version_approve(actor=author, version=draft)
    assert refused.value.code == "self_approval"
    draft.refresh_from_db()
    assert (draft.status, draft.approver) == ("submitted", None)


def test_it_refuses_an_admin_who_edited_someone_elses_draft(clock, marketer, approver, make_user):
    editor = make_user(roles.ADMIN, username="eddie")
    journey = live_journey()
    draft = journey_draft_start(actor=marketer, journey=journey)
    version_step_save(actor=editor, version=draft, key="done", kind="exit", config={}, position=2)
    version_submit(actor=marketer, version=draft)
    with pytest.raises(JourneyError, match="someone else must approve it"):
        version_approve(actor=editor, version=draft)
    version_approve(actor=approver, version=draft)
    draft.refresh_from_db()
    assert (draft.status, draft.approver) == ("approved", approver)


def test_it_refuses_review_and_publishing_to_a_marketer(clock, marketer, make_user):
    other = make_user(roles.MARKETER, username="mo")
    journey = live_journey()
    draft = draft_with_nudge(journey, marketer)
    version_submit(actor=marketer, version=draft)
    with pytest.raises(JourneyError, match="Only an approver may review") as refused:
        version_approve(actor=other, version=draft)
    assert refused.value.code == "permission_denied"
    with pytest.raises(JourneyError, match="Only an approver may publish"):
        version_publish(actor=other, version=draft)
    draft.refresh_from_db()
    assert draft.status == "submitted"


def test_it_publishes_only_an_approved_version(clock, marketer, approver):
    journey = live_journey()
    draft = draft_with_nudge(journey, marketer)
    version_submit(actor=marketer, version=draft)
    with pytest.raises(JourneyError, match="only an approved version can be published"):
        version_publish(actor=approver, version=draft)
    journey.refresh_from_db()
    assert journey.live_version.number == 1


def test_it_refuses_to_submit_a_draft_with_problems(clock, marketer):
    journey = live_journey()
    draft = journey_draft_start(actor=marketer, journey=journey)
    version_step_save(
        actor=marketer, version=draft, key="wait", kind="wait", config={"hours": 1, "next": "nope"}
    )
    with pytest.raises(JourneyError, match="which is not a step of this journey") as refused:
        version_submit(actor=marketer, version=draft)
    assert refused.value.field == "steps"
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_a_rejected_version_goes_back_to_its_author_as_a_draft(clock, marketer, approver):
    journey = live_journey()
    draft = draft_with_nudge(journey, marketer)
    version_submit(actor=marketer, version=draft)
    with pytest.raises(JourneyError, match="Say why"):
        version_reject(actor=approver, version=draft, reason="  ")
    version_reject(actor=approver, version=draft, reason="The nudge is too soon.")
    draft.refresh_from_db()
    assert (draft.status, draft.rejection_reason) == ("draft", "The nudge is too soon.")
    # Fixed and sent again, the same approver may approve it: rejecting is not writing.
    version_submit(actor=marketer, version=draft)
    version_approve(actor=approver, version=draft)
    draft.refresh_from_db()
    assert (draft.status, draft.rejection_reason, draft.approver) == ("approved", "", approver)


def test_the_publisher_may_move_running_enrollments_along_the_recorded_mapping(
    clock, marketer, approver, opted_in_contact
):
    journey = live_journey()
    old = journey.live_version
    waiting = enroll(journey, opted_in_contact())
    draft = draft_with_nudge(journey, marketer)
    plan = enrollment_move_plan(old, draft)
    assert (plan.mapping, plan.unmapped) == ({"wait": "wait"}, [])
    new = through_review(draft, marketer, approver, move_enrollments=True)
    waiting.refresh_from_db()
    assert (waiting.version, waiting.current_step) == (new, new.steps.get(key="wait"))
    assert new.enrollments_moved == {
        "from_version": 1,
        "mapping": {"wait": "wait"},
        "waiting": {"wait": 1},
        "moved": 1,
    }
    clock.shift(timedelta(hours=25))
    enrollments_advance_due()
    waiting.refresh_from_db()
    assert (waiting.state, waiting.current_step.key) == ("completed", "done")
    assert OutboundMessage.objects.filter(step_id=new.steps.get(key="nudge").pk).count() == 1


def test_it_refuses_to_move_enrollments_whose_step_has_no_counterpart(
    clock, marketer, approver, opted_in_contact
):
    journey = live_journey()
    old = journey.live_version
    waiting = enroll(journey, opted_in_contact())
    draft = journey_draft_start(actor=marketer, journey=journey)
    version_step_save(
        actor=marketer,
        version=draft,
        key="remind",
        kind="send_sms",
        config={**draft.steps.get(key="remind").config, "next": "done"},
    )
    version_step_delete(actor=marketer, version=draft, key="wait")
    version_submit(actor=marketer, version=draft)
    version_approve(actor=approver, version=draft)
    with pytest.raises(JourneyError, match=r"no step of the same key and kind for wait \(1 wait"):
        version_publish(actor=approver, version=draft, move_enrollments=True)
    journey.refresh_from_db()
    draft.refresh_from_db()
    assert (journey.live_version, draft.status) == (old, "approved")
    version_publish(actor=approver, version=draft)  # without moving: it finishes on v1
    waiting.refresh_from_db()
    assert waiting.version == old


def test_a_first_publish_starts_a_draft_journey(clock, marketer, approver):
    journey = journey_build(steps=[("done", "exit", {})], status="draft")
    [version] = journey.versions.all()
    assert version.status == "draft"
    through_review(version, marketer, approver)
    journey.refresh_from_db()
    assert (journey.status, journey.live_version, journey.first_step.key) == (
        "active",
        version,
        "done",
    )
    assert journey.activated_at == timezone.now()


def test_the_same_step_key_lives_once_per_version(clock, marketer):
    journey = live_journey()
    draft = journey_draft_start(actor=marketer, journey=journey)
    assert Step.objects.filter(journey=journey, key="wait").count() == 2
    assert draft.steps.filter(key="wait").count() == 1


def test_an_event_after_publishing_enrolls_on_the_new_version(
    clock, marketer, approver, opted_in_contact, django_capture_on_commit_callbacks
):
    journey = live_journey()
    new = through_review(draft_with_nudge(journey, marketer), marketer, approver)
    contact = opted_in_contact()
    with django_capture_on_commit_callbacks(execute=True):
        record_event(
            contact=contact,
            type="webinar_registered",
            occurred_at=timezone.now(),
            idempotency_key="reg-after",
            properties={},
        )
    enrollment = Enrollment.objects.get(journey=journey, contact=contact)
    assert (enrollment.version, enrollment.current_step.version) == (new, new)


def test_it_says_what_a_version_changes_step_by_step(clock, marketer):
    journey = live_journey()
    live = journey.live_version
    draft = draft_with_nudge(journey, marketer)
    version_step_save(
        actor=marketer, version=draft, key="done", kind="wait", config={"hours": 2}, position=2
    )
    version_step_delete(actor=marketer, version=draft, key="remind")
    version_step_save(
        actor=marketer,
        version=draft,
        key="start",
        kind="wait",
        config={"hours": 1, "next": "wait"},
        position=0,
    )
    version_first_step_set(actor=marketer, version=draft, key="start")
    draft.refresh_from_db()
    assert version_changes(live, draft) == [
        "Starts at start instead of remind.",
        "Added step start (Wait): waits 1 h.",
        "Step wait: “next” now leads to nudge (was done).",
        "Step done is now “Wait” (waits 2 h) instead of “Exit” (exit).",
        "Added step nudge (Send SMS): Nudge.",
        "Removed step remind (Send SMS: Webinar reminder).",
    ]
    assert version_changes(None, live)[0] == "Starts at remind."


def dashboard(client, user) -> str:
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_dashboard_lists_the_journey_versions_waiting_for_the_approver(
    clock, client, marketer, approver, make_user
):
    journey = live_journey()
    draft = draft_with_nudge(journey, marketer)
    version_submit(actor=marketer, version=draft, summary="Nudge after the wait")
    page = dashboard(client, approver)
    assert "1 journey version waits for you:" in page
    assert (
        f'<a href="/admin/journeys/journey/{journey.pk}/change/">Test journey v2</a> by mara: '
        "Nudge after the wait"
    ) in page
    # Not to the marketer (no review), nor to an admin who edited the draft.
    assert 'id="cue-journey-reviews-waiting"' not in dashboard(client, marketer)
    editor = make_user(roles.ADMIN, username="eddie")
    version_reject(actor=approver, version=draft, reason="Again")
    version_step_save(actor=editor, version=draft, key="done", kind="exit", config={}, position=2)
    version_submit(actor=marketer, version=draft)
    assert "No journey version waits for you." in dashboard(client, editor)
    assert "1 journey version waits for you:" in dashboard(client, approver)


def test_the_journey_page_shows_and_edits_the_draft_steps_only(clock, client, marketer):
    journey = live_journey()
    draft = draft_with_nudge(journey, marketer)
    client.force_login(marketer)
    response = client.get(f"/admin/journeys/journey/{journey.pk}/change/")
    forms = response.context["inline_admin_formsets"][0].formset.initial_forms
    assert [form.instance.key for form in forms] == ["remind", "wait", "done", "nudge"]
    assert {form.instance.version_id for form in forms} == {draft.pk}
