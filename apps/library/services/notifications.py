"""Review emails: the reviewers when a version is submitted, its author on each decision."""

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.template.loader import render_to_string
from django.urls import reverse

from apps.library.models import TemplateApproval, TemplateVersion, VersionStatus
from apps.library.selectors import template_reviewers


def version_submitted_notify(*, version_id: int) -> int:
    """Emails each reviewer once; returns how many emails went out."""
    version = TemplateVersion.objects.select_related("template", "author").get(pk=version_id)
    if version.status != VersionStatus.SUBMITTED:
        return 0  # decided before this ran: nobody needs asking any more
    context = {"version": version, "template": version.template, "url": _admin_url(version)}
    subject = f"Review requested: {version.template.name} v{version.number}"
    body = render_to_string("library/email/review_requested.txt", context)
    reviewers = template_reviewers(template=version.template, author_id=version.author_id)
    return _send(subject, body, [user.email for user in reviewers])


def version_decided_notify(*, approval_id: int) -> int:
    """Emails the version's author what a reviewer decided, and why."""
    approval = TemplateApproval.objects.select_related(
        "reviewer", "version__template", "version__author"
    ).get(pk=approval_id)
    version = approval.version
    context = {
        "approval": approval,
        "version": version,
        "template": version.template,
        "url": _admin_url(version),
        "waiting": version.status == VersionStatus.SUBMITTED,
    }
    verb = approval.get_decision_display().lower()
    subject = (
        f"{version.template.name} v{version.number} {verb} by {approval.reviewer.display_name}"
    )
    body = render_to_string("library/email/review_decided.txt", context)
    return _send(subject, body, [version.author.email] if version.author.email else [])


def _admin_url(version: TemplateVersion) -> str:
    path = reverse("admin:library_messagetemplate_change", args=[version.template_id])
    return f"{settings.PUBLIC_BASE_URL}{path}"


def _send(subject: str, body: str, recipients: list[str]) -> int:
    messages = [EmailMessage(subject, body, to=[address]) for address in recipients]
    if not messages:
        return 0
    return get_connection().send_messages(messages) or 0
