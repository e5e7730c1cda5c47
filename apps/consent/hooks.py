"""What consent tells the apps above it: a contact's current consent state changed.

Fired once per changed state row, inside the transaction that appends the ledger row (or
rebuilds the states after a merge), from the one place every path goes through: the API, the
admin, imports, the opt-in form, keywords (STOP, START, YES), carrier opt-outs, a rep's
opt-out and a changed address. A ledger row that leaves the state as it was (a renewed
opt-in, a second STOP) fires nothing. See `apps.core.hooks` for how handlers run.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from apps.core.hooks import Hook, Listening


@dataclass(frozen=True, slots=True)
class ConsentChange:
    contact_id: int
    channel: str
    purpose: str
    old_status: str  # none when the contact had no state for this channel and purpose
    new_status: str
    action: str  # the ledger row's action that made the change (opt_in, opt_out, ...)
    source: str
    address: str
    record_id: int
    at: datetime  # when the ledger row says it happened

    @property
    def key(self) -> str:
        return f"consent:{self.contact_id}:{self.record_id}:{self.purpose}"


consent_change_hook: Hook[ConsentChange] = Hook("consent.change")


def consent_change_handler_register(
    name: str, handler: Callable[[list[ConsentChange]], None], *, listening: Listening | None = None
) -> None:
    consent_change_hook.register(name, handler, listening=listening)
