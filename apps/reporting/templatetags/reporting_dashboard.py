"""The dashboard's number filters (the page itself: apps.reporting.dashboard_page)."""

from django import template

register = template.Library()


@register.filter
def percent(value, digits: int = 1) -> str:
    """0.0312 → "3.1%"; None (nothing to divide by) → "–"."""
    return "–" if value is None else f"{value * 100:.{digits}f}%"


@register.filter
def amount(value) -> str:
    """Counts as integers, credit shares (linear attribution) with one decimal."""
    if value is None:
        return "–"
    number = float(value)
    return f"{number:,.0f}" if number.is_integer() else f"{number:,.1f}"
