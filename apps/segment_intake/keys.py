"""Write keys: made, revoked, and checked on every request."""

import base64
import binascii
import hashlib
import secrets
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from apps.segment_intake.models import SegmentWriteKey

KEY_PREFIX = "cue_seg_"
# A request marks its key used at most this often: a busy source sends many per second.
LAST_USED_PRECISION = timedelta(minutes=1)


def write_key_create(*, name: str) -> tuple[SegmentWriteKey, str]:
    """The new key's row and the key itself, which is stored only as its hash."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = SegmentWriteKey.objects.create(
        name=name, key_hash=_hash(key), prefix=key[: len(KEY_PREFIX) + 6]
    )
    return row, key


def write_key_revoke(*, write_key: SegmentWriteKey) -> bool:
    """Revokes the key; False when it was revoked already (the first revocation's time stays)."""
    return bool(
        SegmentWriteKey.objects.filter(pk=write_key.pk, revoked_at=None).update(
            revoked_at=timezone.now()
        )
    )


def write_key_authenticate(*, key: str | None) -> SegmentWriteKey | None:
    """The live key row for `key`, marked used; None for an unknown or revoked key."""
    if not key:
        return None
    row = SegmentWriteKey.objects.filter(key_hash=_hash(key), revoked_at=None).first()
    if row is None:
        return None
    now = timezone.now()
    if row.last_used_at is not None and row.last_used_at >= now - LAST_USED_PRECISION:
        return row  # marked lately: a busy source's requests need no write for it
    SegmentWriteKey.objects.filter(
        Q(last_used_at=None) | Q(last_used_at__lt=now - LAST_USED_PRECISION), pk=row.pk
    ).update(last_used_at=now)
    return row


def basic_auth_user(header: str) -> str | None:
    """The user name of an `Authorization: Basic …` header (Segment's write key), or None."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[0] or None


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
