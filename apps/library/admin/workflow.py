"""Small admin views for the review workflow. Each is POST-only (CSRF-checked by the admin
site), permission-checked by the service it calls, and reports back as an admin message."""

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from apps.library.admin.page import workflow_actions
from apps.library.errors import LibraryError
from apps.library.models import TemplateVersion, VersionStatus
from apps.library.selectors import version_diff, version_history
from apps.library.services import version_approve, version_copy, version_reject, version_submit


def _submit(request, version: TemplateVersion) -> str:
    version_submit(actor=request.user, version=version)
    return f"Version {version.number} is submitted for review."


def _approve(request, version: TemplateVersion) -> str:
    comment = request.POST.get("comment", "")
    version = version_approve(actor=request.user, version=version, comment=comment)
    if version.status == VersionStatus.APPROVED:
        return f"Version {version.number} is approved: it is what this template sends now."
    return f"Your approval of version {version.number} is recorded; it waits for the other review."


def _reject(request, version: TemplateVersion) -> str:
    version_reject(actor=request.user, version=version, comment=request.POST.get("comment", ""))
    return f"Version {version.number} is rejected; its author is told why."


def _copy(request, version: TemplateVersion) -> str:
    draft = version_copy(actor=request.user, version=version)
    return f"Version {draft.number} is a new draft copied from version {version.number}."


ACTIONS = {"submit": _submit, "approve": _approve, "reject": _reject, "copy": _copy}


class WorkflowViews:
    """Mixed into the template admin: the workflow buttons' views and the version history."""

    def workflow_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/versions/",
                view(self.versions_view),
                name="library_messagetemplate_versions",
            ),
            path(
                "<path:object_id>/versions/<int:version_id>/<slug:action>/",
                view(self.version_action_view),
                name="library_messagetemplate_version_action",
            ),
        ]

    def _template_for(self, request, object_id):
        template = self.get_object(request, unquote(object_id))
        if template is None:
            raise Http404("No such template.")
        if not self.has_view_or_change_permission(request, template):
            raise PermissionDenied
        return template

    def version_action_view(self, request, object_id, version_id, action):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if action not in ACTIONS:
            raise Http404("No such action.")
        template = self._template_for(request, object_id)
        version = get_object_or_404(TemplateVersion, pk=version_id, template=template)
        try:
            done = ACTIONS[action](request, version)
        except LibraryError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        next_url = request.POST.get("next") == "versions"
        name = "versions" if next_url else "change"
        return HttpResponseRedirect(
            reverse(f"admin:library_messagetemplate_{name}", args=[template.pk])
        )

    def versions_view(self, request, object_id):
        template = self._template_for(request, object_id)
        versions = list(version_history(template=template))
        for version in versions:
            version.actions = workflow_actions(request.user, version)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Versions of {template}",
            "original": template,
            "versions": versions,
            "has_open": any(version.is_open for version in versions),
            **_diff_context(request, versions),
        }
        return TemplateResponse(request, "admin/library/messagetemplate/versions.html", context)


def _diff_context(request, versions: list[TemplateVersion]) -> dict:
    """Compare ?old=<number>&new=<number>; by default the two newest versions."""
    by_number = {version.number: version for version in versions}
    numbers = sorted(by_number)
    new = _number(request.GET.get("new"), by_number) or (numbers[-1] if numbers else None)
    old = _number(request.GET.get("old"), by_number) or (numbers[-2] if len(numbers) > 1 else None)
    if old is None or new is None:
        return {"numbers": numbers}
    return {
        "numbers": numbers,
        "old": by_number[old],
        "new": by_number[new],
        "diff": version_diff(old=by_number[old], new=by_number[new]),
    }


def _number(raw, by_number: dict) -> int | None:
    return int(raw) if raw and raw.isdigit() and int(raw) in by_number else None
