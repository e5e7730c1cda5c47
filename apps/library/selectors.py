"""Reads for the template library: review queues, version history and diffs."""

import difflib
import json
import operator
import re
from dataclasses import dataclass
from functools import reduce

from django.conf import settings
from django.contrib.auth.models import Permission
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery

from apps.accounts.models import User
from apps.library.models import (
    Decision,
    MessageTemplate,
    ReviewRole,
    TemplateApproval,
    TemplateVersion,
    VersionStatus,
)


def template_reviewers(*, template: MessageTemplate, author_id: int | None) -> list[User]:
    """Who is asked to review a version: approvers, and compliance when it must approve
    too. Never the author; not superusers, who can review but are not the review queue."""
    codenames = ["approve_templateversion"]
    if template.needs_compliance_approval:
        codenames.append("approve_as_compliance")
    permissions = Permission.objects.filter(
        content_type__app_label="library", codename__in=codenames
    )
    holders = Q(groups__permissions__in=permissions) | Q(user_permissions__in=permissions)
    users = User.objects.filter(holders, is_active=True, is_superuser=False).exclude(email="")
    return list(users.exclude(pk=author_id).distinct().order_by("username"))


def templates_with_review_state(queryset: QuerySet[MessageTemplate]) -> QuerySet:
    """Templates with their open version (number, status, size) and last approver, in one
    query: what the changelist shows."""
    open_versions = TemplateVersion.objects.filter(
        template=OuterRef("pk"), status__in=VersionStatus.open()
    )
    approvals = TemplateApproval.objects.filter(
        version__template=OuterRef("pk"), decision=Decision.APPROVED
    ).order_by("-at", "-id")
    return queryset.select_related("current_version", "owner").annotate(
        open_number=Subquery(open_versions.values("number")[:1]),
        open_status=Subquery(open_versions.values("status")[:1]),
        open_segments=Subquery(open_versions.values("worst_case_segments")[:1]),
        last_approver=Subquery(approvals.values("reviewer__username")[:1]),
    )


def may_review_templates(user: User) -> bool:
    """True for anyone who approves template versions, as approver or as compliance."""
    return user.has_perm("library.approve_templateversion") or user.has_perm(
        "library.approve_as_compliance"
    )


def versions_awaiting_review(*, user: User) -> QuerySet[TemplateVersion]:
    """Submitted versions `user` may decide on now, as review_role would allow: in a role
    still open to them, none they already reviewed, and none they wrote or edited (unless
    settings.CUE_ALLOW_SELF_APPROVAL)."""
    open_roles = _review_roles_open_to(user)
    if open_roles is None:
        return TemplateVersion.objects.none()
    reviewed = TemplateApproval.objects.filter(version=OuterRef("pk"), reviewer=user)
    waiting = TemplateVersion.objects.filter(open_roles, status=VersionStatus.SUBMITTED)
    waiting = waiting.exclude(Exists(reviewed))
    if settings.CUE_ALLOW_SELF_APPROVAL:
        return waiting
    edited = TemplateVersion.history.filter(
        id=OuterRef("pk"), history_user_id=user.pk, status=VersionStatus.DRAFT
    )
    return waiting.exclude(author=user).exclude(Exists(edited))


def _review_roles_open_to(user: User) -> Q | None:
    """Versions where a role the user holds has not decided yet; None without any."""

    def undecided(role: str) -> Q:
        decided = TemplateApproval.objects.filter(version=OuterRef("pk"), as_role=role)
        return ~Q(Exists(decided))

    roles = []
    if user.has_perm("library.approve_templateversion"):
        roles.append(undecided(ReviewRole.APPROVER))
    if user.has_perm("library.approve_as_compliance"):
        categories = MessageTemplate.categories_needing_compliance()
        roles.append(Q(template__category__in=categories) & undecided(ReviewRole.COMPLIANCE))
    return reduce(operator.or_, roles) if roles else None


def open_version(template: MessageTemplate) -> TemplateVersion | None:
    """The one draft or submitted version, if the template has one."""
    return template.versions.filter(status__in=VersionStatus.open()).first()


def working_version(template: MessageTemplate) -> TemplateVersion | None:
    """The version the template page is about: the open one, else the approved one, else
    the latest (rejected or retired)."""
    return open_version(template) or template.current_version or template.versions.first()


def version_history(*, template: MessageTemplate) -> QuerySet[TemplateVersion]:
    """Every version, newest first, with its author and review decisions."""
    approvals = TemplateApproval.objects.select_related("reviewer").order_by("at", "id")
    return template.versions.select_related("author").prefetch_related(
        Prefetch("approvals", queryset=approvals)
    )


@dataclass(frozen=True)
class FieldDiff:
    """One field's change as runs of ("equal" | "delete" | "insert", text)."""

    field: str
    runs: list[tuple[str, str]]


DIFF_FIELDS = ("subject", "body", "html", "links", "defaults")


def version_diff(*, old: TemplateVersion, new: TemplateVersion) -> list[FieldDiff]:
    """What changed from `old` to `new`, word by word, for each field that changed."""
    diffs = []
    for field in DIFF_FIELDS:
        before, after = _as_text(getattr(old, field)), _as_text(getattr(new, field))
        if before != after:
            diffs.append(FieldDiff(field, _word_runs(before, after)))
    return diffs


def _as_text(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


_WORDS = re.compile(r"\s+|[^\s]+")


def _word_runs(before: str, after: str) -> list[tuple[str, str]]:
    a, b = _WORDS.findall(before), _WORDS.findall(after)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    chunks: list[list[str]] = []  # [kind, old text, new text]
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        kind = "equal" if tag == "equal" else "change"
        _chunk_add(chunks, [kind, "".join(a[a1:a2]), "".join(b[b1:b2])])
    runs = []
    for kind, old, new in chunks:
        if kind == "equal":
            runs.append(("equal", old))
            continue
        runs += [("delete", old)] if old else []
        runs += [("insert", new)] if new else []
    return runs


def _chunk_add(chunks: list[list[str]], chunk: list[str]) -> None:
    """Appends, joining changes separated only by spaces so a rewritten phrase reads whole."""
    if chunk[0] == "change" and chunks and chunks[-1][0] == "change":
        chunks[-1][1] += chunk[1]
        chunks[-1][2] += chunk[2]
        return
    gap = len(chunks) > 1 and chunks[-1][0] == "equal" and not chunks[-1][1].strip()
    if chunk[0] == "change" and gap and chunks[-2][0] == "change":
        space = chunks.pop()
        chunks[-1][1] += space[1] + chunk[1]
        chunks[-1][2] += space[2] + chunk[2]
        return
    chunks.append(chunk)
