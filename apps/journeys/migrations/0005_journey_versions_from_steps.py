"""Each existing journey's steps become its version 1: published if the journey ever ran
(active, paused or archived), a draft otherwise; every enrollment is on that version, so
each one keeps its meaning (same steps, same keys)."""

from django.db import migrations


def versions_create(apps, schema_editor):
    Journey = apps.get_model("journeys", "Journey")
    JourneyVersion = apps.get_model("journeys", "JourneyVersion")
    Step = apps.get_model("journeys", "Step")
    Enrollment = apps.get_model("journeys", "Enrollment")
    for journey in Journey.objects.order_by("pk").iterator():
        runs = journey.status != "draft"
        version = JourneyVersion.objects.create(
            journey=journey,
            number=1,
            status="published" if runs else "draft",
            first_step_id=journey.first_step_id,
            author_id=journey.owner_id,
            published_at=journey.activated_at if runs else None,
            change_summary="The journey as it was before versions.",
        )
        Step.objects.filter(journey=journey).update(version=version)
        Enrollment.objects.filter(journey=journey).update(version=version)
        if runs:
            Journey.objects.filter(pk=journey.pk).update(live_version=version)


def versions_remove(apps, schema_editor):
    Journey = apps.get_model("journeys", "Journey")
    Journey.objects.update(live_version=None)
    apps.get_model("journeys", "Enrollment").objects.update(version=None)
    apps.get_model("journeys", "Step").objects.update(version=None)
    apps.get_model("journeys", "JourneyVersion").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("journeys", "0004_journey_versions")]

    operations = [migrations.RunPython(versions_create, versions_remove)]
