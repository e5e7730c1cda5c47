"""An A/B split: each enrollment is drawn one variant, stably, by the variants' percentages;
each variant has its own edge."""

import hashlib
import json
import re
from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import ValidationError

from apps.journeys.models import Activity, Step, StepKind
from apps.journeys.steps.base import Move, StepConfig, StepSpec, edge_move
from apps.journeys.steps.form_fields import STEP_KEY, ListTextField


@dataclass(frozen=True)
class SplitConfig(StepConfig):
    variants: list = field(default_factory=list)  # [{"name": "A", "percent": 50, "next": key}]


def split_choose(enrollment_id: int, step_key: str, variants: list[dict]) -> str:
    """A stable, evenly spread choice: the same enrollment always gets the same variant."""
    digest = hashlib.sha256(f"{enrollment_id}:{step_key}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") % 100
    cumulative = 0
    for variant in variants:
        cumulative += variant.get("percent", 0)
        if point < cumulative:
            return variant.get("name")
    return variants[-1].get("name")


FEWER_THAN_TWO = "an A/B split needs at least two variants."


@dataclass(frozen=True)
class VariantProblem:
    """What is wrong with a split's variants: `place` is the variant's place (1 for the
    first) and `part` its field, or neither when it concerns the split as a whole."""

    text: str
    place: int | None = None
    part: str = ""

    @property
    def path(self) -> str:
        """Where in the step's config, e.g. "variants.#2.percent"."""
        where = "variants" if self.place is None else f"variants.#{self.place}"
        return f"{where}.{self.part}" if self.part else where


def split_variants_problems(variants) -> list[VariantProblem]:
    """The one rule a split's variants meet, wherever they come from (the builder's rows,
    the API, a stored config at activation): at least two, each an object with a name of
    its own, a whole percent from 0 to 100 and an optional step key, adding up to 100. No
    variants at all is no problem here: a draft may not have them yet."""
    if not isinstance(variants, list):
        return [VariantProblem("the variants must be a list of name, percent and next step.")]
    if not variants:
        return []
    problems = [] if len(variants) >= 2 else [VariantProblem(FEWER_THAN_TWO)]
    names: list = []
    for place, variant in enumerate(variants, start=1):
        problems += _variant_problems(variant, place, names)
        names.append(variant.get("name") if isinstance(variant, dict) else None)
    percents = [v.get("percent") if isinstance(v, dict) else None for v in variants]
    if all(_whole_percent(p) for p in percents) and len(variants) >= 2 and sum(percents) != 100:
        total = sum(percents)
        problems.append(VariantProblem(f"the variants' percentages add up to {total}, not 100."))
    return problems


def _variant_problems(variant, place: int, names_before: list) -> list[VariantProblem]:
    if not isinstance(variant, dict):
        return [
            VariantProblem(
                f"variant #{place} must be an object with a name, a percent and a next step.",
                place,
            )
        ]
    name, problems = variant.get("name"), []
    called = f"variant {name}" if isinstance(name, str) and name.strip() else f"variant #{place}"
    if name is None or (isinstance(name, str) and not name.strip()):
        problems.append(VariantProblem(f"variant #{place} has no name.", place, "name"))
    elif not isinstance(name, str):
        problems.append(
            VariantProblem(
                f"variant #{place}'s name must be text, not {json.dumps(name)}.", place, "name"
            )
        )
    elif not VARIANT_NAME.match(name):
        problems.append(
            VariantProblem(
                f"variant #{place}'s name must be up to 32 characters, without commas, line "
                "breaks or spaces around it.",
                place,
                "name",
            )
        )
    elif name in names_before:
        problems.append(
            VariantProblem(f"two variants are named {name}: name each apart.", place, "name")
        )
    percent = variant.get("percent")
    if "percent" not in variant:
        problems.append(VariantProblem(f"{called} has no percent.", place, "percent"))
    elif not _whole_percent(percent):
        problems.append(
            VariantProblem(
                f"{called}'s percent must be a whole number from 0 to 100, "
                f"not {json.dumps(percent)}.",
                place,
                "percent",
            )
        )
    target = variant.get("next")
    if target not in (None, "") and not (isinstance(target, str) and STEP_KEY.match(target)):
        problems.append(
            VariantProblem(
                f"{called}'s next step must be a step key, not {json.dumps(target)}.",
                place,
                "next",
            )
        )
    return problems


def _whole_percent(value) -> bool:
    return type(value) is int and 0 <= value <= 100


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


# The rows write "name, percent, next" lines: a comma or a line break would split a name.
VARIANT_NAME = re.compile(r"^(?!\s)[^,\r\n]{1,32}(?<!\s)$")


class VariantsField(ListTextField):
    """One variant per line: name, percent, next step (e.g. `A, 50, offer_a`)."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 40})

    def prepare_value(self, value):
        if not isinstance(value, list):
            return value
        return "\n".join(
            ", ".join(
                str(part) for part in (v.get("name"), v.get("percent"), v.get("next")) if part
            )
            for v in value
        )

    def to_python(self, value):
        if isinstance(value, list):
            return value
        variants = []
        for line_number, line in enumerate((value or "").splitlines(), start=1):
            if line.strip():
                variants.append(_variant(line, line_number))
        return variants


def _variant(line: str, line_number: int) -> dict:
    parts = [p.strip() for p in (line.split(",") if "," in line else line.split())]
    if len(parts) not in (2, 3) or not parts[1].isdigit():
        raise ValidationError(
            f"Line {line_number}: write name, percent, next step — e.g. A, 50, offer_a."
        )
    if len(parts) == 3 and not STEP_KEY.match(parts[2]):
        raise ValidationError(f"Line {line_number}: {parts[2]!r} is not a step key.")
    variant = {"name": parts[0], "percent": int(parts[1])}
    return {**variant, "next": parts[2]} if len(parts) == 3 else variant


class SplitSpec(StepSpec):
    kind = StepKind.SPLIT
    badge, colour = "A/B", "#f3e8ff"
    Config = SplitConfig
    fieldset = "A/B split"
    layout = ["variants"]
    follows_next = False

    def edges(self, config: SplitConfig) -> list[tuple[str, str | None]]:
        return [(v.get("name", "?"), v.get("next")) for v in config.variants]

    def outcome_labels(self, config: SplitConfig) -> list[str]:
        return [f"variant {v.get('name', '?')}" for v in config.variants]

    def problems(self, step: Step, config: SplitConfig) -> list[str]:
        if not config.variants:
            return [FEWER_THAN_TWO]
        return [problem.text for problem in split_variants_problems(config.variants)]

    def config_errors(self, config: SplitConfig) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        for problem in split_variants_problems(config.variants):
            errors.setdefault(problem.path, []).append(_sentence(problem.text))
        return errors

    def summary(self, config: SplitConfig, template_names: dict) -> str:
        return " · ".join(f"{v.get('name', '?')} {v.get('percent', 0)}%" for v in config.variants)

    def form_fields(self) -> dict[str, forms.Field]:
        return {
            "variants": VariantsField(
                required=False,
                help_text="One per line: name, percent, next step — e.g. A, 50, offer_a.",
            )
        }

    def form_errors(self, cleaned: dict) -> dict[str, list[str]]:
        """A split is saved only whole (a draft may have no variants yet; the activation
        checks ask for two): the same rule as the API's and the activation's."""
        problems = split_variants_problems(cleaned.get("variants") or [])
        return {"variants": [_sentence(p.text) for p in problems]} if problems else {}

    def config_from_form(self, cleaned: dict) -> SplitConfig:
        return SplitConfig(variants=cleaned.get("variants") or [])

    def form_initial(self, config: SplitConfig, *, own: bool) -> dict:
        return {"variants": config.variants}

    def run(self, context, step: Step, config: SplitConfig) -> Move:
        variants = config.variants or []
        chosen = context.variant_choose(step, variants)
        target = next((v.get("next") for v in variants if v.get("name") == chosen), None)
        context.log(step, Activity.Kind.DECISION, f"A/B split: variant {chosen}.", variant=chosen)
        said = _drawn_words(variants, chosen) if context.dry else ""
        move = edge_move(target, f"Variant {chosen}.", said=said)
        if move.to:
            return move
        return edge_move(None, f"Variant {chosen} ends here.", said=said)


def _drawn_words(variants: list[dict], chosen: str) -> str:
    shares = ", ".join(f"{v.get('name')} {v.get('percent')}% → {v.get('next')}" for v in variants)
    return (
        f"The variant is drawn when the contact enters (per enrollment): {shares}. "
        f"Following {chosen}."
    )
