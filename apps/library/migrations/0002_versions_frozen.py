from django.db import migrations

_CHANGED = """NEW.status = 'draft' OR NEW.body {ne} OLD.body OR NEW.subject {ne} OLD.subject
       OR NEW.links {ne} OLD.links OR NEW.defaults {ne} OLD.defaults
       OR NEW.template_id {ne} OLD.template_id OR NEW.number {ne} OLD.number
       OR NEW.author_id {ne} OLD.author_id"""

SQLITE_FORWARD = [
    f"""CREATE TRIGGER library_version_frozen BEFORE UPDATE ON library_templateversion
       FOR EACH ROW WHEN OLD.status <> 'draft' AND ({_CHANGED.format(ne="IS NOT")})
       BEGIN SELECT RAISE(ABORT, 'a submitted template version cannot change'); END;""",
    """CREATE TRIGGER library_approval_no_update BEFORE UPDATE ON library_templateapproval
       BEGIN SELECT RAISE(ABORT, 'template review decisions are append-only'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS library_version_frozen;",
    "DROP TRIGGER IF EXISTS library_approval_no_update;",
]

# PostgreSQL also refuses to delete a review decision.
POSTGRES_FORWARD = [
    f"""CREATE OR REPLACE FUNCTION library_version_frozen() RETURNS trigger AS $$
       BEGIN
         IF OLD.status <> 'draft' AND ({_CHANGED.format(ne="IS DISTINCT FROM")}) THEN
           RAISE EXCEPTION 'a submitted template version cannot change'
             USING ERRCODE = 'integrity_constraint_violation';
         END IF;
         RETURN NEW;
       END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER library_version_frozen BEFORE UPDATE ON library_templateversion
       FOR EACH ROW EXECUTE FUNCTION library_version_frozen();""",
    """CREATE OR REPLACE FUNCTION library_approval_append_only() RETURNS trigger AS $$
       BEGIN
         RAISE EXCEPTION 'template review decisions are append-only'
           USING ERRCODE = 'integrity_constraint_violation';
       END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER library_approval_append_only
       BEFORE UPDATE OR DELETE ON library_templateapproval
       FOR EACH ROW EXECUTE FUNCTION library_approval_append_only();""",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS library_version_frozen ON library_templateversion;",
    "DROP FUNCTION IF EXISTS library_version_frozen();",
    "DROP TRIGGER IF EXISTS library_approval_append_only ON library_templateapproval;",
    "DROP FUNCTION IF EXISTS library_approval_append_only();",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    """What left draft is evidence of what was reviewed: the database itself refuses to
    change a submitted version's content or a review decision, whatever path writes."""

    dependencies = [("library", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        )
    ]
