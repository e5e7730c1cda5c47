"""A journey's own cap counts a text from when it went out, like the frequency caps."""

from datetime import timedelta

import pytest

from apps.journeys.engine.advance import enrollments_advance_due
from apps.journeys.intake import journeys_on_events
from apps.journeys.models import Enrollment
from apps.sends.models import OutboundMessage
from apps.sends.services.dispatch import message_dispatch
from tests.journeys.builders import journey_build, sms_template
from tests.journeys.scenario import happen

pytestmark = pytest.mark.django_db


def test_a_text_queued_before_the_window_but_sent_inside_it_counts(clock, opted_in_contact):
    nudge = sms_template(
        name="Webinar nudge", body="Cue Demo: the recording is ready. Reply STOP to opt out."
    )
    journey = journey_build(
        steps=[
            ("first", "send_sms", {"template": sms_template().pk, "next": "pause"}),
            ("pause", "wait", {"hours": 24, "minutes": 5, "next": "second"}),
            ("second", "send_sms", {"template": nudge.pk}),
        ],
        cap_messages=1,
        cap_hours=24,
    )
    event = happen(opted_in_contact(), "webinar_registered", "reg-1")
    journeys_on_events([event.event])  # the hand-off, run here rather than after a commit
    enrollment = Enrollment.objects.get(journey=journey)
    assert enrollments_advance_due() == 1  # no commit: its dispatch does not run
    [first] = OutboundMessage.objects.filter(journey_id=journey.pk)
    assert first.status == "queued"
    clock.shift(timedelta(minutes=40))  # a worker backlog
    assert message_dispatch(message_id=first.pk) in ("sent", "delivered")
    clock.shift(timedelta(hours=23, minutes=25))  # 24 h 05 min after it was queued

    assert enrollments_advance_due() == 1

    second = OutboundMessage.objects.get(send_key=f"journey:{enrollment.pk}:second:1")
    assert (second.status, second.reason_code) == ("suppressed", "journey_cap")
