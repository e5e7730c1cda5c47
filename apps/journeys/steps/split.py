"""An A/B split: each enrollment is drawn one variant, stably, by the variants' percentages;
each variant has its own edge."""

import hashlib
from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import ValidationError

from apps.journeys.models import Activity, Step, StepKind
from apps.journeys.steps.base import Move, StepConfig, StepSpec, edge_move, number
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
        variants = config.variants or []
        if len(variants) < 2:
            return ["an A/B split needs at least two variants."]
        total = sum(number(v.get("percent")) for v in variants)
        return [] if total == 100 else [f"the variants' percentages add up to {total}, not 100."]

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
        """A split is saved only whole: its variants named apart and adding up to 100 (a
        draft may have none yet; the activation checks ask for two)."""
        variants = cleaned.get("variants") or []
        if not variants:
            return {}
        errors = []
        names = [v.get("name") for v in variants]
        if not all(names):
            errors.append("Name every variant.")
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            errors.append(f"Two variants are named {', '.join(repeated)}: name each apart.")
        total = sum(number(v.get("percent")) for v in variants)
        if total != 100:
            errors.append(f"The variants' percentages add up to {total}: make them 100.")
        return {"variants": errors} if errors else {}

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
