"""The brand is data edited in the admin: lint, HELP/STOP replies and new opt-in forms read
it at each use, so a change holds without a restart, and each change is in its history."""

from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
import time_machine
from twilio.request_validator import RequestValidator

from apps.accounts.models import Brand
from apps.library.lint import LintInput, template_lint
from apps.sends.models import OutboundMessage

pytestmark = pytest.mark.django_db

AUTH_TOKEN = "brand-test-token"
INBOUND = "/webhooks/twilio/inbound/"
MIDDAY = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
CHANGE = "/admin/accounts/brand/1/change/"


@pytest.fixture(autouse=True)
def webhook_settings(settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_ACCOUNT_SID = ""  # replies go to the console transport
    settings.PUBLIC_BASE_URL = "https://cue.example.com"
    with time_machine.travel(MIDDAY, tick=False):
        yield


def text_in(client, sender: str, body: str, sid: str):
    params = {"MessageSid": sid, "From": sender, "To": "+13125550000", "Body": body}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        f"https://cue.example.com{INBOUND}", params
    )
    return client.post(
        INBOUND,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )


def reply_bodies(kind: str) -> list[str]:
    return list(
        OutboundMessage.objects.filter(send_key__startswith=f"keyword:{kind}:")
        .order_by("pk")
        .values_list("body", flat=True)
    )


def brand_form(**changes) -> dict:
    values = {
        "name": "Cue Demo",
        "help_reply": (
            "{brand}: Help at {support}. Msg & data rates may apply. Reply STOP to opt out."
        ),
        "support_email": "support@example.com",
        "support_phone": "1-800-555-0100",
        "optin_program_name": "",
        "optin_message_frequency": "Up to 4 msgs/month",
        "optin_privacy_url": "",
        "optin_terms_url": "",
    }
    return {**values, **changes}


def lint_brand_findings(body: str) -> list[str]:
    item = LintInput(
        channel="sms",
        category="marketing",
        body=body,
        subject="",
        links={},
        defaults={},
        worst_case=None,
    )
    return [finding.rule for finding in template_lint(item) if finding.rule.startswith("brand")]


def test_it_seeds_todays_brand_for_an_existing_install():
    brand = Brand.objects.get()

    assert (brand.name, brand.support) == ("Cue Demo", "support@example.com or 1-800-555-0100")
    assert brand.help_text() == (
        "Cue Demo: Help at support@example.com or 1-800-555-0100. Msg & data rates may apply. "
        "Reply STOP to opt out."
    )


def test_an_admin_edit_holds_at_the_next_help_stop_and_lint_without_a_restart(
    admin_client, admin_user
):
    text_in(admin_client, "+14155550101", "HELP", sid="SM" + "1" * 32)
    form = brand_form(
        name="Acme Fleet",
        help_reply="{brand} help: {support}. Reply STOP to end.",
        support_email="help@acme.example",
        support_phone="",
    )

    response = admin_client.post(CHANGE, form)

    assert response.status_code == 302
    text_in(admin_client, "+14155550102", "HELP", sid="SM" + "2" * 32)
    text_in(admin_client, "+14155550103", "STOP", sid="SM" + "3" * 32)
    assert reply_bodies("help") == [
        "Cue Demo: Help at support@example.com or 1-800-555-0100. Msg & data rates may "
        "apply. Reply STOP to opt out.",
        "Acme Fleet help: help@acme.example. Reply STOP to end.",
    ]
    assert reply_bodies("stop") == [
        "Acme Fleet: You're unsubscribed and will get no more messages. Reply START to resubscribe."
    ]
    assert lint_brand_findings("Acme Fleet: hi. Reply STOP to opt out.") == []
    assert lint_brand_findings("Cue Demo: hi. Reply STOP to opt out.") == ["brand_missing"]


def test_the_change_is_in_the_brands_history_with_who_and_why(admin_client, admin_user):
    admin_client.post(CHANGE, brand_form(name="Acme Fleet"))

    latest = Brand.history.order_by("-history_id").first()
    assert (latest.name, latest.history_user, latest.history_change_reason) == (
        "Acme Fleet",
        admin_user,
        "Edited in the admin",
    )
    page = admin_client.get("/admin/accounts/brand/1/history/")
    assert page.status_code == 200
    assert "Acme Fleet" in page.content.decode()


def test_a_help_text_with_an_unknown_placeholder_is_a_form_error(admin_client):
    response = admin_client.post(CHANGE, brand_form(help_reply="{brand}: call {phone}"))

    assert response.status_code == 200
    assert "Only {brand}, {program} and {support} can be filled in" in response.content.decode()
    assert Brand.objects.get().help_reply.startswith("{brand}: Help at")


def test_there_is_one_brand_row_never_added_twice_nor_deleted(admin_client):
    assert admin_client.get("/admin/accounts/brand/add/").status_code == 403
    assert admin_client.get("/admin/accounts/brand/1/delete/").status_code == 403


def test_a_new_opt_in_form_starts_from_the_brands_defaults(admin_client):
    admin_client.post(
        CHANGE,
        brand_form(
            name="Acme Fleet",
            optin_program_name="Acme Fleet tips",
            optin_privacy_url="https://acme.example/privacy",
        ),
    )

    page = admin_client.get("/admin/consent/optinform/add/")

    initial = page.context["adminform"].form.initial
    assert (initial["brand"], initial["program_name"], initial["privacy_url"]) == (
        "Acme Fleet",
        "Acme Fleet tips",
        "https://acme.example/privacy",
    )
    assert initial["help_contact"] == "support@example.com or 1-800-555-0100"


def test_without_a_brand_lint_asks_for_one_and_help_names_no_one(client):
    Brand.objects.all().delete()

    text_in(client, "+14155550104", "HELP", sid="SM" + "4" * 32)

    assert reply_bodies("help") == ["Reply STOP to opt out."]
    assert lint_brand_findings("Acme: hi. Reply STOP to opt out.") == ["brand_unset"]
