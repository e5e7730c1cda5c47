"""The six blueprint journeys, loaded by Maria (marketer) and activated by Alex (approver).

Converges like every demo seeder: a journey that already exists (by the blueprint's name)
is left as it is — a human may have paused or edited it — and only a draft without
problems is activated.
"""

from apps.journeys.blueprints import BLUEPRINTS, blueprint_load, blueprint_templates
from apps.journeys.graph import journey_problems
from apps.journeys.models import Journey, JourneyStatus
from apps.journeys.services import journey_activate
from apps.library.demo import _template as demo_template_ensure


def seed(workspace: dict) -> None:
    users = workspace["users"]
    maria, alex, carol = users["maria"], users["alex"], users["carol"]
    # Kept apart from workspace["templates"], which is the library's own demo set.
    workspace["blueprint_templates"] = {
        spec.slug: demo_template_ensure(spec, maria, alex, carol) for spec in blueprint_templates()
    }
    journeys = {}
    for blueprint in BLUEPRINTS:
        journey = Journey.objects.filter(name=blueprint.name).first()
        if journey is None:
            journey = blueprint_load(blueprint=blueprint, actor=maria).journey
        if journey.status == JourneyStatus.DRAFT and not journey_problems(journey):
            journey._history_user = alex
            journey = journey_activate(journey=journey, actor=alex)
        journeys[blueprint.slug] = journey
    workspace["journeys"] = journeys
