"""The journey diagram: one box per step, one labelled arrow per edge, layered by distance
from the first step, every text escaped, a dangling edge in red."""

import xml.etree.ElementTree as ET

from apps.journeys.diagram import BOX_H, MISSING_COLOUR, ROW_GAP, journey_diagram_svg
from apps.journeys.models import Step

SVG = "{http://www.w3.org/2000/svg}"


def steps_of(*specs):
    return [Step(key=key, kind=kind, config=config) for key, kind, config in specs]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def boxes(root: ET.Element) -> dict[str, ET.Element]:
    return {
        g.get("data-key"): g
        for g in root.iter(f"{SVG}g")
        if "cue-step" in (g.get("class") or "").split()
    }


def arrows(root: ET.Element) -> list[tuple[str, str, str]]:
    return [
        (g.get("data-from"), g.get("data-label"), g.get("data-to"))
        for g in root.iter(f"{SVG}g")
        if "cue-edge" in (g.get("class") or "").split()
    ]


def top(box: ET.Element) -> float:
    return float(box.find(f"{SVG}rect").get("y"))


REMINDER = steps_of(
    ("remind", "send_sms", {"template": 7, "next": "attend"}),
    (
        "attend",
        "wait_until",
        {"events": ["webinar_attended"], "within_hours": 3, "next": "thanks", "on_timeout": "ab"},
    ),
    (
        "ab",
        "split",
        {
            "variants": [
                {"name": "A", "percent": 50, "next": "check"},
                {"name": "B", "percent": 50, "next": "done"},
            ]
        },
    ),
    (
        "check",
        "branch",
        {"condition": {"rules": {"all": []}}, "then": "thanks", "else": "done"},
    ),
    ("thanks", "wait", {"hours": 24}),
    ("done", "exit", {}),
)


def test_it_draws_a_box_for_each_step_and_an_arrow_for_each_edge():
    # Given a journey with a send, a wait_until, a split, a branch, a wait and an exit
    # When it is drawn
    root = parse(journey_diagram_svg(REMINDER, first_key="remind", template_names={7: "Remind"}))
    # Then every step has its box and every edge its labelled arrow
    assert sorted(boxes(root)) == ["ab", "attend", "check", "done", "remind", "thanks"]
    assert sorted(arrows(root)) == [
        ("ab", "A", "check"),
        ("ab", "B", "done"),
        ("attend", "event", "thanks"),
        ("attend", "timeout", "ab"),
        ("check", "else", "done"),
        ("check", "then", "thanks"),
        ("remind", "next", "attend"),
    ]
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "cue-edge-label"]
    assert sorted(labels) == ["A", "B", "else", "event", "next", "then", "timeout"]


def test_it_labels_each_box_with_its_kind_and_what_it_does():
    root = parse(journey_diagram_svg(REMINDER, first_key="remind", template_names={7: "Remind"}))
    texts = {key: [t.text for t in box.iter(f"{SVG}text")] for key, box in boxes(root).items()}
    assert texts["remind"] == ["SMS", "remind", "Send SMS", "Remind"]
    assert texts["thanks"] == ["WAIT", "thanks", "Wait", "waits 24 h"]
    assert texts["ab"] == ["A/B", "ab", "A/B split", "A 50% · B 50%"]


def test_it_layers_the_steps_top_to_bottom_by_their_distance_from_the_first():
    root = parse(journey_diagram_svg(REMINDER, first_key="remind"))
    layer = {key: round((top(box) - top(boxes(root)["remind"])) / (BOX_H + ROW_GAP))
             for key, box in boxes(root).items()}  # fmt: skip
    assert layer == {"remind": 0, "attend": 1, "thanks": 2, "ab": 2, "check": 3, "done": 3}


def test_it_escapes_markup_in_step_keys_and_labels():
    # Given a step key and a template name that carry a script
    steps = steps_of(
        ("<script>alert(1)</script>", "send_sms", {"template": 1, "next": "x&y"}),
        ("x&y", "exit", {}),
    )
    names = {1: '<script>alert("name")</script>'}
    # When drawn
    svg = journey_diagram_svg(steps, template_names=names, title="<b>Journey</b>")
    # Then no markup gets through, and the text reads as written
    assert "<script" not in svg
    assert "<b>" not in svg
    root = parse(svg)
    assert sorted(boxes(root)) == ["<script>alert(1)</script>", "x&y"]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "<script>alert(1)</s…" in texts
    assert '<script>alert("name")</script>' in texts
    assert root.find(f"{SVG}title").text == "<b>Journey</b>"


def test_it_draws_a_dangling_edge_in_red_to_a_missing_box():
    # Given a branch whose else leads to a key that is no step
    steps = steps_of(
        ("check", "branch", {"condition": {"rules": {"all": []}}, "then": "ok", "else": "gone"}),
        ("ok", "exit", {}),
    )
    root = parse(journey_diagram_svg(steps))
    # Then the edge is drawn dashed in red, to a red box that says it is missing
    [missing] = [
        g for g in root.iter(f"{SVG}g") if "cue-edge-missing" in (g.get("class") or "").split()
    ]
    assert (missing.get("data-from"), missing.get("data-label"), missing.get("data-to")) == (
        "check",
        "else",
        "gone",
    )
    path = missing.find(f"{SVG}path")
    assert (path.get("stroke"), path.get("stroke-dasharray")) == (MISSING_COLOUR, "5 4")
    ghost = boxes(root)["gone"]
    assert ghost.get("class") == "cue-step cue-step-missing"
    assert [t.text for t in ghost.iter(f"{SVG}text")] == ["gone", "missing: no step has this key"]
    ok_path = next(g for g in root.iter(f"{SVG}g") if g.get("data-to") == "ok").find(f"{SVG}path")
    assert ok_path.get("stroke") == "#475569"


def test_it_dashes_a_step_the_first_step_never_reaches():
    steps = steps_of(("start", "exit", {}), ("orphan", "wait", {"hours": 1}))
    root = parse(journey_diagram_svg(steps, first_key="start"))
    orphan = boxes(root)["orphan"]
    assert orphan.find(f"{SVG}rect").get("stroke-dasharray") == "4 3"
    assert top(orphan) > top(boxes(root)["start"])
    assert boxes(root)["start"].find(f"{SVG}rect").get("stroke-dasharray") is None


def test_it_shows_how_many_enrollments_wait_on_a_step():
    root = parse(journey_diagram_svg(REMINDER, first_key="remind", counts={"attend": 12}))
    counts = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "cue-step-count"]
    assert counts == ["12 here"]


def test_it_draws_a_loop_back_to_an_earlier_step_round_the_side():
    steps = steps_of(
        ("wait", "wait", {"days": 1, "next": "nudge"}),
        ("nudge", "send_sms", {"template": 1, "next": "wait"}),
    )
    root = parse(journey_diagram_svg(steps))
    assert sorted(arrows(root)) == [("nudge", "next", "wait"), ("wait", "next", "nudge")]


def test_it_says_so_when_there_are_no_steps():
    root = parse(journey_diagram_svg([]))
    assert [t.text for t in root.iter(f"{SVG}text")] == ["No steps yet."]
