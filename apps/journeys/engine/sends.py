"""A send step run for a whole batch of enrollments: the template and its version loaded
once, the sender the step names chosen once, the messages created by one batch gate and a
few multi-row INSERTs. Each enrollment's
run then finds its message by send key, so the step's own logic (steps/send.py) decides
what follows exactly as it does for one."""

from collections import defaultdict
from datetime import datetime

from apps.journeys.engine.context import LiveContext
from apps.journeys.gate import journey_gate_known
from apps.journeys.models import Enrollment, JourneyStatus
from apps.journeys.steps import SPECS
from apps.journeys.steps.send import SendSpec, step_senders_set
from apps.library.models import MessageTemplate
from apps.sends.models import OutboundMessage
from apps.sends.services.messages import messages_create_batch


def messages_for_sends(enrollments: list[Enrollment], now: datetime) -> dict[str, OutboundMessage]:
    """The messages of the enrollments standing on a send step, by send key."""
    made: dict[str, OutboundMessage] = {}
    for (_step, template_id), group in _sending(enrollments).items():
        template = (
            MessageTemplate.objects.select_related("current_version").filter(pk=template_id).first()
        )
        if template is None or template.current_version is None:
            continue  # each run meets the problem itself, and records it
        step = group[0].current_step
        intents = [LiveContext(e, now).message_intent(step, template) for e in group]
        made.update(
            messages_create_batch(
                intents=step_senders_set(step, intents),
                at=now,
                gate_known=journey_gate_known(group),
            )
        )
    return made


def _sending(enrollments: list[Enrollment]) -> dict[tuple[int, int], list[Enrollment]]:
    """The enrollments whose run starts with a send, by (step, template)."""
    groups: dict[tuple[int, int], list[Enrollment]] = defaultdict(list)
    for enrollment in enrollments:
        step = enrollment.current_step
        spec = SPECS.get(step.kind) if step is not None else None
        if not isinstance(spec, SendSpec) or enrollment.is_holdout:
            continue
        if enrollment.journey.status != JourneyStatus.ACTIVE:
            continue
        template = spec.config(step).template
        if isinstance(template, int) and not isinstance(template, bool):
            groups[(step.pk, template)].append(enrollment)
    return groups
