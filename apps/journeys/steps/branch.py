"""Branch on a condition: the contact as the CRM sees it now (the segment rule language),
or what became of a message an earlier step sent. Two edges: then and else."""

from dataclasses import dataclass, field

from django import forms

from apps.journeys.models import Activity, Step, StepKind
from apps.journeys.steps.base import UNKNOWN, Move, StepConfig, StepSpec, edge_move
from apps.journeys.steps.form_fields import STEP_KEY, JSONTextField, StepKeyField

OUTCOME_ORDER = ("clicked", "replied", "delivered", "opened", "bounced")
OUTCOMES = set(OUTCOME_ORDER)
# Shown wherever a branch on "opened" is built or read: an open is no proof of reading.
OPENED_CAVEAT = (
    "Opens are unreliable: mail clients such as Apple Mail fetch images for the reader, so many "
    "emails count as opened that nobody read. Clicks are the reliable signal."
)


@dataclass(frozen=True)
class BranchConfig(StepConfig):
    # {"rules": <segment rules>} or {"step_outcome": {"step": key, "is": one of OUTCOMES}}
    condition: dict | None = None
    then: str | None = None
    otherwise: str | None = field(default=None, metadata={"key": "else"})


def condition_errors(condition) -> list[str]:
    """What is wrong with a condition as the builder gives it."""
    from apps.contacts.segments import segment_rules_validate

    if not isinstance(condition, dict) or len(condition) != 1:
        return ['Give {"rules": ...} or {"step_outcome": ...}.']
    if "rules" in condition:
        return segment_rules_validate(condition["rules"])
    outcome = condition.get("step_outcome")
    if not isinstance(outcome, dict):
        return ['Give {"rules": ...} or {"step_outcome": {"step": ..., "is": ...}}.']
    errors = []
    if not STEP_KEY.match(str(outcome.get("step", ""))):
        errors.append("step_outcome.step: give the key of the send step.")
    if outcome.get("is") not in OUTCOMES:
        errors.append(f"step_outcome.is: one of {', '.join(sorted(OUTCOMES))}.")
    return errors


def _picked_outcome(cleaned: dict) -> dict | None:
    """The condition picked in the builder: what became of a step's message."""
    if not cleaned.get("outcome_is"):
        return None
    return {
        "step_outcome": {"step": cleaned.get("outcome_step") or "", "is": cleaned["outcome_is"]}
    }


class BranchSpec(StepSpec):
    kind = StepKind.BRANCH
    badge, colour = "IF", "#dcfce7"
    Config = BranchConfig
    fieldset = "Branch"
    layout = [("outcome_step", "outcome_is"), "condition", ("then_step", "else_step")]
    follows_next = False

    def edges(self, config: BranchConfig) -> list[tuple[str, str | None]]:
        return [("then", config.then), ("else", config.otherwise)]

    def outcome_labels(self, config: BranchConfig) -> list[str]:
        outcome = (config.condition or {}).get("step_outcome")
        if isinstance(outcome, dict):
            happened = str(outcome.get("is", "?"))
            return [happened, f"not {happened}"]
        return ["matches the rules", "does not match the rules"]

    def problems(self, step: Step, config: BranchConfig) -> list[str]:
        problems = [
            f'set where "{edge}" leads.' for edge, target in self.edges(config) if not target
        ]
        condition = config.condition or {}
        if "rules" in condition:
            from apps.contacts.segments import segment_rules_validate

            problems += segment_rules_validate(condition["rules"])
        elif "step_outcome" in condition:
            outcome = condition["step_outcome"] or {}
            if outcome.get("is") not in OUTCOMES:
                problems.append(f"the outcome must be one of {', '.join(sorted(OUTCOMES))}.")
        else:
            problems.append('set a condition: {"rules": ...} or {"step_outcome": ...}.')
        return problems

    def summary(self, config: BranchConfig, template_names: dict) -> str:
        condition = config.condition or {}
        if "step_outcome" in condition:
            outcome = condition.get("step_outcome") or {}
            said = f"if {outcome.get('step', '?')} was {outcome.get('is', '?')}"
            return (
                f"{said} (unreliable: image pre-fetching)"
                if outcome.get("is") == "opened"
                else said
            )
        return "if the contact matches the rules" if "rules" in condition else "no condition set"

    def form_fields(self) -> dict[str, forms.Field]:
        return {
            # What became of a message, picked (the builder offers the steps as a list).
            "outcome_step": forms.RegexField(
                regex=STEP_KEY,
                required=False,
                max_length=64,
                label="If the message of step",
                widget=forms.TextInput(attrs={"size": 16, "class": "cue-step-pick"}),
                error_messages={"invalid": "A step key has letters, digits, - and _ only."},
            ),
            "outcome_is": forms.ChoiceField(
                required=False,
                choices=[("", "—"), *((o, o) for o in OUTCOME_ORDER)],
                label="was",
                help_text=OPENED_CAVEAT,
            ),
            "condition": JSONTextField(
                required=False,
                widget=forms.Textarea(attrs={"rows": 4, "cols": 60, "class": "cue-json"}),
                label="Or a condition",
                help_text='{"rules": <segment rules>} or {"step_outcome": {"step": "<key>", '
                '"is": "delivered" | "clicked" | "replied" | "opened" | "bounced"}}. '
                + OPENED_CAVEAT,
            ),
            "then_step": StepKeyField(label="If it holds, go to"),
            "else_step": StepKeyField(label="Otherwise, go to"),
        }

    def form_errors(self, cleaned: dict) -> dict[str, list[str]]:
        condition, picked = cleaned.get("condition"), _picked_outcome(cleaned)
        if condition not in (None, "") and picked:
            return {
                "condition": ["Pick the message's outcome above or write a condition, not both."]
            }
        if picked and cleaned.get("outcome_step") == "":  # (absent: refused as no key)
            return {"outcome_step": ["Choose the step whose message it is."]}
        if picked or condition in (None, ""):
            return {}
        errors = condition_errors(condition)
        return {"condition": errors} if errors else {}

    def config_from_form(self, cleaned: dict) -> BranchConfig:
        return BranchConfig(
            condition=_picked_outcome(cleaned) or cleaned.get("condition") or None,
            then=cleaned.get("then_step") or None,
            otherwise=cleaned.get("else_step") or None,
        )

    def form_initial(self, config: BranchConfig, *, own: bool) -> dict:
        outcome = (config.condition or {}).get("step_outcome")
        if isinstance(outcome, dict) and set(outcome) == {"step", "is"}:  # shown picked
            return {
                "outcome_step": outcome["step"],
                "outcome_is": outcome["is"],
                "condition": None,
                "then_step": config.then or "",
                "else_step": config.otherwise or "",
            }
        return {
            "condition": config.condition,
            "then_step": config.then or "",
            "else_step": config.otherwise or "",
        }

    def run(self, context, step: Step, config: BranchConfig) -> Move:
        condition = config.condition or {}
        if "rules" in condition:
            holds = context.rules_hold(condition["rules"])
            why = f"Contact {'matches' if holds else 'does not match'} the branch rules."
            said = (
                f"The contact {'matches' if holds else 'does not match'} the rules: "
                f"takes {'then' if holds else 'else'!r}."
            )
        else:
            outcome = condition.get("step_outcome") or {}
            happened = context.step_outcome(outcome.get("step", ""), outcome.get("is", ""))
            holds = happened is True
            why = (
                f"The message of step {outcome.get('step')} {'was' if holds else 'was not'} "
                f"{outcome.get('is')}."
            )
            said = (
                f"Whether the message of {outcome.get('step')} will be {outcome.get('is')} is "
                "not known yet: follows 'else' (it was not)."
                if happened is UNKNOWN
                else why
            )
        context.log(step, Activity.Kind.DECISION, why, holds=holds)
        return edge_move(config.then if holds else config.otherwise, why, said=said)
