"""Writes to the template library. Drafts are written in `drafts`, reviewed in `reviews`."""

from apps.library.services.drafts import (
    template_content_edit,
    template_create,
    template_draft_start,
    template_update,
    version_copy,
    version_update,
)
from apps.library.services.reviews import (
    SELF_REVIEW,
    review_role,
    version_approve,
    version_lint,
    version_reject,
    version_submit,
    version_written_by,
)

__all__ = [
    "SELF_REVIEW",
    "review_role",
    "template_content_edit",
    "template_create",
    "template_draft_start",
    "template_update",
    "version_approve",
    "version_copy",
    "version_lint",
    "version_reject",
    "version_submit",
    "version_update",
    "version_written_by",
]
