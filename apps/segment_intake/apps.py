from django.apps import AppConfig


class SegmentIntakeConfig(AppConfig):
    """Events and traits sent in Segment's HTTP Tracking API shape, at /segment/v1/.

    It sits right above `contacts` and writes only through contacts' services and event
    intake: a Segment or RudderStack source is one more way in, not a second CRM core.
    """

    name = "apps.segment_intake"
    label = "segment_intake"
    verbose_name = "Segment intake"

    def ready(self) -> None:
        from apps.segment_intake.erasure import segment_erasure_parts_register
        from apps.segment_intake.merge import segment_merge_parts_register

        segment_merge_parts_register()
        segment_erasure_parts_register()
