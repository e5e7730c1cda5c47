from django.db import migrations

# A version may be approved only on the record of its review: an approver's approval, a
# compliance approval too when the template is transactional (the claim "this is not
# marketing" is compliance's to make), and no rejection. Checked on INSERT and on every
# UPDATE that makes a version approved, whatever path writes.
_UNREVIEWED = """NOT EXISTS (SELECT 1 FROM library_templateapproval a
         WHERE a.version_id = NEW.id AND a.decision = 'approved' AND a.as_role = 'approver')
       OR EXISTS (SELECT 1 FROM library_templateapproval a
         WHERE a.version_id = NEW.id AND a.decision = 'rejected')
       OR (EXISTS (SELECT 1 FROM library_messagetemplate t
             WHERE t.id = NEW.template_id AND t.category = 'transactional')
           AND NOT EXISTS (SELECT 1 FROM library_templateapproval a
             WHERE a.version_id = NEW.id AND a.decision = 'approved'
               AND a.as_role = 'compliance'))"""

SQLITE_FORWARD = [
    f"""CREATE TRIGGER library_version_approval_required BEFORE UPDATE ON library_templateversion
       FOR EACH ROW WHEN NEW.status = 'approved' AND OLD.status <> 'approved' AND ({_UNREVIEWED})
       BEGIN SELECT RAISE(ABORT, 'a template version is approved only by its reviewers'); END;""",
    f"""CREATE TRIGGER library_version_approval_required_insert
       BEFORE INSERT ON library_templateversion
       FOR EACH ROW WHEN NEW.status = 'approved' AND ({_UNREVIEWED})
       BEGIN SELECT RAISE(ABORT, 'a template version is approved only by its reviewers'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS library_version_approval_required;",
    "DROP TRIGGER IF EXISTS library_version_approval_required_insert;",
]

# TRUNCATE fires no row trigger: a statement trigger refuses it, unless a deliberate wipe
# of the whole database (the test suite's flush) sets cue.allow_truncate.
POSTGRES_FORWARD = [
    f"""CREATE OR REPLACE FUNCTION library_version_approval_required() RETURNS trigger AS $$
       BEGIN
         IF NEW.status = 'approved' AND (TG_OP = 'INSERT' OR OLD.status <> 'approved')
            AND ({_UNREVIEWED}) THEN
           RAISE EXCEPTION 'a template version is approved only by its reviewers'
             USING ERRCODE = 'integrity_constraint_violation';
         END IF;
         RETURN NEW;
       END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER library_version_approval_required
       BEFORE INSERT OR UPDATE ON library_templateversion
       FOR EACH ROW EXECUTE FUNCTION library_version_approval_required();""",
    """CREATE OR REPLACE FUNCTION library_no_truncate() RETURNS trigger AS $$
       BEGIN
         IF current_setting('cue.allow_truncate', true) = 'on' THEN
           RETURN NULL;
         END IF;
         RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is evidence and cannot be truncated',
           ERRCODE = 'integrity_constraint_violation';
       END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER library_approval_no_truncate BEFORE TRUNCATE ON library_templateapproval
       FOR EACH STATEMENT EXECUTE FUNCTION library_no_truncate();""",
    """CREATE TRIGGER library_version_no_truncate BEFORE TRUNCATE ON library_templateversion
       FOR EACH STATEMENT EXECUTE FUNCTION library_no_truncate();""",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS library_version_approval_required ON library_templateversion;",
    "DROP FUNCTION IF EXISTS library_version_approval_required();",
    "DROP TRIGGER IF EXISTS library_approval_no_truncate ON library_templateapproval;",
    "DROP TRIGGER IF EXISTS library_version_no_truncate ON library_templateversion;",
    "DROP FUNCTION IF EXISTS library_no_truncate();",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    """Approved means reviewed: the database refuses an approval without its record, and
    refuses to truncate the review record."""

    dependencies = [("library", "0002_versions_frozen")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        )
    ]
