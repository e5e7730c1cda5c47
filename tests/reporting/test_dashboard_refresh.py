"""The dashboard's freshness: it says when the figures were built, a reader with the right
may queue a refresh (run on a worker after commit, claimed once) and follow its progress;
the demo's history gives a new workspace real figures; the inbox's figures are on it."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse

from apps.accounts import roles
from apps.inbox.models import Conversation, ConversationStatus, ResponseWait
from apps.reporting.models import DailyRollup, RollupRefresh
from apps.reporting.services.rollups import reporting_refresh, rollup_refresh_run
from apps.sends.models import OutboundMessage
from tests.brokers import broker_down

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # a Tuesday afternoon
REFRESH = "admin:reporting_dailyrollup_refresh"


def _progress(refresh_id: int) -> str:
    return reverse("admin:reporting_dailyrollup_refresh_progress", args=[refresh_id])


def test_it_queues_a_refresh_after_commit_and_reports_it_done(
    client, make_user, django_capture_on_commit_callbacks
):
    maria = make_user(roles.MARKETER)
    client.force_login(maria)
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(execute=False) as queued:
            answer = client.post(reverse(REFRESH))
        assert answer.status_code == 202
        assert answer.json()["stage"] == "queued"
        assert answer.json()["words"] == "Refresh queued; waiting for a worker…"
        assert len(queued) == 1
        refresh = RollupRefresh.objects.get()
        assert (refresh.requested_by, refresh.started_at) == (maria, None)

        queued[0]()  # the commit: the (eager) worker runs it

        progress = client.get(_progress(refresh.pk)).json()
    assert progress["stage"] == "done"
    assert (
        progress["words"] == "Figures refreshed (2 days recomputed). Reload the page to see them."
    )
    assert progress["refreshed_at"] == NOW.isoformat()
    refresh.refresh_from_db()
    assert (refresh.started_at, refresh.finished_at, refresh.days) == (NOW, NOW, 2)


def test_it_runs_a_refresh_once_however_often_it_is_delivered(make_user):
    refresh = RollupRefresh.objects.create(requested_by=make_user(roles.MARKETER), requested_at=NOW)
    with time_machine.travel(NOW, tick=False):
        first = rollup_refresh_run(refresh_id=refresh.pk)
        second = rollup_refresh_run(refresh_id=refresh.pk)
    assert (first.days, second) == (2, None)


def test_it_serves_everyone_who_asks_meanwhile_with_the_refresh_already_waiting(
    client, make_user, django_capture_on_commit_callbacks
):
    client.force_login(make_user(roles.MARKETER))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        first = client.post(reverse(REFRESH)).json()
        second = client.post(reverse(REFRESH)).json()
    assert first["id"] == second["id"]
    assert (RollupRefresh.objects.count(), len(queued)) == (1, 1)


def test_it_forgets_a_refresh_the_queue_could_not_take(
    client, make_user, django_capture_on_commit_callbacks
):
    client.force_login(make_user(roles.MARKETER))
    with broker_down(), django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse(REFRESH))
    assert RollupRefresh.objects.count() == 0
    gone = client.get(_progress(answer.json()["id"]))
    assert gone.status_code == 404
    assert gone.json() == {"error": "No such refresh: it could not be queued. Try again."}


@pytest.mark.parametrize(
    "role", [roles.APPROVER, roles.COMPLIANCE, roles.SALES_REP, roles.SALES_MANAGER]
)
def test_it_refuses_a_refresh_to_those_without_the_right(client, make_user, role):
    client.force_login(make_user(role))
    assert client.post(reverse(REFRESH)).status_code == 403
    assert RollupRefresh.objects.count() == 0


def test_it_asks_for_a_post_to_refresh(client, make_user):
    client.force_login(make_user(roles.MARKETER))
    answer = client.get(reverse(REFRESH))
    assert (answer.status_code, answer.json()) == (405, {"error": "Refresh with a POST."})
    assert RollupRefresh.objects.count() == 0


def test_it_shows_when_figures_were_refreshed_and_the_button_to_those_who_may(client, make_user):
    with time_machine.travel(NOW, tick=False):
        reporting_refresh()
    client.force_login(make_user(roles.MARKETER))
    html = client.get(reverse("admin:index")).content.decode()
    assert "Figures last refreshed 2026-03-10" in html
    assert 'id="cue-refresh"' in html
    client.force_login(make_user(roles.COMPLIANCE))
    html = client.get(reverse("admin:index")).content.decode()
    assert "Figures last refreshed 2026-03-10" in html
    assert 'id="cue-refresh"' not in html


def test_it_gives_the_demo_real_figures_at_once_and_no_second_history():
    call_command("seed_demo")
    sent = DailyRollup.objects.aggregate(sent=Sum("sent"), clicks=Sum("human_clicks"))
    messages = OutboundMessage.objects.count()
    call_command("seed_demo")
    assert sent["sent"] > 0 and sent["clicks"] > 0
    assert OutboundMessage.objects.count() == messages
    assert DailyRollup.objects.aggregate(sent=Sum("sent"))["sent"] == sent["sent"]
    newest = OutboundMessage.objects.order_by("-sent_at").values_list("sent_at", flat=True)[0]
    assert newest < datetime.now(UTC) - timedelta(days=3)  # outside caps and the fatigue guard


def test_it_shows_the_inbox_figures(client, make_user):
    with time_machine.travel(NOW, tick=False):
        waiting = _conversation("+13125550101", due=NOW - timedelta(minutes=5))
        _conversation("+13125550102", due=None, status=ConversationStatus.CLOSED)
        answered = _conversation("+13125550103", due=None)
        answered.assigned_user = make_user(roles.SALES_REP)
        answered.save()
        _wait(answered, started=NOW - timedelta(hours=2), minutes=10, due_minutes=60)
        _wait(waiting, started=NOW - timedelta(hours=1), minutes=90, due_minutes=60)
        ResponseWait.objects.create(
            conversation=waiting,
            started_at=NOW - timedelta(minutes=65),
            due_at=NOW - timedelta(minutes=5),
        )
        client.force_login(make_user(roles.MARKETER))
        html = client.get(reverse("admin:index")).content.decode()
    assert 'id="inbox-open">2<' in html
    assert 'id="inbox-unassigned">1<' in html
    assert 'id="inbox-overdue">1<' in html
    assert 'id="inbox-answered">2<' in html
    assert 'id="inbox-median">50.0 min<' in html
    assert 'id="inbox-breaches">2<' in html  # one answered late, one still waiting past due


def _conversation(number: str, *, due, status=ConversationStatus.OPEN) -> Conversation:
    return Conversation.objects.create(
        their_address=number, last_message_at=NOW, status=status, response_due_at=due
    )


def _wait(conversation, *, started, minutes: int, due_minutes: int) -> None:
    ResponseWait.objects.create(
        conversation=conversation,
        started_at=started,
        due_at=started + timedelta(minutes=due_minutes),
        answered_at=started + timedelta(minutes=minutes),
    )
