from django.db import migrations

SQLITE_FORWARD = [
    """CREATE TRIGGER consent_record_no_update BEFORE UPDATE ON consent_consentrecord
       BEGIN SELECT RAISE(ABORT, 'consent records are append-only'); END;""",
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS consent_record_no_update;"]

# PostgreSQL also refuses DELETE, except of rows past the five-year retention period.
POSTGRES_FORWARD = [
    """CREATE OR REPLACE FUNCTION consent_record_append_only() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'DELETE' AND OLD.occurred_at < now() - interval '5 years' THEN
           RETURN OLD;
         END IF;
         RAISE EXCEPTION 'consent records are append-only' USING ERRCODE = 'integrity_constraint_violation';
       END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER consent_record_append_only BEFORE UPDATE OR DELETE ON consent_consentrecord
       FOR EACH ROW EXECUTE FUNCTION consent_record_append_only();""",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS consent_record_append_only ON consent_consentrecord;",
    "DROP FUNCTION IF EXISTS consent_record_append_only();",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    """The ledger is evidence: the database itself refuses to change it."""

    dependencies = [("consent", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        )
    ]
