"""Set-based data generators: millions of rows in a few statements, never a Python loop."""

import json
from datetime import UTC, datetime, timedelta

from django.db import connection

STAGES = ["subscriber", "lead", "mql", "sql", "opportunity", "customer", "churned"]
EVENT_TYPES = ["pricing_view", "webinar_registered", "email_click", "form_submit", "demo_request"]


def _case(expression: str, values: list[str]) -> str:
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"CASE ({expression}) % {len(values)} {whens} END"


def _series(n: int) -> tuple[str, str]:
    """A (with-clause, from-clause) pair yielding n rows numbered 1..n in column n."""
    if connection.vendor == "postgresql":
        return "", f"generate_series(1, {int(n)}) AS seq(n)"
    return (
        f"WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {int(n)})",
        "seq",
    )


def _now() -> str:
    return "now()" if connection.vendor == "postgresql" else "strftime('%Y-%m-%d %H:%M:%f', 'now')"


def _text(expression: str) -> str:
    return f"CAST({expression} AS TEXT)"


def contacts_generate(n: int, *, start: int = 1) -> None:
    """n contacts with unique emails, phones and external ids, spread over stages and bands."""
    with_clause, source = _series(n)
    k = f"(n + {int(start) - 1})"
    phone = (
        f"'+1415' || lpad({_text(k)}, 7, '0')"
        if connection.vendor == "postgresql"
        else f"'+1415' || printf('%07d', {k})"
    )
    sql = f"""
        {with_clause}
        INSERT INTO contacts_contact (first_name, last_name, email, phone, external_id, time_zone,
            region, country, kind, lifecycle_stage, buying_role, intent_score, intent_band,
            source, created_at, updated_at, attributes)
        SELECT 'First' || {_text(k)}, 'Last' || {_text(k)}, 'c' || {_text(k)} || '@bench.example',
            {phone}, 'ext-' || {_text(k)}, 'America/Chicago', 'IL', 'US',
            CASE WHEN {k} % 5 = 0 THEN 'customer' ELSE 'prospect' END,
            {_case(k, STAGES)},
            {_case(k, ["decision_maker", "champion", "influencer", "evaluator", "user"])},
            ({k} % 60), {_case(k, ["low", "low", "medium", "high"])}, 'bench', {_now()}, {_now()},
            '{{}}'
        FROM {source}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql)


def external_ids_generate(*, source: str) -> None:
    """Gives every contact its external id in `source` too, the same value: the people a
    source such as Segment names by its own ids are known by them."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO contacts_contactexternalid (contact_id, source, value, created_at)
            SELECT id, %s, external_id, {_now()} FROM contacts_contact
            WHERE external_id IS NOT NULL
            """,
            [source],
        )


def contact_id_range() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id), MAX(id) FROM contacts_contact")
        return cursor.fetchone()


def events_generate(n: int, *, days: int = 60, key_prefix: str = "gen") -> None:
    """n events over the last `days` days, spread over every contact."""
    low, high = contact_id_range()
    span = high - low + 1
    with_clause, source = _series(n)
    if connection.vendor == "postgresql":
        occurred = f"now() - ((n % {days * 24}) * interval '1 hour')"
        properties = '\'{"page": "/pricing"}\'::jsonb'
    else:
        occurred = f"strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || (n % {days * 24}) || ' hours')"
        properties = '\'{"page": "/pricing"}\''
    sql = f"""
        {with_clause}
        INSERT INTO contacts_event (contact_id, type, occurred_at, received_at, properties, source,
            idempotency_key, handled_at)
        SELECT {low} + (CAST(n AS BIGINT) * 7919) % {span}, {_case("n", EVENT_TYPES)},
            {occurred}, {_now()},
            {properties}, 'bench', '{key_prefix}-' || {_text("n")}, {_now()}
        FROM {source}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql)


def table_clear(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")


def consent_generate(*, every: int = 2) -> None:
    """Opts every `every`-th contact in to marketing SMS: a ledger row and its current state."""
    now = _now()
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO consent_consentrecord (contact_id, address, channel, purpose, action,
                source, occurred_at, recorded_at, user_agent, page_url, disclosure_text,
                inbound_message_sid, keyword, note)
            SELECT id, phone, 'sms', 'marketing', 'opt_in', 'import', {now}, {now}, '', '', '',
                '', '', 'bench'
            FROM contacts_contact WHERE id % {int(every)} = 0
        """)
        cursor.execute(f"""
            INSERT INTO consent_consentstate (contact_id, channel, purpose, status, address,
                last_record_id, opted_in_at, confirmed_at, updated_at)
            SELECT contact_id, channel, purpose, 'opted_in', address, id, occurred_at,
                occurred_at, {now}
            FROM consent_consentrecord WHERE note = 'bench'
        """)


def messages_generate(
    n: int, *, origin: str = "journey", key_prefix: str = "msg", status: str = "queued"
) -> None:
    """n queued marketing messages, one per contact (in id order), as the gate would see them."""
    now = _now()
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO sends_outboundmessage (channel, contact_id, to_address, subject, body,
                encoding, segments, category, origin, send_key, status, decision, reason_code,
                reason, attempts, needs_reconciliation, sender, error_code, error_message,
                price_unit, created_at, queued_at, html)
            SELECT 'sms', id, phone, '',
                'Acme: hello ' || {_text("id")} || '. Reply STOP to opt out.',
                'GSM-7', 1, 'marketing', '{origin}', '{key_prefix}-' || {_text("id")}, '{status}',
                'allow', 'allowed', '', 0, {"false" if connection.vendor == "postgresql" else "0"},
                '', '', '', '', {now}, {now}, ''
            FROM (SELECT id, phone FROM contacts_contact ORDER BY id LIMIT {int(n)}) c
        """)


def enrollments_generate(
    n: int, *, journey_id: int, step_id: int, step_key: str, waited_days: int = 2
) -> None:
    """n enrollments (one per contact, in id order) waiting at one step, entered `waited_days`
    ago and due now: what the beat finds once a long wait runs out. They run on the step's
    version, as enrollment_start puts them."""
    ops = connection.ops
    now = datetime.now(UTC)
    entered = ops.adapt_datetimefield_value(now - timedelta(days=waited_days))
    due = ops.adapt_datetimefield_value(now - timedelta(minutes=1))
    jsonb = "::jsonb" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO journeys_enrollment (journey_id, contact_id, current_step_id,
                version_id, state, next_run_at, step_entered_at, visits, is_holdout, variants,
                claim_token, entered_at)
            SELECT %s, id, %s, (SELECT version_id FROM journeys_step WHERE id = %s), 'waiting',
                %s, %s, %s{jsonb}, %s, %s{jsonb}, '', %s
            FROM (SELECT id FROM contacts_contact ORDER BY id LIMIT {int(n)}) c
            """,
            [
                journey_id,
                step_id,
                step_id,
                due,
                entered,
                json.dumps({step_key: 1}),
                False,
                "{}",
                entered,
            ],
        )
