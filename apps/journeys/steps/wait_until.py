"""Wait until an event (e.g. webinar_attended) happens, or time out: two edges."""

from dataclasses import dataclass, field
from datetime import timedelta

from django import forms

from apps.journeys.models import Step, StepKind
from apps.journeys.steps.base import (
    EDGE_HELP,
    UNKNOWN,
    Move,
    StepConfig,
    StepSpec,
    edge_move,
    number,
)
from apps.journeys.steps.form_fields import EventTypesField, StepKeyField


@dataclass(frozen=True)
class WaitUntilConfig(StepConfig):
    events: list = field(default_factory=list)
    within_hours: float | None = None
    next: str | None = None  # the event happened
    on_timeout: str | None = None


class WaitUntilSpec(StepSpec):
    kind = StepKind.WAIT_UNTIL
    badge, colour = "UNTIL", "#fde68a"
    Config = WaitUntilConfig
    fieldset = "Wait until"
    layout = ["events", ("within_hours", "on_timeout")]
    waits = True

    def edges(self, config: WaitUntilConfig) -> list[tuple[str, str | None]]:
        return [("event", config.next), ("timeout", config.on_timeout)]

    def outcome_labels(self, config: WaitUntilConfig) -> list[str]:
        events = " or ".join(config.events or []) or "(no event set)"
        return [f"{events} happens", f"no {events} within {number(config.within_hours):g} h"]

    def problems(self, step: Step, config: WaitUntilConfig) -> list[str]:
        problems = []
        if not config.events:
            problems.append("list the events to wait for.")
        if number(config.within_hours) <= 0:
            problems.append("say how many hours to wait before timing out.")
        return problems

    def summary(self, config: WaitUntilConfig, template_names: dict) -> str:
        events = " or ".join(config.events or []) or "no event set"
        hours = config.within_hours
        return f"{events}, up to {hours:g} h" if isinstance(hours, int | float) else events

    def form_fields(self) -> dict[str, forms.Field]:
        return {
            "events": EventTypesField(
                required=False, label="Events", help_text="Comma-separated, e.g. webinar_attended."
            ),
            "within_hours": forms.IntegerField(
                min_value=1, required=False, label="At most (hours)"
            ),
            "on_timeout": StepKeyField(label="If none in time, go to", help_text=EDGE_HELP),
        }

    def config_from_form(self, cleaned: dict) -> WaitUntilConfig:
        return WaitUntilConfig(
            events=cleaned.get("events") or [],
            within_hours=cleaned.get("within_hours"),
            next=cleaned.get("next_step") or None,
            on_timeout=cleaned.get("on_timeout") or None,
        )

    def form_initial(self, config: WaitUntilConfig, *, own: bool) -> dict:
        return {
            "events": config.events,
            "within_hours": config.within_hours,
            "on_timeout": config.on_timeout or "",
        }

    def run(self, context, step: Step, config: WaitUntilConfig) -> Move:
        events = config.events or []
        since = context.entered_at()
        happened = context.event_since(events, since)
        if happened is UNKNOWN:  # the simulator: whether it happens is the future's to say
            return _forks(step, config)
        if happened:
            reason = f"{happened.type} happened at {happened.occurred_at:%Y-%m-%d %H:%M}."
            return edge_move(config.next, reason)
        deadline = since + timedelta(hours=config.within_hours or 0)
        if context.now >= deadline:
            return edge_move(config.on_timeout, f"No {' or '.join(events)} in time.")
        return Move(sleep_until=deadline, reason=f"Waiting for {', '.join(events)}.")


def _forks(step: Step, config: WaitUntilConfig) -> Move:
    events = " or ".join(config.events or []) or "(no event set)"
    hours = config.within_hours or 0
    return Move(
        said=f"Waits up to {hours} h for {events}.",
        forks=(
            (f"{events} happens", config.next or "the end"),
            (f"no {events} within {hours} h", config.on_timeout or "the end"),
        ),
        ending=f"At {step.key} the path divides: what comes next depends on whether {events} "
        "happens. Each way is followed.",
    )
