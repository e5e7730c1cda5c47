class CueError(Exception):
    """A domain rule was broken. Each app raises a subclass; the API maps them to 400."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def as_field_errors(self) -> dict[str, list[str]]:
        return {self.field or "non_field_errors": [self.message]}
