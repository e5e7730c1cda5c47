"""/tasks/: reps see and work their own tasks, managers their team's; everything else is 404."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.accounts import roles
from apps.consent.models import ConsentRecord
from apps.contacts.models import Event
from apps.routing.models import FollowUpTask, TaskNotification
from apps.routing.services import signal_route
from apps.sends.models import OutboundMessage
from tests.factories import ContactFactory, TeamFactory
from tests.routing.conftest import TUESDAY_11_NY

pytestmark = pytest.mark.django_db


@pytest.fixture
def rule(make_rule):
    return make_rule(name="Follow-ups", signal_types=["journey_step"])


@pytest.fixture
def task_for(rule):
    def make(owner, reason="Replied “yes call me tomorrow” to Webinar reminder", **contact):
        contact = ContactFactory(owner=owner, **contact)
        return signal_route(contact=contact, signal_type="journey_step", reason=reason, context={})

    return make


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_sends_a_visitor_to_the_login_page(client):
    response = client.get("/tasks/")
    assert (response.status_code, response["Location"]) == (302, "/admin/login/?next=/tasks/")


def test_a_rep_signs_in_on_the_admin_login_page_and_lands_on_tasks(client, sam):
    response = client.post(
        "/admin/login/?next=/tasks/",
        {"username": "sam", "password": "pw-for-tests", "next": "/tasks/"},
    )
    assert (response.status_code, response["Location"]) == (302, "/tasks/")
    assert client.get("/tasks/").status_code == 200
    assert client.get("/admin/").status_code == 302  # the admin itself stays closed to reps


def test_a_rep_cannot_sign_in_to_the_admin_itself(client, sam):
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "sam", "password": "pw-for-tests", "next": "/admin/"},
    )
    assert response.status_code == 200  # the form again, with its error
    assert "_auth_user_id" not in client.session


def test_a_marketer_may_not_open_the_task_page(make_user):
    assert signed_in(make_user(roles.MARKETER)).get("/tasks/").status_code == 403


def test_a_rep_sees_only_their_own_open_tasks_most_urgent_first(now, task_for, sam, riley):
    mine_later = task_for(sam, reason="Later one")
    now.shift(60)
    mine_sooner = task_for(sam, reason="Sooner one")
    earlier = mine_later.created_at - timedelta(minutes=1)
    FollowUpTask.objects.filter(pk=mine_sooner.pk).update(warn_at=earlier, due_at=earlier)
    task_for(riley, reason="Riley's")
    response = signed_in(sam).get("/tasks/")
    assert [t.reason for t in response.context["tasks"]] == ["Sooner one", "Later one"]
    assert response.context["new_count"] == 2
    assert b"Riley&#x27;s" not in response.content


def test_a_rep_gets_404_for_another_reps_task(task_for, sam, riley):
    theirs = task_for(riley)
    client = signed_in(sam)
    assert client.get(f"/tasks/{theirs.pk}/").status_code == 404
    assert client.post(f"/tasks/{theirs.pk}/start/").status_code == 404
    assert client.post(f"/tasks/{theirs.pk}/complete/", {"outcome": "connected"}).status_code == 404
    theirs.refresh_from_db()
    assert (theirs.status, theirs.first_touch_at) == ("open", None)


def test_the_task_page_shows_reason_countdown_call_link_and_timeline(task_for, sam, hand_off):
    task = task_for(sam, phone="+13125550142")
    hand_off(task.contact, "webinar_attended", {"webinar": "Route planning 101"})
    response = signed_in(sam).get(f"/tasks/{task.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Replied “yes call me tomorrow” to Webinar reminder" in html
    assert f'data-due="{task.due_at.isoformat()}"' in html
    assert 'href="tel:+13125550142"' in html
    assert "Attended a webinar" in html
    assert 'name="csrfmiddlewaretoken"' in html
    task.refresh_from_db()
    assert task.seen_at == TUESDAY_11_NY  # opened: no longer new


def test_every_form_needs_its_csrf_token(task_for, sam):
    task = task_for(sam)
    client = Client(enforce_csrf_checks=True)
    client.force_login(sam)
    assert client.post(f"/tasks/{task.pk}/start/").status_code == 403
    task.refresh_from_db()
    assert task.status == "open"


def test_a_rep_starts_a_task_and_meets_the_sla(task_for, sam):
    task = task_for(sam)
    response = signed_in(sam).post(f"/tasks/{task.pk}/start/")
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.first_touch_at, task.sla_state) == (
        "in_progress",
        TUESDAY_11_NY,
        "met",
    )
    assert task.history.first().history_user == sam


def test_meeting_booked_records_exactly_one_meeting_booked_event(
    task_for, sam, django_capture_on_commit_callbacks
):
    task = task_for(sam)
    client = signed_in(sam)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/tasks/{task.pk}/complete/", {"outcome": "meeting_booked", "note": "Thu 3pm"})
        again = client.post(f"/tasks/{task.pk}/complete/", {"outcome": "meeting_booked"})
    events = Event.objects.filter(contact=task.contact, type="meeting_booked")
    assert list(events.values_list("properties", flat=True)) == [
        {"task_id": task.pk, "booked_by": "sam"}
    ]
    task.refresh_from_db()
    assert (task.status, task.outcome, task.outcome_note) == ("done", "meeting_booked", "Thu 3pm")
    assert again.status_code == 302  # the second try is refused with a message, not an error
    assert [str(m) for m in again.wsgi_request._messages] == [
        "Done: Meeting booked.",
        "This task is already done.",
    ]


def test_not_interested_opts_out_of_marketing_only_when_the_box_is_ticked(task_for, sam):
    quiet, asked = task_for(sam), task_for(sam)
    client = signed_in(sam)
    client.post(f"/tasks/{quiet.pk}/complete/", {"outcome": "not_interested"})
    assert ConsentRecord.objects.count() == 0
    client.post(
        f"/tasks/{asked.pk}/complete/",
        {"outcome": "not_interested", "opt_out_marketing": "on", "topics": "product news"},
    )
    record = ConsentRecord.objects.get()
    assert (record.contact, record.channel, record.purpose, record.action) == (
        asked.contact,
        "sms",
        "marketing",
        "opt_out",
    )
    assert (record.source, record.actor) == ("rep_verbal", sam)
    assert asked.contact.preference.topics == ["product news"]
    assert asked.contact.consent_states.get().status == "opted_out"


def test_the_opt_out_box_goes_only_with_not_interested(task_for, sam):
    task = task_for(sam)
    response = signed_in(sam).post(
        f"/tasks/{task.pk}/complete/", {"outcome": "connected", "opt_out_marketing": "on"}
    )
    assert response.status_code == 400
    assert ConsentRecord.objects.count() == 0
    task.refresh_from_db()
    assert task.status == "open"


def test_a_rep_hands_a_task_back_to_the_team_queue(task_for, sam, manager):
    task = task_for(sam)
    response = signed_in(sam).post(f"/tasks/{task.pk}/hand-back/")
    assert response["Location"] == "/tasks/"
    task.refresh_from_db()
    assert (task.owner, task.assignment, task.status) == (None, "queue", "open")
    assert list(task.notifications.values_list("kind", "recipient")) == [
        ("assigned", sam.pk),
        ("queued", manager.pk),
    ]
    # No longer hers: it waits in the team queue, where any rep of the team may take it
    page = signed_in(sam).get(f"/tasks/{task.pk}/")
    assert (page.context["may_work"], page.context["may_take"]) == (False, True)


def test_a_manager_sees_the_team_including_the_queue_and_breaches(
    now, task_for, sam, riley, manager, make_rep
):
    other_team = TeamFactory(name="West")
    outsider = make_rep("wes", team=other_team)
    mine = [task_for(sam), task_for(riley)]
    task_for(outsider)
    FollowUpTask.objects.filter(pk=mine[0].pk).update(breached_at=mine[0].due_at)
    response = signed_in(manager).get("/tasks/")
    assert {t.pk for t in response.context["tasks"]} == {t.pk for t in mine}
    assert response.context["breached_count"] == 1
    assert b"1 past its SLA" in response.content


def test_a_manager_reassigns_to_a_rep_in_the_team(
    task_for, sam, riley, manager, django_capture_on_commit_callbacks
):
    task = task_for(sam)
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(manager).post(
            f"/tasks/{task.pk}/reassign/", {"owner": riley.pk, "confirm": "yes"}
        )
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.owner, task.assignment, task.seen_at) == (riley, "reassigned", None)
    assert task.notifications.last().kind == "reassigned"
    assert [m.to for m in mail.outbox] == [[riley.email]]


def test_a_reassign_offers_no_preselected_rep(task_for, sam, riley, manager):
    task = task_for(sam)
    page = signed_in(manager).get(f"/tasks/{task.pk}/").content.decode()
    assert '<option value="" selected>Choose a rep…</option>' in page
    listing = signed_in(manager).get("/tasks/").content.decode()
    assert '<option value="" selected>Choose a rep…</option>' in listing


def test_a_reassign_without_a_rep_changes_nothing(task_for, sam, riley, manager):
    task = task_for(sam)
    response = signed_in(manager).post(f"/tasks/{task.pk}/reassign/", {"owner": ""}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Choose a rep in the task's team."]
    task.refresh_from_db()
    assert (task.owner, task.history.count()) == (sam, 1)


def test_a_reassign_asks_to_confirm_first_and_changes_nothing_until_then(
    task_for, sam, riley, manager
):
    task = task_for(sam)
    response = signed_in(manager).post(f"/tasks/{task.pk}/reassign/", {"owner": riley.pk})
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        f"Give {task.contact}’s task (“{task.reason}”) to <strong>Riley Rep</strong>, "
        "taking it from Sam Rep? Riley Rep is told at once."
    ) in page
    assert '<input type="hidden" name="confirm" value="yes">' in page
    task.refresh_from_db()
    assert (task.owner, task.history.count()) == (sam, 1)
    assert TaskNotification.objects.filter(kind="reassigned").count() == 0


def test_a_manager_cannot_reassign_outside_the_team(task_for, sam, manager, make_rep):
    outsider = make_rep("wes", team=TeamFactory(name="West"))
    task = task_for(sam)
    signed_in(manager).post(f"/tasks/{task.pk}/reassign/", {"owner": outsider.pk, "confirm": "yes"})
    task.refresh_from_db()
    assert task.owner == sam


def test_a_rep_cannot_reassign(task_for, sam, riley):
    task = task_for(sam)
    response = signed_in(sam).post(
        f"/tasks/{task.pk}/reassign/", {"owner": riley.pk, "confirm": "yes"}
    )
    assert response.status_code == 403
    task.refresh_from_db()
    assert task.owner == sam
    assert TaskNotification.objects.filter(kind="reassigned").count() == 0


def test_a_manager_of_another_team_gets_404(task_for, sam, make_user):
    other = make_user(roles.SALES_MANAGER, username="olga")
    TeamFactory(name="West", manager=other)
    task = task_for(sam)
    assert signed_in(other).get(f"/tasks/{task.pk}/").status_code == 404


def test_a_reply_by_sms_goes_through_the_gate(task_for, sam, opted_in_contact):
    contact = opted_in_contact(owner=sam)
    task = signal_route(contact=contact, signal_type="journey_step", reason="Call", context={})
    response = signed_in(sam).post(
        f"/tasks/{task.pk}/reply/", {"body": "Hi! Does 3pm work?", "nonce": "n1"}, follow=True
    )
    message = OutboundMessage.objects.get()
    assert (message.origin, message.category, message.contact, message.status) == (
        "rep_reply",
        "transactional",
        contact,
        "queued",  # allowed by the gate (10:00 in Chicago); dispatch follows the commit
    )
    assert [str(m) for m in response.context["messages"]] == ["Text queued."]
    task.refresh_from_db()
    assert (task.status, task.first_touch_at) == ("in_progress", TUESDAY_11_NY)


def test_a_reply_to_an_opted_out_contact_is_suppressed_and_nothing_is_sent(task_for, sam):
    from apps.consent.services import consent_revoke_channel

    task = task_for(sam)
    consent_revoke_channel(contact=task.contact, channel="sms", source="keyword")
    response = signed_in(sam).post(
        f"/tasks/{task.pk}/reply/", {"body": "Hi!", "nonce": "n2"}, follow=True
    )
    message = OutboundMessage.objects.get()
    assert (message.status, message.sent_at, message.reason_code) == (
        "suppressed",
        None,
        "consent_opted_out",
    )
    assert [str(m) for m in response.context["messages"]] == [
        "Text not sent: Transactional messages stop after an opt-out; the contact opted out of SMS."
    ]
    task.refresh_from_db()
    assert (task.status, task.first_touch_at) == ("open", None)  # no touch: nothing went out


def test_a_double_submitted_reply_sends_once(task_for, sam):
    task = task_for(sam)
    client = signed_in(sam)
    for _ in range(2):
        client.post(f"/tasks/{task.pk}/reply/", {"body": "Hi!", "nonce": "same-form"})
    assert OutboundMessage.objects.count() == 1


def test_the_managers_list_reads_a_fixed_number_of_queries(task_for, sam, riley, manager):
    client = signed_in(manager)

    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/tasks/").status_code == 200
        return len(queries)

    task_for(sam)
    task_for(riley)
    few = queries_for_page()
    for _ in range(6):
        task_for(sam)
    assert queries_for_page() == few


def test_a_refused_outcome_rolls_the_completion_back(task_for, sam):
    # A contact without a phone has no SMS consent to opt out of: nothing changes.
    task = task_for(sam, phone="")
    response = signed_in(sam).post(
        f"/tasks/{task.pk}/complete/",
        {"outcome": "not_interested", "opt_out_marketing": "on"},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [
        "The contact has no phone to consent with."
    ]
    task.refresh_from_db()
    assert (task.status, task.outcome) == ("open", "")
    assert ConsentRecord.objects.count() == 0


def test_a_note_or_query_with_nul_is_stored_cleaned_not_an_error(task_for, sam):
    task = task_for(sam)
    client = signed_in(sam)

    page = client.get("/tasks/?q=%00&next=%00")
    done = client.post(
        f"/tasks/{task.pk}/complete/?next=%00", {"outcome": "connected", "note": "Thu\x00 3pm"}
    )

    assert (page.status_code, done.status_code) == (200, 302)
    task.refresh_from_db()
    assert (task.status, task.outcome, task.outcome_note) == ("done", "connected", "Thu 3pm")


def test_the_task_page_speaks_the_rep_s_zone_and_words(task_for, sam, hand_off):
    from apps.routing.services import Completion, task_complete

    task = task_for(sam, phone="+13125550142")
    hand_off(task.contact, "webinar_attended", {"webinar": "Route planning", "webinar_id": 7})
    task_complete(
        task=task,
        actor=sam,
        completion=Completion(outcome="meeting_booked", note="Thursday 3pm with her CFO"),
    )
    html = signed_in(sam).get(f"/tasks/{task.pk}/").content.decode()
    # Every time on the page is in her zone, named
    assert "Mar 10, 11:00 America/New_York</time>" in html
    # Events read as words, with no ids; the rep's completion note is on the timeline
    assert "Webinar: Route planning" in html
    assert "webinar_id" not in html and "task_id" not in html and "Webinar id" not in html
    assert "Done · Sam Rep · Meeting booked · “Thursday 3pm with her CFO”" in html


def test_a_queued_open_task_shows_its_absolute_due_time_in_the_rep_s_zone(task_for, sam):
    task = task_for(sam)
    html = signed_in(sam).get(f"/tasks/{task.pk}/").content.decode()
    due = task.due_at.astimezone(ZoneInfo("America/New_York"))
    assert f'<span class="due-at">due {due:%a %-d %b, %H:%M} America/New_York</span>' in html
