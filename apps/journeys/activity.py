from apps.journeys.models import Activity, Enrollment


def activity_log(enrollment: Enrollment, kind: str, reason: str, *, step_key: str = "", **detail):
    return Activity.objects.create(
        enrollment=enrollment, kind=kind, reason=reason[:500], step_key=step_key, detail=detail
    )
