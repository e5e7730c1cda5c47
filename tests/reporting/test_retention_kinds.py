"""Retention of the other kinds of personal data: click user agents go with the IPs, old
event properties and closed tasks' notes are cleared (the rows stay for the reports), the
CRM sync error log loses old records; each period is a setting, each prune is recorded,
and the consent ledger is kept whatever the periods are."""

from datetime import timedelta

import pytest
from django.test import override_settings

from apps.consent.models import Channel, ConsentRecord, ConsentSource, Purpose
from apps.consent.services import Evidence, consent_opt_in
from apps.contacts.models import Event
from apps.core.schedules import declared_periodic_tasks
from apps.crm.models import RecordError, SyncRun
from apps.crm.retention import sync_log_prune, sync_runs_prune
from apps.crm.tasks import sync_log_prune as sync_log_prune_task
from apps.reporting.models import RetentionRun
from apps.reporting.services.retention import retention_prune
from apps.routing.models import FollowUpTask
from apps.sends.models import LinkClick
from tests.reporting.conftest import T
from tests.reporting.scenario import frozen

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)
NOW = T + 1000 * DAY


def _task(contact, *, days_old: int, status: str) -> FollowUpTask:
    created = NOW - days_old * DAY
    return FollowUpTask.objects.create(
        contact=contact, signal_type="reply", reason_code="reply", reason="Replied: call me",
        assignment="owner", assignment_note="Taken over from Sam", sla_minutes=60,
        sla_clock="clock", warn_at=created, due_at=created, created_at=created, status=status,
        outcome_note="Called her at 555 0100", context={"body": "call me on 555 0100"},
        outcome="connected" if status == "done" else "",
    )  # fmt: skip


def _event(contact, *, days_old: int) -> Event:
    return Event.objects.create(
        contact=contact, type="form_submit", occurred_at=NOW - days_old * DAY,
        properties={"form": "demo", "phone": "+14155550100"},
        idempotency_key=f"form-{days_old}", source="api",
    )  # fmt: skip


def test_click_user_agents_go_with_the_ips(scenario):
    contact = scenario.contact()
    message = scenario.message(contact, sent_at=NOW - 100 * DAY)
    old, kept = scenario.click(message, NOW - 91 * DAY), scenario.click(message, NOW - 89 * DAY)
    with frozen(NOW):
        _, ips, *_ = retention_prune()
    assert LinkClick.objects.get(pk=old.pk).user_agent == ""
    assert LinkClick.objects.get(pk=kept.pk).user_agent == "Mozilla/5.0"
    assert ips.detail == {"clicks": 1, "user_agents": 1}


def test_old_event_properties_are_cleared_and_the_events_kept(scenario):
    contact = scenario.contact()
    old, kept = _event(contact, days_old=731), _event(contact, days_old=729)
    with frozen(NOW):
        runs = {run.target: run for run in retention_prune()}
    assert Event.objects.get(pk=old.pk).properties == {}
    assert Event.objects.get(pk=kept.pk).properties == {"form": "demo", "phone": "+14155550100"}
    assert Event.objects.count() == 2
    run = runs["event_properties"]
    assert (run.rows, run.cutoff, run.detail) == (1, NOW - 730 * DAY, {"events": 1})


def test_closed_tasks_lose_their_notes_and_open_ones_keep_them(scenario):
    contact = scenario.contact()
    old_done = _task(contact, days_old=366, status="done")
    old_open = _task(contact, days_old=366, status="open")
    new_done = _task(contact, days_old=364, status="done")
    with frozen(NOW):
        runs = {run.target: run for run in retention_prune()}
    cleared = FollowUpTask.objects.get(pk=old_done.pk)
    assert (cleared.outcome_note, cleared.assignment_note, cleared.context) == ("", "", {})
    assert (cleared.status, cleared.reason) == ("done", "Replied: call me")
    for kept in (old_open, new_done):
        assert FollowUpTask.objects.get(pk=kept.pk).outcome_note == "Called her at 555 0100"
    assert runs["task_notes"].detail == {"tasks": 1, "task_history": 1}


def test_a_closed_tasks_notes_go_from_its_history_rows_too(scenario):
    contact = scenario.contact()
    old_done = _task(contact, days_old=366, status="done")
    old_done.outcome_note = "Left a message at 555 0199"
    old_done.save()  # a second history row, with the other note
    new_done = _task(contact, days_old=364, status="done")
    with frozen(NOW):
        runs = {run.target: run for run in retention_prune()}
    history = FollowUpTask.history.filter(id=old_done.pk)
    assert history.count() == 2
    assert list(history.values_list("outcome_note", "assignment_note", "context")) == [
        ("", "", {}), ("", "", {}),
    ]  # fmt: skip
    assert set(history.values_list("status", "reason")) == {("done", "Replied: call me")}
    kept = FollowUpTask.history.get(id=new_done.pk)
    assert (kept.outcome_note, kept.context) == (
        "Called her at 555 0100", {"body": "call me on 555 0100"},
    )  # fmt: skip
    assert runs["task_notes"].detail == {"tasks": 1, "task_history": 2}


@override_settings(CUE_RETENTION_EVENT_DAYS=10, CUE_RETENTION_TASK_NOTE_DAYS=10)
def test_the_periods_are_settings(scenario):
    contact = scenario.contact()
    _event(contact, days_old=11)
    _task(contact, days_old=11, status="canceled")
    with frozen(NOW):
        runs = {run.target: run.rows for run in retention_prune()}
    assert (runs["event_properties"], runs["task_notes"]) == (1, 2)  # the task, its history


def test_the_sync_log_loses_old_records_and_keeps_open_errors(db):
    def error(record_id, days_old, resolved):
        at = NOW - days_old * DAY
        return RecordError.objects.create(
            system="hubspot", direction="in", object_type="contact", record_id=record_id,
            error="Bad phone", record={"email": "ann@example.com"}, last_failed_at=at,
            resolved_at=at if resolved else None,
        )  # fmt: skip

    error("1", 91, resolved=True)
    old_open, kept = error("2", 91, resolved=False), error("3", 89, resolved=True)
    with frozen(NOW):
        run = sync_log_prune()
    assert list(RecordError.objects.order_by("record_id").values_list("record_id", "record")) == [
        ("2", {}), ("3", {"email": "ann@example.com"}),
    ]  # fmt: skip
    assert (old_open.pk, kept.pk) == tuple(
        RecordError.objects.order_by("record_id").values_list("pk", flat=True)
    )
    assert (run.target, run.rows, run.detail) == (
        "sync_logs", 2, {"resolved_deleted": 1, "open_records_cleared": 1},
    )  # fmt: skip


def _run(system: str, direction: str, *, days_old: int, status: str = "succeeded") -> SyncRun:
    run = SyncRun.objects.create(system=system, direction=direction, status=status)
    SyncRun.objects.filter(pk=run.pk).update(started_at=NOW - days_old * DAY)  # auto_now_add
    return run


def test_old_sync_runs_go_but_each_connections_last_run_and_a_running_one_stay(db):
    gone = [_run("hubspot", "in", days_old=400), _run("hubspot", "out", days_old=500)]
    kept = [
        _run("hubspot", "in", days_old=364),
        _run("hubspot", "out", days_old=400),  # the last run out, however old
        _run("salesforce", "in", days_old=900),  # its only run
        _run("salesforce", "out", days_old=900, status="running"),
        _run("salesforce", "out", days_old=10),
    ]
    with frozen(NOW):
        run = sync_runs_prune()
    assert set(SyncRun.objects.values_list("pk", flat=True)) == {r.pk for r in kept}
    assert not SyncRun.objects.filter(pk__in=[r.pk for r in gone]).exists()
    assert (run.target, run.rows, run.cutoff, run.detail) == (
        "sync_runs", 2, NOW - 365 * DAY, {"sync_runs": 2},
    )  # fmt: skip


@override_settings(CUE_RETENTION_SYNC_RUN_DAYS=30)
def test_the_daily_crm_prune_also_deletes_sync_runs_after_their_own_period(db):
    old = _run("hubspot", "in", days_old=31)
    last = _run("hubspot", "in", days_old=29)
    with frozen(NOW):
        pruned = sync_log_prune_task()
    assert (pruned, list(SyncRun.objects.values_list("pk", flat=True))) == (1, [last.pk])
    assert RetentionRun.objects.get(target="sync_runs").detail == {"sync_runs": 1}
    assert old.pk != last.pk


@override_settings(
    CUE_RETENTION_MESSAGE_DAYS=1, CUE_RETENTION_CLICK_IP_DAYS=1, CUE_RETENTION_EVENT_DAYS=1,
    CUE_RETENTION_TASK_NOTE_DAYS=1, CUE_RETENTION_SYNC_LOG_DAYS=1, CUE_RETENTION_SYNC_RUN_DAYS=1,
)  # fmt: skip
def test_the_shortest_periods_leave_the_ledger_whole(scenario):
    contact = scenario.contact()
    with frozen(NOW - 3000 * DAY):
        consent_opt_in(
            contact=contact, channel=Channel.SMS, purpose=Purpose.MARKETING,
            source=ConsentSource.WEB_FORM, occurred_at=NOW - 3000 * DAY,
            evidence=Evidence(ip_address="203.0.113.9", user_agent="Mozilla/5.0", note="YES"),
        )  # fmt: skip
    with frozen(NOW):
        retention_prune()
        sync_log_prune()
        sync_runs_prune()
    kept = ConsentRecord.objects.get()
    assert (kept.ip_address, kept.user_agent, kept.note) == ("203.0.113.9", "Mozilla/5.0", "YES")


def test_every_prune_runs_daily_from_beat():
    declared = declared_periodic_tasks()
    assert declared["cue: retention prune"] == {
        "task": "reporting.retention_prune", "every": 86400,
    }  # fmt: skip
    assert declared["cue: crm sync log retention"] == {
        "task": "crm.sync_log_prune", "every": 86400,
    }  # fmt: skip
    assert RetentionRun.Target.SYNC_LOGS.label == "CRM sync error log"
