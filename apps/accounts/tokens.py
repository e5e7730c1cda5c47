"""API tokens (rest_framework.authtoken) that can expire, be rotated and revoked, and say when
they were last used."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from apps.accounts.models import TokenLifetime, User

# Last use is written at most this often per token: not one UPDATE per API request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@transaction.atomic
def token_create(*, user: User, expires_at: datetime | None = None) -> Token:
    """A new key for the user (their old one, if any, stops working at once)."""
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    TokenLifetime.objects.create(token=token, expires_at=expires_at)
    return token


def token_rotate(*, user: User) -> Token:
    """A new key with the same expiry as the old one."""
    old = TokenLifetime.objects.filter(token__user=user).first()
    return token_create(user=user, expires_at=old.expires_at if old else None)


def token_revoke(*, user: User) -> int:
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing an expired token and noting each token's use."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        now = timezone.now()
        lifetime = TokenLifetime.objects.filter(token=token).first()
        if lifetime is not None and lifetime.expires_at and lifetime.expires_at <= now:
            raise AuthenticationFailed("Token expired.")
        _note_use(token, lifetime, now)
        return user, token


def _note_use(token: Token, lifetime: TokenLifetime | None, now: datetime) -> None:
    if lifetime is None:
        TokenLifetime.objects.get_or_create(token=token, defaults={"last_used_at": now})
        return
    # A conditional UPDATE: concurrent requests write it once a minute at most.
    stale = now - LAST_USED_RESOLUTION
    TokenLifetime.objects.filter(token=token, last_used_at__lt=stale).update(last_used_at=now)
    TokenLifetime.objects.filter(token=token, last_used_at=None).update(last_used_at=now)
