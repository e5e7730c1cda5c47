"""Verifying a user's phone: a 6-digit code, stored only as a hash, good once, for five
guesses and ten minutes, at most three a user per ten minutes; a new number is unverified."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from apps.accounts import roles
from apps.accounts.models import PhoneVerification
from apps.accounts.services import (
    AccountsError,
    phone_verification_confirm,
    phone_verification_start,
    user_phone_set,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
PHONE = "+14155550123"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def user(make_user, clock):
    return make_user(roles.MARKETER, username="maria", phone=PHONE)


@pytest.fixture
def codes(monkeypatch):
    """Codes 000111, 000222, … so that two codes never collide by chance."""
    numbers = iter(range(111, 10**6, 111))
    monkeypatch.setattr("apps.accounts.services.secrets.randbelow", lambda _: next(numbers))


def verified(user) -> datetime | None:
    user.refresh_from_db()
    return user.phone_verified_at


def refused(reason: str, *, user, code: str) -> None:
    with pytest.raises(AccountsError) as caught:
        phone_verification_confirm(user=user, code=code)
    assert (caught.value.code, caught.value.field) == (reason, "code")


# Starting


def test_it_stores_only_a_hash_of_the_code(user):
    verification, code = phone_verification_start(user=user)

    assert len(code) == 6 and code.isdigit()
    stored = PhoneVerification.objects.values().get(pk=verification.pk)
    assert stored == {
        "id": verification.pk,
        "user_id": user.pk,
        "phone": PHONE,
        "code_hash": hashlib.sha256((code + settings.SECRET_KEY).encode()).hexdigest(),
        "created_at": NOW,
        "attempts": 0,
        "used_at": None,
    }
    assert not any(code in str(value) for value in stored.values())


def test_it_allows_three_starts_per_ten_minutes(user, clock):
    for _ in range(3):
        phone_verification_start(user=user)

    with pytest.raises(AccountsError) as caught:
        phone_verification_start(user=user)

    assert (caught.value.code, caught.value.field) == ("rate_limited", "phone")
    assert PhoneVerification.objects.filter(user=user).count() == 3
    clock.shift(timedelta(minutes=10, seconds=1))
    phone_verification_start(user=user)
    assert PhoneVerification.objects.filter(user=user).count() == 4


def test_it_counts_the_limit_per_user(user, make_user):
    for _ in range(3):
        phone_verification_start(user=user)
    other = make_user(roles.MARKETER, phone="+14155550124")

    verification, _ = phone_verification_start(user=other)

    assert verification.user == other


def test_it_refuses_to_start_without_a_phone(make_user):
    user = make_user(roles.MARKETER)

    with pytest.raises(AccountsError) as caught:
        phone_verification_start(user=user)

    assert caught.value.field == "phone"
    assert PhoneVerification.objects.count() == 0


# Confirming


def test_it_verifies_the_phone_with_the_right_code(user, clock):
    verification, code = phone_verification_start(user=user)
    clock.shift(timedelta(minutes=2))

    phone_verification_confirm(user=user, code=code)

    assert verified(user) == NOW + timedelta(minutes=2)
    verification.refresh_from_db()
    assert (verification.attempts, verification.used_at) == (1, NOW + timedelta(minutes=2))
    assert user.phone_is_verified is True


def test_it_refuses_a_wrong_code_and_counts_the_guess(user, codes):
    verification, code = phone_verification_start(user=user)
    assert code == "000111"

    refused("wrong_code", user=user, code="000112")

    verification.refresh_from_db()
    assert (verification.attempts, verification.used_at) == (1, None)
    assert verified(user) is None


def test_it_refuses_even_the_right_code_after_five_wrong_ones(user, codes):
    verification, code = phone_verification_start(user=user)
    for _ in range(5):
        refused("wrong_code", user=user, code="999999")

    refused("too_many_attempts", user=user, code=code)

    verification.refresh_from_db()
    assert verification.attempts == 5
    assert verified(user) is None


def test_it_accepts_the_code_until_ten_minutes_have_passed(user, clock):
    _, code = phone_verification_start(user=user)
    clock.shift(timedelta(minutes=10))

    phone_verification_confirm(user=user, code=code)

    assert verified(user) == NOW + timedelta(minutes=10)


def test_it_refuses_the_code_after_ten_minutes(user, clock):
    verification, code = phone_verification_start(user=user)
    clock.shift(timedelta(minutes=10, seconds=1))

    refused("expired", user=user, code=code)

    verification.refresh_from_db()
    assert verification.attempts == 0
    assert verified(user) is None


def test_it_refuses_a_code_used_already(user):
    _, code = phone_verification_start(user=user)
    phone_verification_confirm(user=user, code=code)

    refused("no_code", user=user, code=code)


def test_it_takes_only_the_newest_code(user, codes):
    _, first = phone_verification_start(user=user)
    _, second = phone_verification_start(user=user)

    refused("wrong_code", user=user, code=first)
    phone_verification_confirm(user=user, code=second)

    assert verified(user) == NOW


def test_it_refuses_a_code_sent_to_the_previous_number(user):
    _, code = phone_verification_start(user=user)
    user_phone_set(user=user, phone="+14155550199")

    refused("phone_changed", user=user, code=code)

    assert verified(user) is None


def test_it_refuses_when_no_code_was_asked_for(user):
    refused("no_code", user=user, code="123456")

    assert verified(user) is None


# A new number is not verified


def test_it_clears_verification_when_the_phone_changes(user):
    _, code = phone_verification_start(user=user)
    phone_verification_confirm(user=user, code=code)

    user_phone_set(user=user, phone="+14155550199")

    user.refresh_from_db()
    assert (str(user.phone), user.phone_verified_at) == ("+14155550199", None)
    assert user.phone_is_verified is False


def test_it_keeps_verification_when_the_same_number_is_set_again(user):
    _, code = phone_verification_start(user=user)
    phone_verification_confirm(user=user, code=code)

    user_phone_set(user=user, phone="(415) 555-0123")

    assert verified(user) == NOW


def test_it_clears_verification_when_the_phone_is_removed(user):
    _, code = phone_verification_start(user=user)
    phone_verification_confirm(user=user, code=code)

    user_phone_set(user=user, phone="")

    user.refresh_from_db()
    assert (str(user.phone), user.phone_verified_at, user.phone_is_verified) == ("", None, False)


def test_it_refuses_an_invalid_phone(user):
    with pytest.raises(AccountsError) as caught:
        user_phone_set(user=user, phone="+1 555")

    assert caught.value.field == "phone"
    user.refresh_from_db()
    assert str(user.phone) == PHONE


# Through the admin


def user_form(user, **changes) -> dict:
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "is_staff": "on",
        "groups": [group.pk for group in user.groups.all()],
        "date_joined_0": "2026-03-10",
        "date_joined_1": "16:00:00",
        "team": "",
        "phone": str(user.phone),
        "time_zone": user.time_zone,
        "open_task_capacity": user.open_task_capacity,
        "working_hours-TOTAL_FORMS": 0,
        "working_hours-INITIAL_FORMS": 0,
        "working_hours-MIN_NUM_FORMS": 0,
        "working_hours-MAX_NUM_FORMS": 1000,
    }
    return {**data, **changes}


@pytest.fixture
def verified_user(user):
    _, code = phone_verification_start(user=user)
    return phone_verification_confirm(user=user, code=code)


def test_it_clears_verification_when_an_admin_changes_the_phone(admin_client, verified_user):
    url = reverse("admin:accounts_user_change", args=[verified_user.pk])

    response = admin_client.post(url, user_form(verified_user, phone="+14155550199"))

    assert response.status_code == 302
    verified_user.refresh_from_db()
    assert (str(verified_user.phone), verified_user.phone_verified_at) == ("+14155550199", None)


def test_it_keeps_verification_when_an_admin_changes_something_else(admin_client, verified_user):
    url = reverse("admin:accounts_user_change", args=[verified_user.pk])

    response = admin_client.post(url, user_form(verified_user, first_name="Mariana"))

    assert response.status_code == 302
    verified_user.refresh_from_db()
    assert (verified_user.first_name, verified_user.phone_verified_at) == ("Mariana", NOW)


def test_it_shows_verification_read_only_to_an_admin(admin_client, verified_user):
    url = reverse("admin:accounts_user_change", args=[verified_user.pk])

    admin_client.post(url, user_form(verified_user, phone_verified_at="2030-01-01 00:00"))
    verified_user.refresh_from_db()

    assert verified_user.phone_verified_at == NOW
    assert 'name="phone_verified_at"' not in admin_client.get(url).content.decode()
