"""The approval workflow: drafts, submission, review, and what can never change again."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.accounts import roles
from apps.library.errors import LibraryError
from apps.library.models import MessageTemplate, TemplateApproval, TemplateVersion
from apps.library.services import (
    template_content_edit,
    template_create,
    template_draft_start,
    version_approve,
    version_copy,
    version_reject,
    version_submit,
    version_update,
)
from tests.factories import TemplateVersionFactory
from tests.library.conftest import BODY, LINKS

pytestmark = pytest.mark.django_db

SELF_APPROVAL = "You wrote this version, so someone else must approve it."


def refused(message: str):
    """Expects a LibraryError saying `message`."""
    return pytest.raises(LibraryError, match=re.escape(message))


def fresh(version):
    return TemplateVersion.objects.get(pk=version.pk)


# --- drafts ---------------------------------------------------------------------------


def test_it_creates_a_template_with_its_first_draft(marketer, make_template):
    template = make_template()

    version = template.versions.get()
    assert (version.number, version.status, version.author, version.body, version.links) == (
        1, "draft", marketer, BODY, LINKS,
    )  # fmt: skip
    assert template.current_version is None
    assert template.owner == marketer


def test_it_refuses_an_unknown_placeholder_when_the_draft_is_saved(make_template):
    with pytest.raises(LibraryError) as raised:
        make_template(body="Hi {{ contact.nickname }}")

    assert raised.value.errors == {
        "body": [
            'Unknown placeholder "{{ contact.nickname }}". Known placeholders: '
            "contact.first_name, contact.last_name, contact.company, company.name, "
            "owner.first_name, owner.phone, contact.attr.<key>."
        ]
    }
    assert MessageTemplate.objects.count() == 0
    assert TemplateVersion.objects.count() == 0


def test_it_refuses_template_writing_to_a_sales_rep(sales_rep, make_template):
    with refused("You may not create templates."):
        make_template(actor=sales_rep)

    assert MessageTemplate.objects.count() == 0


def test_it_refuses_a_second_template_with_the_same_name_in_any_case(make_template):
    make_template(name="Webinar reminder")

    with refused("Another template already has this name."):
        make_template(name="WEBINAR REMINDER")

    assert MessageTemplate.objects.count() == 1


def test_it_edits_a_draft(marketer, draft):
    version_update(actor=marketer, version=draft, body=BODY + " Thanks!")

    assert fresh(draft).body == BODY + " Thanks!"


def test_it_keeps_one_open_version_per_template(marketer, draft):
    second = TemplateVersion(template=draft.template, number=2, author=marketer, body="Hi")

    with pytest.raises(ValidationError) as raised:
        second.full_clean()
    assert raised.value.messages == [
        "This template already has a draft or submitted version; finish that one first."
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()
    assert draft.template.versions.count() == 1


def test_it_returns_the_open_draft_instead_of_starting_another(marketer, template, draft):
    assert template_draft_start(actor=marketer, template=template) == draft
    assert template.versions.count() == 1


def test_it_starts_no_draft_while_a_version_waits_for_review(marketer, template, submitted):
    with refused("Version 1 is waiting for review"):
        template_draft_start(actor=marketer, template=template)

    assert template.versions.count() == 1


# --- editing an approved template -----------------------------------------------------


def test_it_makes_a_new_draft_when_the_approved_text_is_edited(marketer, template, approved):
    new_body = BODY.replace("1 hour", "15 minutes")

    draft = template_content_edit(
        actor=marketer, template=template, body=new_body, subject="", links=LINKS, defaults={}
    )

    assert (draft.number, draft.status, draft.body, draft.links) == (2, "draft", new_body, LINKS)
    approved_now = fresh(approved)
    assert (approved_now.status, approved_now.body) == ("approved", BODY)
    assert MessageTemplate.objects.get(pk=template.pk).current_version == approved


def test_it_makes_no_draft_when_the_approved_text_is_saved_unchanged(marketer, template, approved):
    draft = template_content_edit(
        actor=marketer, template=template, body=BODY, subject="", links=LINKS, defaults={}
    )

    assert draft is None
    assert template.versions.count() == 1


def test_it_retires_the_previous_version_when_the_next_is_approved(
    marketer, approver, template, approved
):
    draft = template_draft_start(actor=marketer, template=template)
    version_update(actor=marketer, version=draft, body=BODY.replace("1 hour", "15 minutes"))
    version_submit(actor=marketer, version=draft, notify=False)

    version_approve(actor=approver, version=draft, notify=False)

    assert fresh(approved).status == "retired"
    assert fresh(draft).status == "approved"
    assert MessageTemplate.objects.get(pk=template.pk).current_version_id == draft.pk


# --- submission -----------------------------------------------------------------------


def test_it_submits_a_draft_with_its_worst_case_size_and_lint(settings, marketer, draft):
    settings.PUBLIC_BASE_URL = "https://cue.example.com"

    version = version_submit(actor=marketer, version=draft, notify=False)

    longest = (
        f"Cue Demo: Hi{'x' * 22}, your webinar starts in 1 hour. "
        f"Join: https://cue.example.com/l/{'x' * 22} Reply STOP to opt out."
    )
    stored = fresh(version)
    assert stored.status == "submitted"
    assert stored.submitted_at is not None
    assert (stored.worst_case_encoding, stored.worst_case_segments) == ("GSM-7", 1)
    assert stored.worst_case_characters == len(longest)
    assert stored.lint_findings == []


def test_it_stores_lint_warnings_for_the_approver(marketer, make_template):
    template = make_template(
        body=BODY.replace('{{ contact.first_name | "Hi" }}', "{{ contact.first_name }}")
    )

    version = version_submit(actor=marketer, version=template.versions.get(), notify=False)

    assert fresh(version).lint_findings == [
        {
            "rule": "no_default",
            "level": "warning",
            "message": "{{ contact.first_name }} has no default, so it renders empty when the "
            "value is missing.",
            "field": "body",
        }
    ]


def test_it_refuses_to_submit_a_draft_that_fails_lint(marketer, make_template):
    template = make_template(body=BODY.replace(" Reply STOP to opt out.", ""))
    draft = template.versions.get()

    with pytest.raises(LibraryError) as raised:
        version_submit(actor=marketer, version=draft, notify=False)

    assert raised.value.errors == {
        "body": ['Tell the recipient how to opt out, e.g. "Reply STOP to opt out".']
    }
    stored = fresh(draft)
    assert (stored.status, stored.submitted_at, stored.lint_findings) == ("draft", None, [])


def test_it_lets_another_marketer_submit_a_draft(other_marketer, draft):
    assert version_submit(actor=other_marketer, version=draft, notify=False).status == "submitted"


def test_it_refuses_submission_to_an_approver(approver, draft):
    with refused("You may not submit templates for review."):
        version_submit(actor=approver, version=draft, notify=False)

    assert fresh(draft).status == "draft"


def test_it_submits_a_version_once(marketer, submitted):
    with refused("Version 1 is submitted; only a draft is submitted."):
        version_submit(actor=marketer, version=submitted, notify=False)


# --- approval -------------------------------------------------------------------------


def test_it_lets_an_approver_approve(approver, template, submitted):
    version = version_approve(actor=approver, version=submitted, comment="Clear and short.")

    stored = fresh(version)
    assert stored.status == "approved"
    assert stored.decided_at is not None
    assert MessageTemplate.objects.get(pk=template.pk).current_version == stored
    assert list(
        TemplateApproval.objects.values_list("reviewer", "decision", "as_role", "comment")
    ) == [(approver.pk, "approved", "approver", "Clear and short.")]


def test_it_records_who_approved_in_the_history(approver, submitted):
    version_approve(actor=approver, version=submitted, notify=False)

    latest = fresh(submitted).history.first()
    assert (latest.history_user, latest.history_change_reason) == (approver, "Approved by alex")


def test_it_never_lets_an_admin_approve_their_own_version(admin_user, make_template):
    template = make_template(actor=admin_user)
    version = version_submit(actor=admin_user, version=template.versions.get(), notify=False)

    with refused(SELF_APPROVAL):
        version_approve(actor=admin_user, version=version, notify=False)

    assert fresh(version).status == "submitted"
    assert TemplateApproval.objects.count() == 0


def test_it_never_lets_an_author_holding_the_approve_permission_approve(marketer, submitted):
    marketer.user_permissions.add(Permission.objects.get(codename="approve_templateversion"))
    marketer = type(marketer).objects.get(pk=marketer.pk)  # drop the permission cache

    with refused(SELF_APPROVAL):
        version_approve(actor=marketer, version=submitted, notify=False)

    assert TemplateApproval.objects.count() == 0


def test_it_never_lets_whoever_edited_the_draft_approve_it(admin_user, marketer, draft):
    version_update(actor=admin_user, version=draft, body=BODY + " See you there.")
    version_submit(actor=marketer, version=draft, notify=False)

    with refused(SELF_APPROVAL):
        version_approve(actor=admin_user, version=draft, notify=False)

    assert TemplateApproval.objects.count() == 0


def test_it_allows_self_approval_only_when_configured(settings, admin_user, make_template):
    settings.CUE_ALLOW_SELF_APPROVAL = True
    template = make_template(actor=admin_user)
    version = version_submit(actor=admin_user, version=template.versions.get(), notify=False)

    assert version_approve(actor=admin_user, version=version, notify=False).status == "approved"


def test_it_refuses_approval_to_a_marketer(other_marketer, submitted):
    with refused("You may not review template versions."):
        version_approve(actor=other_marketer, version=submitted, notify=False)

    assert TemplateApproval.objects.count() == 0


def test_it_reviews_only_submitted_versions(approver, draft):
    with refused("Version 1 is draft, not waiting for review."):
        version_approve(actor=approver, version=draft, notify=False)

    assert TemplateApproval.objects.count() == 0


def test_it_leaves_compliance_out_unless_required(compliance, submitted):
    with refused("This template needs no compliance approval; an approver decides."):
        version_approve(actor=compliance, version=submitted, notify=False)

    assert TemplateApproval.objects.count() == 0


# --- compliance as a second approver ---------------------------------------------------


@pytest.mark.usefixtures("require_compliance")
def test_it_waits_for_compliance_after_the_approver(approver, compliance, template, submitted):
    version_approve(actor=approver, version=submitted, notify=False)

    assert fresh(submitted).status == "submitted"
    assert MessageTemplate.objects.get(pk=template.pk).current_version is None

    version_approve(actor=compliance, version=submitted, notify=False)

    assert fresh(submitted).status == "approved"
    assert MessageTemplate.objects.get(pk=template.pk).current_version_id == submitted.pk
    assert list(TemplateApproval.objects.values_list("as_role", "reviewer")) == [
        ("approver", approver.pk),
        ("compliance", compliance.pk),
    ]


@pytest.mark.usefixtures("require_compliance")
def test_it_accepts_the_two_approvals_in_either_order(approver, compliance, submitted):
    version_approve(actor=compliance, version=submitted, notify=False)
    assert fresh(submitted).status == "submitted"

    version_approve(actor=approver, version=submitted, notify=False)

    assert fresh(submitted).status == "approved"


@pytest.mark.usefixtures("require_compliance")
def test_it_needs_two_people_for_the_two_approvals(make_user, marketer, submitted):
    admin = make_user(roles.ADMIN, username="root")
    version_approve(actor=admin, version=submitted, notify=False)

    with refused("You already reviewed this version"):
        version_approve(actor=admin, version=submitted, notify=False)

    assert fresh(submitted).status == "submitted"
    assert TemplateApproval.objects.count() == 1


@pytest.mark.usefixtures("require_compliance")
def test_it_lets_compliance_reject_what_the_approver_approved(approver, compliance, submitted):
    version_approve(actor=approver, version=submitted, notify=False)

    version_reject(actor=compliance, version=submitted, comment="No opt-out in Spanish.")

    assert fresh(submitted).status == "rejected"
    assert list(TemplateApproval.objects.values_list("as_role", "decision")) == [
        ("approver", "approved"),
        ("compliance", "rejected"),
    ]


@pytest.mark.parametrize("required_for_marketing", [False, True])
def test_a_transactional_template_always_needs_compliance_too(
    settings, marketer, approver, compliance, make_template, required_for_marketing
):
    settings.CUE_REQUIRE_COMPLIANCE_APPROVAL = required_for_marketing
    template = make_template(category="transactional", body="Your webinar starts in 1 hour.")
    version = version_submit(actor=marketer, version=template.versions.get(), notify=False)

    assert version_approve(actor=approver, version=version, notify=False).status == "submitted"
    assert version_approve(actor=compliance, version=version, notify=False).status == "approved"


# --- rejection and copies -------------------------------------------------------------


def test_it_rejects_with_the_reason(approver, template, submitted):
    version_reject(actor=approver, version=submitted, comment="Say which webinar.", notify=False)

    stored = fresh(submitted)
    assert (stored.status, stored.decided_at is not None) == ("rejected", True)
    assert MessageTemplate.objects.get(pk=template.pk).current_version is None
    assert list(TemplateApproval.objects.values_list("decision", "comment")) == [
        ("rejected", "Say which webinar.")
    ]


def test_it_refuses_a_rejection_without_a_reason(approver, submitted):
    with pytest.raises(LibraryError) as raised:
        version_reject(actor=approver, version=submitted, comment="  ", notify=False)

    assert raised.value.errors == {
        "comment": ["Say why you reject this version, so its author can fix it."]
    }
    assert fresh(submitted).status == "submitted"
    assert TemplateApproval.objects.count() == 0


def test_it_never_lets_an_author_reject_their_own_version(admin_user, make_template):
    template = make_template(actor=admin_user)
    version = version_submit(actor=admin_user, version=template.versions.get(), notify=False)

    with refused("You wrote this version, so someone else must review"):
        version_reject(actor=admin_user, version=version, comment="Oops", notify=False)


def test_it_copies_a_rejected_version_into_a_new_draft(other_marketer, approver, submitted):
    version_reject(actor=approver, version=submitted, comment="Shorter, please.", notify=False)

    draft = version_copy(actor=other_marketer, version=submitted)

    assert (draft.number, draft.status, draft.author, draft.body, draft.links) == (
        2, "draft", other_marketer, BODY, LINKS,
    )  # fmt: skip
    assert fresh(submitted).status == "rejected"


def test_it_copies_only_rejected_or_retired_versions(marketer, approved):
    with refused("Only a rejected or retired version can be copied"):
        version_copy(actor=marketer, version=approved)

    assert TemplateVersion.objects.count() == 1


def test_it_copies_nothing_while_another_version_is_open(marketer, approver, template, approved):
    draft = template_draft_start(actor=marketer, template=template)
    version_update(actor=marketer, version=draft, body=BODY + " Bring questions.")
    version_submit(actor=marketer, version=draft, notify=False)
    version_approve(actor=approver, version=draft, notify=False)
    template_draft_start(actor=marketer, template=template)

    with refused("Version 3 is still draft; finish that one first."):
        version_copy(actor=marketer, version=approved)  # now retired

    assert TemplateVersion.objects.count() == 3


# --- immutability ---------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["submitted", "approved"])
def test_it_refuses_to_edit_a_frozen_version_through_the_service(request, marketer, fixture):
    version = request.getfixturevalue(fixture)

    with refused(f"Version 1 is {fixture}, so it can no longer change."):
        version_update(actor=marketer, version=version, body="Something else")

    assert fresh(version).body == BODY


@pytest.mark.parametrize("fixture", ["submitted", "approved"])
def test_it_refuses_to_change_a_frozen_version_saved_directly(request, fixture):
    version = fresh(request.getfixturevalue(fixture))
    version.body = "Something else"

    with refused("so its content can no longer change"):
        version.save()

    assert fresh(version).body == BODY


def test_it_refuses_to_reopen_an_approved_version(approved):
    version = fresh(approved)
    version.status = "draft"

    with refused("Version 1 is approved; it cannot become draft."):
        version.save()

    assert fresh(version).status == "approved"


@pytest.mark.parametrize(
    "change", [{"body": "Something else"}, {"links": {}}, {"status": "draft"}, {"number": 7}]
)
def test_the_database_refuses_to_change_an_approved_version(approved, change):
    with pytest.raises(IntegrityError), transaction.atomic():
        TemplateVersion.objects.filter(pk=approved.pk).update(**change)

    stored = fresh(approved)
    assert (stored.body, stored.links, stored.status, stored.number) == (
        BODY, LINKS, "approved", 1,
    )  # fmt: skip


def test_the_database_lets_an_approved_version_retire(approved):
    TemplateVersion.objects.filter(pk=approved.pk).update(status="retired")

    assert fresh(approved).status == "retired"


def test_it_keeps_review_decisions_as_they_were_made(approved):
    decision = TemplateApproval.objects.get()
    decision.comment = "Rewritten later"

    with refused("A review decision is a record"):
        decision.save()
    with refused("A review decision is a record"):
        decision.delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        TemplateApproval.objects.filter(pk=decision.pk).update(comment="Rewritten later")

    assert TemplateApproval.objects.get().comment == ""


def test_it_keeps_approved_versions_for_the_audit(approved):
    with refused("it is kept for the audit"):
        fresh(approved).delete()

    assert TemplateVersion.objects.filter(pk=approved.pk).exists()


def test_it_creates_drafts_through_template_create_only_with_valid_links(marketer):
    with pytest.raises(LibraryError) as raised:
        template_create(
            actor=marketer, name="Nudge", channel="sms", purpose="decide",
            category="marketing", body="Book: {link:book}", links={},
        )  # fmt: skip

    assert raised.value.errors == {
        "body": ['Link "{link:book}" is not declared: add "book" to the links.']
    }


def test_the_version_factory_makes_a_draft_that_passes_lint():
    draft = TemplateVersionFactory()

    submitted = version_submit(actor=draft.author, version=draft, notify=False)
    assert (submitted.status, submitted.lint_findings) == ("submitted", [])
