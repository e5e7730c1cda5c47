from django.db import models

from apps.contacts.models import Contact


class SegmentWriteKey(models.Model):
    """A key a Segment or RudderStack source sends as its Basic-auth user name. It lets the
    source send events and traits, nothing else. Only its SHA-256 is stored: the key itself
    is shown once, when it is made."""

    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=16, editable=False, help_text="The key's first characters, to tell keys apart."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "Segment write key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AnonymousId(models.Model):
    """A Segment anonymousId and the contact it stands for: the contact made for it when it
    came alone, or the known one a later identify or alias linked it to."""

    anonymous_id = models.CharField(max_length=200, unique=True)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="anonymous_ids")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Segment anonymous id"

    def __str__(self) -> str:
        return self.anonymous_id


class SegmentRejection(models.Model):
    """A message of a Segment request that was not stored, with why: the rest of its
    request was stored, so the source was told success and this is where to look."""

    write_key = models.ForeignKey(
        SegmentWriteKey, on_delete=models.CASCADE, related_name="rejections"
    )
    message_id = models.CharField(max_length=200, blank=True)
    type = models.CharField(max_length=32, blank=True)
    reason = models.TextField()
    payload = models.TextField(blank=True, help_text="The message as received, cut at 4 KB.")
    received_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = "Segment rejected message"

    def __str__(self) -> str:
        return f"{self.type or 'message'} {self.message_id}: {self.reason[:60]}"
