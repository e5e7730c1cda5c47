"""The batch advance hands the gate the enrollments it has already loaded and locked, so the
gate's journey check reads no enrollment again; dispatch's re-check still reads afresh (an
enrollment may end between a message's creation and its dispatch)."""

import pytest
from django.db import connection
from django.utils import timezone

import apps.journeys.engine.sends as engine_sends
from apps.journeys.engine.sends import messages_for_sends
from apps.journeys.models import Enrollment, EnrollmentState
from apps.sends.models import MessageStatus
from apps.sends.services.dispatch import messages_dispatch
from tests.journeys.builders import journey_build, sms_template
from tests.journeys.test_batch_statements import due_enrollments

pytestmark = pytest.mark.django_db

ENROLLMENT_TABLE = Enrollment._meta.db_table


class Statements:
    def __init__(self):
        self.sql: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        self.sql.append(sql)
        return execute(sql, params, many, context)

    def reading_enrollments(self) -> list[str]:
        return [s for s in self.sql if s.startswith("SELECT") and f'FROM "{ENROLLMENT_TABLE}"' in s]


def loaded_as_the_advance_does(journey) -> list[Enrollment]:
    return list(
        Enrollment.objects.filter(journey=journey)
        .select_related("journey", "version", "contact", "current_step")
        .order_by("pk")
    )


def test_it_gates_a_send_step_batch_without_reading_its_enrollments_again(
    clock, opted_in_contact, monkeypatch
):
    # Given two journeys, each with five enrollments due on a send step
    template = sms_template()
    journeys = [
        journey_build(steps=[("remind", "send_sms", {"template": template.pk})], name=name)
        for name in ("Before", "After")
    ]
    for journey in journeys:
        due_enrollments(journey, [opted_in_contact() for _ in range(5)])
    first, second = (loaded_as_the_advance_does(journey) for journey in journeys)

    # When the first batch's messages are made as before the change (the gate not told
    # of the enrollments) and the second's as the advance makes them now
    with monkeypatch.context() as patch:
        patch.setattr(engine_sends, "journey_gate_known", lambda enrollments: None)
        before = Statements()
        with connection.execute_wrapper(before):
            made_before = messages_for_sends(first, timezone.now())
    after = Statements()
    with connection.execute_wrapper(after):
        made_after = messages_for_sends(second, timezone.now())

    # Then both make the same five queued messages, and the gate read the enrollments
    # once in the first batch and not at all in the second: one statement fewer
    assert [m.status for m in made_before.values()] == [MessageStatus.QUEUED] * 5
    assert [m.status for m in made_after.values()] == [MessageStatus.QUEUED] * 5
    assert len(before.reading_enrollments()) == 1
    assert after.reading_enrollments() == []
    assert len(before.sql) - len(after.sql) == 1


def test_dispatch_reads_the_enrollment_afresh_and_stops_a_message_whose_journey_ended(
    clock, opted_in_contact
):
    # Given a message made by the batch advance from the enrollments it had loaded
    journey = journey_build(steps=[("remind", "send_sms", {"template": sms_template().pk})])
    due_enrollments(journey, [opted_in_contact()])
    [enrollment] = loaded_as_the_advance_does(journey)
    [message] = messages_for_sends([enrollment], timezone.now()).values()
    assert message.status == MessageStatus.QUEUED

    # When the enrollment exits before dispatch (the loaded copy still says active)
    Enrollment.objects.filter(pk=enrollment.pk).update(state=EnrollmentState.EXITED)
    outcome = messages_dispatch(message_ids=[message.pk])

    # Then dispatch's re-check read the row, and nothing reached the provider
    assert outcome == {message.pk: MessageStatus.SUPPRESSED}
    message.refresh_from_db()
    assert message.reason_code == "journey_ended"
    assert message.log.filter(kind="provider").count() == 0
