"""API tokens expire when made with an expiry, are rotated and revoked, and note their last use."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.authtoken.models import Token

from apps.accounts import roles
from apps.accounts.models import RetiredToken, TokenLifetime
from apps.accounts.tokens import token_create, token_revoke, token_rotate
from apps.reporting.audit.trail import TrailFilters, trail_page

pytestmark = pytest.mark.django_db


def me(client, key: str):
    return client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")


@pytest.fixture
def mia(make_user):
    return make_user(roles.MARKETER, username="mia")


def test_a_token_made_with_an_expiry_works_until_then(client, mia):
    start = timezone.now()
    token = token_create(user=mia, expires_at=start + timedelta(days=30))

    with time_machine.travel(start + timedelta(days=29, hours=23), tick=False):
        before = me(client, token.key)
    with time_machine.travel(start + timedelta(days=30), tick=False):
        after = me(client, token.key)

    assert before.status_code == 200
    assert (after.status_code, after.json()["detail"]) == (401, "Token expired.")


def test_a_token_without_an_expiry_never_expires(client, mia):
    token = token_create(user=mia)

    with time_machine.travel(timezone.now() + timedelta(days=3650)):
        assert me(client, token.key).status_code == 200


def test_a_token_notes_its_last_use_at_most_once_a_minute(client, mia):
    token = token_create(user=mia)
    start = timezone.now().replace(microsecond=0)

    with time_machine.travel(start, tick=False):
        me(client, token.key)
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        me(client, token.key)
    first = TokenLifetime.objects.get().last_used_at
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        me(client, token.key)

    assert first == start
    assert TokenLifetime.objects.get().last_used_at == start + timedelta(minutes=2)


def test_a_token_made_before_expiry_existed_gets_its_use_noted(client, mia):
    token = Token.objects.create(user=mia)

    assert me(client, token.key).status_code == 200
    assert TokenLifetime.objects.get(token=token).expires_at is None


def test_rotating_gives_a_new_key_with_the_same_expiry_and_ends_the_old(client, mia):
    expiry = timezone.now() + timedelta(days=7)
    old = token_create(user=mia, expires_at=expiry)

    new = token_rotate(user=mia)

    assert new.key != old.key
    assert TokenLifetime.objects.get(token=new).expires_at == expiry
    assert (me(client, old.key).status_code, me(client, new.key).status_code) == (401, 200)


def test_a_revoked_token_stops_working(client, mia):
    token = token_create(user=mia)

    assert token_revoke(user=mia) == 2  # the token and its lifetime
    assert me(client, token.key).status_code == 401
    assert token_revoke(user=mia) == 0


def test_an_admin_makes_a_token_with_an_expiry_and_sees_its_last_use(admin_client, client, mia):
    response = admin_client.post(
        "/admin/authtoken/tokenproxy/add/",
        {"user": mia.pk, "expires_at": "2099-01-02 03:04:05"},
    )
    token = Token.objects.get(user=mia)
    me(client, token.key)
    listing = admin_client.get("/admin/authtoken/tokenproxy/")

    assert response.status_code == 302
    assert TokenLifetime.objects.get(token=token).expires_at.year == 2099
    assert b"Last used" in listing.content and b"never" not in listing.content


def test_a_revoked_or_rotated_key_is_refused_with_its_reason(client, mia):
    with time_machine.travel(datetime(2026, 3, 2, 9, 30, tzinfo=UTC), tick=False):
        rotated = token_create(user=mia)
        token_rotate(user=mia)
        revoked = Token.objects.get(user=mia)
        token_revoke(user=mia)

    assert (me(client, rotated.key).status_code, me(client, rotated.key).json()) == (
        401, {"detail": "Token rotated on 2026-03-02 09:30 UTC: use the new key."},
    )  # fmt: skip
    assert (me(client, revoked.key).status_code, me(client, revoked.key).json()) == (
        401, {"detail": "Token revoked on 2026-03-02 09:30 UTC."},
    )  # fmt: skip
    assert me(client, "0" * 40).json() == {"detail": "Invalid token."}
    # Cue keeps a digest of each retired key, never the key
    assert RetiredToken.objects.filter(key_digest__in=[rotated.key, revoked.key]).count() == 0


def test_a_caller_rotates_their_own_token_through_the_api(client, mia):
    expiry = timezone.now() + timedelta(days=7)
    old = token_create(user=mia, expires_at=expiry)

    response = client.post("/api/v1/me/token/rotate/", HTTP_AUTHORIZATION=f"Token {old.key}")

    new = Token.objects.get(user=mia)
    assert response.status_code == 200
    assert response.json()["key"] == new.key != old.key
    assert TokenLifetime.objects.get(token=new).expires_at == expiry
    assert (me(client, old.key).status_code, me(client, new.key).status_code) == (401, 200)
    retired = RetiredToken.objects.get()
    assert (retired.user, retired.actor, retired.reason) == (mia, mia, "rotated")


def test_a_caller_revokes_their_own_token_through_the_api(client, mia):
    token = token_create(user=mia)

    response = client.post("/api/v1/me/token/revoke/", HTTP_AUTHORIZATION=f"Token {token.key}")

    assert response.status_code == 204
    assert not Token.objects.filter(user=mia).exists()
    assert me(client, token.key).json()["detail"].startswith("Token revoked on ")
    retired = RetiredToken.objects.get()
    assert (retired.user, retired.actor, retired.reason) == (mia, mia, "revoked")


def test_nobody_rotates_or_revokes_without_signing_in(client, mia):
    token = token_create(user=mia)

    rotate = client.post("/api/v1/me/token/rotate/")
    revoke = client.post("/api/v1/me/token/revoke/")

    assert (rotate.status_code, revoke.status_code) == (401, 401)
    assert Token.objects.get(user=mia).key == token.key
    assert not RetiredToken.objects.exists()


@pytest.mark.parametrize(
    ("action", "reason", "asks"),
    [
        ("tokens_revoke", "revoked", b"These tokens stop working at once"),
        ("tokens_rotate", "rotated", b"gets a new key with the same expiry"),
    ],
)
def test_an_admin_rotates_or_revokes_a_token_after_confirming(
    admin_client, admin_user, client, mia, action, reason, asks
):
    token = token_create(user=mia)
    url = "/admin/authtoken/tokenproxy/"
    chosen = {"action": action, "_selected_action": [token.pk]}

    page = admin_client.post(url, chosen)
    assert (page.status_code, asks in page.content) == (200, True)
    assert (Token.objects.get(user=mia).key, RetiredToken.objects.count()) == (token.key, 0)

    done = admin_client.post(url, {**chosen, "confirmed": "yes"})

    assert done.status_code == 302
    assert me(client, token.key).status_code == 401
    retired = RetiredToken.objects.get()
    assert (retired.user, retired.actor, retired.reason) == (mia, admin_user, reason)
    assert Token.objects.filter(user=mia).exists() is (reason == "rotated")


def test_the_audit_trail_shows_who_rotated_or_revoked_a_token(admin_user, mia):
    with time_machine.travel(datetime(2026, 3, 2, 9, 30, tzinfo=UTC), tick=False):
        token_create(user=mia)
        token_rotate(user=mia, actor=mia)
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), tick=False):
        token_revoke(user=mia, actor=admin_user)

    page = trail_page(filters=TrailFilters(model="accounts.retiredtoken"))

    assert [(e.at.hour, e.object_label, e.action, e.who) for e in page.entries] == [
        (10, "API token of mia", "Revoked", admin_user.display_name),
        (9, "API token of mia", "Rotated", mia.display_name),
    ]
