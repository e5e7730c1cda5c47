"""The recurring audit finds each planted violation — exactly those rows — and nothing on
clean data; the report is stored with a finding per check and emailed to Compliance."""

from datetime import timedelta

import pytest
from django.core import mail

from apps.accounts import roles
from apps.consent.models import Channel, ConsentSource, Purpose, Suppression
from apps.consent.services import (
    consent_confirm,
    consent_opt_in,
    consent_opt_out,
    suppression_add,
    suppression_remove,
)
from apps.contacts.models import Contact
from apps.contacts.services import contact_update
from apps.reporting.models import AuditCheck, AuditReport
from apps.reporting.services.audits import audit_run
from apps.routing.models import FollowUpTask
from apps.sends.caps import caps_defaults_ensure
from apps.sends.models import FrequencyCap
from tests.reporting.conftest import BUILT_AT, T
from tests.reporting.scenario import frozen
from tests.sends.templates import draft_sms_version

pytestmark = pytest.mark.django_db

HOUR, MINUTE = timedelta(hours=1), timedelta(minutes=1)
PERIOD = {"start": T - 24 * HOUR, "end": T + 24 * HOUR}


def consent(contact, action="opt_in", *, at=BUILT_AT, purpose=Purpose.MARKETING, source=None):
    with frozen(at):
        if action == "opt_in":
            return consent_opt_in(contact=contact, channel=Channel.SMS, purpose=purpose,
                                  source=source or ConsentSource.API, occurred_at=at)  # fmt: skip
        if action == "confirm":
            return consent_confirm(contact=contact, source=ConsentSource.KEYWORD)
        return consent_opt_out(contact=contact, channel=Channel.SMS, purpose=purpose,
                               source=ConsentSource.KEYWORD, occurred_at=at)  # fmt: skip


def task(contact, *, due, touched=None, status="open"):
    with frozen(due - 15 * MINUTE):
        return FollowUpTask.objects.create(
            contact=contact, signal_type="reply", reason_code="reply", reason="Replied",
            assignment="queue", sla_minutes=15, sla_clock="clock", warn_at=due, due_at=due,
            first_touch_at=touched, status=status, outcome="connected" if status == "done" else "",
        )  # fmt: skip


@pytest.fixture
def clean(scenario):
    """A contact with consent, messaged once at midday, and a task touched in time."""
    caps_defaults_ensure(FrequencyCap)
    contact = scenario.contact()
    consent(contact)
    message = scenario.message(contact, sent_at=T, delivered_at=T)
    transactional = scenario.message(contact, sent_at=T + HOUR, category="transactional", step=1)
    confirmed = scenario.contact()
    consent(confirmed, source=ConsentSource.WEB_FORM)
    consent(confirmed, "confirm", at=BUILT_AT + HOUR)
    confirmed_message = scenario.message(confirmed, sent_at=T)
    task(contact, due=T, touched=T - MINUTE)
    task(contact, due=T + HOUR, touched=T, status="done")
    return message, transactional, confirmed_message


def findings(report: AuditReport) -> dict[str, tuple[int, list]]:
    return {f.check_name: (f.count, [row["id"] for row in f.rows]) for f in report.findings.all()}


def test_it_reports_zero_for_every_check_on_clean_data(clean):
    with frozen(T + 30 * HOUR):
        report = audit_run(**PERIOD)
    assert findings(report) == {check: (0, []) for check in AuditCheck.values}
    assert report.total_findings == 0
    assert report.is_clean is True


def test_it_finds_each_planted_violation_and_only_it(scenario, clean):
    never_asked = scenario.contact()
    no_consent = scenario.message(never_asked, sent_at=T)

    pending = scenario.contact()
    consent(pending, source=ConsentSource.WEB_FORM)  # double opt-in never confirmed
    unconfirmed = scenario.message(pending, sent_at=T)

    stopped = scenario.contact()
    consent(stopped)
    consent(stopped, "opt_out", at=T - 2 * HOUR)
    after_stop = scenario.message(stopped, sent_at=T)
    consent(stopped, "opt_out", purpose=Purpose.TRANSACTIONAL, at=T - 2 * HOUR)
    transactional_after_stop = scenario.message(stopped, sent_at=T + HOUR, category="transactional")

    racing = scenario.contact()
    consent(racing)
    consent(racing, "opt_out", at=T - 30 * timedelta(seconds=1))
    within_a_minute = scenario.message(racing, sent_at=T)  # no consent, but not "late"

    night_owl = scenario.contact()  # Los Angeles
    consent(night_owl)
    at_night = scenario.message(night_owl, sent_at=T - 10 * HOUR)  # 23:00 in Los Angeles

    busy = scenario.contact()
    consent(busy)
    scenario.message(busy, sent_at=T)
    second_today = scenario.message(busy, sent_at=T + HOUR, step=1)

    with frozen(BUILT_AT):
        draft = draft_sms_version(name="Not yet approved")
    reader = scenario.contact()
    consent(reader)
    from_draft = scenario.message(reader, sent_at=T, version=draft)

    late = task(reader, due=T, touched=T + 10 * MINUTE)
    forgotten = task(reader, due=T + 2 * HOUR)

    with frozen(T + 30 * HOUR):
        report = audit_run(**PERIOD)
    found = findings(report)
    assert found[AuditCheck.NO_CONSENT] == (
        5,  # in the order they were sent
        [no_consent.pk, unconfirmed.pk, after_stop.pk, within_a_minute.pk,
         transactional_after_stop.pk],
    )  # fmt: skip
    assert found[AuditCheck.OPT_OUT_NOT_HONOURED] == (1, [after_stop.pk])
    assert found[AuditCheck.QUIET_HOURS] == (1, [at_night.pk])
    assert found[AuditCheck.CAP_EXCEEDED] == (1, [second_today.pk])
    assert found[AuditCheck.UNAPPROVED_VERSION] == (1, [from_draft.pk])
    assert found[AuditCheck.TASK_BREACHED] == (2, [late.pk, forgotten.pk])
    assert report.total_findings == 11


def test_it_names_the_cap_and_the_count_in_the_window(scenario, clean):
    busy = scenario.contact()
    consent(busy)
    scenario.message(busy, sent_at=T)
    second = scenario.message(busy, sent_at=T + HOUR)
    with frozen(T + 30 * HOUR):
        report = audit_run(**PERIOD)
    row = report.findings.get(check_name=AuditCheck.CAP_EXCEEDED).rows[0]
    assert (row["id"], row["in_window"], row["cap"]) == (second.pk, 2, "1 marketing per 24 h")


def test_it_keeps_the_first_500_rows_and_the_full_count(scenario, clean, monkeypatch):
    from apps.reporting.audit import checks

    monkeypatch.setattr(checks, "LIMIT", 2)
    for _ in range(3):
        scenario.message(scenario.contact(), sent_at=T)
    with frozen(T + 30 * HOUR):
        report = audit_run(**PERIOD)
    finding = report.findings.get(check_name=AuditCheck.NO_CONSENT)
    assert (finding.count, len(finding.rows)) == (3, 2)


def test_it_emails_the_report_to_the_compliance_group(
    clean, make_user, django_capture_on_commit_callbacks
):
    make_user(roles.COMPLIANCE, username="carol", email="carol@example.com")
    make_user(roles.MARKETER, username="maria", email="maria@example.com")
    with frozen(T + 30 * HOUR), django_capture_on_commit_callbacks(execute=True):
        report = audit_run(**PERIOD)
    assert [message.to for message in mail.outbox] == [["carol@example.com"]]
    assert mail.outbox[0].subject == "Cue compliance audit 2026-03-09–2026-03-11: clean"
    assert "Sent without valid consent at send time: 0" in mail.outbox[0].body
    report.refresh_from_db()
    assert report.emailed_to == ["carol@example.com"]


def test_it_finds_messages_sent_to_a_number_on_the_suppression_list(scenario, clean):
    # given numbers that said STOP (whoever owns them), at various moments around a send
    def stopped(contact, *, at, lifted_at=None):
        with frozen(at):
            suppression_add(
                address=str(contact.phone),
                reason=Suppression.Reason.STOP_UNKNOWN_SENDER,
                source=ConsentSource.KEYWORD,
            )
        if lifted_at is not None:
            with frozen(lifted_at):
                suppression_remove(address=str(contact.phone))

    listed, just_now, lifted, lifted_later = (scenario.contact() for _ in range(4))
    for contact in (listed, just_now, lifted, lifted_later):
        consent(contact)
    stopped(listed, at=T - 2 * HOUR)
    stopped(just_now, at=T - 30 * timedelta(seconds=1))  # within the minute a send may race
    stopped(lifted, at=T - 3 * HOUR, lifted_at=T - HOUR)  # START before the send
    stopped(lifted_later, at=T - 3 * HOUR, lifted_at=T + 2 * HOUR)
    to_listed = scenario.message(listed, sent_at=T)
    scenario.message(just_now, sent_at=T)
    scenario.message(lifted, sent_at=T)
    to_lifted_later = scenario.message(lifted_later, sent_at=T)
    scenario.message(listed, sent_at=T + HOUR, origin="keyword_reply", step=1)  # the STOP reply

    # when the audit runs
    with frozen(T + 30 * HOUR):
        report = audit_run(**PERIOD)

    # then exactly the two sends to a number on the list are found
    found = findings(report)
    assert found[AuditCheck.ADDRESS_SUPPRESSED] == (2, [to_listed.pk, to_lifted_later.pk])
    row = report.findings.get(check_name=AuditCheck.ADDRESS_SUPPRESSED).rows[0]
    assert row["suppressed_at"] == (T - 2 * HOUR).isoformat().replace("+00:00", "Z")


def test_it_counts_consent_only_for_the_address_it_was_given_for(scenario, clean):
    # given a contact opted in on one number who moved to another before the send
    moved = scenario.contact()
    consent(moved)
    with frozen(T - 2 * HOUR):
        contact_update(contact=moved, fields={"phone": "+14155550199"})
    to_new_number = scenario.message(moved, sent_at=T)

    # and one whose number was changed behind the services' back (no ledger note)
    silently = scenario.contact()
    consent(silently)
    Contact.objects.filter(pk=silently.pk).update(phone="+14155550198")
    silently.refresh_from_db()
    to_silent_number = scenario.message(silently, sent_at=T)

    with frozen(T + 30 * HOUR):
        report = audit_run(**PERIOD)

    assert findings(report)[AuditCheck.NO_CONSENT] == (
        2,
        [to_new_number.pk, to_silent_number.pk],
    )
