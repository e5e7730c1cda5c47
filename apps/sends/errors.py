from apps.core.errors import CueError


class SendsError(CueError):
    """A message could not be created as asked (e.g. an unapproved template version)."""
