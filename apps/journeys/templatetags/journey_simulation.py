"""The simulator's times, each in the contact's zone (every zone the send gate would place
them in) and in the signed-in user's."""

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()


@register.simple_tag
def local_times(moment: datetime | None, contact_zones: list[str], user_zone: str) -> str:
    """e.g. "Tue 10 Mar 08:00 CDT (contact, America/Chicago) · 09:00 EDT (you, …)"."""
    if moment is None:
        return ""
    shown = [(name, "contact") for name in contact_zones] or [("", "contact, zone unknown")]
    shown.append((user_zone, "you"))
    return format_html(
        '<span class="cue-times">{}</span>',
        format_html_join(" · ", "<time datetime=\"{}\">{}</time> ({})", (
            (moment.isoformat(), _local(moment, name), _whose(name, who)) for name, who in shown
        )),
    )  # fmt: skip


def _local(moment: datetime, zone_name: str) -> str:
    try:
        zone = ZoneInfo(zone_name) if zone_name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone).strftime("%a %d %b %Y %H:%M %Z")


def _whose(zone_name: str, who: str) -> str:
    return f"{who}, {zone_name}" if zone_name else f"{who}, shown in UTC"
