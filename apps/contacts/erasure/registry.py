"""The parts of a data-subject request: each app says what it holds about a contact.

A part is one kind of row (the export's file, the preview's line). Its app registers it
from `AppConfig.ready()` with `erasure_part_register`, as merges do (contacts.merge):

- `export(contact)`: the rows, as JSON-ready dicts (every column, nothing left out);
- `count(contact)`: how many rows the export and the erasure cover;
- `erase(contact, context)`: anonymises them in place, in the erasure's transaction, and
  answers how many rows it changed;
- `traces(contact, traces)`, optional: adds identifiers only this part knows (an old
  number a message went to, a Segment anonymous id), gathered before anything changes;
- `refuse(contact)`, optional: a reason to refuse the erasure now (a message in flight).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from apps.contacts.erasure.traces import PersonTraces
from apps.contacts.models import Contact


@dataclass(frozen=True)
class ErasureContext:
    """What a part's eraser is told besides the contact: who, why, when, and the traces."""

    actor: object
    reason: str
    at: datetime
    traces: PersonTraces


@dataclass(frozen=True)
class ErasurePart:
    label: str
    export: Callable[[Contact], list[dict]]
    count: Callable[[Contact], int]
    erase: Callable[[Contact, ErasureContext], int]
    traces: Callable[[Contact, PersonTraces], None] | None = None
    refuse: Callable[[Contact], str | None] | None = None


_parts: dict[str, ErasurePart] = {}


def erasure_part_register(name: str, part: ErasurePart) -> None:
    """Registers a part under `name` ("app.kind"); the same name again replaces it."""
    _parts[name] = part


def erasure_parts() -> dict[str, ErasurePart]:
    """Every registered part, by name, in registration order (contacts' own first)."""
    return dict(_parts)


def traces_gather(contact: Contact) -> PersonTraces:
    """Every identifier of the person that any part knows, read before anything changes."""
    traces = PersonTraces()
    for part in _parts.values():
        if part.traces is not None:
            part.traces(contact, traces)
    return traces
