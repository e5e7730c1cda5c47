from apps.core.errors import CueError


class ContactsError(CueError):
    """A contact, event or opportunity write broke a rule; `field` names the culprit."""
