"""The journey builder in the admin: steps saved from plain fields, problems shown where they
are, Activate / Pause for approvers only, a live journey edited with care, where the
enrollments stand, and each contact's journeys."""

import json
import re

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts import roles
from apps.contacts.segments import segment_rules_validate
from apps.contacts.selectors import contact_timeline
from apps.journeys.models import Activity, Enrollment, Journey, JourneyStatus, Step
from apps.journeys.selectors import journey_enrollment_counts
from apps.journeys.services import enrollment_start
from apps.journeys.versions import journey_draft_start, version_submit
from tests.factories import ContactFactory
from tests.journeys.builders import journey_build, sms_template

pytestmark = pytest.mark.django_db

LEADS = {"all": [{"field": "lifecycle_stage", "op": "in", "value": ["lead", "mql"]}]}
DANGLING = "Step check: its \"then\" leads to 'nudge', which is not a step of this journey."


@pytest.fixture
def marketer(make_user):
    return make_user(roles.MARKETER, username="maria")


@pytest.fixture
def approver(make_user):
    return make_user(roles.APPROVER, username="alex")


def signed_in(client, user):
    client.force_login(user)
    return client


def step_data(index: int, key: str, kind: str, pk=None, **fields) -> dict:
    base = {
        "key": key, "kind": kind, "position": index, "on_suppressed": "continue",
        "on_deferred": "wait", "wait_unit": "hours", **fields,
    }  # fmt: skip
    data = {f"steps-{index}-{name}": value for name, value in base.items()}
    if pk is not None:
        data[f"steps-{index}-id"] = pk
    return data


def journey_data(*steps: dict, initial: int = 0, **fields) -> dict:
    data = {
        "name": "Pricing follow-up", "goal_description": "", "trigger_kind": "event",
        "trigger_event_type": "pricing_view", "trigger_filters": "",
        "exit_event_types": ["meeting_booked", "demo_request"], "exit_lifecycle_stage": "",
        "reentry": "never", "reentry_days": "", "cap_messages": "", "cap_hours": "",
        "holdout_percent": "0", "start_step": "", "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": str(initial), "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000", **fields,
    }  # fmt: skip
    for step in steps:
        data.update(step)
    return data


def flashed(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def shown(response) -> list[str]:
    """The messages a followed redirect rendered."""
    return [str(message) for message in response.context["messages"]]


def inline_html(html: str, index: int) -> str:
    """The HTML of one step's inline form."""
    start = html.index(f'id="steps-{index}"')
    following = html.find(f'id="steps-{index + 1}"', start)
    return html[start : following if following != -1 else len(html)]


def change_url(journey) -> str:
    return reverse("admin:journeys_journey_change", args=[journey.pk])


def tool_url(journey, tool: str) -> str:
    return reverse(f"admin:journeys_journey_{tool}", args=[journey.pk])


# --- the builder -------------------------------------------------------------------------


def test_it_saves_steps_from_their_settings_and_shows_problems_next_to_them(client, marketer):
    template = sms_template()
    client = signed_in(client, marketer)
    # Given Maria builds a journey whose branch leads to a step she has not written yet
    data = journey_data(
        step_data(0, "text", "send_sms", sms_template=template.pk, next_step="pause"),
        step_data(1, "pause", "wait", wait_amount="2", wait_unit="days", next_step="check"),
        step_data(
            2,
            "check",
            "branch",
            condition=json.dumps({"rules": LEADS}),
            then_step="nudge",
            else_step="done",
        ),
        step_data(3, "done", "exit"),
    )
    # When she saves it
    response = client.post(reverse("admin:journeys_journey_add"), data)
    # Then the journey is a draft she owns, starting at its first step
    assert response.status_code == 302
    journey = Journey.objects.get()
    assert (journey.status, journey.owner, journey.first_step.key) == ("draft", marketer, "text")
    assert journey.exit_event_types == ["meeting_booked", "demo_request"]
    # And each step's settings are stored in the shape the engine reads
    configs = {step.key: step.config for step in journey.steps.all()}
    assert configs == {
        "text": {
            "template": template.pk,
            "next": "pause",
            "on_suppressed": "continue",
            "on_deferred": "wait",
        },
        "pause": {"days": 2, "next": "check"},
        "check": {"condition": {"rules": LEADS}, "then": "nudge", "else": "done"},
        "done": {},
    }
    # And the builder shows the problem in the summary and next to the step it names
    page = client.get(change_url(journey))
    html = page.content.decode()
    assert page.context["problems"] == [DANGLING]
    summary = html[html.index('id="cue-problems"') : html.index('id="cue-diagram"')]
    assert "Step check: its &quot;then&quot; leads to &#x27;nudge&#x27;" in summary
    assert "its &quot;then&quot; leads to &#x27;nudge&#x27;" in inline_html(html, 2)
    assert "leads to" not in inline_html(html, 0)
    # And the diagram draws the dangling edge in red
    assert 'class="cue-edge cue-edge-missing" data-from="check" data-to="nudge"' in html


def test_it_keeps_the_settings_of_a_saved_step_in_its_fields(client, marketer):
    journey = journey_build(
        steps=[
            ("pause", "wait", {"minutes": 90, "next": "attend"}),
            (
                "attend",
                "wait_until",
                {"events": ["webinar_attended", "sms_reply"], "within_hours": 3},
            ),
        ],
        status=JourneyStatus.DRAFT,
    )
    page = signed_in(client, marketer).get(change_url(journey))
    forms = page.context["inline_admin_formsets"][0].formset.forms
    pause, attend = forms[0], forms[1]
    assert (pause["wait_amount"].value(), pause["wait_unit"].value()) == (90, "minutes")
    assert pause["next_step"].value() == "attend"
    assert attend["events"].field.prepare_value(attend["events"].value()) == (
        "webinar_attended, sms_reply"
    )
    assert attend["within_hours"].value() == 3


def test_it_refuses_branch_rules_that_do_not_compile_and_saves_nothing(client, marketer):
    bad_rules = {"all": [{"field": "stage", "op": "eq", "value": "lead"}]}
    data = journey_data(
        step_data(0, "check", "branch", condition=json.dumps({"rules": bad_rules})),
        step_data(1, "odd", "branch", condition="{not json"),
    )
    response = signed_in(client, marketer).post(reverse("admin:journeys_journey_add"), data)
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.errors
    assert errors[0] == {"condition": segment_rules_validate(bad_rules)}
    assert errors[1] == {"condition": ["Enter a valid JSON."]}
    assert Journey.objects.count() == 0


# --- activate and pause -------------------------------------------------------------------


def test_it_refuses_a_marketer_who_tries_to_activate(client, marketer):
    journey = journey_build(steps=[("done", "exit", {})], status=JourneyStatus.DRAFT)
    client = signed_in(client, marketer)
    page = client.get(change_url(journey))
    assert page.context["activate_url"] == ""
    assert 'id="cue-activate"' not in page.content.decode()
    response = client.post(tool_url(journey, "activate"))
    assert (response.status_code, response.url) == (302, change_url(journey))
    assert flashed(response) == ["Only an approver may activate a journey."]
    journey.refresh_from_db()
    assert journey.status == "draft"


def test_it_lets_an_approver_activate_and_pause(client, approver):
    journey = journey_build(steps=[("done", "exit", {})], status=JourneyStatus.DRAFT)
    client = signed_in(client, approver)
    assert 'id="cue-activate"' in client.get(change_url(journey)).content.decode()

    activated = client.post(tool_url(journey, "activate"), follow=True)
    journey.refresh_from_db()
    assert journey.status == "active"
    assert shown(activated) == ["Test journey is live: it enrolls from now on."]
    latest = journey.history.first()
    assert (latest.history_user, latest.history_change_reason) == (approver, "Activated by alex")

    paused = client.post(tool_url(journey, "pause"), follow=True)
    journey.refresh_from_db()
    assert journey.status == "paused"
    assert shown(paused) == ["Test journey is paused: nobody enters and nobody moves on."]


def test_it_refuses_to_activate_an_invalid_graph_and_shows_each_problem(client, approver):
    journey = journey_build(
        steps=[
            ("check", "branch", {"condition": {"rules": LEADS}, "then": "nudge", "else": "done"}),
            ("done", "send_sms", {}),
        ],
        status=JourneyStatus.DRAFT,
    )
    response = signed_in(client, approver).post(tool_url(journey, "activate"))
    assert flashed(response) == [
        "Not activated: 2 problem(s) to fix first.",
        DANGLING,
        "Step done: choose a template.",
    ]
    journey.refresh_from_db()
    assert journey.status == "draft"


def test_it_only_takes_a_post_to_activate(client, approver):
    journey = journey_build(steps=[("done", "exit", {})], status=JourneyStatus.DRAFT)
    assert signed_in(client, approver).get(tool_url(journey, "activate")).status_code == 405
    journey.refresh_from_db()
    assert journey.status == "draft"


# --- a live journey -----------------------------------------------------------------------


def live_post(journey, *steps: dict, **fields) -> dict:
    """The builder's form of a live journey as it stands, with these steps."""
    given = {"name": "Test journey", "trigger_event_type": "webinar_registered", **fields}
    saved = sum(1 for step in steps for name in step if name.endswith("-id"))
    return journey_data(*steps, initial=saved, exit_event_types=[], **given)


def test_a_step_changed_on_a_live_journey_goes_into_a_draft_while_the_live_one_runs(
    client, marketer, opted_in_contact
):
    # Given a live journey with a contact waiting on its step
    journey = journey_build(steps=[("pause", "wait", {"hours": 1})])
    live, step = journey.live_version, journey.steps.get()
    enrollment = enrollment_start(journey=journey, contact=opted_in_contact())
    client = signed_in(client, marketer)
    page = client.get(change_url(journey)).content.decode()
    assert "This journey is live on v1: it runs untouched." in page
    # When Maria makes the wait longer
    data = live_post(journey, step_data(0, "pause", "wait", pk=step.pk, wait_amount="3"))
    response = client.post(change_url(journey), data)
    # Then the change is in a new draft v2 of hers, and v1 runs exactly as before
    assert response.status_code == 302
    assert flashed(response) == [
        "Your changes are saved in draft v2: v1 keeps running as it is until an approver "
        "publishes v2. Submit it for review on the Versions page.",
        f'The journey “<a href="/admin/journeys/journey/{journey.pk}/change/">Test journey</a>” '
        "was changed successfully.",
    ]
    step.refresh_from_db()
    journey.refresh_from_db()
    enrollment.refresh_from_db()
    assert step.config == {"hours": 1}
    assert (journey.live_version, journey.first_step) == (live, step)
    assert (enrollment.version, enrollment.current_step) == (live, step)
    draft = journey.versions.get(number=2)
    assert (draft.status, draft.author, draft.first_step.key) == ("draft", marketer, "pause")
    drafted = draft.steps.get()
    assert drafted.config == {"hours": 3}
    assert drafted.history.first().history_user == marketer
    # And saving again edits the same draft
    data = live_post(journey, step_data(0, "pause", "wait", pk=drafted.pk, wait_amount="5"))
    assert client.post(change_url(journey), data).status_code == 302
    assert journey.versions.count() == 2
    assert draft.steps.get().config == {"hours": 5}
    assert step.config == Step.objects.get(pk=step.pk).config == {"hours": 1}


def test_it_sets_the_first_step_of_the_draft_not_of_the_live_journey(client, marketer):
    journey = journey_build(steps=[("pause", "wait", {"hours": 1}), ("done", "exit", {})])
    pause, done = journey.steps.order_by("position")
    data = live_post(
        journey,
        step_data(0, "pause", "wait", pk=pause.pk, wait_amount="1"),
        step_data(1, "done", "exit", pk=done.pk),
        start_step="done",
    )
    response = signed_in(client, marketer).post(change_url(journey), data)
    assert response.status_code == 302
    journey.refresh_from_db()
    draft = journey.versions.get(number=2)
    assert draft.first_step.key == "done"
    assert (journey.first_step, journey.live_version.first_step_id) == (pause, None)
    page = client.get(change_url(journey)).content.decode()
    assert '<option value="done" selected>done</option>' in page


def test_it_refuses_a_first_step_that_is_not_kept(client, marketer):
    journey = journey_build(steps=[("pause", "wait", {"hours": 1}), ("done", "exit", {})])
    pause, done = journey.steps.order_by("position")
    data = live_post(
        journey,
        step_data(0, "pause", "wait", pk=pause.pk, wait_amount="1"),
        step_data(1, "done", "exit", pk=done.pk, DELETE="on"),
        start_step="done",
    )
    response = signed_in(client, marketer).post(change_url(journey), data)
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.non_form_errors() == [
        "The first step 'done' is not one of the steps kept below."
    ]
    assert journey.versions.count() == 1


def test_a_broken_or_busy_step_changes_only_the_draft(client, marketer, opted_in_contact):
    # Deleting the step a contact waits on, and leading nowhere: only the draft changes;
    # its problems keep it from being submitted, and the live version runs on.
    journey = journey_build(steps=[("pause", "wait", {"hours": 1}), ("done", "exit", {})])
    pause, done = journey.steps.order_by("position")
    enrollment = enrollment_start(journey=journey, contact=opted_in_contact())
    data = live_post(
        journey,
        step_data(0, "pause", "wait", pk=pause.pk, wait_amount="1", DELETE="on"),
        step_data(1, "done", "exit", pk=done.pk),
        step_data(2, "check", "wait", wait_amount="1", next_step="nowhere"),
    )
    data["steps-2-position"] = "0"
    response = signed_in(client, marketer).post(change_url(journey), data)
    assert response.status_code == 302
    draft = journey.versions.get(number=2)
    assert sorted(draft.steps.values_list("key", flat=True)) == ["check", "done"]
    assert draft.first_step.key == "check"
    assert list(journey.live_version.steps.order_by("position").values_list("key", flat=True)) == [
        "pause", "done",
    ]  # fmt: skip
    enrollment.refresh_from_db()
    assert enrollment.current_step == pause
    page = client.get(change_url(journey))
    assert page.context["problems"] == [
        "Step check: its \"next\" leads to 'nowhere', which is not a step of this journey."
    ]


def test_a_published_journeys_settings_changed_go_into_its_draft_while_the_live_one_runs(
    client, marketer
):
    # Given a live journey (v1) with no draft
    journey = journey_build(steps=[("pause", "wait", {"hours": 1})])
    live, step = journey.live_version, journey.steps.get()
    # When the marketer changes its trigger and holdout in the builder
    data = live_post(
        journey,
        step_data(0, "pause", "wait", pk=step.pk, wait_amount="1"),
        trigger_event_type="pricing_view",
        holdout_percent="10",
    )
    response = signed_in(client, marketer).post(change_url(journey), data)
    # Then they are saved in a new draft v2, and v1 and the journey's live copy stay
    assert response.status_code == 302
    draft = journey.versions.get(number=2)
    assert (draft.status, draft.trigger_event_type, draft.holdout_percent) == (
        "draft", "pricing_view", 10,
    )  # fmt: skip
    assert list(draft.steps.values_list("key", "kind", "config")) == [
        ("pause", "wait", step.config)
    ]
    live.refresh_from_db()
    journey.refresh_from_db()
    assert (live.status, live.trigger_event_type, live.holdout_percent) == (
        "published", "webinar_registered", 0,
    )  # fmt: skip
    assert (journey.trigger_event_type, journey.holdout_percent) == ("webinar_registered", 0)
    assert journey.live_version == live
    assert flashed(response) == [
        "Your changes to Trigger event, Holdout percent are saved in draft v2: v1 keeps "
        "running with its settings. They go live when an approver approves and publishes v2; "
        "submit it for review on the Versions page.",
        _changed(journey, "Test journey"),
    ]
    # And the builder now shows the draft's settings
    form = client.get(change_url(journey)).context["adminform"].form
    assert (form["trigger_event_type"].value(), form["holdout_percent"].value()) == (
        "pricing_view", 10,
    )  # fmt: skip
    # Its name is not a setting of a version: it changes at once, and makes no other draft
    data = live_post(
        journey,
        step_data(0, "pause", "wait", pk=draft.steps.get().pk, wait_amount="1"),
        trigger_event_type="pricing_view",
        holdout_percent="10",
        name="Webinar follow-up",
    )
    response = client.post(change_url(journey), data)
    assert response.status_code == 302
    assert flashed(response) == [_changed(journey, "Webinar follow-up")]
    journey.refresh_from_db()
    assert (journey.name, journey.versions.count()) == ("Webinar follow-up", 2)


def _changed(journey, name: str) -> str:
    link = f'<a href="/admin/journeys/journey/{journey.pk}/change/">{name}</a>'
    return f"The journey “{link}” was changed successfully."


def test_a_never_published_journeys_settings_change_in_its_draft_and_show_on_the_journey(
    client, marketer
):
    journey = journey_build(steps=[("pause", "wait", {"hours": 1})], status="draft")
    draft, step = journey.versions.get(), journey.steps.get()
    data = live_post(
        journey,
        step_data(0, "pause", "wait", pk=step.pk, wait_amount="1"),
        cap_messages="2",
        cap_hours="24",
    )
    response = signed_in(client, marketer).post(change_url(journey), data)
    assert response.status_code == 302
    draft.refresh_from_db()
    journey.refresh_from_db()
    assert (draft.number, draft.cap_messages, draft.cap_hours) == (1, 2, 24)
    assert (journey.cap_messages, journey.cap_hours, journey.versions.count()) == (2, 24, 1)


def test_it_refuses_setting_changes_while_a_version_is_under_review(client, marketer):
    journey = journey_build(steps=[("done", "exit", {})])
    draft = journey_draft_start(actor=marketer, journey=journey)
    version_submit(actor=marketer, version=draft)
    step = draft.steps.get()
    data = live_post(journey, step_data(0, "done", "exit", pk=step.pk), cap_messages="1")
    response = signed_in(client, marketer).post(change_url(journey), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "cap_messages": [
            "Version 2 is submitted for review: its settings cannot change now. An approver "
            "can reject it back to a draft, or publish it and you edit the next one."
        ]
    }
    draft.refresh_from_db()
    assert (draft.status, draft.cap_messages, journey.versions.count()) == ("submitted", None, 2)


def test_it_refuses_step_changes_while_a_version_is_under_review(client, marketer):
    journey = journey_build(steps=[("done", "exit", {})])
    draft = journey_draft_start(actor=marketer, journey=journey)
    version_submit(actor=marketer, version=draft)
    step = draft.steps.get()
    data = live_post(journey, step_data(0, "done", "exit", pk=step.pk, position="3"))
    data["steps-0-position"] = "3"
    response = signed_in(client, marketer).post(change_url(journey), data)
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.non_form_errors() == [
        "Version 2 is submitted for review: its steps cannot change now. An approver can "
        "reject it back to a draft, or publish it and you edit the next one."
    ]
    step.refresh_from_db()
    assert step.position == 0


# --- where the enrollments stand ------------------------------------------------------------


def enrolled_journey(opted_in_contact, count: int):
    journey = journey_build(
        steps=[("pause", "wait", {"hours": 1, "next": "done"}), ("done", "exit", {})]
    )
    for _ in range(count):
        enrollment_start(journey=journey, contact=opted_in_contact())
    return journey


def test_it_counts_enrollments_by_state_and_step_in_one_query(
    opted_in_contact, django_assert_num_queries
):
    journey = enrolled_journey(opted_in_contact, 3)
    Enrollment.objects.filter(pk=Enrollment.objects.first().pk).update(state="goal_reached")
    with django_assert_num_queries(1):
        counts = journey_enrollment_counts(journey=journey)
    assert counts.by_state == {"active": 2, "goal_reached": 1}
    assert counts.running_by_step == {"pause": 2}
    assert counts.total == 3


def test_it_shows_the_counts_on_the_journey_page_in_a_bounded_number_of_queries(
    client, marketer, opted_in_contact
):
    client = signed_in(client, marketer)
    few, many = enrolled_journey(opted_in_contact, 1), None
    client.get(change_url(few))  # the pickers' event types seen lately are cached a while
    with CaptureQueriesContext(connection) as for_few:
        client.get(change_url(few))
    Journey.objects.filter(pk=few.pk).update(name="Other")
    many = enrolled_journey(opted_in_contact, 25)
    with CaptureQueriesContext(connection) as for_many:
        page = client.get(change_url(many))
    assert len(for_many) == len(for_few)
    assert page.context["counts"].by_state == {"active": 25}
    assert 'class="cue-step-count"' in page.content.decode()


# --- each contact's journeys ----------------------------------------------------------------


def test_it_lists_a_contacts_enrollments_with_their_step_and_activity(
    client, marketer, opted_in_contact
):
    journey = enrolled_journey(opted_in_contact, 1)
    other = journey_build(name="Other journey", steps=[("done", "exit", {})])
    mine = Enrollment.objects.get(journey=journey)
    enrollment_start(journey=other, contact=mine.contact)
    enrollment_start(journey=other, contact=opted_in_contact())
    client = signed_in(client, marketer)

    listing = client.get(
        reverse("admin:journeys_enrollment_changelist"), {"contact__id__exact": mine.contact_id}
    )
    rows = listing.context["cl"].result_list
    assert sorted((row.journey.name, row.current_step.key) for row in rows) == [
        ("Other journey", "done"),
        ("Test journey", "pause"),
    ]
    assert listing.context["title"] == f"Journeys of {mine.contact}"

    page = client.get(reverse("admin:journeys_enrollment_change", args=[mine.pk]))
    assert [a.kind for a in page.context["activities"]] == ["entered"]
    log = page.content.decode().split('id="activity-log"')[1]
    assert "<td>Entered on segment entry.</td>" in log


def test_it_adds_journey_entries_to_the_contact_timeline(opted_in_contact):
    journey = enrolled_journey(opted_in_contact, 1)
    enrollment = Enrollment.objects.get(journey=journey)
    Activity.objects.create(enrollment=enrollment, kind="goal", reason="Goal reached: demo.")
    titles = [
        entry.title
        for entry in contact_timeline(contact=enrollment.contact)
        if entry.kind == "journey"
    ]
    assert sorted(titles) == ["Entered Test journey", "Goal reached in Test journey"]


def test_it_keeps_enrollments_and_activity_read_only(client, make_user, opted_in_contact):
    journey = enrolled_journey(opted_in_contact, 1)
    enrollment = Enrollment.objects.get(journey=journey)
    client = signed_in(client, make_user(roles.ADMIN))
    change = reverse("admin:journeys_enrollment_change", args=[enrollment.pk])
    assert client.post(change, {"state": "exited"}).status_code == 403
    assert client.get(reverse("admin:journeys_enrollment_add")).status_code == 403
    assert client.get(reverse("admin:journeys_activity_add")).status_code == 403
    enrollment.refresh_from_db()
    assert enrollment.state == "active"


# --- roles ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [roles.SALES_REP, roles.SALES_MANAGER])
def test_it_keeps_sales_roles_out_of_journeys(client, make_user, role):
    journey = journey_build(steps=[("done", "exit", {})], status=JourneyStatus.DRAFT)
    client = signed_in(client, make_user(role))
    for url in (change_url(journey), tool_url(journey, "simulate")):
        response = client.get(url)
        assert (response.status_code, response.url) == (302, f"/admin/login/?next={url}")


def test_it_shows_compliance_the_journey_read_only(client, make_user):
    journey = journey_build(steps=[("done", "exit", {})], status=JourneyStatus.DRAFT)
    client = signed_in(client, make_user(roles.COMPLIANCE))
    page = client.get(change_url(journey))
    html = page.content.decode()
    assert page.status_code == 200
    assert (page.context["has_change_permission"], page.context["activate_url"]) == (False, "")
    assert 'name="_save"' not in html
    assert re.search(r'<svg[^>]*class="cue-journey-diagram"', html)
    response = client.post(tool_url(journey, "activate"))
    assert flashed(response) == ["Only an approver may activate a journey."]
    journey.refresh_from_db()
    assert journey.status == "draft"


def test_it_shows_a_contact_of_another_kind_no_timeline_entry(opted_in_contact):
    assert [e for e in contact_timeline(contact=ContactFactory()) if e.kind == "journey"] == []


def test_goal_events_are_picked_and_a_new_one_is_typed_as_a_checked_slug(client, marketer):
    client = signed_in(client, marketer)
    add = reverse("admin:journeys_journey_add")
    page = client.get(add)
    offered = dict(page.context["adminform"].form.fields["exit_event_types"].choices)
    assert offered["meeting_booked"] == "Booked a meeting (meeting_booked)"
    exit_step = step_data(0, "done", "exit")

    typo = client.post(add, journey_data(exit_step, exit_event_types=["meeting_bokked"]))
    bad_new = client.post(add, journey_data(exit_step, exit_event_types_new="Trial Converted!"))
    saved = client.post(
        add,
        journey_data(
            exit_step,
            exit_event_types=["meeting_booked"],
            exit_event_types_new="trial_converted, meeting_booked",
        ),
    )

    assert "exit_event_types" in typo.context["adminform"].form.errors
    assert "exit_event_types_new" in bad_new.context["adminform"].form.errors
    assert Journey.objects.count() == 1 and saved.status_code == 302
    assert Journey.objects.get().exit_event_types == ["meeting_booked", "trial_converted"]


def test_a_goal_type_nobody_sent_lately_stays_chosen(client, marketer):
    journey = Journey.objects.create(name="Old goal", exit_event_types=["trial_converted"])

    page = signed_in(client, marketer).get(change_url(journey))

    form = page.context["adminform"].form
    assert ("trial_converted", "trial_converted") in form.fields["exit_event_types"].choices
    assert form["exit_event_types"].value() == ["trial_converted"]
    assert '<option value="trial_converted" selected>' in page.content.decode()
