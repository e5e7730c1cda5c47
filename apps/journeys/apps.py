from django.apps import AppConfig


class JourneysConfig(AppConfig):
    """Event-triggered journeys, their steps, enrollments and engine."""

    name = "apps.journeys"
    label = "journeys"
    verbose_name = "Journeys"

    periodic_tasks = {
        "advance journeys": {"task": "journeys.enrollments_advance", "every": 15},
        "enroll new segment members": {"task": "journeys.segment_entries_enroll", "every": 300},
    }

    def ready(self) -> None:
        from apps.contacts.events import event_handler_register
        from apps.contacts.selectors import timeline_source_register
        from apps.contacts.stages import (
            lifecycle_stage_user_register,
            pipeline_stage_user_register,
        )
        from apps.journeys.erasure import journeys_erasure_parts_register
        from apps.journeys.gate import journey_gate_check, journey_gate_prefetch
        from apps.journeys.intake import journeys_on_events
        from apps.journeys.merge import journeys_merge_parts_register
        from apps.journeys.selectors import (
            contact_journey_timeline,
            journeys_naming_lifecycle_stage,
            journeys_naming_pipeline_stage,
        )
        from apps.sends.policy import gate_check_register

        event_handler_register("journeys", journeys_on_events, order=30)
        gate_check_register("journeys", journey_gate_check, journey_gate_prefetch)
        timeline_source_register("journeys", contact_journey_timeline)
        lifecycle_stage_user_register("journeys", journeys_naming_lifecycle_stage)
        pipeline_stage_user_register("journeys", journeys_naming_pipeline_stage)
        journeys_merge_parts_register()
        journeys_erasure_parts_register()
