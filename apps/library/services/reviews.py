"""Submitting versions for review and deciding on them.

A submitted version is frozen. An approver approves or rejects it, never its own author
(unless settings.CUE_ALLOW_SELF_APPROVAL). With settings.CUE_REQUIRE_COMPLIANCE_APPROVAL,
a marketing template also needs a compliance approval from someone else; a rejection by
either rejects. The approved version becomes the template's current one and the version
it replaces is retired.
"""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.queue import task_send
from apps.library import tasks
from apps.library.checks import content_lint
from apps.library.errors import LibraryError
from apps.library.lint import ERROR, Finding
from apps.library.models import (
    Channel,
    Decision,
    ReviewRole,
    TemplateApproval,
    TemplateVersion,
    VersionStatus,
)
from apps.library.preview import sms_worst_case
from apps.library.services.common import audited_save, permission_require, version_lock


def version_lint(version: TemplateVersion) -> list[Finding]:
    """Placeholder errors and compliance lint for a version, as it stands."""
    return content_lint(
        channel=version.template.channel, category=version.template.category,
        body=version.body, subject=version.subject, links=version.links,
        defaults=version.defaults, html=version.html,
    )  # fmt: skip


@transaction.atomic
def version_submit(
    *, actor: User, version: TemplateVersion, notify: bool = True
) -> TemplateVersion:
    """Freezes a draft for review once it passes placeholder checks and lint; stores the
    lint warnings and worst-case size for the reviewers."""
    permission_require(
        actor, "library.submit_templateversion", "You may not submit templates for review."
    )
    version = version_lock(version)
    if version.status != VersionStatus.DRAFT:
        raise LibraryError(
            f"Version {version.number} is {version.status}; only a draft is submitted."
        )
    if actor.pk != version.author_id and not actor.has_perm("library.change_templateversion"):
        raise LibraryError(
            "Only the author or an editor may submit this draft.", code="permission_denied"
        )
    findings = version_lint(version)
    blocking = [finding for finding in findings if finding.level == ERROR]
    if blocking:
        raise LibraryError.from_errors(_by_field(blocking))
    _submitted(version, findings)
    audited_save(version, actor=actor, reason="Submitted for review")
    if notify:
        _after_commit(tasks.version_submitted_notify, version.pk)
    return version


def _submitted(version: TemplateVersion, findings: list[Finding]) -> None:
    version.status = VersionStatus.SUBMITTED
    version.submitted_at = timezone.now()
    version.lint_findings = [finding.as_dict() for finding in findings]
    if version.template.channel == Channel.SMS:
        worst = sms_worst_case(body=version.body, defaults=version.defaults)
        version.worst_case_encoding = worst.encoding
        version.worst_case_segments = worst.segments
        version.worst_case_characters = worst.characters


def _by_field(findings: list[Finding]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for finding in findings:
        errors.setdefault(finding.field, []).append(finding.message)
    return errors


@transaction.atomic
def version_approve(
    *, actor: User, version: TemplateVersion, comment: str = "", notify: bool = True
) -> TemplateVersion:
    """Records the actor's approval; the version is approved once every required role has."""
    version = version_lock(version)
    role = review_role(actor=actor, version=version, verb="approve")
    approval = _decision_record(version, actor, Decision.APPROVED, role, comment)
    if _fully_approved(version):
        _approved(version, actor)
    if notify:
        _after_commit(tasks.version_decided_notify, approval.pk)
    return version


@transaction.atomic
def version_reject(
    *, actor: User, version: TemplateVersion, comment: str, notify: bool = True
) -> TemplateVersion:
    """Rejects the version, with the reason its author will read."""
    version = version_lock(version)
    role = review_role(actor=actor, version=version, verb="review")
    if not comment.strip():
        raise LibraryError(
            "Say why you reject this version, so its author can fix it.", field="comment"
        )
    approval = _decision_record(version, actor, Decision.REJECTED, role, comment)
    version.status = VersionStatus.REJECTED
    version.decided_at = approval.at
    audited_save(version, actor=actor, reason=f"Rejected by {actor.username}")
    if notify:
        _after_commit(tasks.version_decided_notify, approval.pk)
    return version


# The error code of a review refused to the version's own author or editor.
SELF_REVIEW = "self_approval"


def review_role(*, actor: User, version: TemplateVersion, verb: str = "approve") -> str:
    """The capacity in which `actor` may decide on `version` now, or LibraryError saying why not."""
    if version.status != VersionStatus.SUBMITTED:
        raise LibraryError(f"Version {version.number} is {version.status}, not waiting for review.")
    if version_written_by(version, actor) and not settings.CUE_ALLOW_SELF_APPROVAL:
        raise LibraryError(
            f"You wrote this version, so someone else must {verb} it.", code=SELF_REVIEW
        )
    decided = {approval.as_role: approval for approval in version.approvals.all()}
    if any(approval.reviewer_id == actor.pk for approval in decided.values()):
        raise LibraryError(
            "You already reviewed this version; the other review needs someone else."
        )
    roles = _roles_open_to(actor, version, decided)
    if roles:
        return roles[0]
    raise LibraryError(_why_not(actor, version), code="permission_denied")


def _roles_open_to(actor: User, version: TemplateVersion, decided: dict) -> list[str]:
    roles = []
    if actor.has_perm("library.approve_templateversion") and ReviewRole.APPROVER not in decided:
        roles.append(ReviewRole.APPROVER)
    if (
        version.template.needs_compliance_approval
        and actor.has_perm("library.approve_as_compliance")
        and ReviewRole.COMPLIANCE not in decided
    ):
        roles.append(ReviewRole.COMPLIANCE)
    return roles


def _why_not(actor: User, version: TemplateVersion) -> str:
    if actor.has_perm("library.approve_templateversion"):
        return "An approver already decided; this version now waits for compliance."
    if actor.has_perm("library.approve_as_compliance"):
        if not version.template.needs_compliance_approval:
            return "This template needs no compliance approval; an approver decides."
        return "Compliance already decided; this version now waits for an approver."
    return "You may not review template versions."


def version_written_by(version: TemplateVersion, user: User) -> bool:
    """True for the author and for anyone who edited the draft (the history says who)."""
    if version.author_id == user.pk:
        return True
    return version.history.filter(history_user_id=user.pk, status=VersionStatus.DRAFT).exists()


def _decision_record(
    version: TemplateVersion, actor: User, decision: str, role: str, comment: str
) -> TemplateApproval:
    approval = TemplateApproval(
        version=version, reviewer=actor, decision=decision, as_role=role,
        comment=comment.strip(), at=timezone.now(),
    )  # fmt: skip
    approval.full_clean()
    approval.save()
    return approval


def _fully_approved(version: TemplateVersion) -> bool:
    required = {ReviewRole.APPROVER}
    if version.template.needs_compliance_approval:
        required.add(ReviewRole.COMPLIANCE)
    approved = set(
        version.approvals.filter(decision=Decision.APPROVED).values_list("as_role", flat=True)
    )
    return required <= approved


def _approved(version: TemplateVersion, actor: User) -> None:
    template = version.template
    previous = template.current_version
    now = timezone.now()
    if previous is not None and previous.pk != version.pk:
        previous.status = VersionStatus.RETIRED
        audited_save(previous, actor=actor, reason=f"Retired by v{version.number}")
    version.status = VersionStatus.APPROVED
    version.decided_at = now
    audited_save(version, actor=actor, reason=f"Approved by {actor.username}")
    template.current_version = version
    audited_save(template, actor=actor, reason=f"v{version.number} is live")


def _after_commit(task, object_id: int) -> None:
    """A notification queued after commit, or sent from here when the broker is down:
    nothing else would ever send it."""
    transaction.on_commit(lambda: task_send(task, object_id) or task(object_id))
