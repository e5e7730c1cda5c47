"""Review emails: reviewers hear about a submission once, the author about each decision."""

import pytest
from django.core import mail

from apps.accounts import roles
from apps.library.errors import LibraryError
from apps.library.services import version_approve, version_reject, version_submit
from tests.brokers import broker_down

pytestmark = pytest.mark.django_db

CHANGE_PATH = "/admin/library/messagetemplate/{}/change/"


@pytest.fixture(autouse=True)
def public_url(settings):
    settings.PUBLIC_BASE_URL = "https://cue.example.com"


@pytest.fixture
def bystanders(make_user, sales_rep):
    """People who must never be emailed about reviews."""
    make_user(roles.ADMIN, username="root", email="root@example.com")
    make_user(roles.MARKETER, username="other", email="other@example.com")
    make_user(roles.APPROVER, username="no-email", email="")
    make_user(roles.SALES_MANAGER, username="morgan", email="morgan@example.com")


def recipients():
    return sorted(address for message in mail.outbox for address in message.to)


@pytest.mark.usefixtures("bystanders")
def test_it_asks_each_approver_once_when_a_version_is_submitted(
    django_capture_on_commit_callbacks, make_user, marketer, approver, compliance, template, draft
):
    make_user(roles.APPROVER, username="blake", email="blake@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        version_submit(actor=marketer, version=draft)

    assert recipients() == ["alex@example.com", "blake@example.com"]
    assert {message.subject for message in mail.outbox} == {"Review requested: Webinar reminder v1"}
    body = mail.outbox[0].body
    assert body.startswith(
        f'{marketer.display_name} submitted version 1 of "Webinar reminder" (SMS, marketing) '
        "for review."
    )
    assert "At its longest it is 1 SMS segment (GSM-7)." in body
    assert f"Review it here: https://cue.example.com{CHANGE_PATH.format(template.pk)}" in body


@pytest.mark.usefixtures("require_compliance")
def test_it_asks_compliance_too_when_compliance_must_approve(
    django_capture_on_commit_callbacks, marketer, approver, compliance, draft
):
    with django_capture_on_commit_callbacks(execute=True):
        version_submit(actor=marketer, version=draft)

    assert recipients() == ["alex@example.com", "carol@example.com"]


def test_it_tells_the_author_about_an_approval(
    django_capture_on_commit_callbacks, marketer, approver, template, submitted
):
    with django_capture_on_commit_callbacks(execute=True):
        version_approve(actor=approver, version=submitted, comment="Nice and short.")

    assert recipients() == ["maria@example.com"]
    message = mail.outbox[0]
    assert message.subject == f"Webinar reminder v1 approved by {approver.display_name}"
    assert f'{approver.display_name} approved version 1 of "Webinar reminder" as approver.' in (
        message.body
    )
    assert "Their comment: Nice and short." in message.body
    assert "It is now the version that is sent." in message.body
    assert f"https://cue.example.com{CHANGE_PATH.format(template.pk)}" in message.body


def test_it_tells_the_author_why_a_version_was_rejected(
    django_capture_on_commit_callbacks, approver, submitted
):
    with django_capture_on_commit_callbacks(execute=True):
        version_reject(actor=approver, version=submitted, comment="Name the webinar.")

    assert recipients() == ["maria@example.com"]
    assert mail.outbox[0].subject == f"Webinar reminder v1 rejected by {approver.display_name}"
    assert "Their comment: Name the webinar." in mail.outbox[0].body
    assert "Copy it into a new draft to fix it and submit again." in mail.outbox[0].body


@pytest.mark.usefixtures("require_compliance")
def test_it_tells_the_author_after_each_of_two_approvals(
    django_capture_on_commit_callbacks, approver, compliance, submitted
):
    with django_capture_on_commit_callbacks(execute=True):
        version_approve(actor=approver, version=submitted)
    assert "It now waits for the other review before it can be sent." in mail.outbox[0].body

    with django_capture_on_commit_callbacks(execute=True):
        version_approve(actor=compliance, version=submitted)

    assert [message.subject for message in mail.outbox] == [
        f"Webinar reminder v1 approved by {approver.display_name}",
        f"Webinar reminder v1 approved by {compliance.display_name}",
    ]
    assert recipients() == ["maria@example.com", "maria@example.com"]


def test_it_sends_nothing_when_a_review_is_refused(
    django_capture_on_commit_callbacks, other_marketer, submitted
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(LibraryError),
    ):
        version_approve(actor=other_marketer, version=submitted)

    assert callbacks == []
    assert mail.outbox == []


def test_it_sends_nothing_when_told_not_to(
    django_capture_on_commit_callbacks, marketer, approver, draft
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        version_submit(actor=marketer, version=draft, notify=False)
        version_approve(actor=approver, version=draft, notify=False)

    assert callbacks == []
    assert mail.outbox == []


def test_it_sends_nothing_before_the_transaction_commits(marketer, approver, draft):
    version_submit(actor=marketer, version=draft)

    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_it_still_asks_the_approvers_when_the_task_queue_is_down(marketer, approver, draft):
    with broker_down():
        version_submit(actor=marketer, version=draft)

    assert recipients() == ["alex@example.com"]
