"""On PostgreSQL, outbound messages are partitioned by month of created_at (see
apps.core.partitions): the table is rebuilt in place, rows and ids kept, the send key and
provider sid kept unique through key tables. Nothing happens on SQLite."""

from django.db import migrations
from django.utils import timezone

from apps.core.partitions import Partitioned, table_partition, table_unpartition

# As the table was when this migration was written (not read from the model, which may
# change later).
MESSAGES = Partitioned("sends_outboundmessage", "created_at", ("send_key", "provider_sid"))


def partition(apps, schema_editor):
    table_partition(schema_editor.connection, MESSAGES, today=timezone.now().date())


def unpartition(apps, schema_editor):
    table_unpartition(schema_editor.connection, MESSAGES)


class Migration(migrations.Migration):
    dependencies = [
        ("sends", "0009_message_links_without_db_constraint"),
        # Every foreign key to the table has lost its database constraint.
        ("reporting", "0010_attribution_message_rows_retention"),
    ]

    operations = [migrations.RunPython(partition, unpartition, elidable=False)]
