from apps.core.errors import CueError


class RoutingError(CueError):
    """A follow-up task could not be worked as asked (wrong state, not the rep's team…)."""
