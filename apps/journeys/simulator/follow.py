"""Following a path, and every way out of each step where it divides.

The path the simulator predicts is followed as the engine would take it. Where a step has
more than one edge (a condition, a split, a wait until an event, a wait that may be missed),
each edge not taken is followed too, as far as it goes, and kept on the step as a fork: so
the marketer sees what happens if the contact does not match, draws the other variant, or
never attends. An edge back to a step already on the path is shown, not followed again (a
loop would otherwise divide at every turn), and all forks together follow at most
MAX_FOLLOWED steps.

When the marketer chooses the outcomes instead (the walk's `choices`), one path is followed:
at each step that asks what happened (a condition, a split, a wait until an event) the way
chosen there, else the first; each step runs at the time the path reaches it (after a wait,
when the wait ends), and carries the ways it could go for the marketer to choose from.
"""

from dataclasses import dataclass
from datetime import datetime

from apps.journeys.models import EnrollmentState, Step
from apps.journeys.simulator.dry import DryContext, DryFailure
from apps.journeys.steps import SPECS, Move

MAX_STEPS = 25  # the engine's own backstop per run (engine/advance.py)
MAX_FOLLOWED = 150  # steps followed on all the forks of one simulation together
TOO_MANY = "Not followed further: this journey divides too often to show every way."
COMPLETED = "End of the journey (completed)."


@dataclass(frozen=True)
class Fork:
    """One way out of a step where the path divides. The way the simulator predicts is
    `taken` (the path goes on after the step); any other carries its own steps."""

    label: str
    target: str  # the step it leads to; "" for the end of the journey
    taken: bool
    steps: tuple = ()
    ending: str = ""


@dataclass(frozen=True)
class SimulatedStep:
    number: int
    key: str
    kind: str
    kind_label: str
    outcome: str
    edges: tuple[tuple[str, str], ...] = ()  # (edge, where it leads) when the future decides
    decision: str = ""  # the gate's: allow, defer, hold or suppress
    reason_code: str = ""
    reason: str = ""
    until: datetime | None = None  # the gate's: when a deferred message may go
    preview: str = ""
    wakes_at: datetime | None = None  # a wait's: when the contact moves on
    forks: tuple[Fork, ...] = ()
    at: datetime | None = None  # on a chosen path: when the step runs
    options: tuple[tuple[str, str], ...] = ()  # on a chosen path: (edge, outcome) to choose
    chosen: str = ""  # the edge followed from it


class Walker:
    """What every path of one simulation shares: the steps, the dry context, the budget."""

    def __init__(self, steps: dict[str, Step], context: DryContext):
        self.steps, self.context = steps, context
        self.budget = MAX_FOLLOWED
        self.choosing = context.run.choices is not None
        self.clock = context.now  # on a chosen path, when the next step runs

    def follow(
        self, key: str | None, *, number: int = 1, before: tuple[str, ...] = ()
    ) -> tuple[list[SimulatedStep], str]:
        """The steps from `key` on, numbered from `number`, and how the path ends.
        `before` holds the keys already on this path (a loop back to one is not forked)."""
        taken: list[SimulatedStep] = []
        on_path = list(before)
        while number <= MAX_STEPS:
            if key is None:
                return taken, COMPLETED
            step = self.steps.get(key)
            if step is None:
                return taken, f"{key!r} is not a step of this journey: the engine would fail."
            if before and self.budget <= 0:  # a fork's path; the predicted one is not cut
                return taken, TOO_MANY
            if before:
                self.budget -= 1
            record, key, ending = self._take(step, number, tuple(on_path))
            taken.append(record)
            on_path.append(step.key)
            if ending:
                return taken, ending
            number += 1
        return taken, f"Stopped following after {MAX_STEPS} steps."

    def _take(self, step: Step, number: int, before: tuple[str, ...]):
        """(the step as recorded, the next key, the ending if the path ends here)."""
        spec = SPECS[step.kind]
        config = spec.config(step)
        edges = spec.edges(config)
        reached = self.clock
        context = self.context.at(step, tuple(label for label, _ in edges), reached)
        try:
            move = spec.run(context, step, config)
            after = move
            if move.sleep_until:  # the engine runs a waiting step again when its wait is over
                after = spec.run(context.resumed(move.sleep_until), step, config)
        except DryFailure as failure:
            return _record(number, step, Move(said=failure.said)), None, failure.ending
        ending = _ending(step, move, after)
        if self.choosing:
            self.clock = move.sleep_until or reached
            chosen = self._chosen(step, spec, config, edges, after)
            record = _record(number, step, move, wakes_at=move.sleep_until, at=reached, **chosen)
            return record, None if ending else after.to, ending
        forks = ()
        if step.key not in before:  # a step met again forks the same way: shown once
            forks = self._forks(step, edges, move, after, number, before)
        record = _record(number, step, move, forks, wakes_at=move.sleep_until)
        return record, None if ending else after.to, ending

    def _chosen(self, step: Step, spec, config, edges, after: Move) -> dict:
        """The ways out to choose from, for a step that asked what happened."""
        if step.key not in self.context.run.asked:
            return {}
        labels = [label for label, _ in edges]
        options = tuple(zip(labels, spec.outcome_labels(config), strict=False))
        followed = next((label for label, target in edges if target == after.to), "")
        chosen = self.context.run.choices.get(step.key)
        return {"options": options, "chosen": chosen if chosen in labels else followed}

    def _forks(self, step, edges, move: Move, after: Move, number: int, before) -> tuple:
        if len(edges) < 2:
            return ()
        labels = [label for label, _ in move.forks] or [_edge_label(lab) for lab, _ in edges]
        predicted = None if move.forks else after.to
        taken_index = next((i for i, (_, t) in enumerate(edges) if t == predicted), None)
        if after.end_state and after.end_state != EnrollmentState.COMPLETED:
            taken_index = None  # the path ends at the step itself, on no edge
        forks = []
        for index, ((_, target), label) in enumerate(zip(edges, labels, strict=False)):
            if index == taken_index:
                forks.append(Fork(label, target or "", True))
            else:
                forks.append(self._fork(label, target, number, (*before, step.key)))
        return tuple(forks)

    def _fork(self, label: str, target: str | None, number: int, before) -> Fork:
        if not target:
            return Fork(label, "", False, (), COMPLETED)
        if target in before:
            return Fork(label, target, False, (), f"Back to {target}: the path repeats from there.")
        steps, ending = self.follow(target, number=number + 1, before=before)
        return Fork(label, target, False, tuple(steps), ending)


def _edge_label(label: str) -> str:
    return {"then": "if it holds", "else": "if it does not"}.get(label, label)


def _ending(step: Step, move: Move, after: Move) -> str:
    if move.forks:
        return move.ending
    if after.sleep_until:
        return f"Stops following at {step.key}: it would still be waiting."
    if after.end_state:
        if after.ending:
            return after.ending
        return COMPLETED if after.end_state == EnrollmentState.COMPLETED else after.reason
    return COMPLETED if after.to is None else ""


def _record(
    number: int, step: Step, move: Move, forks=(), wakes_at=None, at=None, options=(), chosen=""
) -> SimulatedStep:
    gate = move.gate
    return SimulatedStep(
        number=number,
        key=step.key,
        kind=step.kind,
        kind_label=step.get_kind_display(),
        outcome=move.said,
        edges=move.forks,
        decision=getattr(gate, "decision", ""),
        reason_code=getattr(gate, "reason_code", ""),
        reason=getattr(gate, "reason", ""),
        until=getattr(gate, "until", None),
        preview=move.preview,
        wakes_at=wakes_at,
        forks=forks,
        at=at,
        options=options,
        chosen=chosen,
    )
