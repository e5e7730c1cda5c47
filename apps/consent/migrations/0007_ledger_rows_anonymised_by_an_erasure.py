from django.db import migrations, models

# An erasure anonymises a person's ledger rows in place: the address becomes its keyed hash
# ("erased:…", see apps/contacts/erasure/traces.py) and the evidence that identifies the
# person (IP address, user agent, note) is cleared; the page URL and keyword may only be
# cleared. The triggers let that UPDATE through only while a consent_ledgererasure row
# (inserted by the erasure in its own transaction, invisible to any other) names the
# contact, and only when nothing else of the row changes. A merge's re-point stays allowed
# as before; every other UPDATE is still refused.
ERASED_COLUMNS = ("address", "ip_address", "user_agent", "page_url", "keyword", "note")
REPOINT_ALLOWED_SQLITE = """
    NEW.contact_id IS NOT OLD.contact_id AND NEW.merged_from IS OLD.contact_id
    AND {unchanged_but_contact}
    AND EXISTS (SELECT 1 FROM consent_ledgerrepoint p
                 WHERE p.from_contact_id = OLD.contact_id AND p.to_contact_id = NEW.contact_id)
"""
ERASURE_ALLOWED_SQLITE = """
    NEW.address LIKE 'erased:%' AND NEW.ip_address IS NULL AND NEW.user_agent = ''
    AND NEW.note = '' AND (NEW.page_url IS OLD.page_url OR NEW.page_url = '')
    AND (NEW.keyword IS OLD.keyword OR NEW.keyword = '')
    AND {unchanged_but_evidence}
    AND EXISTS (SELECT 1 FROM consent_ledgererasure e WHERE e.contact_id = OLD.contact_id)
"""

# The schema editor passes parameters, so psycopg reads %% as one %.
ERASURE_ALLOWED_POSTGRES = """
         IF TG_OP = 'UPDATE'
            AND NEW.address LIKE 'erased:%%' AND NEW.ip_address IS NULL
            AND NEW.user_agent = '' AND NEW.note = ''
            AND (NEW.page_url = OLD.page_url OR NEW.page_url = '')
            AND (NEW.keyword = OLD.keyword OR NEW.keyword = '')
            AND (to_jsonb(NEW) - 'address' - 'ip_address' - 'user_agent' - 'page_url'
                               - 'keyword' - 'note')
                = (to_jsonb(OLD) - 'address' - 'ip_address' - 'user_agent' - 'page_url'
                                 - 'keyword' - 'note')
            AND EXISTS (SELECT 1 FROM consent_ledgererasure e
                         WHERE e.contact_id = OLD.contact_id) THEN
           RETURN NEW;
         END IF;
"""
POSTGRES_FUNCTION = """CREATE OR REPLACE FUNCTION consent_record_append_only() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'UPDATE'
            AND NEW.contact_id IS DISTINCT FROM OLD.contact_id
            AND NEW.merged_from IS NOT DISTINCT FROM OLD.contact_id
            AND (to_jsonb(NEW) - 'contact_id' - 'merged_from')
                = (to_jsonb(OLD) - 'contact_id' - 'merged_from')
            AND EXISTS (SELECT 1 FROM consent_ledgerrepoint p
                         WHERE p.from_contact_id = OLD.contact_id
                           AND p.to_contact_id = NEW.contact_id) THEN
           RETURN NEW;
         END IF;
{erasure}
         IF TG_OP = 'DELETE'
            AND OLD.recorded_at < now() - interval '5 years'
            AND NOT EXISTS (
              SELECT 1 FROM sends_outboundmessage m
               WHERE m.contact_id = OLD.contact_id
                 AND m.channel = OLD.channel
                 AND COALESCE(m.sent_at, m.queued_at, m.created_at) >= now() - interval '5 years'
            ) THEN
           RETURN OLD;
         END IF;
         RAISE EXCEPTION 'consent records are append-only' USING ERRCODE = 'integrity_constraint_violation';
       END; $$ LANGUAGE plpgsql;"""


def _unchanged(apps, but: tuple[str, ...]) -> str:
    record = apps.get_model("consent", "ConsentRecord")
    columns = [f.column for f in record._meta.concrete_fields if f.column not in but]
    return " AND ".join(f"NEW.{c} IS OLD.{c}" for c in columns)


def _sqlite_trigger(apps, with_erasure: bool) -> list[str]:
    allowed = REPOINT_ALLOWED_SQLITE.format(
        unchanged_but_contact=_unchanged(apps, ("contact_id", "merged_from"))
    )
    if with_erasure:
        erasure = ERASURE_ALLOWED_SQLITE.format(
            unchanged_but_evidence=_unchanged(apps, ERASED_COLUMNS)
        )
        allowed = f"({allowed}) OR ({erasure})"
    return [
        "DROP TRIGGER IF EXISTS consent_record_no_update;",
        f"""CREATE TRIGGER consent_record_no_update BEFORE UPDATE ON consent_consentrecord
            WHEN NOT ({allowed})
            BEGIN SELECT RAISE(ABORT, 'consent records are append-only'); END;""",
    ]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        statements = _sqlite_trigger(apps, with_erasure=True)
    elif vendor == "postgresql":
        statements = [POSTGRES_FUNCTION.replace("{erasure}", ERASURE_ALLOWED_POSTGRES)]
    else:
        statements = []
    for statement in statements:
        schema_editor.execute(statement)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        statements = _sqlite_trigger(apps, with_erasure=False)
    elif vendor == "postgresql":
        statements = [POSTGRES_FUNCTION.replace("{erasure}", "")]
    else:
        statements = []
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    """An erasure may anonymise a contact's ledger rows in place; nothing else may."""

    dependencies = [("consent", "0006_ledger_rows_follow_a_merge")]

    operations = [
        migrations.CreateModel(
            name="LedgerErasure",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("contact_id", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(forward, backward),
    ]
