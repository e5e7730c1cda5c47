"""Hand-off points from a lower app to the apps above it, for changes they must hear of.

A lower app declares one `Hook` per kind of change (a message's outcome, a consent state, a
follow-up task) and fires it with the list of what changed, inside the transaction that makes
the change; higher apps register handlers from `AppConfig.ready()` (DESIGN.md: imports point
down, no Django signals). A handler therefore writes its outbox rows atomically with the
change, and must leave network work to `transaction.on_commit`.

Firing is cheap when nobody listens: `fire` takes a function that builds the records and
calls it only when some handler is listening (a handler may register a `listening` check,
e.g. "is any webhook endpoint subscribed?"), so a hot path with no listener pays that check
and nothing else. Set-based changes fire once with the whole batch.

A handler that raises does not undo the change it is told of: it runs in its own savepoint,
which is rolled back, and the failure is logged with the hook, the handler and the keys of
the records.
The change (a status Twilio will not report again, a STOP) matters more than any one
listener, and a listener that needs to retry keeps its own durable outbox for that.
"""

import logging
from collections.abc import Callable
from typing import Generic, TypeVar

from django.db import transaction

logger = logging.getLogger(__name__)

Record = TypeVar("Record")
Handler = Callable[[list[Record]], None]
Listening = Callable[[], bool]


class Hook(Generic[Record]):
    """One kind of change that higher apps may listen to."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._handlers: dict[str, tuple[Handler, Listening | None]] = {}

    def register(self, name: str, handler: Handler, *, listening: Listening | None = None) -> None:
        """`handler(records)` runs on each change; registering a name again replaces it.
        `listening()`, when given, is asked first: False skips this handler for the change."""
        self._handlers[name] = (handler, listening)

    def unregister(self, name: str) -> None:
        self._handlers.pop(name, None)

    def fire(self, build: Callable[[], list[Record]]) -> int:
        """Hands the records `build()` returns to every listening handler. Returns how many
        handlers ran (0 when none listened, without calling `build`)."""
        if not self._handlers:
            return 0
        listeners = [
            (name, handler)
            for name, (handler, listening) in self._handlers.items()
            if listening is None or listening()
        ]
        records = self._build(build) if listeners else []
        if not records:
            return 0
        for name, handler in listeners:
            self._run(name, handler, records)
        return len(listeners)

    def _build(self, build: Callable[[], list[Record]]) -> list[Record]:
        try:
            with transaction.atomic():
                return build()
        except Exception:
            logger.exception("%s: reading the records failed; the change stands", self.name)
            return []

    def _run(self, name: str, handler: Handler, records: list[Record]) -> None:
        try:
            with transaction.atomic():
                handler(records)
        except Exception:
            # Keys, not records: a record may carry a reply's text or a phone number.
            keys = [getattr(record, "key", "?") for record in records[:5]]
            logger.exception(
                "%s handler %r failed on %d record(s) (%s); the change stands",
                self.name,
                name,
                len(records),
                ", ".join(keys),
            )
