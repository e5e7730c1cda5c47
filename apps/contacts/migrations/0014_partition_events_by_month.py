"""On PostgreSQL, events are partitioned by month of occurred_at (see apps.core.partitions):
what points at an event loses its database constraint first (journeys 0009, routing 0004,
and the handler failures here; Django still carries out on_delete), then the table is
rebuilt in place, rows and ids kept, the idempotency key kept unique through a key table.
Nothing but the constraint changes on SQLite."""

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone

from apps.core.partitions import Partitioned, table_partition, table_unpartition

# As the table was when this migration was written (not read from the model, which may
# change later).
EVENTS = Partitioned("contacts_event", "occurred_at", ("idempotency_key",))
# A client says when an event occurred, a CRM when a stage changed, years back: months
# older than these go to the DEFAULT partition rather than a partition each.
MONTHS_BACK = 24


def partition(apps, schema_editor):
    today = timezone.now().date()
    table_partition(schema_editor.connection, EVENTS, today=today, months_back=MONTHS_BACK)


def unpartition(apps, schema_editor):
    table_unpartition(schema_editor.connection, EVENTS)


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0013_opportunity_imports"),
        # Every other foreign key to the table has lost its database constraint.
        ("journeys", "0009_enrollment_event_without_db_constraint"),
        ("routing", "0004_signal_event_without_db_constraint"),
    ]

    operations = [
        migrations.AlterField(
            model_name="eventhandlerfailure",
            name="event",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="handler_failures",
                to="contacts.event",
            ),
        ),
        migrations.RunPython(partition, unpartition, elidable=False),
    ]
