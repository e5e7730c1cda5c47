"""What the template change page shows besides the form: the working version, what the
user may do with it, and a preview for a chosen or sample contact."""

from dataclasses import dataclass

from django.urls import reverse

from apps.contacts.models import Contact
from apps.library.encoding import sms_analyze
from apps.library.errors import LibraryError
from apps.library.models import MessageTemplate, TemplateVersion, VersionStatus
from apps.library.placeholders import template_render
from apps.library.preview import SAMPLE_CONTACT
from apps.library.selectors import may_review_templates, working_version
from apps.library.services import SELF_REVIEW, review_role


def template_page_context(request, model_admin, template: MessageTemplate) -> dict:
    working = working_version(template)
    context = {
        "working": working,
        "editor": {
            "preview_url": reverse("api:template-preview"),
            "channel": template.channel,
            "category": template.category,
        },
        "versions_url": reverse("admin:library_messagetemplate_versions", args=[template.pk]),
        "needs_compliance": template.needs_compliance_approval,
    }
    if working is not None:
        context["approvals"] = list(working.approvals.select_related("reviewer"))
        context["actions"] = workflow_actions(request.user, working)
        context["preview"] = _preview(request, working)
    return context


def action_url(version: TemplateVersion, action: str) -> str:
    return reverse(
        "admin:library_messagetemplate_version_action",
        args=[version.template_id, version.pk, action],
    )


@dataclass(frozen=True)
class WorkflowActions:
    """The workflow buttons a user sees for a version (their URLs, "" for none), and why
    reviewing it would be refused, shown before they try. A version's author (or anyone who
    edited its draft) is offered no review at all: only the reason."""

    submit: str = ""
    approve: str = ""
    reject: str = ""
    copy: str = ""
    review_refusal: str = ""


def workflow_actions(user, version: TemplateVersion) -> WorkflowActions:
    buttons = {}
    if version.status == VersionStatus.DRAFT and user.has_perm("library.submit_templateversion"):
        buttons["submit"] = action_url(version, "submit")
    if version.status == VersionStatus.SUBMITTED and may_review_templates(user):
        refusal = _refusal(user, version)
        buttons["review_refusal"] = refusal.message if refusal else ""
        if refusal is None or refusal.code != SELF_REVIEW:
            buttons["approve"] = action_url(version, "approve")
            buttons["reject"] = action_url(version, "reject")
    copyable = version.status in (VersionStatus.REJECTED, VersionStatus.RETIRED)
    if copyable and user.has_perm("library.add_templateversion"):
        buttons["copy"] = action_url(version, "copy")
    return WorkflowActions(**buttons)


def _refusal(user, version: TemplateVersion) -> LibraryError | None:
    try:
        review_role(actor=user, version=version)
    except LibraryError as error:
        return error
    return None


def _preview(request, version: TemplateVersion) -> dict:
    contact, label = _preview_contact(request)
    rendered = template_render(version=version, contact=contact)
    preview = {
        "contact_label": label, "body": rendered.body, "subject": rendered.subject,
        "html": rendered.html,
    }  # fmt: skip
    if version.template.channel == "sms":
        preview["size"] = sms_analyze(rendered.body)
    preview["contact_id"] = request.GET.get("preview_contact", "")
    return preview


def _preview_contact(request):
    raw = request.GET.get("preview_contact", "").strip()
    if raw.isdigit() and request.user.has_perm("contacts.view_contact"):
        contact = Contact.objects.select_related("company", "owner").filter(pk=raw).first()
        if contact is not None:
            return contact, f"{contact} (contact {contact.pk})"
    label = "the sample contact Jordan Rivera at Northwind Health"
    if raw:
        label = f"no contact {raw} you can see, so {label}"
    return SAMPLE_CONTACT, label
