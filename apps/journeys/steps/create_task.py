"""Create a follow-up task: routing's rules pick the rep, as for any high-intent signal."""

from dataclasses import dataclass

from django import forms

from apps.journeys.models import Activity, Step, StepKind
from apps.journeys.steps.base import Move, StepConfig, StepSpec, edge_move


@dataclass(frozen=True)
class CreateTaskConfig(StepConfig):
    reason: str = ""  # empty: "Follow up from <journey>"
    next: str | None = None


class CreateTaskSpec(StepSpec):
    kind = StepKind.CREATE_TASK
    badge, colour = "TASK", "#ffedd5"
    Config = CreateTaskConfig
    fieldset = "Task"
    layout = ["task_reason"]

    def edges(self, config: CreateTaskConfig) -> list[tuple[str, str | None]]:
        return [("next", config.next)]

    def summary(self, config: CreateTaskConfig, template_names: dict) -> str:
        return config.reason or "follow-up task"

    def form_fields(self) -> dict[str, forms.Field]:
        return {
            "task_reason": forms.CharField(required=False, max_length=300, label="Why follow up")
        }

    def config_from_form(self, cleaned: dict) -> CreateTaskConfig:
        return CreateTaskConfig(
            reason=cleaned.get("task_reason") or "", next=cleaned.get("next_step") or None
        )

    def form_initial(self, config: CreateTaskConfig, *, own: bool) -> dict:
        return {"task_reason": config.reason}

    def run(self, context, step: Step, config: CreateTaskConfig) -> Move:
        reason = config.reason or f"Follow up from {context.journey.name}"
        task = context.task_create(step, reason)
        task_id = getattr(task, "pk", None)
        context.log(
            step, Activity.Kind.TASK, f"Follow-up task {task_id}: {reason}", task_id=task_id
        )
        return edge_move(config.next, "", said=_said(context, reason) if context.dry else "")


def _said(context, reason: str) -> str:
    contact = context.contact
    owner = contact.owner if contact.owner_id else None
    who = f"the contact's owner is {owner}" if owner else "the contact has no owner"
    return f"Creates a follow-up task ({reason}); routing rules pick who gets it ({who})."
