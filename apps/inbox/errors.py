from apps.core.errors import CueError


class InboxError(CueError):
    """A conversation action that cannot be done, in words for the person who tried."""
