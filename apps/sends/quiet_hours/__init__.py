"""Quiet hours in the recipient's local time: which zones and which rules cover them, when a
text may reach them, and for how long Twilio may hold it. `recipient_window` is the one
function the gate, dispatch and the audit ask."""

from apps.sends.quiet_hours.check import (
    DEFAULT_WINDOW,
    HOLD_COUNTRY_UNSUPPORTED,
    HOLD_NO_COMMON_WINDOW,
    HOLD_ZONE_UNKNOWN,
    TWILIO_MAX_VALIDITY_SECONDS,
    TWILIO_MIN_VALIDITY_SECONDS,
    QuietHoursDecision,
    effective_schedule,
    message_validity_seconds,
    quiet_hours_check,
)
from apps.sends.quiet_hours.recipient import (
    Recipient,
    recipient_validity_seconds,
    recipient_window,
)
from apps.sends.quiet_hours.rules import (
    LegalRule,
    QuietHoursDataError,
    QuietHoursRules,
    SplitAreaCode,
    StateRule,
    load_rules,
)
from apps.sends.quiet_hours.windows import (
    SEARCH_HORIZON,
    LocalWindow,
    WeeklyWindows,
    is_inside,
    is_inside_everywhere,
    next_allowed_moment,
    window_closes_at,
)
from apps.sends.quiet_hours.zones import (
    applicable_state_rules,
    candidate_zones,
    phone_zones,
    recipient_countries,
    split_area_code,
)

__all__ = [
    "DEFAULT_WINDOW",
    "HOLD_COUNTRY_UNSUPPORTED",
    "HOLD_NO_COMMON_WINDOW",
    "HOLD_ZONE_UNKNOWN",
    "SEARCH_HORIZON",
    "TWILIO_MAX_VALIDITY_SECONDS",
    "TWILIO_MIN_VALIDITY_SECONDS",
    "LegalRule",
    "LocalWindow",
    "QuietHoursDataError",
    "QuietHoursDecision",
    "QuietHoursRules",
    "Recipient",
    "SplitAreaCode",
    "StateRule",
    "WeeklyWindows",
    "applicable_state_rules",
    "candidate_zones",
    "effective_schedule",
    "is_inside",
    "is_inside_everywhere",
    "load_rules",
    "message_validity_seconds",
    "next_allowed_moment",
    "phone_zones",
    "quiet_hours_check",
    "recipient_countries",
    "recipient_validity_seconds",
    "recipient_window",
    "split_area_code",
    "window_closes_at",
]
