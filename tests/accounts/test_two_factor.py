"""Two-factor sign-in: TOTP required for Admin and Compliance (OTP_REQUIRED_GROUPS), on
offer to everyone else, with recovery codes. These tests sign in through the login form,
never force_login (which tests/conftest.py makes two-factor-verified)."""

import re

import pytest
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from apps.accounts import roles
from tests.browser import PASSWORD, login
from tests.otp import authenticator_for, code_now

pytestmark = pytest.mark.django_db


def sign_in(client, user, next_url="/admin/"):
    return client.post(
        f"/admin/login/?next={next_url}",
        {"username": user.username, "password": PASSWORD, "next": next_url},
    )


def set_up(client) -> list[str]:
    """Goes through setup with the pending authenticator; answers the recovery codes shown."""
    client.get("/account/two-factor/setup/")
    device = TOTPDevice.objects.get(confirmed=False)
    response = client.post("/account/two-factor/setup/", {"code": code_now(device)})
    assert response.status_code == 200
    return re.findall(r"<li><code>(\w+)</code></li>", response.content.decode())


@pytest.fixture
def compliance(make_user):
    return make_user(roles.COMPLIANCE, username="cora")


def test_compliance_is_sent_to_set_up_a_second_factor_after_the_password(client, compliance):
    response = sign_in(client, compliance)
    follow = client.get("/admin/")

    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert (follow.status_code, follow["Location"]) == (
        302,
        "/account/two-factor/setup/?next=/admin/",
    )


@pytest.mark.parametrize(
    "path",
    ["/admin/contacts/contact/", "/admin/axes/accessattempt/", "/api/docs/", "/tasks/"],
)
def test_no_page_opens_before_the_second_factor(client, compliance, path):
    sign_in(client, compliance)

    response = client.get(path)

    assert (response.status_code, response["Location"]) == (
        302,
        f"/account/two-factor/setup/?next={path}",
    )


def test_the_api_answers_403_to_a_session_without_its_second_factor(client, compliance):
    sign_in(client, compliance)

    response = client.get("/api/v1/me/")

    assert (response.status_code, response.json()) == (
        403,
        {"detail": "Two-factor sign-in is needed first."},
    )


def test_an_api_token_is_not_asked_for_a_second_factor(client, compliance):
    token = Token.objects.create(user=compliance)

    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token.key}")

    assert (response.status_code, response.json()["username"]) == (200, "cora")


def test_setup_shows_a_qr_code_and_the_secret_then_confirms_with_a_code(client, compliance):
    sign_in(client, compliance)

    page = client.get("/account/two-factor/setup/?next=/admin/")
    device = TOTPDevice.objects.get(user=compliance, confirmed=False)
    wrong = client.post("/account/two-factor/setup/", {"code": "000000", "next": "/admin/"})
    right = client.post("/account/two-factor/setup/", {"code": code_now(device), "next": "/admin/"})

    assert (page.status_code, b"<svg" in page.content) == (200, True)
    assert (wrong.status_code, b"That code is not the one your app shows" in wrong.content) == (
        200,
        True,
    )
    codes = re.findall(r"<li><code>(\w+)</code></li>", right.content.decode())
    assert len(codes) == 10
    assert sorted(StaticToken.objects.values_list("token", flat=True)) == sorted(codes)
    assert TOTPDevice.objects.filter(user=compliance, confirmed=True).count() == 1
    assert client.get("/admin/").status_code == 200


def test_a_reloaded_setup_page_keeps_the_secret_already_scanned(client, compliance):
    sign_in(client, compliance)

    first = client.get("/account/two-factor/setup/")
    second = client.get("/account/two-factor/setup/")

    assert TOTPDevice.objects.filter(user=compliance).count() == 1
    assert first.context["secret"] == second.context["secret"]


def test_the_next_sign_in_asks_for_the_code_and_a_wrong_one_is_refused(client, compliance):
    device = authenticator_for(compliance)

    sign_in(client, compliance)
    sent = client.get("/admin/")
    wrong = client.post("/account/two-factor/verify/?next=/admin/", {"code": "123456"})
    still = client.get("/admin/")
    right = client.post(
        "/account/two-factor/verify/?next=/admin/", {"code": code_now(device), "next": "/admin/"}
    )

    assert sent["Location"] == "/account/two-factor/verify/?next=/admin/"
    assert (wrong.status_code, b"Wrong or expired code" in wrong.content) == (200, True)
    assert still.status_code == 302
    assert (right.status_code, right["Location"]) == (302, "/admin/")
    assert client.get("/admin/").status_code == 200


def test_a_recovery_code_signs_in_once(client, compliance):
    sign_in(client, compliance)
    codes = set_up(client)
    client.post("/admin/logout/")

    sign_in(client, compliance)
    used = client.post("/account/two-factor/verify/", {"code": codes[0], "next": "/admin/"})
    client.post("/admin/logout/")
    sign_in(client, compliance)
    again = client.post("/account/two-factor/verify/", {"code": codes[0], "next": "/admin/"})

    assert (used.status_code, used["Location"]) == (302, "/admin/")
    assert again.status_code == 200  # the form again: that code is spent
    assert StaticToken.objects.count() == 9


def test_a_password_alone_cannot_replace_the_authenticator(client, compliance):
    authenticator_for(compliance)
    sign_in(client, compliance)

    response = client.get("/account/two-factor/setup/")

    assert (response.status_code, response["Location"]) == (302, "/account/two-factor/verify/")
    assert TOTPDevice.objects.filter(user=compliance).count() == 1


def test_the_next_address_never_leaves_cue(client, compliance):
    device = authenticator_for(compliance)
    sign_in(client, compliance)

    response = client.post(
        "/account/two-factor/verify/", {"code": code_now(device), "next": "https://evil.example/"}
    )

    assert response["Location"] == "/admin/"


def test_a_marketer_goes_straight_in_and_may_turn_it_on(client, make_user):
    mia = make_user(roles.MARKETER, username="mia")

    sign_in(client, mia)
    straight_in = client.get("/admin/").status_code
    set_up(client)
    client.post("/admin/logout/")
    sign_in(client, mia)

    assert straight_in == 200
    assert client.get("/admin/")["Location"] == "/account/two-factor/verify/?next=/admin/"


def test_a_marketer_may_turn_it_off_but_compliance_may_not(client, make_user, compliance):
    mia = make_user(roles.MARKETER, username="mia")
    sign_in(client, mia)
    set_up(client)
    client.post("/account/two-factor/remove/")
    client.post("/admin/logout/")
    sign_in(client, compliance)
    set_up(client)
    client.post("/account/two-factor/remove/")

    assert list(TOTPDevice.objects.values_list("user__username", flat=True)) == ["cora"]
    assert StaticDevice.objects.get().user == compliance


def test_new_recovery_codes_replace_the_old(client, compliance):
    sign_in(client, compliance)
    old = set_up(client)

    response = client.post("/account/two-factor/recovery-codes/")
    new = re.findall(r"<li><code>(\w+)</code></li>", response.content.decode())

    assert len(new) == 10
    assert sorted(StaticToken.objects.values_list("token", flat=True)) == sorted(new)
    assert not set(old) & set(new)


def test_the_required_roles_come_from_the_setting(client, compliance, settings):
    settings.OTP_REQUIRED_GROUPS = []

    sign_in(client, compliance)

    assert client.get("/admin/").status_code == 200


def test_an_admin_is_asked_too(client, make_user):
    sign_in(client, make_user(roles.ADMIN, username="ada"))

    assert client.get("/admin/")["Location"] == "/account/two-factor/setup/?next=/admin/"


def test_an_admin_resets_a_lost_authenticator_in_the_admin(client, admin_client, compliance):
    device = authenticator_for(compliance)

    response = admin_client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    sign_in(client, compliance)

    assert response.status_code == 302
    assert client.get("/admin/")["Location"] == "/account/two-factor/setup/?next=/admin/"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_compliance_signs_in_with_a_code_in_the_browser(live_server, page, make_user):
    from playwright.sync_api import expect

    login(page, live_server, make_user(roles.COMPLIANCE))

    page.wait_for_url(f"{live_server.url}/admin/")
    expect(page.locator("#site-name")).to_contain_text("Cue")
