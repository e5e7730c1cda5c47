"""What a simulated step reports."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Move:
    """What a simulated step reports, and where the walk goes: `to` a step, or `end`."""

    outcome: str
    to: str | None = None
    end: str = ""
    edges: tuple[tuple[str, str], ...] = ()
    gate: object = None
    preview: str = ""
