"""On PostgreSQL, the key tables that keep a message's send key and provider sid unique are
claimed once per INSERT statement (and released once per DELETE statement) over the
statement's transition table, instead of by a trigger call per row: a batch of a thousand
messages cost twice what the plain insert did. Same guarantees and the same error; the
reverse restores the row triggers. Nothing happens on SQLite."""

from django.db import migrations

from apps.core.partitions import Partitioned, is_partitioning, key_triggers_replace

# As the table was when this migration was written (not read from the model).
MESSAGES = Partitioned("sends_outboundmessage", "created_at", ("send_key", "provider_sid"))


def per_statement(apps, schema_editor):
    key_triggers_replace(schema_editor.connection, MESSAGES)


def per_row(apps, schema_editor):
    """The triggers as sends 0010 made them."""
    connection = schema_editor.connection
    if not is_partitioning(connection):
        return
    with connection.cursor() as cursor:
        for key in MESSAGES.keys:
            for sql in _row_triggers(MESSAGES, key):
                cursor.execute(sql)


def _row_triggers(spec: Partitioned, key: str) -> list[str]:
    t, kt, column = spec.table, spec.key_table(key), spec.column
    drops = [
        f"DROP FUNCTION IF EXISTS {kt}_{name}() CASCADE"
        for name in ("keep", "claim", "release", "empty")
    ]
    keep = f"""
        CREATE FUNCTION {kt}_keep() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP <> 'INSERT' AND OLD.{key} IS NOT NULL
             AND (TG_OP = 'DELETE' OR OLD.{key} IS DISTINCT FROM NEW.{key}) THEN
            DELETE FROM {kt} WHERE value = OLD.{key} AND row_id = OLD.id;
          END IF;
          IF TG_OP = 'DELETE' THEN
            RETURN OLD;
          END IF;
          IF NEW.{key} IS NOT NULL
             AND (TG_OP = 'INSERT' OR OLD.{key} IS DISTINCT FROM NEW.{key}) THEN
            INSERT INTO {kt} AS k VALUES (NEW.{key}, NEW.id, NEW.{column})
              ON CONFLICT (value) DO UPDATE SET partition_at = EXCLUDED.partition_at
              WHERE k.row_id = EXCLUDED.row_id;
            IF NOT FOUND THEN
              RAISE unique_violation USING
                MESSAGE = 'duplicate key value violates unique constraint "{kt}"',
                DETAIL = format('Key ({key})=(%s) already exists.', NEW.{key});
            END IF;
          END IF;
          RETURN NEW;
        END $$"""
    triggers = [
        f"CREATE TRIGGER {kt}_{event.split()[0].lower()} BEFORE {event} ON {t}"
        f" FOR EACH ROW WHEN ({condition}) EXECUTE FUNCTION {kt}_keep()"
        for event, condition in (
            ("INSERT", f"NEW.{key} IS NOT NULL"),
            (f"UPDATE OF {key}", f"OLD.{key} IS DISTINCT FROM NEW.{key}"),
            ("DELETE", f"OLD.{key} IS NOT NULL"),
        )
    ]
    empty = [
        f"CREATE FUNCTION {kt}_empty() RETURNS trigger LANGUAGE plpgsql AS $$"
        f" BEGIN TRUNCATE {kt}; RETURN NULL; END $$",
        f"CREATE TRIGGER {kt}_empty AFTER TRUNCATE ON {t}"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {kt}_empty()",
    ]
    return [*drops, keep, *triggers, *empty]


class Migration(migrations.Migration):
    dependencies = [("sends", "0012_outboundmessage_html")]

    operations = [migrations.RunPython(per_statement, per_row, elidable=False)]
