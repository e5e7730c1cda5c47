"""A journey's versions in the admin: the version in the works with its review buttons
(Submit for its writers; Approve or Reject with a reason for an approver who did not write
it; Publish with the enrollment move plan shown and the choice to move), and the history of
every version with who wrote, reviewed and published it and its step-by-step diff. The
buttons POST to the services of apps/journeys/versions.py, which hold every rule."""

from django.contrib import messages
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from apps.journeys.graph import journey_problems
from apps.journeys.models import Journey, JourneyVersion, JourneyVersionStatus
from apps.journeys.selectors import journey_version_history
from apps.journeys.services import JourneyError
from apps.journeys.versions import (
    EDIT_PERMISSION,
    REVIEW_PERMISSION,
    enrollment_move_plan,
    review_check,
    version_approve,
    version_publish,
    version_reject,
    version_submit,
)

ACTIONS = ("submit", "approve", "reject", "publish")


def version_urls(model_admin) -> list:
    view = model_admin.admin_site.admin_view
    return [
        path(
            "<path:object_id>/versions/",
            view(model_admin.versions_view),
            name="journeys_journey_versions",
        ),
        *(
            path(
                f"<path:object_id>/versions/<int:version_id>/{action}/",
                view(model_admin.version_action_view),
                {"action": action},
                name=f"journeys_journey_version_{action}",
            )
            for action in ACTIONS
        ),
    ]


def versions_url(journey: Journey) -> str:
    return reverse("admin:journeys_journey_versions", args=[journey.pk])


class MoveRow:
    """One step running enrollments wait on, and where a move would take them."""

    def __init__(self, key: str, waiting: int, target: str | None):
        self.key, self.waiting, self.target = key, waiting, target


def move_rows(journey: Journey, version: JourneyVersion) -> list[MoveRow]:
    """Where the live version's running enrollments would go if the publisher moves them."""
    live = journey.live_version
    if live is None or live.pk == version.pk:
        return []
    plan = enrollment_move_plan(live, version)
    return [MoveRow(key, n, plan.mapping.get(key)) for key, n in plan.occupied.items()]


class JourneyVersionViews:
    """Mixed into JourneyAdmin (with JourneyToolViews, for `_journey_for`)."""

    def versions_view(self, request, object_id):
        journey = self._journey_for(request, object_id)
        working = journey.versions.filter(status__in=JourneyVersionStatus.open()).first()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Versions of {journey.name}",
            "original": journey,
            "working": working,
            "history": journey_version_history(journey=journey),
            **(self._working_context(request, journey, working) if working else {}),
        }
        return TemplateResponse(request, "admin/journeys/journey/versions.html", context)

    def _working_context(self, request, journey: Journey, working: JourneyVersion) -> dict:
        user, status = request.user, working.status
        context = {"actions": {a: _action_url(journey, working, a) for a in ACTIONS}}
        if status == JourneyVersionStatus.DRAFT:
            context["may_submit"] = user.has_perm(EDIT_PERMISSION)
            context["problems"] = journey_problems(journey, version=working)
        elif status == JourneyVersionStatus.SUBMITTED:
            try:
                review_check(actor=user, version=working)
            except JourneyError as refusal:
                context["review_refusal"] = refusal.message
            else:
                context["may_review"] = True
        elif status == JourneyVersionStatus.APPROVED:
            context["may_publish"] = user.has_perm(REVIEW_PERMISSION)
            rows = move_rows(journey, working)
            context["move_rows"] = rows
            context["all_movable"] = all(row.target for row in rows)
        return context

    def version_action_view(self, request, object_id, version_id: int, action: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        journey = self._journey_for(request, object_id)
        version = journey.versions.filter(pk=version_id).first()
        if version is None:
            raise Http404("No such version of this journey.")
        try:
            done = _ACTIONS[action](request.user, version, request.POST)
        except JourneyError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return HttpResponseRedirect(versions_url(journey))


def _submit(user, version: JourneyVersion, data) -> str:
    version = version_submit(actor=user, version=version, summary=data.get("summary", ""))
    return f"v{version.number} is submitted: an approver other than its writers reviews it."


def _approve(user, version: JourneyVersion, data) -> str:
    version = version_approve(actor=user, version=version, comment=data.get("comment", ""))
    return f"v{version.number} is approved: it can be published."


def _reject(user, version: JourneyVersion, data) -> str:
    version = version_reject(actor=user, version=version, reason=data.get("reason", ""))
    return f"v{version.number} is back to a draft, with your reason for its author."


def _publish(user, version: JourneyVersion, data) -> str:
    move = data.get("move_enrollments") == "on"
    version = version_publish(actor=user, version=version, move_enrollments=move)
    moved = version.enrollments_moved.get("moved") if move else None
    where = (
        f" {moved} running enrollment(s) moved to it."
        if moved is not None
        else " Running enrollments finish on the version they entered."
    )
    return f"v{version.number} is live: new entrants start on it.{where}"


_ACTIONS = {"submit": _submit, "approve": _approve, "reject": _reject, "publish": _publish}


def _action_url(journey: Journey, version: JourneyVersion, action: str) -> str:
    return reverse(f"admin:journeys_journey_version_{action}", args=[journey.pk, version.pk])
