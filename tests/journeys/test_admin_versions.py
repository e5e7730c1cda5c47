"""A journey's versions in the admin: the draft a marketer's edit made is submitted by its
author, approved (or rejected with a reason) by an approver who did not write it, published
with the enrollment move plan shown and the choice to move recorded; the history shows each
version's writer, reviewers and step-by-step diff."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from apps.accounts import roles
from apps.journeys.models import Enrollment, JourneyVersionStatus
from apps.journeys.services import enrollment_start
from apps.journeys.versions import (
    journey_draft_start,
    version_approve,
    version_step_save,
    version_submit,
)
from tests.html_forms import form_as_submitted
from tests.journeys.builders import journey_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(make_user):
    return make_user(roles.MARKETER, username="maria")


@pytest.fixture
def approver(make_user):
    return make_user(roles.APPROVER, username="alex")


def versions_url(journey) -> str:
    return reverse("admin:journeys_journey_versions", args=[journey.pk])


def action_url(version, action: str) -> str:
    return reverse(
        f"admin:journeys_journey_version_{action}", args=[version.journey_id, version.pk]
    )


def flashed(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def waiting_journey(opted_in_contact):
    """A live v1 (wait 1h, then done) with one contact waiting on its wait."""
    journey = journey_build(
        steps=[("pause", "wait", {"hours": 1, "next": "done"}), ("done", "exit", {})]
    )
    enrollment = enrollment_start(journey=journey, contact=opted_in_contact())
    Enrollment.objects.filter(pk=enrollment.pk).update(
        current_step=journey.steps.get(key="pause"), state="waiting"
    )
    return journey, enrollment


def longer_wait_draft(journey, author, key: str = "pause"):
    """v2: the wait is 3 hours (under `key`: another key cannot take the waiting along)."""
    draft = journey_draft_start(actor=author, journey=journey)
    if key != "pause":
        draft.steps.filter(key="pause").delete()
    version_step_save(
        actor=author, version=draft, key=key, kind="wait",
        config={"hours": 3, "next": "done"}, position=0,
    )  # fmt: skip
    if key != "pause":
        draft.first_step = draft.steps.get(key=key)
        draft.save()
    return draft


def test_the_author_submits_and_may_not_approve_their_own_version(
    client, marketer, opted_in_contact
):
    journey, _ = waiting_journey(opted_in_contact)
    draft = longer_wait_draft(journey, marketer)
    client.force_login(marketer)
    page = client.get(versions_url(journey))
    assert page.context["working"] == draft
    assert page.context["may_submit"] is True
    assert page.context["problems"] == []
    response = client.post(action_url(draft, "submit"), {"summary": "A longer wait"})
    assert response.status_code == 302 and response.url == versions_url(journey)
    assert flashed(response) == ["v2 is submitted: an approver other than its writers reviews it."]
    draft.refresh_from_db()
    assert (draft.status, draft.change_summary) == ("submitted", "A longer wait")
    # Maria is no approver: the page says so and her approval is refused, changing nothing
    page = client.get(versions_url(journey))
    assert page.context["review_refusal"] == "Only an approver may review journey versions."
    assert 'id="cue-approve"' not in page.content.decode()
    refused = client.post(action_url(draft, "approve"))
    assert flashed(refused) == ["Only an approver may review journey versions."]
    draft.refresh_from_db()
    assert (draft.status, draft.approver) == ("submitted", None)


def test_an_approver_who_edited_the_draft_may_not_approve_it(
    client, make_user, approver, opted_in_contact, settings
):
    settings.CUE_ALLOW_SELF_APPROVAL = False
    admin = make_user(roles.ADMIN, username="ada")
    journey, _ = waiting_journey(opted_in_contact)
    draft = longer_wait_draft(journey, admin)
    version_submit(actor=admin, version=draft)
    client.force_login(admin)
    page = client.get(versions_url(journey))
    assert page.context["review_refusal"] == (
        "You wrote this version, so someone else must approve it."
    )
    assert flashed(client.post(action_url(draft, "approve"))) == [
        "You wrote this version, so someone else must approve it."
    ]
    draft.refresh_from_db()
    assert draft.status == "submitted"


def test_an_approver_rejects_with_a_reason_and_the_history_shows_it(
    client, marketer, approver, opted_in_contact
):
    journey, _ = waiting_journey(opted_in_contact)
    draft = longer_wait_draft(journey, marketer)
    version_submit(actor=marketer, version=draft)
    client.force_login(approver)
    assert client.get(versions_url(journey)).context["may_review"] is True
    # No reason: refused, still waiting for review
    assert flashed(client.post(action_url(draft, "reject"), {"reason": "  "})) == [
        "Say why you reject this version, so its author can fix it."
    ]
    draft.refresh_from_db()
    assert draft.status == "submitted"
    response = client.post(action_url(draft, "reject"), {"reason": "Three hours is too long."})
    assert flashed(response)[-1] == "v2 is back to a draft, with your reason for its author."
    draft.refresh_from_db()
    assert (draft.status, draft.rejection_reason) == ("draft", "Three hours is too long.")
    history = client.get(versions_url(journey)).context["history"]
    assert [record.version.number for record in history] == [2, 1]
    rejection = history[0].rejections
    assert [(r["history_user__username"], r["rejection_reason"]) for r in rejection] == [
        ("alex", "Three hours is too long.")
    ]
    page = client.get(versions_url(journey)).content.decode()
    assert "Rejected by alex" in page
    assert "Sent back: “Three hours is too long.”" in page


def test_publishing_shows_the_move_plan_and_keeps_enrollments_unless_moved(
    client, marketer, approver, opted_in_contact
):
    journey, enrollment = waiting_journey(opted_in_contact)
    v1 = journey.live_version
    draft = longer_wait_draft(journey, marketer)
    version_submit(actor=marketer, version=draft)
    client.force_login(approver)
    assert flashed(client.post(action_url(draft, "approve"), {"comment": "Fine"})) == [
        "v2 is approved: it can be published."
    ]
    page = client.get(versions_url(journey))
    rows = [(row.key, row.waiting, row.target) for row in page.context["move_rows"]]
    assert rows == [("pause", 1, "pause")]
    assert page.context["all_movable"] is True
    assert 'name="move_enrollments" id="cue-move"' in page.content.decode()
    # Published without moving: the waiting contact finishes on v1
    response = client.post(action_url(draft, "publish"))
    assert flashed(response) == [
        "v2 is live: new entrants start on it. Running enrollments finish on the version "
        "they entered."
    ]
    journey.refresh_from_db()
    enrollment.refresh_from_db()
    draft.refresh_from_db()
    assert (journey.live_version, draft.enrollments_moved) == (draft, {})
    assert (enrollment.version, enrollment.current_step.version) == (v1, v1)
    # The history names who wrote, approved and published each version, with the diff
    history = client.get(versions_url(journey))
    v2 = history.context["history"][0]
    assert (v2.version.author, v2.version.approver, v2.version.published_by) == (
        marketer, approver, approver,
    )  # fmt: skip
    assert v2.changes == ["Step pause now waits 3 h (was: waits 1 h)."]
    html = history.content.decode()
    assert "Approved by alex" in html
    assert "Step pause now waits 3 h (was: waits 1 h)." in html


def test_publishing_moves_the_enrollments_when_chosen_and_records_the_mapping(
    client, marketer, approver, opted_in_contact
):
    journey, enrollment = waiting_journey(opted_in_contact)
    draft = longer_wait_draft(journey, marketer)
    version_submit(actor=marketer, version=draft)
    version_approve(actor=approver, version=draft)
    client.force_login(approver)
    response = client.post(action_url(draft, "publish"), {"move_enrollments": "on"})
    assert flashed(response) == [
        "v2 is live: new entrants start on it. 1 running enrollment(s) moved to it."
    ]
    draft.refresh_from_db()
    enrollment.refresh_from_db()
    assert draft.enrollments_moved == {
        "from_version": 1, "mapping": {"pause": "pause"}, "waiting": {"pause": 1}, "moved": 1,
    }  # fmt: skip
    assert (enrollment.version, enrollment.current_step) == (draft, draft.steps.get(key="pause"))
    html = client.get(versions_url(journey)).content.decode()
    assert "Moved 1 running enrollment(s) from v1: pause → pause" in html


def test_a_step_that_cannot_map_keeps_everyone_on_their_version(
    client, marketer, approver, opted_in_contact
):
    journey, enrollment = waiting_journey(opted_in_contact)
    draft = longer_wait_draft(journey, marketer, key="linger")
    version_submit(actor=marketer, version=draft)
    version_approve(actor=approver, version=draft)
    client.force_login(approver)
    page = client.get(versions_url(journey))
    rows = [(row.key, row.waiting, row.target) for row in page.context["move_rows"]]
    assert (rows, page.context["all_movable"]) == ([("pause", 1, None)], False)
    assert "cannot move: v2 has no pause step of the same kind" in page.content.decode()
    response = client.post(action_url(draft, "publish"), {"move_enrollments": "on"})
    assert flashed(response) == [
        "Enrollments cannot be moved: v2 has no step of the same key and kind for pause "
        "(1 waiting). Publish without moving them: they finish on v1."
    ]
    draft.refresh_from_db()
    enrollment.refresh_from_db()
    assert draft.status == JourneyVersionStatus.APPROVED
    assert enrollment.version == journey.live_version


def test_a_marketer_may_not_publish_and_a_get_changes_nothing(
    client, marketer, approver, opted_in_contact
):
    journey, _ = waiting_journey(opted_in_contact)
    draft = longer_wait_draft(journey, marketer)
    version_submit(actor=marketer, version=draft)
    version_approve(actor=approver, version=draft)
    client.force_login(marketer)
    assert client.get(action_url(draft, "publish")).status_code == 405
    page = client.get(versions_url(journey))
    assert page.context["may_publish"] is False
    assert flashed(client.post(action_url(draft, "publish"))) == [
        "Only an approver may publish a journey."
    ]
    draft.refresh_from_db()
    assert draft.status == "approved"


def test_the_blank_step_form_left_untouched_does_not_stop_a_save(client, marketer):
    """The builder's spare step form, posted as the browser sends it (empty boxes for the
    list fields: events, variants), is no step: changing the wait alone saves the draft."""
    journey = journey_build(
        steps=[("pause", "wait", {"hours": 1, "next": "done"}), ("done", "exit", {})]
    )
    client.force_login(marketer)
    url = reverse("admin:journeys_journey_change", args=[journey.pk])
    data = form_as_submitted(client.get(url).content.decode(), "journey_form")
    blank = {name for name in data if name.startswith("steps-2-")}
    assert {"steps-2-events", "steps-2-variants", "steps-2-key"} <= blank
    data["steps-0-wait_amount"] = ["3"]

    response = client.post(url, {**data, "_continue": ["1"]})

    assert response.status_code == 302, response.context and [
        (f.name, f.errors) for f in response.context["adminform"].form if f.errors
    ]
    draft = journey.versions.get(number=2)
    assert sorted(draft.steps.values_list("key", flat=True)) == ["done", "pause"]
    assert draft.steps.get(key="pause").config == {"hours": 3, "next": "done"}
    assert journey.steps.get(key="pause", version=journey.live_version).config == {
        "hours": 1,
        "next": "done",
    }
