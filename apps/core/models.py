from django.db import models


class Heartbeat(models.Model):
    """The last time a background process (worker, beat) proved it was alive."""

    name = models.CharField(max_length=64, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.seen_at:%Y-%m-%d %H:%M:%S}"
