"""On PostgreSQL, the message log (MessageEvent) is partitioned by month of `at` (see
apps.core.partitions): the table is rebuilt in place, rows and ids kept, the dedupe key kept
unique through a key table (nothing points at the log). The messages' key tables get the
current form of their triggers, which take a key already claimed for the very row being
inserted (keyed_insert_sql claims first). Nothing happens on SQLite."""

from django.db import migrations
from django.utils import timezone

from apps.core.partitions import (
    Partitioned,
    key_triggers_replace,
    table_partition,
    table_unpartition,
)

# As the tables were when this migration was written (not read from the models).
MESSAGES = Partitioned("sends_outboundmessage", "created_at", ("send_key", "provider_sid"))
MESSAGE_LOG = Partitioned("sends_messageevent", "at", ("dedupe_key",))


def partition(apps, schema_editor):
    key_triggers_replace(schema_editor.connection, MESSAGES)
    table_partition(schema_editor.connection, MESSAGE_LOG, today=timezone.now().date())


def unpartition(apps, schema_editor):
    """The messages' triggers keep their current form: it refuses all the earlier form did."""
    table_unpartition(schema_editor.connection, MESSAGE_LOG)


class Migration(migrations.Migration):
    dependencies = [("sends", "0013_message_key_triggers_per_statement")]

    operations = [migrations.RunPython(partition, unpartition, elidable=False)]
