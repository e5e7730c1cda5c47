"""Wait: a duration from when the step was entered, or until a time the triggering event
carries ("1 h before the webinar starts", apps/journeys/moments.py)."""

from dataclasses import dataclass
from datetime import timedelta

from django import forms

from apps.journeys.models import Step, StepKind
from apps.journeys.moments import (
    LATE_AFTER_MINUTES,
    MAX_OFFSET_MINUTES,
    event_moment,
    moment_config_problems,
    moment_label,
)
from apps.journeys.steps.base import Move, StepConfig, StepSpec, edge_move, number
from apps.journeys.steps.form_fields import StepKeyField

UNITS = [("minutes", "minutes"), ("hours", "hours"), ("days", "days")]
MINUTES_IN = {"days": 1440, "hours": 60, "minutes": 1}
_LABELS = (("days", "day", "days"), ("hours", "h", "h"), ("minutes", "min", "min"))


@dataclass(frozen=True)
class WaitConfig(StepConfig):
    minutes: float | None = None
    hours: float | None = None
    days: float | None = None
    until_property: str = ""  # set: wait until the time in this event property instead
    offset_minutes: int | None = None
    late_after_minutes: int | None = None  # None: LATE_AFTER_MINUTES
    next: str | None = None
    on_missed: str | None = None

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.minutes or 0, hours=self.hours or 0, days=self.days or 0)


def duration_label(config: WaitConfig) -> str:
    """24 hours is "24 h"; 3 days is "3 days"; several units are joined."""
    parts = []
    for unit, one, many in _LABELS:
        amount = getattr(config, unit)
        if number(amount) > 0:
            parts.append(f"{amount:g} {one if amount == 1 else many}")
    return " ".join(parts) or "no time set"


class WaitSpec(StepSpec):
    kind = StepKind.WAIT
    badge, colour = "WAIT", "#fef3c7"
    Config = WaitConfig
    fieldset = "Wait"
    layout = [
        ("wait_amount", "wait_unit"),
        ("until_property", "offset_minutes"),
        ("late_after_minutes", "on_missed"),
    ]
    waits = True

    def edges(self, config: WaitConfig) -> list[tuple[str, str | None]]:
        if config.until_property:
            return [("next", config.next), ("missed", config.on_missed)]
        return [("next", config.next)]

    def problems(self, step: Step, config: WaitConfig) -> list[str]:
        if "until_property" in (step.config or {}):
            return moment_config_problems(step.config)
        amount = sum(number(getattr(config, unit)) for unit in MINUTES_IN)
        return [] if amount > 0 else ["say how long to wait (minutes, hours or days)."]

    def segment_entry_problems(self, config: WaitConfig) -> list[str]:
        if not config.until_property:
            return []
        return ["waits for a time in the triggering event, but a segment entry has no event."]

    def summary(self, config: WaitConfig, template_names: dict) -> str:
        if config.until_property:
            return f"waits until {moment_label(config.stored())}"
        return f"waits {duration_label(config)}"

    def form_fields(self) -> dict[str, forms.Field]:
        return {
            "wait_amount": forms.IntegerField(min_value=1, required=False, label="Wait"),
            "wait_unit": forms.ChoiceField(choices=UNITS, initial="hours", label="Unit"),
            "until_property": forms.RegexField(
                regex=r"^[A-Za-z0-9_.-]{1,64}$",
                required=False,
                label="Or wait until the time in the event's",
                help_text="A property of the triggering event holding an ISO 8601 time, "
                "e.g. starts_at.",
            ),
            "offset_minutes": forms.IntegerField(
                required=False,
                min_value=-MAX_OFFSET_MINUTES,
                max_value=MAX_OFFSET_MINUTES,
                label="Minutes from it",
                help_text="Negative is before: -60 is one hour before.",
            ),
            "late_after_minutes": forms.IntegerField(
                required=False,
                min_value=0,
                label="Too late after (min)",
                help_text=f"Past that moment by more than this, the step is missed "
                f"(default {LATE_AFTER_MINUTES}).",
            ),
            "on_missed": StepKeyField(
                label="If missed, go to",
                help_text="When the event has no such time or it is too late. "
                "Empty: the journey ends.",
            ),
        }

    def form_errors(self, cleaned: dict) -> dict[str, list[str]]:
        if cleaned.get("until_property") and cleaned.get("wait_amount"):
            return {
                "until_property": ["Wait either a duration or until the event's time, not both."]
            }
        return {}

    def config_from_form(self, cleaned: dict) -> WaitConfig:
        edge = cleaned.get("next_step") or None
        if cleaned.get("until_property"):
            return WaitConfig(
                until_property=cleaned["until_property"],
                offset_minutes=cleaned.get("offset_minutes") or 0,
                late_after_minutes=cleaned.get("late_after_minutes"),
                next=edge,
                on_missed=cleaned.get("on_missed") or None,
            )
        unit = cleaned.get("wait_unit") or "hours"
        return WaitConfig(**{unit: cleaned.get("wait_amount")}, next=edge)

    def form_initial(self, config: WaitConfig, *, own: bool) -> dict:
        initial = {
            "until_property": config.until_property,
            "offset_minutes": config.offset_minutes,
            "late_after_minutes": config.late_after_minutes,
            "on_missed": config.on_missed or "",
        }
        return {**initial, **_amount_initial(config)} if own else initial

    def run(self, context, step: Step, config: WaitConfig) -> Move:
        if config.until_property:
            return self._until_moment(context, config)
        said = f"Waits {duration_label(config)}." if context.dry else ""
        until = context.entered_at() + config.duration
        if context.now >= until:
            return edge_move(config.next, "", said=said)
        return Move(sleep_until=until, reason=f"Waiting {config.duration}.", said=said)

    def _until_moment(self, context, config: WaitConfig) -> Move:
        stored = config.stored()
        moment = event_moment(
            stored, context.trigger_properties(), zone=context.contact.time_zone, now=context.now
        )
        if moment.missed:
            ending = f"{moment.reason} Completed."
            return edge_move(config.on_missed, moment.reason, said=moment.reason, ending=ending)
        if context.now >= moment.at:
            return edge_move(config.next, f"It is {moment_label(stored)}.", said=moment.reason)
        return Move(sleep_until=moment.at, reason=moment.reason, said=moment.reason)


def _amount_initial(config: WaitConfig) -> dict:
    minutes = sum(
        (getattr(config, unit) or 0) * size
        for unit, size in MINUTES_IN.items()
        if isinstance(getattr(config, unit), int | float)
    )
    if not minutes:
        return {}
    unit = next(u for u, size in MINUTES_IN.items() if minutes % size == 0)
    return {"wait_amount": int(minutes // MINUTES_IN[unit]), "wait_unit": unit}
