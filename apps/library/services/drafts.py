"""Writing templates and their drafts. Only a draft's content ever changes; editing an
approved template starts a new draft copied from it."""

import copy

from django.db import transaction
from django.db.models import Max

from apps.accounts.models import User
from apps.library.checks import content_errors
from apps.library.email_html import html_sanitize
from apps.library.errors import LibraryError
from apps.library.models import Channel, MessageTemplate, TemplateVersion, VersionStatus
from apps.library.selectors import open_version
from apps.library.services.common import (
    audited_save,
    permission_require,
    template_lock,
    version_lock,
)

CONTENT_FIELDS = ("body", "html", "subject", "links", "defaults")
# Channel and category are fixed once a template exists: lint and consent depend on them.
TEMPLATE_FIELDS = ("name", "purpose", "owner", "tags")


@transaction.atomic
def template_create(
    *,
    actor: User,
    name: str,
    channel: str,
    purpose: str,
    category: str,
    body: str,
    subject: str = "",
    html: str = "",
    links: dict | None = None,
    defaults: dict | None = None,
    owner: User | None = None,
    tags: str = "",
) -> MessageTemplate:
    """A new template with its first draft, written by `actor`."""
    permission_require(actor, "library.add_messagetemplate", "You may not create templates.")
    _content_require(
        channel, body=body, subject=subject, html=html, links=links or {}, defaults=defaults or {}
    )
    template = MessageTemplate(
        name=name, channel=channel, purpose=purpose, category=category,
        owner=owner or actor, tags=tags,
    )  # fmt: skip
    audited_save(template, actor=actor, reason="Created")
    draft = TemplateVersion(
        template=template, number=1, author=actor, body=body, subject=subject,
        html=_html_checked(template, html), links=links or {}, defaults=defaults or {},
    )  # fmt: skip
    audited_save(draft, actor=actor, reason="First draft")
    return template


@transaction.atomic
def template_update(*, actor: User, template: MessageTemplate, fields: dict) -> MessageTemplate:
    """Changes the template's own fields (not its text, which lives in versions)."""
    permission_require(actor, "library.change_messagetemplate", "You may not change templates.")
    unknown = set(fields) - set(TEMPLATE_FIELDS)
    if unknown:
        raise LibraryError(f"These cannot be changed: {', '.join(sorted(unknown))}.")
    template = template_lock(template.pk)
    changed = {name: value for name, value in fields.items() if getattr(template, name) != value}
    if changed:
        for name, value in changed.items():
            setattr(template, name, value)
        audited_save(template, actor=actor, reason=f"Changed {', '.join(changed)}")
    return template


@transaction.atomic
def version_update(*, actor: User, version: TemplateVersion, **content) -> TemplateVersion:
    """Changes a draft's body, subject, links or defaults; any other version is frozen."""
    permission_require(actor, "library.change_templateversion", "You may not edit templates.")
    unknown = set(content) - set(CONTENT_FIELDS)
    if unknown:
        raise LibraryError(f"Unknown version field(s): {', '.join(sorted(unknown))}.")
    version = version_lock(version)
    if version.status != VersionStatus.DRAFT:
        raise LibraryError(
            f"Version {version.number} is {version.status}, so it can no longer change.",
            code="immutable",
        )
    _content_require(
        version.template.channel,
        **{name: getattr(version, name) for name in CONTENT_FIELDS} | content,
    )
    if "html" in content:
        content["html"] = _html_checked(version.template, content["html"])
    changed = {name: value for name, value in content.items() if getattr(version, name) != value}
    if changed:
        for name, value in changed.items():
            setattr(version, name, value)
        audited_save(version, actor=actor, reason=f"Edited {', '.join(changed)}")
    return version


@transaction.atomic
def template_draft_start(*, actor: User, template: MessageTemplate) -> TemplateVersion:
    """The template's open draft; without one, a new draft copied from the approved version."""
    permission_require(actor, "library.add_templateversion", "You may not write drafts.")
    template = template_lock(template.pk)
    current = open_version(template)
    if current is not None and current.status == VersionStatus.DRAFT:
        return current
    if current is not None:
        raise LibraryError(
            f"Version {current.number} is waiting for review; it must be approved or "
            "rejected before another draft starts."
        )
    if template.current_version is None:
        raise LibraryError(
            "Nothing is approved yet to edit: copy a rejected version into a new draft."
        )
    return _draft_from(template.current_version, template=template, actor=actor)


@transaction.atomic
def version_copy(*, actor: User, version: TemplateVersion) -> TemplateVersion:
    """A new draft with the content of a rejected or retired version."""
    permission_require(actor, "library.add_templateversion", "You may not write drafts.")
    version = version_lock(version)
    if version.status not in (VersionStatus.REJECTED, VersionStatus.RETIRED):
        raise LibraryError("Only a rejected or retired version can be copied into a new draft.")
    current = open_version(version.template)
    if current is not None:
        raise LibraryError(
            f"Version {current.number} is still {current.status}; finish that one first."
        )
    return _draft_from(version, template=version.template, actor=actor)


@transaction.atomic
def template_content_edit(
    *, actor: User, template: MessageTemplate, **content
) -> TemplateVersion | None:
    """Saves content edited on the template page: into the open draft or, when the approved
    text was edited, into a new draft copied from it. Returns the draft written, or None
    when nothing changed."""
    template = template_lock(template.pk)
    current = open_version(template) or template.current_version
    if current is None:
        raise LibraryError(
            "Nothing is open or approved to edit: copy a rejected version into a new draft."
        )
    if _same_content(current, content):
        return None
    if current.status != VersionStatus.DRAFT:
        current = template_draft_start(actor=actor, template=template)
    return version_update(actor=actor, version=current, **content)


def _same_content(version: TemplateVersion, content: dict) -> bool:
    if "html" in content:  # compared as it would be stored
        content = {**content, "html": _html_checked(version.template, content["html"])}
    return all(getattr(version, name) == value for name, value in content.items())


def _content_require(channel: str, **content) -> None:
    """Refuses content a draft may not hold, every problem by its field (checks.py)."""
    errors = content_errors(channel=channel, **content)
    if errors:
        raise LibraryError.from_errors(errors)


def _html_checked(template: MessageTemplate, html: str) -> str:
    """The HTML part as stored: sanitised, and only on an email template."""
    if not html:
        return ""
    if template.channel != Channel.EMAIL:
        raise LibraryError("Only an email template has an HTML part.", field="html")
    return html_sanitize(html)


def _draft_from(
    source: TemplateVersion, *, template: MessageTemplate, actor: User
) -> TemplateVersion:
    number = (template.versions.aggregate(last=Max("number"))["last"] or 0) + 1
    draft = TemplateVersion(
        template=template, number=number, author=actor, body=source.body,
        html=source.html, subject=source.subject, links=copy.deepcopy(source.links),
        defaults=copy.deepcopy(source.defaults),
    )  # fmt: skip
    audited_save(draft, actor=actor, reason=f"Draft copied from v{source.number}")
    return draft
