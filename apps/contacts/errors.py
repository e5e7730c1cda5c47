from apps.core.errors import CueError


class ContactsError(CueError):
    """A contact, event or opportunity write broke a rule; `field` names the culprit."""


def contact_erased_refusal(contact) -> "ContactsError | None":
    """An erased person's row stays anonymised: nothing is written to it again (an update,
    an import row, an event). A person who comes back is a new contact."""
    erased_at = getattr(contact, "erased_at", None)
    if erased_at is None:
        return None
    return ContactsError(
        f"Contact {contact.pk} was erased on {erased_at:%Y-%m-%d}: nothing is written to it "
        "again. A person who returns is a new contact.",
        field="contact",
        code="erased",
    )
