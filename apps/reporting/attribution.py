"""The attribution rule, in one place.

A conversion is a meeting booked (a `meeting_booked` event), an opportunity created, an
opportunity stage progression (a move forward in its pipeline: to a later open stage, or to a
won one), or closed-won revenue (the opportunity's amount on a move into a won stage; stages
and their meanings are the customer's, apps/contacts/stages.py), each at the moment it
happened in the source system (not when Cue heard of it) and for the contact it belongs to.
A touch is an SMS or an email a journey sent to that contact: a person's click on one of
its tracked links (bots and link previewers never count), a reply to it, or (SMS only) its
delivery, at the moment of the click, the reply or the delivery report. Email opens never
count: mail clients fetch images for the reader. Each touch type has its own window
(AttributionSettings): a touch qualifies for a conversion when it happened no later than
the conversion and at most its type's window before it (by default 5 days for SMS clicks
and replies, 12 hours for SMS deliveries, 7 days for email clicks and replies; both edges
inclusive). Among the qualifying touches, each (message, touch type) pair counts once, at
its latest moment for last touch and its earliest for first touch. Last touch gives all the
credit to the latest pair, first touch to the earliest (ties go to SMS click, SMS reply,
email click, email reply, then SMS delivery, then the later message), and linear gives each
pair 1/n. A conversion with no qualifying touch is not attributed to Cue's messages at
all. Revenue influenced is the closed-won amount times the credit.

Everything here is set-based SQL, the same on SQLite and PostgreSQL: `attribution_insert`
writes the Attribution rows of the conversions in a time range in one INSERT … SELECT.
Every number shown anywhere (dashboard, exports, tests) is read from those rows.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from apps.reporting.models import AttributionModel, AttributionSettings, ConversionKind
from apps.reporting.sql import at_most_seconds_apart, datetime_param, json_bigint

TOUCH_PRIORITY = {"click": 1, "reply": 2, "email_click": 3, "email_reply": 4, "delivery": 5}
REPLY_EVENTS = {"sms": "sms_reply", "email": "email_reply"}


@dataclass(frozen=True)
class Rule:
    """The settings the SQL needs: windows in seconds per counted touch type, the model and
    the conversion kinds attributed."""

    windows: dict[str, int]
    model: str
    kinds: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: AttributionSettings | None = None) -> "Rule":
        settings = settings or AttributionSettings.current()
        kinds = [
            kind
            for kind, wanted in (
                (ConversionKind.MEETING_BOOKED, settings.attribute_meetings),
                (ConversionKind.OPPORTUNITY_CREATED, settings.attribute_opportunities),
                (ConversionKind.STAGE_PROGRESSION, settings.attribute_progressions),
                (ConversionKind.CLOSED_WON, settings.attribute_revenue),
            )
            if wanted
        ]
        windows = {kind: hours * 3600 for kind, hours in settings.windows_hours().items()}
        return cls(windows=windows, model=settings.model, kinds=tuple(kinds))


# The customer's stages (apps.contacts.stages, in SQL): an opportunity with no pipeline is
# in the default one; a progression is a move forward, to a stage that is not lost from a
# lost, unknown or earlier one; closed won is a move into a won stage from one that is not.
_PIPELINE = (
    "COALESCE(o.pipeline_id, (SELECT p.id FROM contacts_pipeline p WHERE p.is_default = TRUE))"
)


def _stage_sql(alias: str, column: str, condition: str) -> str:
    return (
        f"SELECT 1 FROM contacts_pipelinestage {alias} WHERE {alias}.pipeline_id = {_PIPELINE} "
        f"AND {alias}.key = {column} AND {condition}"
    )


_TO_OPEN_OR_WON = _stage_sql("ts", "sc.to_stage", "ts.meaning <> 'lost'")
_FROM_NOT_BEHIND = _stage_sql(
    "fs", "sc.from_stage", 'fs.meaning <> \'lost\' AND fs."order" >= ts."order"'
)
_FORWARD = f"EXISTS ({_TO_OPEN_OR_WON} AND NOT EXISTS ({_FROM_NOT_BEHIND}))"
_TO_WON = _stage_sql("ts", "sc.to_stage", "ts.meaning = 'won'")
_FROM_WON = _stage_sql("fs", "sc.from_stage", "fs.meaning = 'won'")
_WON = f"EXISTS ({_TO_WON}) AND NOT EXISTS ({_FROM_WON})"


def _conversions_sql(kinds: tuple[str, ...]) -> tuple[str, int]:
    """UNION ALL of the conversion kinds asked for (kind, id, contact, time, value), and how
    many time ranges it takes as parameters."""
    opportunity = (
        "FROM contacts_opportunitystagechange sc "
        "JOIN contacts_opportunity o ON o.id = sc.opportunity_id "
        "WHERE o.contact_id IS NOT NULL AND sc.changed_at >= %s AND sc.changed_at < %s"
    )
    parts = {
        ConversionKind.MEETING_BOOKED: (
            "SELECT 'meeting_booked', e.id, e.contact_id, e.occurred_at, 0 FROM contacts_event e "
            "WHERE e.type = 'meeting_booked' AND e.occurred_at >= %s AND e.occurred_at < %s"
        ),
        ConversionKind.OPPORTUNITY_CREATED: (
            "SELECT 'opportunity_created', sc.id, o.contact_id, sc.changed_at, 0 "
            f"{opportunity} AND sc.from_stage = ''"
        ),
        ConversionKind.STAGE_PROGRESSION: (
            "SELECT 'stage_progression', sc.id, o.contact_id, sc.changed_at, 0 "
            f"{opportunity} AND sc.from_stage <> '' AND {_FORWARD}"
        ),
        ConversionKind.CLOSED_WON: (
            "SELECT 'closed_won', sc.id, o.contact_id, sc.changed_at, o.amount "
            f"{opportunity} AND {_WON}"
        ),
    }
    chosen = [parts[kind] for kind in ConversionKind.values if kind in kinds]
    return " UNION ALL ".join(chosen), len(chosen)


_TOUCH_COLUMNS = (
    "c.kind, c.conversion_id, c.contact_id, c.converted_at, c.value, m.id AS message_id, "
    "m.journey_id, m.template_version_id, m.step_id"
)


def _journey_message(channel: str) -> str:
    return f"m.journey_id IS NOT NULL AND m.channel = '{channel}'"


def _click_sql(touch_type: str, channel: str, window: int) -> str:
    """A person's clicks on the tracked links of a journey's message of the channel."""
    return (
        f"SELECT {_TOUCH_COLUMNS}, '{touch_type}' AS touch_type, k.at AS touched_at, "
        f"{TOUCH_PRIORITY[touch_type]} AS priority "
        "FROM conversions c "
        "JOIN sends_outboundmessage m ON m.contact_id = c.contact_id "
        "JOIN sends_trackedlink l ON l.message_id = m.id "
        "JOIN sends_linkclick k ON k.link_id = l.id "
        f"WHERE {_journey_message(channel)} AND k.is_bot = FALSE AND k.at <= c.converted_at "
        f"AND {at_most_seconds_apart('c.converted_at', 'k.at', window)}"
    )


def _reply_sql(touch_type: str, channel: str, window: int) -> str:
    """The contact's reply events that name a journey's message of the channel."""
    return (
        f"SELECT {_TOUCH_COLUMNS}, '{touch_type}', r.occurred_at, {TOUCH_PRIORITY[touch_type]} "
        "FROM conversions c "
        "JOIN contacts_event r ON r.contact_id = c.contact_id "
        f"AND r.type = '{REPLY_EVENTS[channel]}' "
        f"JOIN sends_outboundmessage m ON m.id = {json_bigint('r.properties', 'message_id')} "
        f"WHERE {_journey_message(channel)} AND m.contact_id = c.contact_id "
        "AND r.occurred_at <= c.converted_at "
        f"AND {at_most_seconds_apart('c.converted_at', 'r.occurred_at', window)}"
    )


def _delivery_sql(window: int) -> str:
    return (
        f"SELECT {_TOUCH_COLUMNS}, 'delivery', m.delivered_at, {TOUCH_PRIORITY['delivery']} "
        "FROM conversions c "
        "JOIN sends_outboundmessage m ON m.contact_id = c.contact_id "
        f"WHERE {_journey_message('sms')} AND m.delivered_at IS NOT NULL "
        "AND m.delivered_at <= c.converted_at "
        f"AND {at_most_seconds_apart('c.converted_at', 'm.delivered_at', window)}"
    )


# Each touch type's query, given its window in seconds (an email's delivery says nothing
# about a reader, so only an SMS delivery is a touch; an email open never is).
_TOUCH_SQL = {
    "click": lambda window: _click_sql("click", "sms", window),
    "reply": lambda window: _reply_sql("reply", "sms", window),
    "email_click": lambda window: _click_sql("email_click", "email", window),
    "email_reply": lambda window: _reply_sql("email_reply", "email", window),
    "delivery": _delivery_sql,
}


def _touches_sql(windows: dict[str, int]) -> str:
    """Every (conversion, touch) pair within the touch type's window."""
    parts = [query(windows[kind]) for kind, query in _TOUCH_SQL.items() if kind in windows]
    return " UNION ALL ".join(parts)


_CREDIT = {
    AttributionModel.LAST_TOUCH: ("last_at", "1.0", "r.last_rank = 1"),
    AttributionModel.FIRST_TOUCH: ("first_at", "1.0", "r.first_rank = 1"),
    AttributionModel.LINEAR: ("last_at", "1.0 / r.touches", "1 = 1"),
}


def attribution_select_sql(*, rule: Rule, start: datetime, end: datetime) -> tuple[str, list]:
    """WITH … SELECT of the Attribution rows for the conversions in [start, end)."""
    conversions, ranges = _conversions_sql(rule.kinds)
    touched_at, credit, chosen = _CREDIT[rule.model]
    sql = f"""
        WITH conversions (kind, conversion_id, contact_id, converted_at, value) AS (
            {conversions}
        ),
        touches AS ({_touches_sql(rule.windows)}),
        pairs AS (
            SELECT kind, conversion_id, contact_id, converted_at, value, message_id,
                journey_id, template_version_id, step_id, touch_type,
                MAX(touched_at) AS last_at, MIN(touched_at) AS first_at, MIN(priority) AS priority
            FROM touches
            GROUP BY kind, conversion_id, contact_id, converted_at, value, message_id,
                journey_id, template_version_id, step_id, touch_type
        ),
        ranked AS (
            SELECT p.*,
                ROW_NUMBER() OVER (PARTITION BY kind, conversion_id
                    ORDER BY last_at DESC, priority ASC, message_id DESC) AS last_rank,
                ROW_NUMBER() OVER (PARTITION BY kind, conversion_id
                    ORDER BY first_at ASC, priority ASC, message_id DESC) AS first_rank,
                COUNT(*) OVER (PARTITION BY kind, conversion_id) AS touches
            FROM pairs p
        )
        SELECT r.kind, r.conversion_id, r.contact_id, r.converted_at, r.value, r.message_id,
            r.touch_type, r.{touched_at}, r.journey_id, COALESCE(r.template_version_id, 0),
            COALESCE(v.template_id, 0), COALESCE(r.step_id, 0), {credit}, %s, %s
        FROM ranked r
        LEFT JOIN library_templateversion v ON v.id = r.template_version_id
        WHERE {chosen}
    """
    bounds = [datetime_param(start), datetime_param(end)]
    params = bounds * ranges
    return sql, [*params, rule.model, datetime_param(timezone.now())]


ATTRIBUTION_COLUMNS = (
    "kind, conversion_id, contact_id, converted_at, value, message_id, touch_type, touched_at, "
    "journey_id, template_version_id, template_id, step_id, credit, model, computed_at"
)


def attribution_insert(*, rule: Rule, start: datetime, end: datetime) -> int:
    """Inserts the Attribution rows of [start, end) (the caller deleted the old ones)."""
    if not rule.kinds or not rule.windows:
        return 0
    select, params = attribution_select_sql(rule=rule, start=start, end=end)
    head, body = select.split("SELECT r.kind", 1)
    sql = f"{head} INSERT INTO reporting_attribution ({ATTRIBUTION_COLUMNS}) SELECT r.kind{body}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
