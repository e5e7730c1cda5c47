"""Exit: the journey ends here, completed."""

from dataclasses import dataclass

from apps.journeys.models import EnrollmentState, Step, StepKind
from apps.journeys.steps.base import Move, StepConfig, StepSpec


@dataclass(frozen=True)
class ExitConfig(StepConfig):
    pass


class ExitSpec(StepSpec):
    kind = StepKind.EXIT
    badge, colour = "EXIT", "#f1f5f9"
    Config = ExitConfig
    fieldset = ""
    follows_next = False

    def edges(self, config: ExitConfig) -> list[tuple[str, str | None]]:
        return []

    def summary(self, config: ExitConfig, template_names: dict) -> str:
        return ""

    def config_from_form(self, cleaned: dict) -> ExitConfig:
        return ExitConfig()

    def run(self, context, step: Step, config: ExitConfig) -> Move:
        # Completed, not exited: what earlier steps sent still goes out. "Exited" is kept for
        # a contact taken out of the journey, whose queued messages must stop.
        return Move(
            end_state=EnrollmentState.COMPLETED,
            reason="Reached an exit step.",
            said="Reaches an exit step.",
            ending="Ends here (completed).",
        )
