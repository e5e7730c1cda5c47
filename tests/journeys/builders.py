"""Journeys for tests, built as an author would in the builder."""

from apps.journeys.models import Journey, JourneyStatus, Step
from tests.sends.templates import approved_sms_version

SMS_BODY = (
    'Cue Demo: your webinar starts soon, {{ contact.first_name | "there" }}. Reply STOP to opt out.'
)


def sms_template(name="Webinar reminder", body=SMS_BODY):
    return approved_sms_version(name=name, body=body).template


def journey_build(*, steps: list[tuple[str, str, dict]], status=JourneyStatus.ACTIVE, **fields):
    """steps: (key, kind, config) in order; the first one starts the journey."""
    fields = {"name": "Test journey", "trigger_event_type": "webinar_registered", **fields}
    journey = Journey.objects.create(status=status, **fields)
    made = [
        Step.objects.create(journey=journey, key=key, kind=kind, config=config, position=i)
        for i, (key, kind, config) in enumerate(steps)
    ]
    journey.first_step = made[0]
    journey.save()
    return journey
