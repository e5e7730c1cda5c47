"""In a real browser: a marketer edits a live journey, which makes a draft while the live
version runs on with its waiting contact; she submits it; an approver approves it, sees where
the waiting contact would go, and publishes without moving it; the history shows the diff
and who approved it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts import roles
from apps.journeys.models import Enrollment, EnrollmentState, Step
from tests.browser import login
from tests.factories import ContactFactory, UserFactory
from tests.journeys.builders import journey_build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_live_journey_changes_through_a_draft_approved_by_someone_else(
    live_server,
    new_page,
):
    from playwright.sync_api import expect

    # Given a live journey whose first step holds a contact for an hour
    journey = journey_build(
        steps=[("pause", "wait", {"hours": 1, "next": "done"}), ("done", "exit", {})]
    )
    live, pause = journey.live_version, journey.steps.get(key="pause")
    enrollment = Enrollment.objects.create(
        journey=journey, contact=ContactFactory(), version=live, current_step=pause,
        state=EnrollmentState.WAITING, next_run_at=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    maria = UserFactory(role=roles.MARKETER, username="maria")
    alex = UserFactory(role=roles.APPROVER, username="alex")

    # When Maria makes the wait three hours and saves
    page = new_page()
    login(page, live_server, maria)
    page.goto(f"{live_server.url}/admin/journeys/journey/{journey.pk}/change/")
    expect(page.locator("#cue-live-banner")).to_contain_text("This journey is live on v1")
    page.fill("#id_steps-0-wait_amount", "3")
    page.click('input[name="_continue"]')

    # Then a draft v2 holds it, and v1 runs on untouched with its waiting contact
    expect(page.locator("ul.messagelist")).to_contain_text("saved in draft v2")
    expect(page.locator("#cue-live-banner")).to_contain_text("You are editing v2 (draft)")
    assert Step.objects.get(pk=pause.pk).config == {"hours": 1, "next": "done"}
    draft = journey.versions.get(number=2)
    assert draft.steps.get(key="pause").config == {"hours": 3, "next": "done"}
    enrollment.refresh_from_db()
    assert (enrollment.version, enrollment.current_step) == (live, pause)

    # When she submits it from the Versions page
    page.click("#cue-versions")
    page.fill("#cue-summary", "A longer wait")
    page.click("#cue-submit")
    expect(page.locator("#cue-working-status")).to_contain_text("v2: Submitted for review")
    expect(page.locator("#cue-approve")).to_have_count(0)

    # And Alex, who wrote none of it, approves it
    review = new_page()
    login(review, live_server, alex)
    review.goto(f"{live_server.url}/admin/journeys/journey/{journey.pk}/versions/")
    review.click("#cue-approve")
    expect(review.locator("#cue-working-status")).to_contain_text("v2: Approved")

    # Then he sees where the waiting contact would go, and publishes without moving it
    plan = review.locator("#cue-move-plan tbody tr")
    expect(plan).to_have_count(1)
    expect(plan.first).to_contain_text("pause")
    expect(review.locator("#cue-move")).to_be_enabled()
    review.click("#cue-publish")
    expect(review.locator("ul.messagelist")).to_contain_text(
        "Running enrollments finish on the version they entered."
    )
    journey.refresh_from_db()
    enrollment.refresh_from_db()
    assert journey.live_version == draft
    assert (enrollment.version, enrollment.current_step) == (live, pause)

    # And the history shows v2's diff, its author and its approver
    row = review.locator("#cue-version-2")
    expect(row).to_contain_text("Step pause now waits 3 h (was: waits 1 h).")
    expect(row).to_contain_text("maria")
    expect(row).to_contain_text("Approved by alex")
