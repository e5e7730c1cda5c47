from django.db import migrations

# The ledger is kept five years (TCPA statute of limitations, 47 U.S.C. § 227(b)(3) with
# 28 U.S.C. § 1658(a): four years, plus a year's margin). The clock runs from when Cue
# recorded a row (recorded_at, server time) — never from the caller-supplied occurred_at,
# which a back-dated import could set to any date — and restarts with the last message that
# relied on it: any message to that contact on that channel queued or sent in the last five
# years keeps every ledger row of that contact and channel.
#
# TRUNCATE fires no row trigger, so a statement trigger refuses it. A deliberate wipe of a
# whole database (the test suite's flush) sets `cue.allow_truncate` for its transaction.
POSTGRES_FORWARD = [
    """CREATE OR REPLACE FUNCTION consent_record_append_only() RETURNS trigger AS $$
       BEGIN
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
       END; $$ LANGUAGE plpgsql;""",
    """CREATE OR REPLACE FUNCTION consent_record_no_truncate() RETURNS trigger AS $$
       BEGIN
         IF current_setting('cue.allow_truncate', true) = 'on' THEN
           RETURN NULL;
         END IF;
         RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is evidence and cannot be truncated',
           ERRCODE = 'integrity_constraint_violation';
       END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER consent_record_no_truncate BEFORE TRUNCATE ON consent_consentrecord
       FOR EACH STATEMENT EXECUTE FUNCTION consent_record_no_truncate();""",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS consent_record_no_truncate ON consent_consentrecord;",
    "DROP FUNCTION IF EXISTS consent_record_no_truncate();",
    """CREATE OR REPLACE FUNCTION consent_record_append_only() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'DELETE' AND OLD.occurred_at < now() - interval '5 years' THEN
           RETURN OLD;
         END IF;
         RAISE EXCEPTION 'consent records are append-only' USING ERRCODE = 'integrity_constraint_violation';
       END; $$ LANGUAGE plpgsql;""",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    """Retention is keyed on Cue's own clock and on use; the ledger cannot be truncated."""

    dependencies = [("consent", "0003_alter_consentrecord_options")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD}),
        )
    ]
