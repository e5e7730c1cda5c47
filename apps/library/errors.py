from apps.core.errors import CueError


class LibraryError(CueError):
    """A template write or review broke a rule.

    `field` names the culprit; `errors` carries every problem found at once (a submit can
    fail several lint rules), as {field: [messages]}, which the API returns as is.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str = "invalid",
        errors: dict[str, list[str]] | None = None,
    ):
        super().__init__(message, field=field, code=code)
        self.errors = errors or {field or "non_field_errors": [message]}

    @classmethod
    def from_errors(cls, errors: dict[str, list[str]]) -> "LibraryError":
        fields = list(errors)
        message = " ".join(m for messages in errors.values() for m in messages)
        return cls(message, field=fields[0] if len(fields) == 1 else None, errors=errors)

    def as_field_errors(self) -> dict[str, list[str]]:
        return self.errors

    @property
    def messages(self) -> list[str]:
        return [message for messages in self.errors.values() for message in messages]
