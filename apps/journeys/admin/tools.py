"""The journey's tools: Activate and Pause (POST, permission-checked by the services), the
Simulate page (GET, reads only), the builder's live diagram (POST of the unsaved form, reads
only) and the blueprint page (load one as a draft)."""

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse

from apps.contacts.selectors import known_event_types
from apps.journeys.admin.diagram_preview import posted_diagram_svg, posted_variant_problems
from apps.journeys.admin.simulate import SimulateForm
from apps.journeys.blueprints import BLUEPRINTS, blueprint_get, blueprint_load
from apps.journeys.graph import journey_problems
from apps.journeys.models import Journey, JourneyStatus
from apps.journeys.selectors import journey_enrollment_counts
from apps.journeys.services import JourneyError, journey_activate, journey_pause
from apps.journeys.simulator import journey_simulate
from apps.journeys.simulator.properties import event_property_names


def tool_urls(model_admin) -> list:
    view = model_admin.admin_site.admin_view
    return [
        path("blueprints/", view(model_admin.blueprints_view), name="journeys_journey_blueprints"),
        path("diagram/", view(model_admin.diagram_view), name="journeys_journey_diagram_new"),
        path(
            "<path:object_id>/diagram/",
            view(model_admin.diagram_view),
            name="journeys_journey_diagram",
        ),
        path(
            "blueprints/<slug:slug>/load/",
            view(model_admin.blueprint_load_view),
            name="journeys_journey_blueprint_load",
        ),
        path(
            "<path:object_id>/activate/",
            view(model_admin.activate_view),
            name="journeys_journey_activate",
        ),
        path(
            "<path:object_id>/pause/", view(model_admin.pause_view), name="journeys_journey_pause"
        ),
        path(
            "<path:object_id>/simulate/",
            view(model_admin.simulate_view),
            name="journeys_journey_simulate",
        ),
    ]


class JourneyToolViews:
    """Mixed into JourneyAdmin."""

    def tool_context(self, request, journey: Journey) -> dict:
        may_switch = request.user.has_perm("journeys.activate_journey")
        active = journey.status == JourneyStatus.ACTIVE
        return {
            "activate_url": _url("activate", journey) if may_switch and not active else "",
            "pause_url": _url("pause", journey) if may_switch and active else "",
            "simulate_url": _url("simulate", journey),
        }

    def _journey_for(self, request, object_id) -> Journey:
        journey = self.get_object(request, unquote(object_id))
        if journey is None:
            raise Http404("No such journey.")
        if not self.has_view_or_change_permission(request, journey):
            raise PermissionDenied
        return journey

    def activate_view(self, request, object_id):
        return self._switch(
            request, object_id, journey_activate, "is live: it enrolls from now on."
        )

    def pause_view(self, request, object_id):
        return self._switch(
            request, object_id, journey_pause, "is paused: nobody enters and nobody moves on."
        )

    def _switch(self, request, object_id, service, done: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        journey = self._journey_for(request, object_id)
        try:
            service(journey=journey, actor=request.user)
        except JourneyError as error:
            self._refusal_show(request, journey, error)
        else:
            self.message_user(request, f"{journey.name} {done}", messages.SUCCESS)
        return HttpResponseRedirect(_url("change", journey))

    def _refusal_show(self, request, journey: Journey, error: JourneyError) -> None:
        if error.field != "steps":
            self.message_user(request, error.message, messages.ERROR)
            return
        journey.refresh_from_db()
        problems = journey_problems(journey)
        self.message_user(
            request, f"Not activated: {len(problems)} problem(s) to fix first.", messages.ERROR
        )
        for problem in problems:
            self.message_user(request, problem, messages.ERROR)

    def diagram_view(self, request, object_id=None):
        """The diagram of the builder's form as posted (POST, reads only): the page redraws
        it as the author edits, before Save."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        counts = None
        if object_id is not None:
            journey = self._journey_for(request, object_id)
            counts = journey_enrollment_counts(journey=journey).running_by_step
        elif not (self.has_add_permission(request) or self.has_view_or_change_permission(request)):
            raise PermissionDenied
        return JsonResponse(
            {
                "svg": posted_diagram_svg(request.POST, counts=counts),
                "variant_problems": posted_variant_problems(request.POST),
            }
        )

    def simulate_view(self, request, object_id):
        journey = self._journey_for(request, object_id)
        may_pick = request.user.has_perm("contacts.view_contact")
        run = "run" in request.GET
        event_type = request.GET.get("event_type", journey.trigger_event_type)[:64]
        form = SimulateForm(
            request.GET if run else None,
            initial={"event_type": journey.trigger_event_type},
            may_pick_contact=may_pick,
            property_names=event_property_names(event_type=event_type, journey=journey),
        )
        simulation = (
            journey_simulate(journey=journey, **form.simulation_kwargs())
            if run and form.is_valid()
            else None
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Simulate {journey.name}",
            "original": journey,
            "form": form,
            "simulation": simulation,
            "event_types": known_event_types(),
            "user_zone": request.user.time_zone,
        }
        return TemplateResponse(request, "admin/journeys/journey/simulate.html", context)

    def blueprints_view(self, request):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Load a blueprint",
            "blueprints": BLUEPRINTS,
            "may_load": self.has_add_permission(request),
        }
        return TemplateResponse(request, "admin/journeys/journey/blueprints.html", context)

    def blueprint_load_view(self, request, slug: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_add_permission(request):
            raise PermissionDenied
        try:
            loaded = blueprint_load(blueprint=blueprint_get(slug), actor=request.user)
        except JourneyError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:journeys_journey_blueprints"))
        self.message_user(
            request, f"Loaded {loaded.journey.name} as a draft. Review it, then ask an "
            "approver to activate it.", messages.SUCCESS,
        )  # fmt: skip
        for name in loaded.missing_templates:
            self.message_user(
                request, f"The library has no template {name!r}: choose one.", messages.WARNING
            )
        return HttpResponseRedirect(_url("change", loaded.journey))


def _url(name: str, journey: Journey) -> str:
    return reverse(f"admin:journeys_journey_{name}", args=[journey.pk])
