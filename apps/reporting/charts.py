"""Charts as server-rendered SVG: no script, no CDN. Every label is escaped here, so the
result is safe to place in a page as it is."""

from collections.abc import Sequence
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

COLOURS = ("#417690", "#e0a030", "#70a050", "#c05050", "#8060b0", "#40a0a0")
WIDTH = 640


def _number(value: float) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def _svg(height: int, title: str, body: list[str], css_class: str) -> SafeString:
    label = escape(title)
    return mark_safe(
        f'<svg class="cue-chart {css_class}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-label="{label}">'
        f"<title>{label}</title>{''.join(body)}</svg>"
    )


def funnel_svg(stages: Sequence[tuple[str, float]], *, title: str = "Funnel") -> SafeString:
    """Horizontal bars, widest first, each with its count and its share of the first."""
    row, label_width = 30, 170
    top = max((value for _, value in stages), default=0) or 1
    first = stages[0][1] if stages else 0
    body = []
    for index, (label, value) in enumerate(stages):
        y = index * row + 4
        width = max((WIDTH - label_width - 110) * value / top, 1 if value else 0)
        share = f" ({value / first:.0%})" if first and index else ""
        body.append(
            f'<text x="{label_width - 8}" y="{y + 17}" text-anchor="end" class="label">'
            f"{escape(label)}</text>"
            f'<rect x="{label_width}" y="{y}" width="{width:.1f}" height="{row - 8}" '
            f'fill="{COLOURS[0]}" data-stage="{escape(label)}" data-value="{value}"></rect>'
            f'<text x="{label_width + width + 6:.1f}" y="{y + 17}" class="value">'
            f"{_number(value)}{share}</text>"
        )
    return _svg(len(stages) * row + 8, title, body, "cue-funnel")


def trend_svg(
    days: Sequence[date], series: Sequence[tuple[str, Sequence[float]]], *, title: str
) -> SafeString:
    """One line per series over the days, with the highest value marked on the axis."""
    height, left, bottom, top_pad = 230, 48, 40, 12
    plot_w, plot_h = WIDTH - left - 12, height - bottom - top_pad
    peak = max((max(values, default=0) for _, values in series), default=0) or 1
    step = plot_w / max(len(days) - 1, 1)
    body = [
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}" '
        'class="axis"></line>',
        f'<text x="{left - 6}" y="{top_pad + 8}" text-anchor="end" class="tick">'
        f"{_number(peak)}</text>",
        f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end" class="tick">0</text>',
    ]
    if days:
        body.append(
            f'<text x="{left}" y="{height - bottom + 16}" class="tick">{days[0]:%b %d}</text>'
            f'<text x="{left + plot_w}" y="{height - bottom + 16}" text-anchor="end" '
            f'class="tick">{days[-1]:%b %d}</text>'
        )
    for index, (name, values) in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        points = " ".join(
            f"{left + i * step:.1f},{top_pad + plot_h - plot_h * v / peak:.1f}"
            for i, v in enumerate(values)
        )
        body.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2" '
            f'data-series="{escape(name)}"></polyline>'
            f'<rect x="{left + index * 120}" y="{height - 16}" width="10" height="10" '
            f'fill="{colour}"></rect>'
            f'<text x="{left + index * 120 + 14}" y="{height - 7}" class="legend">'
            f"{escape(name)}</text>"
        )
    return _svg(height, title, body, "cue-trend")


def bars_svg(items: Sequence[tuple[str, float, str]], *, title: str) -> SafeString:
    """Horizontal bars (label, value 0–1, caption), e.g. opt-out rate per template."""
    row, label_width = 26, 230
    top = max((value for _, value, _ in items), default=0) or 1
    body = []
    for index, (label, value, caption) in enumerate(items):
        y = index * row + 4
        width = (WIDTH - label_width - 150) * value / top
        short = label if len(label) <= 34 else f"{label[:33]}…"
        body.append(
            f'<text x="{label_width - 8}" y="{y + 14}" text-anchor="end" class="label">'
            f"<title>{escape(label)}</title>{escape(short)}</text>"
            f'<rect x="{label_width}" y="{y}" width="{width:.1f}" height="{row - 8}" '
            f'fill="{COLOURS[3]}"></rect>'
            f'<text x="{label_width + width + 6:.1f}" y="{y + 14}" class="value">'
            f"{value:.2%} {escape(caption)}</text>"
        )
    return _svg(max(len(items), 1) * row + 8, title, body, "cue-bars")
