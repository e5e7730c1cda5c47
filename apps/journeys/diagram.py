"""The journey as a picture: steps → one SVG string, drawn on the server (no script, no CDN).

Steps are laid out top to bottom by their breadth-first depth from the first step; steps the
first one never reaches come below, dashed. An edge to a key that is no step is drawn in red
to a red "missing" box. Every piece of text is escaped, so a step key or template name can
never become markup.
"""

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape

from apps.journeys.models import Step, StepKind
from apps.journeys.steps import SPECS, step_edges, step_summary

BOX_W, BOX_H = 210, 62
COL_GAP, ROW_GAP = 40, 78
MARGIN, LOOP_ROOM = 20, 70
MAX_TEXT = 30

MISSING_COLOUR = "#dc2626"


@dataclass
class Node:
    key: str
    layer: int
    step: Step | None = None  # None: the target of a dangling edge
    reachable: bool = True
    x: float = 0
    y: float = 0

    def top(self) -> tuple[float, float]:
        return self.x + BOX_W / 2, self.y


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str
    dangling: bool


@dataclass
class Layout:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    width: float = 0
    height: float = 0


def journey_diagram_svg(
    steps: Iterable[Step],
    *,
    first_key: str | None = None,
    template_names: dict | None = None,
    counts: dict[str, int] | None = None,
    title: str = "Journey diagram",
) -> str:
    """The SVG of the steps' graph. `counts` adds "n here" to a step's box (enrollments
    waiting on it); `template_names` (template id → name) names what a send step sends."""
    steps = list(steps)
    layout = diagram_layout(steps, first_key=first_key)
    parts = [_svg_open(layout, title), _defs()]
    parts += [_edge_svg(edge, layout) for edge in layout.edges]
    parts += [
        _node_svg(node, template_names or {}, (counts or {}).get(node.key, 0))
        for node in layout.nodes.values()
    ]
    if not steps:
        parts.append(_text(MARGIN, MARGIN + 20, "No steps yet.", "cue-empty"))
    parts.append("</svg>")
    return "\n".join(parts)


def diagram_layout(steps: list[Step], *, first_key: str | None = None) -> Layout:
    by_key = {step.key: step for step in steps}
    layout = Layout()
    start = first_key if first_key in by_key else (steps[0].key if steps else None)
    roots = [start] + [step.key for step in steps if step.key != start] if start else []
    for root in roots:
        if root not in layout.nodes:
            depth = 0 if root == start else _next_layer(layout)
            _walk(layout, by_key, root, depth, reachable=root == start)
    _place(layout)
    return layout


def _next_layer(layout: Layout) -> int:
    return max((node.layer for node in layout.nodes.values()), default=-1) + 1


def _walk(layout: Layout, by_key: dict, root: str, depth: int, *, reachable: bool) -> None:
    """Breadth first: a step's layer is its shortest distance from the root."""
    layout.nodes[root] = Node(root, depth, step=by_key[root], reachable=reachable)
    queue = deque([root])
    while queue:
        key = queue.popleft()
        node = layout.nodes[key]
        for label, target in step_edges(by_key[key]):
            if not target:
                continue  # no edge: the journey ends here
            dangling = target not in by_key
            layout.edges.append(Edge(key, target, label, dangling))
            if target in layout.nodes:
                continue
            layout.nodes[target] = Node(
                target,
                node.layer + 1,
                step=by_key.get(target),
                reachable=reachable,
            )
            if not dangling:
                queue.append(target)


def _place(layout: Layout) -> None:
    layers: dict[int, list[Node]] = {}
    for node in layout.nodes.values():
        layers.setdefault(node.layer, []).append(node)
    widest = max((len(row) for row in layers.values()), default=0)
    inner = widest * BOX_W + max(widest - 1, 0) * COL_GAP
    for layer, row in layers.items():
        row_width = len(row) * BOX_W + (len(row) - 1) * COL_GAP
        left = MARGIN + (inner - row_width) / 2
        for index, node in enumerate(row):
            node.x = left + index * (BOX_W + COL_GAP)
            node.y = MARGIN + layer * (BOX_H + ROW_GAP)
    layout.width = inner + 2 * MARGIN + LOOP_ROOM
    layout.height = MARGIN * 2 + (len(layers) * (BOX_H + ROW_GAP) - ROW_GAP if layers else 40)


def _svg_open(layout: Layout, title: str) -> str:
    width, height = max(layout.width, 260), max(layout.height, 60)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="cue-journey-diagram" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'role="img" aria-label="{escape(title)}" font-family="system-ui, sans-serif" '
        f'font-size="12"><title>{escape(title)}</title>'
    )


def _defs() -> str:
    marker = (
        '<marker id="{id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="{fill}"/></marker>'
    )
    return (
        "<defs>"
        + marker.format(id="cue-arrow", fill="#475569")
        + marker.format(id="cue-arrow-missing", fill=MISSING_COLOUR)
        + "</defs>"
    )


def _edge_svg(edge: Edge, layout: Layout) -> str:
    source, target = layout.nodes[edge.source], layout.nodes[edge.target]
    siblings = [e for e in layout.edges if e.source == edge.source]
    index = siblings.index(edge)
    x1 = source.x + BOX_W * (index + 1) / (len(siblings) + 1)
    y1 = source.y + BOX_H
    tx, ty = target.top()
    if not _is_back(edge, layout):
        bend = ROW_GAP / 2
        path = (
            f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + bend:.1f} "
            f"{tx:.1f},{ty - bend:.1f} {tx:.1f},{ty:.1f}"
        )
        lx, ly = (x1 + tx) / 2, (y1 + ty) / 2 + 4
    else:  # back to an earlier step (a loop through a wait): in the gaps, round the right
        loops = [e for e in layout.edges if _is_back(e, layout)]
        reach = _right_edge(layout) + 18 + 12 * loops.index(edge)
        path = (
            f"M{x1:.1f},{y1:.1f} L{x1:.1f},{y1 + 12:.1f} L{reach:.1f},{y1 + 12:.1f} "
            f"L{reach:.1f},{ty - 12:.1f} L{tx + 12:.1f},{ty - 12:.1f} L{tx + 12:.1f},{ty:.1f}"
        )
        lx, ly = reach, (y1 + ty) / 2
    colour = MISSING_COLOUR if edge.dangling else "#475569"
    marker = "cue-arrow-missing" if edge.dangling else "cue-arrow"
    dash = ' stroke-dasharray="5 4"' if edge.dangling else ""
    css = "cue-edge cue-edge-missing" if edge.dangling else "cue-edge"
    return (
        f'<g class="{css}" data-from="{escape(edge.source)}" data-to="{escape(edge.target)}" '
        f'data-label="{escape(edge.label)}">'
        f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.5"{dash} '
        'stroke-linejoin="round" '
        f'marker-end="url(#{marker})"/>'
        + _text(lx, ly, edge.label, "cue-edge-label", fill=colour, anchor="middle", halo=True)
        + "</g>"
    )


def _is_back(edge: Edge, layout: Layout) -> bool:
    return layout.nodes[edge.target].layer <= layout.nodes[edge.source].layer


def _right_edge(layout: Layout) -> float:
    return max(node.x for node in layout.nodes.values()) + BOX_W


def _node_svg(node: Node, template_names: dict, here: int) -> str:
    x, y = node.x, node.y
    if node.step is None:
        return (
            f'<g class="cue-step cue-step-missing" data-key="{escape(node.key)}">'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{BOX_W}" height="{BOX_H}" rx="8" '
            f'fill="#fef2f2" stroke="{MISSING_COLOUR}" stroke-dasharray="5 4"/>'
            + _text(x + 10, y + 24, _clip(node.key), "cue-step-key", fill=MISSING_COLOUR, bold=True)
            + _text(x + 10, y + 44, "missing: no step has this key", "", fill=MISSING_COLOUR)
            + "</g>"
        )
    step = node.step
    spec = SPECS.get(step.kind)
    fill = spec.colour if spec else "#ffffff"
    dash = "" if node.reachable else ' stroke-dasharray="4 3"'
    badge = spec.badge if spec else "?"
    label = StepKind(step.kind).label if spec else step.kind
    summary = step_summary(step, template_names)
    full = f"{step.key}: {label}, {summary}"  # the box clips; hover and focus show it all
    parts = [
        f'<g class="cue-step cue-step-{escape(step.kind)}" data-key="{escape(step.key)}" '
        f'tabindex="0" role="button" aria-label="{escape(full)}"><title>{escape(full)}</title>',
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{BOX_W}" height="{BOX_H}" rx="8" fill="{fill}" '
        f'stroke="#334155"{dash}/>',
        f'<rect x="{x + 8:.1f}" y="{y + 8:.1f}" width="44" height="16" rx="4" fill="#334155"/>',
        _text(x + 30, y + 20, badge, "cue-step-badge", fill="#ffffff", anchor="middle", size=10),
        _text(x + 58, y + 20, _clip(step.key, 20), "cue-step-key", bold=True),
        _text(x + 10, y + 38, _clip(label), "cue-step-kind", fill="#334155"),
        _text(x + 10, y + 54, _clip(summary), "cue-step-summary", fill="#475569", size=11),
    ]
    if here:
        parts.append(_text(x + BOX_W - 8, y + 20, f"{here} here", "cue-step-count", anchor="end"))
    if not node.reachable:
        parts.append(_text(x, y - 4, "not reached from the first step", "", fill="#64748b"))
    parts.append("</g>")
    return "".join(parts)


def _text(
    x: float,
    y: float,
    text: str,
    css: str,
    *,
    fill: str = "#0f172a",
    anchor: str = "start",
    size: int = 12,
    bold: bool = False,
    halo: bool = False,
) -> str:
    weight = ' font-weight="600"' if bold else ""
    stroke = ' stroke="#ffffff" stroke-width="3" paint-order="stroke"' if halo else ""
    klass = f' class="{css}"' if css else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}"{klass} fill="{fill}" font-size="{size}" '
        f'text-anchor="{anchor}"{weight}{stroke}>{escape(text)}</text>'
    )


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
