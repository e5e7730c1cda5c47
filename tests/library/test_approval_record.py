"""Approved means reviewed, on the record: the database refuses the status without the
review decisions, and refuses to truncate them. Transactional is a claim compliance checks."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from apps.library.errors import LibraryError
from apps.library.models import TemplateApproval, TemplateVersion
from apps.library.services import version_approve, version_reject, version_submit
from apps.sends.errors import SendsError
from apps.sends.services.messages import message_create
from tests.factories import TemplateVersionFactory

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="TRUNCATE exists on PostgreSQL only"
)


def status_of(version) -> str:
    return TemplateVersion.objects.get(pk=version.pk).status


@pytest.fixture
def rejected(approver, submitted):
    return version_reject(actor=approver, version=submitted, comment="No.", notify=False)


def test_the_database_refuses_to_approve_a_rejected_version_by_update(rejected):
    with pytest.raises(IntegrityError), transaction.atomic():
        TemplateVersion.objects.filter(pk=rejected.pk).update(status="approved")

    assert status_of(rejected) == "rejected"


def test_the_database_refuses_to_approve_a_version_nobody_reviewed(submitted):
    with pytest.raises(IntegrityError), transaction.atomic():
        TemplateVersion.objects.filter(pk=submitted.pk).update(status="approved")

    assert status_of(submitted) == "submitted"


def test_the_database_refuses_a_version_written_as_approved(template):
    with pytest.raises(IntegrityError), transaction.atomic():
        TemplateVersionFactory(
            template=template, number=9, status="approved", submitted_at=template.created_at
        )

    assert not template.versions.filter(number=9).exists()


def test_the_database_refuses_an_approval_the_approver_gave_but_compliance_rejected(
    approver, compliance, make_template, marketer
):
    template = make_template(category="transactional", body="Your webinar starts in 1 hour.")
    version = version_submit(actor=marketer, version=template.versions.get(), notify=False)
    version_approve(actor=approver, version=version, notify=False)
    version_reject(actor=compliance, version=version, comment="Reads as an ad.", notify=False)

    with pytest.raises(IntegrityError), transaction.atomic():
        TemplateVersion.objects.filter(pk=version.pk).update(status="approved")

    assert status_of(version) == "rejected"


def test_the_database_refuses_a_transactional_approval_without_compliance(
    approver, make_template, marketer
):
    template = make_template(category="transactional", body="Your webinar starts in 1 hour.")
    version = version_submit(actor=marketer, version=template.versions.get(), notify=False)
    version_approve(actor=approver, version=version, notify=False)

    with pytest.raises(IntegrityError), transaction.atomic():
        TemplateVersion.objects.filter(pk=version.pk).update(status="approved")

    assert status_of(version) == "submitted"


# Midday for the contact, whatever hour the suite runs at: outside quiet hours.
@time_machine.travel(datetime(2026, 3, 10, 17, 0, tzinfo=UTC), tick=False)
def test_a_version_approved_through_review_is_sendable(approved, opted_in_contact):
    message = message_create(
        send_key="ok", origin="journey", category="marketing", contact=opted_in_contact(),
        template_version=approved,
    )  # fmt: skip

    assert approved.is_sendable
    assert message.status == "queued"


def test_a_rejected_version_is_never_sendable(rejected, opted_in_contact):
    rejected.status = "approved"  # as stale data in memory would say

    with pytest.raises(SendsError):
        message_create(
            send_key="no", origin="journey", category="marketing", contact=opted_in_contact(),
            template_version=rejected,
        )  # fmt: skip

    assert not rejected.is_sendable


@on_postgresql
@pytest.mark.parametrize("table", ["library_templateapproval", "library_templateversion"])
def test_it_refuses_to_truncate_the_review_record(approved, table):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as in a transaction of its own
        cursor.execute(f"TRUNCATE {table} CASCADE")

    assert TemplateApproval.objects.filter(version=approved).count() == 1
    assert status_of(approved) == "approved"


# --- transactional is a claim about content ----------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "Your order ships today. Take 20% off your next one!",
        "Your receipt is attached. Use coupon THANKS at checkout.",
        "Your account is ready. Upgrade now for premium features.",
        "Your order #123 is confirmed. FREE shipping on your next order!",
    ],
)
def test_a_transactional_submission_that_reads_as_promotional_is_refused(
    marketer, make_template, body
):
    template = make_template(category="transactional", body=body, links={})
    draft = template.versions.get()

    with pytest.raises(LibraryError, match=re.escape("reads as promotional")):
        version_submit(actor=marketer, version=draft, notify=False)

    assert status_of(draft) == "draft"


@pytest.mark.parametrize(
    "body",
    [
        "Your meeting with Riley is confirmed for 3pm. Feel free to reply with questions.",
        "Your order #123 shipped. Questions? Call our toll-free line 1-800-555-0100.",
        "Your route avoids the freeway today.",
    ],
)
def test_an_everyday_transactional_text_is_submitted(marketer, make_template, body):
    template = make_template(category="transactional", body=body, links={})

    version = version_submit(actor=marketer, version=template.versions.get(), notify=False)

    assert version.status == "submitted"


def test_a_version_approved_as_marketing_is_not_sendable_once_its_template_claims_transactional(
    approved, opted_in_contact
):
    from apps.library.models import MessageTemplate

    MessageTemplate.objects.filter(pk=approved.template_id).update(category="transactional")
    approved.refresh_from_db()

    assert not approved.is_sendable
    with pytest.raises(SendsError):
        message_create(
            send_key="no", origin="journey", category="transactional", contact=opted_in_contact(),
            template_version=approved,
        )  # fmt: skip
