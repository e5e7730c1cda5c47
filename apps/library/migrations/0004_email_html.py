import importlib

from django.db import migrations, models

# Adding a NOT NULL column makes Django rebuild the table on SQLite, which drops its
# triggers: they are created again here, the frozen-content one now covering `html` too.
_frozen = importlib.import_module("apps.library.migrations.0002_versions_frozen")
_approval = importlib.import_module("apps.library.migrations.0003_approval_required")

_CHANGED = """NEW.status = 'draft' OR NEW.body {ne} OLD.body OR NEW.html {ne} OLD.html
       OR NEW.subject {ne} OLD.subject OR NEW.links {ne} OLD.links
       OR NEW.defaults {ne} OLD.defaults OR NEW.template_id {ne} OLD.template_id
       OR NEW.number {ne} OLD.number OR NEW.author_id {ne} OLD.author_id"""

_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS library_version_frozen;",
    "DROP TRIGGER IF EXISTS library_version_approval_required;",
    "DROP TRIGGER IF EXISTS library_version_approval_required_insert;",
]


def _sqlite_frozen(changed: str) -> str:
    return f"""CREATE TRIGGER library_version_frozen BEFORE UPDATE ON library_templateversion
       FOR EACH ROW WHEN OLD.status <> 'draft' AND ({changed.format(ne="IS NOT")})
       BEGIN SELECT RAISE(ABORT, 'a submitted template version cannot change'); END;"""


def _postgres_frozen(changed: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION library_version_frozen() RETURNS trigger AS $$
       BEGIN
         IF OLD.status <> 'draft' AND ({changed.format(ne="IS DISTINCT FROM")}) THEN
           RAISE EXCEPTION 'a submitted template version cannot change'
             USING ERRCODE = 'integrity_constraint_violation';
         END IF;
         RETURN NEW;
       END; $$ LANGUAGE plpgsql;"""


FORWARD = {
    "sqlite": [*_SQLITE_DROP, _sqlite_frozen(_CHANGED), *_approval.SQLITE_FORWARD],
    "postgresql": [_postgres_frozen(_CHANGED)],
}
BACKWARD = {
    "sqlite": [*_SQLITE_DROP, _sqlite_frozen(_frozen._CHANGED), *_approval.SQLITE_FORWARD],
    "postgresql": [_postgres_frozen(_frozen._CHANGED)],
}


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    """An email version's HTML part, frozen with the rest of its content once submitted;
    an email's text part may be blank, to be derived from the HTML."""

    dependencies = [("library", "0003_approval_required")]

    operations = [
        migrations.AddField(
            model_name="historicaltemplateversion",
            name="html",
            field=models.TextField(
                blank=True, help_text="Email only: the HTML part, sanitised when saved."
            ),
        ),
        migrations.AddField(
            model_name="templateversion",
            name="html",
            field=models.TextField(
                blank=True, help_text="Email only: the HTML part, sanitised when saved."
            ),
        ),
        migrations.AlterField(
            model_name="historicaltemplateversion",
            name="body",
            field=models.TextField(
                blank=True,
                help_text="The text: an SMS, or an email's text part (blank: derived from the HTML).",
            ),
        ),
        migrations.AlterField(
            model_name="templateversion",
            name="body",
            field=models.TextField(
                blank=True,
                help_text="The text: an SMS, or an email's text part (blank: derived from the HTML).",
            ),
        ),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD)),
    ]
