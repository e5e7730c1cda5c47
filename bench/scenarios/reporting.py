"""Reporting at size: the dashboard's reads over daily rollups vs a COUNT of the events
table, building and refreshing the rollups with the real service, and the admin
changelists of contacts, events and messages (time and queries per page).

At BENCH_SCALE=1: 1M contacts, 10M events, 2M journey messages over 60 days with their
deliveries, clicks (people and bots), replies, STOPs, decision log, tasks, enrollments
(one journey with a 10% holdout), meetings and deals — all generated set-based."""

import os
from datetime import timedelta

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import User
from apps.accounts.roles import ADMIN
from apps.accounts.services import user_role_set
from apps.journeys.models import Journey, JourneyStatus, Step
from apps.library.models import (
    Decision,
    MessageTemplate,
    ReviewRole,
    TemplateApproval,
    TemplateVersion,
    VersionStatus,
)
from apps.reporting.selectors import DashboardFilters, dashboard
from apps.reporting.services.rollups import reporting_refresh
from bench.generators import _now, _series, _text, contact_id_range, contacts_generate
from bench.harness import Figure, best_of, scaled, timed

DAYS = 60
JOURNEYS = 5
PG = None  # set in run()


def run() -> list[Figure]:
    global PG
    PG = connection.vendor == "postgresql"
    sizes = {
        "contacts": scaled(1_000_000),
        "events": scaled(10_000_000),
        "messages": scaled(2_000_000),
    }
    contacts_generate(sizes["contacts"])
    steps = _journeys()
    _messages(sizes["messages"], steps)
    _enrollments(sizes["messages"] // 2, steps)
    _responses()
    generated = _table_count("contacts_event")
    _events(max(sizes["events"] - generated, 10))
    _analyze()
    build = timed(reporting_refresh)
    figures = [_build_figure(build, sizes), _refresh_figure(), _dashboard_figure()]
    return figures + _admin_figures()


# --- data ------------------------------------------------------------------------------------


def _ago(seconds: str) -> str:
    """A timestamp `seconds` (an SQL expression) before now, as each database stores it."""
    if PG:
        return f"(now() - ({seconds}) * interval '1 second')"
    return f"strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || ({seconds}) || ' seconds')"


def _json(pairs: str) -> str:
    return f"json_build_object({pairs})::jsonb" if PG else f"json_object({pairs})"


def _false() -> str:
    return "false" if PG else "0"


def _true() -> str:
    return "true" if PG else "1"


def _journeys() -> list[tuple[int, int, int]]:
    """Five active journeys (the first with a 10% holdout), two SMS steps each, every step
    with its own approved template version: [(journey, step, version)] × 10."""
    author = User.objects.create(username="bench-author")
    approver = User.objects.create(username="bench-approver")
    decided = timezone.now() - timedelta(days=DAYS + 1)
    steps = []
    for j in range(JOURNEYS):
        journey = Journey.objects.create(
            name=f"Bench journey {j}", status=JourneyStatus.ACTIVE,
            trigger_event_type="form_submit", holdout_percent=10 if j == 0 else 0,
        )  # fmt: skip
        for s in range(2):
            template = MessageTemplate.objects.create(name=f"Bench {j}-{s}", purpose="remind")
            version = _approved_version(template, author, approver, decided)
            step = Step.objects.create(journey=journey, key=f"sms-{s}", kind="send_sms")
            steps.append((journey.pk, step.pk, version.pk))
    return steps


def _approved_version(template, author, approver, decided) -> TemplateVersion:
    """Approved as the database requires: submitted, then the approver's record, then the
    status (Cue refuses an approved version without its approval)."""
    version = TemplateVersion.objects.create(
        template=template, number=1, body="Acme: hi. Reply STOP to opt out.",
        status=VersionStatus.SUBMITTED, author=author, submitted_at=decided,
    )  # fmt: skip
    TemplateApproval.objects.create(
        version=version, reviewer=approver, decision=Decision.APPROVED,
        as_role=ReviewRole.APPROVER, at=decided,
    )  # fmt: skip
    TemplateVersion.objects.filter(pk=version.pk).update(
        status=VersionStatus.APPROVED, decided_at=decided
    )
    return version


def _case(expression: str, values: list) -> str:
    whens = " ".join(f"WHEN {i} THEN {v}" for i, v in enumerate(values))
    return f"CASE ({expression}) % {len(values)} {whens} END"


def _messages(n: int, steps: list[tuple[int, int, int]]) -> None:
    """n journey messages over 60 days: 93% delivered, 4% sent, 3% failed (1 in 3 of
    those a carrier opt-out)."""
    low, high = contact_id_range()
    span = high - low + 1
    with_clause, source = _series(n)
    # Spread evenly over the days whatever the scale: a large prime step modulo the range.
    spread = f"(CAST(n AS BIGINT) * 1299709) % {DAYS * 86400}"
    sent, delivered = _ago(spread), _ago(f"{spread} - 5")
    status = (
        "CASE WHEN n % 100 < 93 THEN 'delivered' WHEN n % 100 < 97 THEN 'sent' ELSE 'failed' END"
    )
    error = (
        "CASE WHEN n % 100 < 97 THEN '' ELSE "
        + _case("n", ["'30003'", "'30005'", "'21610'"])
        + " END"
    )
    phone = "'+1415' || lpad(" + _text("c") + ", 7, '0')" if PG else "'+1415' || printf('%07d', c)"
    sql = f"""
        {with_clause}
        INSERT INTO sends_outboundmessage (channel, contact_id, to_address, template_version_id,
            subject, body, encoding, segments, category, origin, journey_id, step_id, send_key,
            status, decision, reason_code, reason, attempts, needs_reconciliation, sender,
            error_code, error_message, price_unit, created_at, queued_at, sent_at, delivered_at,
            finished_at, html)
        SELECT 'sms', c, {phone}, {_case("n", [v for _, _, v in steps])}, '',
            'Acme: hi. Reply STOP to opt out.', 'GSM-7', 1, 'marketing', 'journey',
            {_case("n", [j for j, _, _ in steps])}, {_case("n", [s for _, s, _ in steps])},
            'rep-' || {_text("n")}, {status}, 'allow', 'allowed', '', 1, {_false()}, 'bench',
            {error}, '', '', {sent}, {sent},
            CASE WHEN n % 100 < 97 THEN {sent} END,
            CASE WHEN n % 100 < 93 THEN {delivered} END,
            CASE WHEN n % 100 >= 93 THEN {delivered} END, ''
        FROM (SELECT n, {low} + (CAST(n AS BIGINT) * 7919) % {span} AS c FROM {source}) numbered
    """
    _execute(sql)


def _enrollments(n: int, steps: list[tuple[int, int, int]]) -> None:
    low, high = contact_id_range()
    span = high - low + 1
    with_clause, source = _series(n)
    journeys = [j for j, _, _ in steps[::2]]
    first_steps = [s for _, s, _ in steps[::2]]
    entered = _ago(f"(CAST(n AS BIGINT) * 2599987) % {DAYS * 86400} + 3600")
    jsonb = "::jsonb" if PG else ""
    # Journey 0 takes every fifth enrollment; one in ten of those is in its holdout.
    holdout = f"CASE WHEN n % 50 = 0 THEN {_true()} ELSE {_false()} END"
    _execute(f"""
        {with_clause}
        INSERT INTO journeys_enrollment (journey_id, contact_id, current_step_id, state,
            step_entered_at, visits, is_holdout, variants, claim_token, entered_at, finished_at)
        SELECT {_case("n", journeys)}, {low} + (CAST(n AS BIGINT) * 104729) % {span},
            {_case("n", first_steps)},
            CASE WHEN n % 7 = 0 THEN 'goal_reached' ELSE 'completed' END, {entered}, '{{}}'{jsonb},
            {holdout}, '{{}}'{jsonb}, '', {entered}, {entered}
        FROM {source}
    """)


def _events(n: int) -> None:
    """The rest of the 10M events: page views, form posts, webinar sign-ups over 60 days
    (bench.generators.events_generate overflows PostgreSQL's integer at this size)."""
    low, high = contact_id_range()
    span = high - low + 1
    with_clause, source = _series(n)
    kinds = ["'pricing_view'", "'webinar_registered'", "'email_click'", "'form_submit'",
             "'email_open'"]  # fmt: skip
    properties = _json("'page', '/pricing'")
    _execute(f"""
        {with_clause}
        INSERT INTO contacts_event (contact_id, type, occurred_at, received_at, properties,
            source, idempotency_key, handled_at)
        SELECT {low} + (CAST(n AS BIGINT) * 7919) % {span}, {_case("n", kinds)},
            {_ago(f"(CAST(n AS BIGINT) * 104729) % {DAYS * 86400}")}, {_now()}, {properties},
            'bench', 'rep-' || {_text("n")}, {_now()}
        FROM {source}
    """)


def _responses() -> None:
    """Links and clicks, replies, meetings, STOPs, the decision log, tasks and deals, each
    a share of the messages."""
    now = _now()
    m = "sends_outboundmessage"
    statements = [
        f"""INSERT INTO sends_trackedlink (token, message_id, key, destination, is_key_link,
                created_at)
            SELECT 'tok' || {_text("id")}, id, 'book', 'https://example.com/book', {_false()},
                created_at FROM {m} WHERE id % 10 = 0""",
        f"""INSERT INTO sends_linkclick (link_id, at, ip_address, user_agent, is_bot)
            SELECT l.id, l.created_at, '198.51.100.7', 'Mozilla/5.0',
                CASE WHEN l.id % 10 < 6 THEN {_false()} ELSE {_true()} END
            FROM sends_trackedlink l WHERE l.id % 10 < 9""",
        f"""INSERT INTO contacts_event (contact_id, type, occurred_at, received_at, properties,
                source, idempotency_key, handled_at)
            SELECT contact_id, 'sms_reply', sent_at, {now},
                {_json("'message_id', id, 'body', 'Yes, call me', 'journey_id', journey_id")},
                'sms', 'reply-' || {_text("id")}, {now}
            FROM {m} WHERE id % 50 = 0 AND sent_at IS NOT NULL""",
        f"""INSERT INTO contacts_event (contact_id, type, occurred_at, received_at, properties,
                source, idempotency_key, handled_at)
            SELECT contact_id, 'meeting_booked', sent_at, {now}, {_json("'with', 'rep'")}, 'crm',
                'meeting-' || {_text("id")}, {now}
            FROM {m} WHERE id % 200 = 0 AND sent_at IS NOT NULL""",
        f"""INSERT INTO sends_inboundmessage (provider_sid, from_address, to_address, body,
                contact_id, keyword_kind, keyword, outcome, received_at, classification_rule,
                classification_language, classification_detail, messaging_service_sid)
            SELECT 'SMstop' || {_text("id")}, to_address, '+13125550000', 'STOP', contact_id,
                'opt_out', 'STOP', 'opted out', sent_at, 'keyword', 'en', 'stop', ''
            FROM {m} WHERE id % 333 = 0 AND sent_at IS NOT NULL""",
        f"""INSERT INTO sends_messageevent (message_id, kind, status, detail, at)
            SELECT id, 'decision', 'queued',
                {_json("'decision', 'allow', 'reason_code', 'allowed'")}, queued_at
            FROM {m}""",
        f"""INSERT INTO sends_messageevent (message_id, kind, status, detail, at)
            SELECT id, 'decision', CASE WHEN id % 20 = 0 THEN 'deferred' ELSE 'suppressed' END,
                CASE WHEN id % 20 = 0
                    THEN {_json("'decision', 'defer', 'reason_code', 'quiet_hours'")}
                    ELSE {_json("'decision', 'suppress', 'reason_code', 'frequency_cap'")} END,
                queued_at
            FROM {m} WHERE id % 20 = 0 OR id % 50 = 1""",
        f"""INSERT INTO routing_followuptask (contact_id, signal_type, intent, reason_code,
                reason, context, journey_id, priority, status, assignment, assignment_note,
                created_at, sla_minutes, sla_clock, warn_at, due_at, first_touch_at, outcome,
                outcome_note, last_signal_at, signal_count)
            SELECT contact_id, 'reply', 'positive', 'reply', 'Replied', {_json("'message_id', id")},
                journey_id, 2, CASE WHEN id % 100 = 0 THEN 'in_progress' ELSE 'open' END,
                'queue', '', sent_at, 15, 'clock', sent_at, sent_at,
                CASE WHEN id % 100 = 0 THEN sent_at END, '', '', sent_at, 1
            FROM {m} WHERE id % 50 = 0 AND sent_at IS NOT NULL""",
        f"""INSERT INTO contacts_opportunity (name, contact_id, stage, amount, currency,
                external_id, opened_at, attributes)
            SELECT 'Bench deal ' || {_text("id")}, contact_id,
                CASE WHEN id % 400 = 0 THEN 'closed_won' ELSE 'discovery' END, 25000, 'USD',
                'bench-opp-' || {_text("id")}, sent_at, '{{}}'
            FROM {m} WHERE id % 200 = 0 AND sent_at IS NOT NULL""",
        """INSERT INTO contacts_opportunitystagechange (opportunity_id, from_stage, to_stage,
                changed_at)
            SELECT id, '', 'discovery', opened_at FROM contacts_opportunity""",
        """INSERT INTO contacts_opportunitystagechange (opportunity_id, from_stage, to_stage,
                changed_at)
            SELECT id, 'discovery', 'closed_won', opened_at FROM contacts_opportunity
            WHERE stage = 'closed_won'""",
    ]
    for sql in statements:
        _execute(sql)


def _execute(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


def _table_count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return cursor.fetchone()[0]


def _analyze() -> None:
    _execute("ANALYZE")


def _events_count() -> float:
    return best_of(lambda: _table_count("contacts_event"))


# --- figures ---------------------------------------------------------------------------------


def _build_figure(build: float, sizes: dict) -> Figure:
    from apps.reporting.models import Attribution, DailyRollup

    return Figure(
        f"first build of attribution and daily rollups, {DAYS} days "
        f"({sizes['contacts']} contacts, {_table_count('contacts_event')} events, "
        f"{sizes['messages']} messages → {DailyRollup.objects.count()} rollup rows, "
        f"{Attribution.objects.count()} attribution rows)",
        build,
        "s",
        "COUNT(*) over the events table",
        _events_count(),
        target="report",
    )


def _refresh_figure() -> Figure:
    """The beat's incremental run after a few new clicks and replies."""
    _execute(f"""
        INSERT INTO sends_linkclick (link_id, at, ip_address, user_agent, is_bot)
        SELECT id, {_now()}, NULL, 'Mozilla/5.0', {_false()}
        FROM sends_trackedlink WHERE id % 97 = 0
    """)
    refresh = best_of(reporting_refresh, runs=3)
    return Figure(
        "incremental refresh of attribution and rollups (today, yesterday and the days new "
        "rows touch)",
        refresh,
        "s",
        "COUNT(*) over the events table",
        _events_count(),
        target="report",
    )


def _dashboard_figure() -> Figure:
    today = timezone.localdate()
    filters = DashboardFilters(start=today - timedelta(days=29), end=today)
    with CaptureQueriesContext(connection) as captured:
        dashboard(filters)
    queries = list(captured.captured_queries)
    read = best_of(lambda: dashboard(filters), runs=5)
    return Figure(
        f"dashboard reads for 30 days over rollups ({len(queries)} queries)",
        read,
        "s",
        "COUNT(*) over the events table",
        _events_count(),
        target="≤ 1x (never scans events)",
    )


def _second_factor_proved(client: Client, user) -> None:
    """An admin must prove a second factor before any page (OTP_REQUIRED_GROUPS): the
    session is marked as having done so, as django-otp marks it after a code."""
    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def _admin_figures() -> list[Figure]:
    admin = User.objects.create(username="bench-admin", is_staff=True, is_superuser=True)
    user_role_set(user=admin, role=ADMIN)
    client = Client()
    client.force_login(admin)
    _second_factor_proved(client, admin)
    pages = [
        ("admin index with the dashboard", "/admin/", None),
        ("contacts changelist", "/admin/contacts/contact/", "contacts_contact"),
        ("events changelist", "/admin/contacts/event/", "contacts_event"),
        ("outbound messages changelist", "/admin/sends/outboundmessage/", "sends_outboundmessage"),
    ]
    figures = []
    for name, url, table in pages:
        client.get(url)  # warm
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        queries = list(captured.captured_queries)  # the next request resets the log
        if os.environ.get("BENCH_SHOW_SQL"):
            shown = (f"  {query['time']}s {query['sql'][:300]}" for query in queries)
            print(url, *shown, sep="\n")
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        page = best_of(lambda url=url: client.get(url), runs=3)
        full = _full_counts(queries, table)
        figures.append(
            Figure(
                f"{name}: page time ({len(queries)} queries; full-table COUNT or DISTINCT: "
                f"{'yes' if full else 'no'})",
                page,
                "s",
                "COUNT(*) over the events table",
                _events_count(),
                target="< 300 ms, bounded queries, no full-table COUNT or DISTINCT",
            )
        )
    return figures


def _full_counts(queries: list[dict], table: str | None) -> list[str]:
    """The COUNT queries over a whole table (no WHERE, no LIMIT) the page ran, and any
    SELECT DISTINCT (a filter's choices read from every row)."""
    found = []
    for query in queries:
        sql = query["sql"].upper()
        if table is not None and table.upper() not in sql:
            continue
        whole = " WHERE " not in sql and " LIMIT " not in sql
        if ("COUNT(" in sql and whole) or "SELECT DISTINCT" in sql:
            found.append(query["sql"])
    return found
