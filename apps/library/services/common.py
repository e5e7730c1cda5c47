"""Helpers shared by the library's services: permission checks, locks, audited saves."""

from django.core.exceptions import ValidationError
from django.db import models

from apps.accounts.models import User
from apps.library.errors import LibraryError
from apps.library.models import MessageTemplate, TemplateVersion


def permission_require(actor: User, permission: str, message: str) -> None:
    if not actor.has_perm(permission):
        raise LibraryError(message, code="permission_denied")


def template_lock(template_id: int) -> MessageTemplate:
    """The template row, locked. Every workflow write locks its template first, then the
    version, so two writers never wait on each other in opposite orders."""
    return (
        MessageTemplate.objects.select_for_update(of=("self",))
        .select_related("current_version")
        .get(pk=template_id)
    )


def version_lock(version: TemplateVersion) -> TemplateVersion:
    template = template_lock(version.template_id)
    locked = TemplateVersion.objects.select_for_update().get(pk=version.pk)
    locked.template = template
    return locked


def audited_save(instance: models.Model, *, actor: User, reason: str, **kwargs) -> None:
    """Validates and saves, recording who did it and why in the history table."""
    try:
        instance.full_clean()
    except ValidationError as error:
        raise LibraryError.from_errors(_messages(error)) from error
    instance._history_user = actor
    instance._change_reason = reason[:100]
    instance.save(**kwargs)


def _messages(error: ValidationError) -> dict[str, list[str]]:
    if not hasattr(error, "error_dict"):
        return {"non_field_errors": error.messages}
    return {
        ("non_field_errors" if field == "__all__" else field): messages
        for field, messages in error.message_dict.items()
    }
