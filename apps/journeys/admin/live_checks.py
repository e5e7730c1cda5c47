"""What the builder's script needs to show a step's problems live, before anything is
submitted: each kind's edge fields, whether it waits, where its variants and template are
chosen (all read from the kinds' specs, so the script knows no kind by name), and which
templates have an approved version. The server's checks (graph.py) stay the authority: they
run again on save and on activation."""

from apps.journeys.steps import SPECS, StepSpec
from apps.journeys.steps.form_fields import StepKeyField
from apps.journeys.steps.split import VariantsField


def builder_kinds() -> dict:
    """{kind: {"edges": {field: label}, "waits", "variants", "template", "fields"}} for the
    script ("fields": the builder fields a step of the kind shows)."""
    return {kind: _kind(spec) for kind, spec in SPECS.items()}


def _kind(spec: StepSpec) -> dict:
    fields = spec.form_fields()
    edges = {"next_step": "next"} if spec.follows_next else {}
    edges |= {name: _edge_label(name) for name, f in fields.items() if isinstance(f, StepKeyField)}
    channel = getattr(spec, "channel", "")
    return {
        "edges": edges,
        "waits": spec.waits,
        "variants": next((n for n, f in fields.items() if isinstance(f, VariantsField)), ""),
        "template": f"{channel}_template" if channel else "",
        "fields": list(dict.fromkeys([*edges, *spec.builder_fields()])),
    }


def _edge_label(field_name: str) -> str:
    """The edge's name as the server's checks say it ("then", "else", "timeout", "missed")."""
    name = field_name.removesuffix("_step").removeprefix("on_")
    return {"else": "else", "then": "then"}.get(name, name)


def approved_templates() -> dict[int, str]:
    """{id: the approved text} of templates whose current version is approved: the only ones
    a send step may use, with what the builder previews under the picker."""
    from apps.library.models import MessageTemplate

    approved = MessageTemplate.objects.filter(current_version__status="approved")
    rows = approved.values_list("pk", "current_version__subject", "current_version__body")
    return {pk: f"{subject}\n\n{body}" if subject else body for pk, subject, body in rows}


def builder_checks_data() -> dict:
    texts = approved_templates()
    return {"kinds": builder_kinds(), "approved_templates": list(texts), "previews": texts}
