"""API tokens (rest_framework.authtoken) that can expire, be rotated and revoked, and say when
they were last used."""

import hashlib
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from apps.accounts.models import RetiredToken, TokenLifetime, User

# Last use is written at most this often per token: not one UPDATE per API request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@transaction.atomic
def token_create(*, user: User, expires_at: datetime | None = None) -> Token:
    """A new key for the user (their old one, if any, stops working at once)."""
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    TokenLifetime.objects.create(token=token, expires_at=expires_at)
    return token


@transaction.atomic
def token_rotate(*, user: User, actor: User | None = None) -> Token:
    """A new key with the same expiry as the old one; the old key answers "rotated"."""
    old = TokenLifetime.objects.filter(token__user=user).first()
    _tokens_retire(user, RetiredToken.Reason.ROTATED, actor)
    return token_create(user=user, expires_at=old.expires_at if old else None)


@transaction.atomic
def token_revoke(*, user: User, actor: User | None = None) -> int:
    """The user's token stops working; a caller still using it is told it was revoked.
    Returns the rows deleted (the token and its lifetime), 0 when there was none."""
    _tokens_retire(user, RetiredToken.Reason.REVOKED, actor)
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted


def _tokens_retire(user: User, reason: str, actor: User | None) -> None:
    now = timezone.now()
    RetiredToken.objects.bulk_create(
        [
            RetiredToken(key_digest=key_digest(key), user=user, reason=reason, at=now, actor=actor)
            for key in Token.objects.filter(user=user).values_list("key", flat=True)
        ],
        ignore_conflicts=True,  # two rotations at once retire the same key once
    )


def key_digest(key: str) -> str:
    """What Cue keeps of a retired key: its SHA-256, enough to recognise it, not to use it."""
    return hashlib.sha256(key.encode()).hexdigest()


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing an expired token and noting each token's use;
    a rotated or revoked key is refused with that reason."""

    def authenticate_credentials(self, key):
        try:
            user, token = super().authenticate_credentials(key)
        except AuthenticationFailed:
            retired = RetiredToken.objects.filter(key_digest=key_digest(key)).first()
            if retired is not None:
                raise AuthenticationFailed(_retired_reason(retired)) from None
            raise
        now = timezone.now()
        lifetime = TokenLifetime.objects.filter(token=token).first()
        if lifetime is not None and lifetime.expires_at and lifetime.expires_at <= now:
            raise AuthenticationFailed("Token expired.")
        _note_use(token, lifetime, now)
        return user, token


def _retired_reason(retired: RetiredToken) -> str:
    when = f"{retired.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    if retired.reason == RetiredToken.Reason.ROTATED:
        return f"Token rotated on {when}: use the new key."
    return f"Token revoked on {when}."


def _note_use(token: Token, lifetime: TokenLifetime | None, now: datetime) -> None:
    if lifetime is None:
        TokenLifetime.objects.get_or_create(token=token, defaults={"last_used_at": now})
        return
    # A conditional UPDATE: concurrent requests write it once a minute at most.
    stale = now - LAST_USED_RESOLUTION
    TokenLifetime.objects.filter(token=token, last_used_at__lt=stale).update(last_used_at=now)
    TokenLifetime.objects.filter(token=token, last_used_at=None).update(last_used_at=now)
