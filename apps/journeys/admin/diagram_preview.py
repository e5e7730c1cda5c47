"""The diagram of the steps as the builder's form holds them, before anything is saved: the
page posts its form as it stands and gets the SVG back, drawn by diagram.py as the saved
diagram is. Each step form is read by the builder's own StepForm fields and its kind's spec, so
a half-filled step is drawn from the fields that are valid so far. With it come the problems
of each split's variants, in the rule's own words, for the live checks to show. Nothing is
written."""

import re

from django.core.exceptions import ValidationError
from django.http import QueryDict

from apps.journeys.admin.forms import StepForm
from apps.journeys.diagram import journey_diagram_svg
from apps.journeys.models import Step
from apps.journeys.steps import SPECS, step_template_id
from apps.journeys.steps.split import VariantsField

_STEP_PREFIX = re.compile(r"^(?P<prefix>steps-\d+)-key$")


def posted_steps(data: QueryDict) -> list[Step]:
    """The unsaved steps the posted builder form holds, in its order (deleted ones and
    forms with no key or kind left out)."""
    prefixes = [m["prefix"] for name in data if (m := _STEP_PREFIX.match(name))]
    form_class = _form_class()
    ordered = sorted(prefixes, key=_form_index)
    steps = [_posted_step(data, prefix, form_class) for prefix in ordered]
    return sorted((step for step in steps if step is not None), key=lambda s: s.position)


def _form_index(prefix: str) -> int:
    return int(prefix.rsplit("-", 1)[1])


def _posted_step(data: QueryDict, prefix: str, form_class: type[StepForm]) -> Step | None:
    key, kind = data.get(f"{prefix}-key", "").strip(), data.get(f"{prefix}-kind", "")
    if not key or kind not in SPECS or data.get(f"{prefix}-DELETE"):
        return None
    values = _valid_values(form_class(data, prefix=prefix))
    config = SPECS[kind].config_from_form(values).stored()
    return Step(key=key, kind=kind, config=config, position=values.get("position") or 0)


def _valid_values(form) -> dict:
    """Each field's value where that field alone is valid: a split not adding up to 100 or
    a step missing a field is drawn as given (the checks say what is wrong with it)."""
    values = {}
    for name, field in form.fields.items():
        try:
            values[name] = field.clean(form[name].data)
        except ValidationError:
            continue
    return values


def _form_class() -> type[StepForm]:
    """The builder's step form with this request's template choices, as the page has it."""
    from apps.journeys.admin.journeys import step_form_class  # the page's module imports this

    return step_form_class()


def posted_diagram_svg(data: QueryDict, *, counts: dict[str, int] | None = None) -> str:
    """The SVG of the posted steps, first step as posted (else the one listed first)."""
    from apps.library.models import MessageTemplate

    steps = posted_steps(data)
    ids = [pk for step in steps if (pk := step_template_id(step)) is not None]
    names = dict(MessageTemplate.objects.filter(pk__in=ids).values_list("pk", "name"))
    return journey_diagram_svg(
        steps,
        first_key=data.get("start_step") or None,
        template_names=names,
        counts=counts,
        title="Diagram of the steps as they stand (not saved yet)",
    )


def posted_variant_problems(data: QueryDict) -> dict[str, list[str]]:
    """{step key: its problems} for each posted step of a kind with variants (a split): the
    variants field's own error when its lines do not read, else the kind's activation
    check, which is the one rule of split_variants_problems. The live checks show these
    instead of checking the variants again in the page."""
    found = {}
    for match in filter(None, map(_STEP_PREFIX.match, data)):
        prefix = match["prefix"]
        key, kind = data.get(f"{prefix}-key", "").strip(), data.get(f"{prefix}-kind", "")
        spec = SPECS.get(kind)
        name = _variants_field(spec) if spec else None
        if key and name and not data.get(f"{prefix}-DELETE"):
            found[key] = _variants_problems(spec, name, data.get(f"{prefix}-{name}", ""))
    return found


def _variants_field(spec) -> str | None:
    return next((n for n, f in spec.form_fields().items() if isinstance(f, VariantsField)), None)


def _variants_problems(spec, name: str, text: str) -> list[str]:
    try:
        variants = VariantsField(required=False).clean(text)
    except ValidationError as error:
        return error.messages
    config = spec.config_from_form({name: variants})
    return spec.problems(Step(kind=spec.kind, config=config.stored()), config)
