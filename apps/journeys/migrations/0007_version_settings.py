"""A journey's settings (trigger, entry, goal, rules) become part of each version. Until now
every version of a journey ran with the journey's one set of settings, so each version,
and each row of its history, takes the journey's current settings: every enrollment keeps
running exactly as it did. The journey keeps them as its live copy."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


SETTINGS = [
    "trigger_kind", "trigger_event_type", "trigger_filters", "entry_segment_id",
    "exit_event_types", "exit_lifecycle_stage", "exit_on_opportunity", "reentry",
    "reentry_days", "cap_messages", "cap_hours", "send_weekdays", "holdout_percent",
]  # fmt: skip


def settings_copy(apps, schema_editor):
    Journey = apps.get_model("journeys", "Journey")
    versions = apps.get_model("journeys", "JourneyVersion").objects
    history = apps.get_model("journeys", "HistoricalJourneyVersion").objects
    for journey in Journey.objects.order_by("pk").iterator():
        values = {name: getattr(journey, name) for name in SETTINGS}
        versions.filter(journey_id=journey.pk).update(**values)
        history.filter(journey_id=journey.pk).update(**values)


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0013_opportunity_imports"),
        ("journeys", "0006_step_version_required"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="historicaljourneyversion",
            name="cap_hours",
            field=models.PositiveIntegerField(
                blank=True, help_text="…in this many hours.", null=True
            ),
        ),
        migrations.AddField(
            model_name="historicaljourneyversion",
            name="cap_messages",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="At most this many messages per contact from this journey…",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="historicaljourneyversion",
            name="entry_segment",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="Only contacts in this segment enter (the CRM gate).",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="contacts.segment",
            ),
        ),
        migrations.AddField(
            model_name="historicaljourneyversion",
            name="exit_event_types",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text='Goal events, e.g. ["meeting_booked", "demo_request"].',
            ),
        ),
        migrations.AddField(
            model_name="historicaljourneyversion",
            name="exit_lifecycle_stage",
            field=models.CharField(
                blank=True,
                help_text="The goal is met once the contact reaches this stage.",
                max_length=64,
            ),
        ),
        migrations.AddField(
            model_name="historicaljourneyversion",
            name="exit_on_opportunity",
            field=models.BooleanField(
                default=False,
                help_text="The goal is met when an opportunity is created or advances.",
            ),
        ),
        migrations.AddField(
            model_name="historicaljourneyversion",
            name="holdout_percent",
            field=models.PositiveSmallIntegerField(
                default=0,
                help_text="A random share of entrants that is never messaged (lift control).",
            ),
        ),
        migrations.AddField(
            model_name="historicaljourneyversion",
            name="reentry",
            field=models.CharField(
                choices=[("never", "Never"), ("after_days", "After a number of days")],
                default="never",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="historicaljourneyversion",
            name="reentry_days",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="historicaljourneyversion",
            name="send_weekdays",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Weekdays messages may go out (0 = Monday); empty = any.",
            ),
        ),
        migrations.AddField(
            model_name="historicaljourneyversion",
            name="trigger_event_type",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.AddField(
            model_name="historicaljourneyversion",
            name="trigger_filters",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text='Event properties that must match, e.g. {"form": "demo"}.',
            ),
        ),
        migrations.AddField(
            model_name="historicaljourneyversion",
            name="trigger_kind",
            field=models.CharField(
                choices=[
                    ("event", "An event happens"),
                    ("segment_entry", "The contact enters a segment"),
                ],
                default="event",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="journeyversion",
            name="cap_hours",
            field=models.PositiveIntegerField(
                blank=True, help_text="…in this many hours.", null=True
            ),
        ),
        migrations.AddField(
            model_name="journeyversion",
            name="cap_messages",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="At most this many messages per contact from this journey…",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="journeyversion",
            name="entry_segment",
            field=models.ForeignKey(
                blank=True,
                help_text="Only contacts in this segment enter (the CRM gate).",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="entry_%(class)ss",
                to="contacts.segment",
            ),
        ),
        migrations.AddField(
            model_name="journeyversion",
            name="exit_event_types",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text='Goal events, e.g. ["meeting_booked", "demo_request"].',
            ),
        ),
        migrations.AddField(
            model_name="journeyversion",
            name="exit_lifecycle_stage",
            field=models.CharField(
                blank=True,
                help_text="The goal is met once the contact reaches this stage.",
                max_length=64,
            ),
        ),
        migrations.AddField(
            model_name="journeyversion",
            name="exit_on_opportunity",
            field=models.BooleanField(
                default=False,
                help_text="The goal is met when an opportunity is created or advances.",
            ),
        ),
        migrations.AddField(
            model_name="journeyversion",
            name="holdout_percent",
            field=models.PositiveSmallIntegerField(
                default=0,
                help_text="A random share of entrants that is never messaged (lift control).",
            ),
        ),
        migrations.AddField(
            model_name="journeyversion",
            name="reentry",
            field=models.CharField(
                choices=[("never", "Never"), ("after_days", "After a number of days")],
                default="never",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="journeyversion",
            name="reentry_days",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="journeyversion",
            name="send_weekdays",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Weekdays messages may go out (0 = Monday); empty = any.",
            ),
        ),
        migrations.AddField(
            model_name="journeyversion",
            name="trigger_event_type",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.AddField(
            model_name="journeyversion",
            name="trigger_filters",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text='Event properties that must match, e.g. {"form": "demo"}.',
            ),
        ),
        migrations.AddField(
            model_name="journeyversion",
            name="trigger_kind",
            field=models.CharField(
                choices=[
                    ("event", "An event happens"),
                    ("segment_entry", "The contact enters a segment"),
                ],
                default="event",
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="journey",
            name="entry_segment",
            field=models.ForeignKey(
                blank=True,
                help_text="Only contacts in this segment enter (the CRM gate).",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="entry_%(class)ss",
                to="contacts.segment",
            ),
        ),
        migrations.AddConstraint(
            model_name="journeyversion",
            constraint=models.CheckConstraint(
                condition=models.Q(("holdout_percent__lte", 50)),
                name="journey_version_holdout_at_most_half",
                violation_error_message="Hold out at most half of the entrants.",
            ),
        ),
        migrations.RunPython(settings_copy, migrations.RunPython.noop),
    ]
