"""Set the contact's lifecycle stage; reaching the journey's goal stage ends it at once."""

from dataclasses import dataclass

from django import forms

from apps.contacts.stages import lifecycle_choices, lifecycle_keys, lifecycle_reached
from apps.journeys.models import EnrollmentState, Step, StepKind
from apps.journeys.steps.base import Move, StepConfig, StepSpec, edge_move


def stage_choices() -> list[tuple[str, str]]:
    """The customer's lifecycle stages, read when the form is built (they are data)."""
    return [("", "—"), *lifecycle_choices()]


@dataclass(frozen=True)
class SetStageConfig(StepConfig):
    stage: str | None = None
    next: str | None = None


class SetStageSpec(StepSpec):
    kind = StepKind.SET_LIFECYCLE_STAGE
    badge, colour = "STAGE", "#e5e7eb"
    Config = SetStageConfig
    fieldset = "Stage"
    layout = ["stage"]

    def edges(self, config: SetStageConfig) -> list[tuple[str, str | None]]:
        return [("next", config.next)]

    def problems(self, step: Step, config: SetStageConfig) -> list[str]:
        stage = config.stage
        return [] if stage in lifecycle_keys() else [f"{stage!r} is not a lifecycle stage."]

    def summary(self, config: SetStageConfig, template_names: dict) -> str:
        return f"stage → {config.stage or '?'}"

    def form_fields(self) -> dict[str, forms.Field]:
        return {
            "stage": forms.ChoiceField(required=False, choices=stage_choices, label="Set stage to")
        }

    def config_from_form(self, cleaned: dict) -> SetStageConfig:
        return SetStageConfig(
            stage=cleaned.get("stage") or None, next=cleaned.get("next_step") or None
        )

    def form_initial(self, config: SetStageConfig, *, own: bool) -> dict:
        return {"stage": config.stage or ""}

    def run(self, context, step: Step, config: SetStageConfig) -> Move:
        stage = config.stage
        context.stage_set(stage)
        goal = context.settings.exit_lifecycle_stage
        if goal and lifecycle_reached(stage, goal):
            # The goal is met now: the steps after this one must not run (a message would go
            # out before the stage-change event reaches the journeys' handler).
            reason = f"Goal reached: lifecycle stage reached {stage}."
            said = f"Sets the lifecycle stage to {stage}."
            return Move(end_state=EnrollmentState.GOAL_REACHED, reason=reason, said=said)
        said = (
            f"Sets the lifecycle stage to {stage} (later branches here still see it as it is now)."
        )
        return edge_move(config.next, f"Lifecycle stage set to {stage}.", said=said)
