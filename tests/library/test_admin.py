"""The template admin: changelist, editor, workflow buttons and what each role may do."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts import roles
from apps.library.models import MessageTemplate, TemplateApproval, TemplateVersion
from apps.library.services import (
    template_create,
    template_draft_start,
    version_approve,
    version_reject,
    version_submit,
    version_update,
)
from tests.factories import ContactFactory
from tests.library.conftest import BODY, LINKS

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:library_messagetemplate_changelist")
ADD = reverse("admin:library_messagetemplate_add")


def change_url(template):
    return reverse("admin:library_messagetemplate_change", args=[template.pk])


def versions_url(template):
    return reverse("admin:library_messagetemplate_versions", args=[template.pk])


def action_url(version, action):
    return reverse(
        "admin:library_messagetemplate_version_action",
        args=[version.template_id, version.pk, action],
    )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def form_data(template, **overrides):
    data = {
        "name": template.name,
        "purpose": template.purpose,
        "owner": template.owner_id or "",
        "tags": template.tags,
        "body": BODY,
        "subject": "",
        "links": json.dumps(LINKS),
        "defaults": "{}",
    }
    return {**data, **overrides}


def fresh(version):
    return TemplateVersion.objects.get(pk=version.pk)


# --- changelist -----------------------------------------------------------------------


def make_templates(count, marketer, approver):
    first = MessageTemplate.objects.count()
    for index in range(first, first + count):
        template = template_create(
            actor=marketer, name=f"Nudge {index}", channel="sms", purpose="decide",
            category="marketing", body=BODY, links=LINKS,
        )  # fmt: skip
        version = version_submit(actor=marketer, version=template.versions.get(), notify=False)
        version_approve(actor=approver, version=version, notify=False)
        draft = template_draft_start(actor=marketer, template=template)
        version_update(actor=marketer, version=draft, body=BODY + " See you!")


def test_it_lists_templates_in_a_bounded_number_of_queries(
    admin_client, marketer, approver, django_assert_max_num_queries, django_assert_num_queries
):
    make_templates(2, marketer, approver)
    with django_assert_max_num_queries(12) as few:
        assert admin_client.get(CHANGELIST).status_code == 200

    make_templates(10, marketer, approver)
    with django_assert_num_queries(len(few.captured_queries)):
        response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    assert response.content.decode().count("v1 approved · v2 draft") == 12


def test_it_shows_state_size_and_last_approver(admin_client, approver, template, approved):
    response = admin_client.get(CHANGELIST)

    row = response.content.decode()
    assert "v1 approved" in row
    assert f'<td class="field-last_approver">{approver.username}</td>' in row
    assert '<td class="field-segments">1</td>' in row


# --- writing --------------------------------------------------------------------------


def test_it_creates_a_template_and_its_first_draft_from_the_add_page(marketer):
    client = signed_in(marketer)
    data = {
        "name": "Demo confirmation", "channel": "sms", "purpose": "confirm",
        "category": "transactional", "owner": "", "tags": "demo",
        "body": 'Thanks {{ contact.first_name | "there" }}, your demo is booked.',
        "subject": "", "links": "", "defaults": "",
    }  # fmt: skip

    response = client.post(ADD, data, follow=True)

    assert response.status_code == 200
    template = MessageTemplate.objects.get()
    version = template.versions.get()
    assert (template.name, template.owner, template.category) == (
        "Demo confirmation", marketer, "transactional",
    )  # fmt: skip
    assert (version.number, version.status, version.author, version.body) == (
        1, "draft", marketer, data["body"],
    )  # fmt: skip


def test_it_shows_a_placeholder_error_on_the_form_and_saves_nothing(marketer):
    client = signed_in(marketer)
    data = {
        "name": "Broken", "channel": "sms", "purpose": "confirm", "category": "transactional",
        "owner": "", "tags": "", "body": "Hi {{ contact.__class__ }}", "subject": "",
        "links": "", "defaults": "",
    }  # fmt: skip

    response = client.post(ADD, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["body"] == [
        'Attribute access is not allowed: "{{ contact.__class__ }}".'
    ]
    assert MessageTemplate.objects.count() == 0


def test_it_saves_edits_into_the_open_draft(marketer, template, draft):
    client = signed_in(marketer)

    client.post(change_url(template), form_data(template, body=BODY + " Thanks!"))

    assert list(template.versions.values_list("number", "body")) == [(1, BODY + " Thanks!")]


def test_it_turns_an_edit_of_the_approved_text_into_a_new_draft(marketer, template, approved):
    client = signed_in(marketer)

    response = client.post(
        change_url(template), form_data(template, body=BODY + " Bring questions."), follow=True
    )

    assert list(template.versions.values_list("number", "status", "body")) == [
        (2, "draft", BODY + " Bring questions."),
        (1, "approved", BODY),
    ]
    assert MessageTemplate.objects.get(pk=template.pk).current_version_id == approved.pk
    assert (
        "Your edit is saved as draft v2; the approved version is sent until this draft is "
        "approved." in messages_of(response)
    )


def test_it_keeps_a_submitted_version_read_only(marketer, template, submitted):
    client = signed_in(marketer)
    page = client.get(change_url(template)).content.decode()
    assert 'name="body"' not in page
    assert 'id="cue-version-body"' in page

    client.post(change_url(template), form_data(template, body="Changed behind the scenes"))

    assert fresh(submitted).body == BODY
    assert template.versions.count() == 1


# --- workflow buttons -----------------------------------------------------------------


def test_it_shows_a_draft_only_the_buttons_that_apply(marketer, template, draft):
    page = signed_in(marketer).get(change_url(template)).content.decode()

    assert 'id="cue-submit"' in page
    assert 'id="cue-versions"' in page
    assert 'id="cue-copy"' not in page
    assert 'id="cue-approve"' not in page


def test_it_filters_templates_waiting_for_review(admin_client, make_template, submitted):
    make_template(name="Still a draft")

    response = admin_client.get(CHANGELIST, {"state": "waiting"})

    assert [t.name for t in response.context["cl"].result_list] == ["Webinar reminder"]


def test_it_submits_from_the_submit_button(marketer, draft):
    response = signed_in(marketer).post(action_url(draft, "submit"), follow=True)

    assert fresh(draft).status == "submitted"
    assert messages_of(response) == ["Version 1 is submitted for review."]


def test_it_explains_why_a_submission_is_refused(marketer, make_template):
    template = make_template(body="Cue Demo: your webinar starts in 1 hour.")
    draft = template.versions.get()

    response = signed_in(marketer).post(action_url(draft, "submit"), follow=True)

    assert fresh(draft).status == "draft"
    assert messages_of(response) == [
        'Tell the recipient how to opt out, e.g. "Reply STOP to opt out".'
    ]


def test_it_refuses_a_workflow_action_by_get(marketer, draft):
    response = signed_in(marketer).get(action_url(draft, "submit"))

    assert response.status_code == 405
    assert fresh(draft).status == "draft"


def test_it_refuses_a_workflow_action_without_a_csrf_token(marketer, draft):
    client = Client(enforce_csrf_checks=True)
    client.force_login(marketer)

    response = client.post(action_url(draft, "submit"))

    assert response.status_code == 403
    assert fresh(draft).status == "draft"


def test_it_approves_from_the_approve_button(approver, template, submitted):
    client = signed_in(approver)
    assert 'id="cue-approve"' in client.get(change_url(template)).content.decode()

    response = client.post(action_url(submitted, "approve"), {"comment": "Good."}, follow=True)

    assert fresh(submitted).status == "approved"
    assert messages_of(response) == ["Version 1 is approved: it is what this template sends now."]
    assert list(TemplateApproval.objects.values_list("reviewer", "comment")) == [
        (approver.pk, "Good.")
    ]


def test_it_tells_an_admin_they_cannot_approve_their_own_version(admin_user, admin_client):
    template = template_create(
        actor=admin_user, name="Own", channel="sms", purpose="remind",
        category="marketing", body=BODY, links=LINKS,
    )  # fmt: skip
    version = version_submit(actor=admin_user, version=template.versions.get(), notify=False)
    page = admin_client.get(change_url(template)).content.decode()
    note = "You wrote this version, so someone else must approve it."
    assert f'<p class="help" id="cue-review-note">{note}</p>' in page
    # Nothing offers a review the server would refuse: no button, no review panel.
    for absent in ('id="cue-approve"', 'id="cue-review"', 'id="cue-review-approve"', "Reject…"):
        assert absent not in page

    response = admin_client.post(action_url(version, "approve"), follow=True)

    assert fresh(version).status == "submitted"
    assert TemplateApproval.objects.count() == 0
    assert messages_of(response) == ["You wrote this version, so someone else must approve it."]


def test_it_offers_no_review_to_an_admin_who_edited_the_draft(admin_user, admin_client, draft):
    version_update(actor=admin_user, version=draft, body=BODY + " See you!")
    version = version_submit(actor=admin_user, version=fresh(draft), notify=False)

    page = admin_client.get(change_url(version.template)).content.decode()

    assert 'id="cue-approve"' not in page
    assert 'id="cue-review"' not in page
    assert "You wrote this version, so someone else must approve it." in page
    response = admin_client.post(action_url(version, "reject"), {"comment": "No."}, follow=True)
    assert messages_of(response) == ["You wrote this version, so someone else must review it."]
    assert (fresh(version).status, TemplateApproval.objects.count()) == ("submitted", 0)


def test_it_offers_the_author_a_review_when_self_approval_is_allowed(
    settings, admin_user, admin_client
):
    settings.CUE_ALLOW_SELF_APPROVAL = True
    template = template_create(
        actor=admin_user, name="Own", channel="sms", purpose="remind",
        category="marketing", body=BODY, links=LINKS,
    )  # fmt: skip
    version_submit(actor=admin_user, version=template.versions.get(), notify=False)

    page = admin_client.get(change_url(template)).content.decode()

    assert 'id="cue-approve"' in page
    assert 'id="cue-review-note"' not in page


def test_it_still_offers_the_review_to_a_second_reviewer_with_the_reason_it_waits(
    require_compliance, approver, make_user, template, submitted
):
    # Another approver after the first approved: the server says why, the page says it too.
    version_approve(actor=approver, version=submitted, notify=False)
    second = make_user(roles.APPROVER, username="ann")

    page = signed_in(second).get(change_url(template)).content.decode()

    assert "An approver already decided; this version now waits for compliance." in page
    assert 'id="cue-review-note"' not in page


def test_it_rejects_with_a_comment_from_the_review_panel(approver, submitted):
    response = signed_in(approver).post(
        action_url(submitted, "reject"), {"comment": "Name the webinar."}, follow=True
    )

    assert fresh(submitted).status == "rejected"
    assert messages_of(response) == ["Version 1 is rejected; its author is told why."]


def test_it_asks_for_a_reason_before_rejecting(approver, submitted):
    response = signed_in(approver).post(action_url(submitted, "reject"), follow=True)

    assert fresh(submitted).status == "submitted"
    assert messages_of(response) == ["Say why you reject this version, so its author can fix it."]


def test_it_copies_a_rejected_version_into_a_new_draft(marketer, approver, template, submitted):
    version_reject(actor=approver, version=submitted, comment="Shorter.", notify=False)
    client = signed_in(marketer)
    assert 'id="cue-copy"' in client.get(change_url(template)).content.decode()

    response = client.post(action_url(submitted, "copy"), follow=True)

    assert list(template.versions.values_list("number", "status")) == [
        (2, "draft"),
        (1, "rejected"),
    ]
    assert messages_of(response) == ["Version 2 is a new draft copied from version 1."]


def test_it_refuses_an_action_on_a_version_of_another_template(marketer, make_template, draft):
    other = make_template(name="Other")

    response = signed_in(marketer).post(
        reverse("admin:library_messagetemplate_version_action", args=[other.pk, draft.pk, "submit"])
    )

    assert response.status_code == 404
    assert fresh(draft).status == "draft"


def test_it_refuses_to_revert_a_template_through_its_history(admin_client, template):
    record = template.history.first()

    response = admin_client.post(
        reverse("admin:library_messagetemplate_simple_history", args=[template.pk, record.pk]),
        {"name": "Reverted"},
    )

    assert response.status_code == 403
    assert MessageTemplate.objects.get(pk=template.pk).name == "Webinar reminder"


# --- versions and differences ---------------------------------------------------------


def test_it_shows_every_version_with_its_reviews(
    compliance, approver, marketer, template, approved
):
    draft = template_draft_start(actor=marketer, template=template)
    version_update(actor=marketer, version=draft, body=BODY.replace("1 hour", "<b>15</b> minutes"))

    page = signed_in(compliance).get(versions_url(template)).content.decode()

    assert f"Approved by {approver} as approver" in page
    assert "<del>1 hour.</del><ins>&lt;b&gt;15&lt;/b&gt; minutes.</ins>" in page
    assert "<b>15</b>" not in page


def test_it_compares_any_two_versions(marketer, approver, template, approved):
    for words in ("30 minutes", "10 minutes"):
        draft = template_draft_start(actor=marketer, template=template)
        version_update(actor=marketer, version=draft, body=BODY.replace("1 hour", words))
        version_submit(actor=marketer, version=draft, notify=False)
        version_approve(actor=approver, version=draft, notify=False)

    page = signed_in(marketer).get(versions_url(template), {"old": 1, "new": 3}).content.decode()

    assert "<del>1 hour.</del><ins>10 minutes.</ins>" in page


# --- preview --------------------------------------------------------------------------


def test_it_previews_the_text_for_a_chosen_contact(marketer, template):
    person = ContactFactory(first_name="Priya")

    page = signed_in(marketer).get(change_url(template), {"preview_contact": person.pk})

    assert "Cue Demo: Priya, your webinar starts in 1 hour." in page.content.decode()


def test_it_previews_the_text_for_a_sample_contact(marketer, template):
    page = signed_in(marketer).get(change_url(template)).content.decode()

    assert "the sample contact Jordan Rivera at Northwind Health" in page
    assert "Cue Demo: Jordan, your webinar starts in 1 hour." in page


# --- roles ----------------------------------------------------------------------------


def test_it_shows_compliance_everything_read_only(compliance, template, approved):
    client = signed_in(compliance)

    page = client.get(change_url(template))
    refused = client.post(change_url(template), form_data(template, name="Renamed"))

    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html
    assert 'id="cue-version-body"' in html
    assert refused.status_code == 403
    assert MessageTemplate.objects.get(pk=template.pk).name == "Webinar reminder"
    assert client.get(ADD).status_code == 403


def test_it_refuses_compliance_every_workflow_write(compliance, draft):
    response = signed_in(compliance).post(action_url(draft, "submit"), follow=True)

    assert fresh(draft).status == "draft"
    assert messages_of(response) == ["You may not submit templates for review."]


@pytest.mark.usefixtures("require_compliance")
def test_it_lets_compliance_approve_when_it_must(compliance, approver, template, submitted):
    client = signed_in(compliance)
    assert 'id="cue-approve"' in client.get(change_url(template)).content.decode()

    response = client.post(action_url(submitted, "approve"), follow=True)

    assert messages_of(response) == [
        "Your approval of version 1 is recorded; it waits for the other review."
    ]
    assert fresh(submitted).status == "submitted"


def test_it_hides_review_buttons_from_marketers(other_marketer, template, submitted):
    page = signed_in(other_marketer).get(change_url(template)).content.decode()

    assert 'id="cue-approve"' not in page
    assert 'id="cue-review"' not in page
    assert 'id="cue-submit"' not in page
    assert 'id="cue-copy"' not in page


@pytest.mark.parametrize("role", [roles.SALES_REP, roles.SALES_MANAGER])
def test_it_keeps_sales_out_of_the_library(make_user, role, template, draft):
    client = signed_in(make_user(role))

    for url in (CHANGELIST, change_url(template), versions_url(template)):
        response = client.get(url)
        assert (response.status_code, response.url.startswith("/admin/login/")) == (302, True)
    response = client.post(action_url(draft, "submit"))

    assert response.status_code == 302
    assert fresh(draft).status == "draft"


@pytest.mark.parametrize(
    ("model", "expected"), [("templateversion", 403), ("templateapproval", 403)]
)
def test_it_keeps_versions_and_decisions_read_only_even_for_admins(
    admin_client, approved, model, expected
):
    obj = approved if model == "templateversion" else TemplateApproval.objects.get()
    url = reverse(f"admin:library_{model}_change", args=[obj.pk])

    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, {"body": "Changed"}).status_code == expected
    assert fresh(approved).body == BODY
