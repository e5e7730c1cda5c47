"""Email through an ESP: anymail's real Postmark backend sends to the fake Postmark on
127.0.0.1, and the fake's tracking webhooks come back through anymail's own webhook view,
verified by basic auth, into Cue's records."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from apps.accounts.models import Brand
from apps.consent.models import Channel, ConsentSource, ConsentState, Purpose, Suppression
from apps.consent.services import consent_opt_in
from apps.contacts.models import Event
from apps.sends.models import MessageEvent, OutboundMessage
from apps.sends.services.dispatch import message_dispatch
from apps.sends.services.messages import message_create
from apps.sends.services.sweep import messages_sweep
from apps.sends.testing.fake_postmark import FakePostmark
from tests.accounts.test_brand import CHANGE, brand_form

pytestmark = pytest.mark.django_db

TUESDAY_NOON_CHICAGO = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
WEBHOOK_SECRET = "cue-hooks:s3cret-for-tests"
TRACKING_PATH = "/webhooks/email/postmark/tracking/"
HOOKS_AT = TUESDAY_NOON_CHICAGO + timedelta(minutes=5)  # the ESP reports a little later


@pytest.fixture
def fake_postmark(settings):
    with FakePostmark() as fake:
        settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
        settings.ANYMAIL = {
            "POSTMARK_SERVER_TOKEN": fake.server_token,
            "POSTMARK_API_URL": fake.api_url,
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
        settings.PUBLIC_BASE_URL = "https://cue.example.com"
        yield fake


@pytest.fixture
def clock():
    with time_machine.travel(TUESDAY_NOON_CHICAGO, tick=False) as traveller:
        yield traveller


@pytest.fixture
def email_contact(opted_in_contact, clock):
    contact = opted_in_contact(email="ada@example.com")
    consent_opt_in(
        contact=contact, channel=Channel.EMAIL, purpose=Purpose.MARKETING, source=ConsentSource.API
    )
    return contact


def email_send(contact, key="offer", subject="Your offer") -> OutboundMessage:
    message = message_create(
        send_key=key,
        origin="journey",
        category="marketing",
        channel="email",
        contact=contact,
        subject=subject,
        body="Here is the offer you asked for.",
    )
    message_dispatch(message_id=message.pk)  # not claimed again if it went out on commit
    message.refresh_from_db()
    return message


@pytest.fixture
def sent(fake_postmark, email_contact, clock):
    message = email_send(email_contact)
    clock.move_to(HOOKS_AT)
    return message


def hook_url(live_server, secret=WEBHOOK_SECRET) -> str:
    host = live_server.url.removeprefix("http://")
    return f"http://{secret}@{host}{TRACKING_PATH}"


def email_states(contact) -> set[str]:
    states = ConsentState.objects.filter(contact=contact, channel=Channel.EMAIL)
    return set(states.values_list("status", flat=True))


def test_it_sends_the_email_through_the_esps_api(sent, fake_postmark):
    [email] = fake_postmark.sent
    assert (email.to, email.subject, email.text_body) == (
        "ada@example.com", "Your offer", "Here is the offer you asked for.",
    )  # fmt: skip
    assert email.metadata == {"cue_message": str(sent.pk)}
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email.headers["List-Unsubscribe"].startswith("<https://cue.example.com/unsubscribe/")
    assert (sent.status, sent.provider_sid) == ("sent", email.message_id)


def test_an_esp_outage_is_retried_and_the_email_goes_once(
    fake_postmark, email_contact, clock, django_capture_on_commit_callbacks
):
    fake_postmark.fail_next(503)
    message = message_create(
        send_key="offer", origin="journey", category="marketing", channel="email",
        contact=email_contact, subject="Your offer", body="Hi",
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=False) as requeue:
        assert message_dispatch(message_id=message.pk) == "retry"
    message.refresh_from_db()
    assert (message.error_code, fake_postmark.sent) == ("esp_503", [])
    [retry] = requeue
    retry()  # the requeue after commit (its own enqueue runs eagerly in tests)
    message.refresh_from_db()
    assert (message.status, message.attempts, len(fake_postmark.sent)) == ("sent", 2, 1)


def test_a_refused_server_token_fails_the_email_for_good(fake_postmark, email_contact, clock):
    fake_postmark.server_token = "another-token"
    message = email_send(email_contact)
    assert (message.status, message.error_code, fake_postmark.sent) == ("failed", "esp_401", [])


def test_an_address_the_esp_holds_inactive_is_refused_and_not_retried(
    fake_postmark, email_contact, clock
):
    fake_postmark.inactive.add("ada@example.com")
    message = email_send(email_contact)
    assert (message.status, message.error_code, fake_postmark.sent) == (
        "failed", "email_refused", [],
    )  # fmt: skip


def test_a_delivery_webhook_moves_the_email_to_delivered(live_server, sent, fake_postmark):
    status = fake_postmark.post_event(hook_url(live_server), "Delivery", sent.provider_sid)
    assert status == 200
    sent.refresh_from_db()
    assert sent.status == "delivered"


def test_a_webhook_without_the_secret_is_refused_and_changes_nothing(
    live_server, sent, fake_postmark
):
    url = hook_url(live_server, secret="cue-hooks:wrong")
    assert fake_postmark.post_event(url, "Bounce", sent.provider_sid) == 400
    sent.refresh_from_db()
    assert sent.status == "sent"
    assert Suppression.objects.count() == 0
    assert (
        MessageEvent.objects.filter(kind="provider", dedupe_key__startswith="email:").count() == 0
    )


def test_a_hard_bounce_suppresses_the_address_at_once(
    live_server, sent, fake_postmark, email_contact, clock
):
    waiting = OutboundMessage.objects.create(
        channel="email", contact=email_contact, to_address="ada@example.com", subject="Later",
        body="Hi", category="marketing", origin="journey", send_key="later", status="deferred",
        next_attempt_at=TUESDAY_NOON_CHICAGO + timedelta(days=1),
    )  # fmt: skip
    assert fake_postmark.post_event(hook_url(live_server), "Bounce", sent.provider_sid) == 200

    sent.refresh_from_db()
    waiting.refresh_from_db()
    assert (sent.status, sent.error_code) == ("failed", "hard_bounce")
    entry = Suppression.objects.get()
    assert (entry.channel, entry.address, entry.reason, entry.source) == (
        "email", "ada@example.com", "hard_bounce", "email_provider",
    )  # fmt: skip
    assert waiting.status == "canceled"
    assert email_states(email_contact) == {"opted_in"}  # a bounce is no word on consent


def test_a_complaint_suppresses_the_address_and_ends_email_consent(
    live_server, sent, fake_postmark, email_contact
):
    status = fake_postmark.post_event(hook_url(live_server), "SpamComplaint", sent.provider_sid)
    assert status == 200
    entry = Suppression.objects.get()
    assert (entry.address, entry.reason) == ("ada@example.com", "complaint")
    assert email_states(email_contact) == {"opted_out"}
    assert ConsentState.objects.get(contact=email_contact, channel="sms").status == "opted_in"


def test_an_unsubscribe_at_the_esp_ends_email_like_the_one_click_link(
    live_server, sent, fake_postmark, email_contact
):
    url = hook_url(live_server)
    event = {"SuppressionReason": "Unsubscribe"}
    assert fake_postmark.post_event(url, "SubscriptionChange", sent.provider_sid, **event) == 200
    assert Suppression.objects.get().reason == "email_unsubscribe"
    assert email_states(email_contact) == {"opted_out"}


def test_an_open_is_recorded_but_marked_unreliable(live_server, sent, fake_postmark, email_contact):
    assert fake_postmark.post_event(hook_url(live_server), "Open", sent.provider_sid) == 200
    [open_event] = Event.objects.filter(contact=email_contact, type="email_open")
    assert open_event.properties["message_id"] == sent.pk
    assert open_event.properties["reliable"] is False
    [logged] = MessageEvent.objects.filter(message=sent, detail__email_event="opened")
    assert logged.detail["reliable"] is False
    sent.refresh_from_db()
    assert sent.status == "sent"


def test_an_esp_click_is_logged_but_only_cues_own_links_make_click_events(
    live_server, sent, fake_postmark, email_contact
):
    url = hook_url(live_server)
    link = {"OriginalLink": "https://example.com/offer"}
    assert fake_postmark.post_event(url, "Click", sent.provider_sid, **link) == 200
    [logged] = MessageEvent.objects.filter(message=sent, detail__email_event="clicked")
    assert logged.detail["click_url"] == "https://example.com/offer"
    assert Event.objects.filter(contact=email_contact, type="email_click").count() == 0


def test_a_repeated_webhook_is_recorded_once(live_server, sent, fake_postmark, email_contact):
    url = hook_url(live_server)
    bounce = {"ID": 4242, "Type": "SoftBounce"}
    assert fake_postmark.post_event(url, "Bounce", sent.provider_sid, **bounce) == 200
    assert fake_postmark.post_event(url, "Bounce", sent.provider_sid, **bounce) == 200
    assert MessageEvent.objects.filter(message=sent, detail__email_event="soft_bounce").count() == 1


def test_soft_bounces_are_sent_again_with_backoff_then_suppress_after_the_limit(
    live_server, sent, fake_postmark, email_contact, clock, settings
):
    settings.EMAIL_SOFT_BOUNCE_LIMIT = 2
    url = hook_url(live_server)
    first_id = sent.provider_sid

    # when the first send soft-bounces, the email waits 30 minutes and is not suppressed
    assert fake_postmark.post_event(url, "Bounce", first_id, Type="SoftBounce") == 200
    sent.refresh_from_db()
    assert (sent.status, sent.next_attempt_at) == (
        "deferred", HOOKS_AT + timedelta(minutes=30),
    )  # fmt: skip
    assert Suppression.objects.count() == 0

    # the sweep before then sends nothing; after then, it sends the email again
    clock.move_to(HOOKS_AT + timedelta(minutes=29))
    messages_sweep()
    assert len(fake_postmark.sent) == 1
    clock.move_to(HOOKS_AT + timedelta(minutes=31))
    messages_sweep()
    sent.refresh_from_db()
    assert len(fake_postmark.sent) == 2
    assert sent.status == "sent"
    second_id = fake_postmark.sent[1].message_id
    assert sent.provider_sid == second_id

    # when the second send soft-bounces too, the address is suppressed and the email failed
    assert fake_postmark.post_event(url, "Bounce", second_id, Type="SoftBounce") == 200
    sent.refresh_from_db()
    assert (sent.status, sent.error_code) == ("failed", "soft_bounces")
    assert Suppression.objects.get().reason == "soft_bounces"
    assert len(fake_postmark.sent) == 2


def test_a_delivery_between_soft_bounces_starts_the_count_again(
    live_server, fake_postmark, email_contact, clock, settings
):
    settings.EMAIL_SOFT_BOUNCE_LIMIT = 2
    url = hook_url(live_server)
    first = email_send(email_contact, key="first")
    assert fake_postmark.post_event(url, "Bounce", first.provider_sid, Type="SoftBounce") == 200
    second = email_send(email_contact, key="second")
    assert fake_postmark.post_event(url, "Delivery", second.provider_sid) == 200
    third = email_send(email_contact, key="third")
    assert fake_postmark.post_event(url, "Bounce", third.provider_sid, Type="SoftBounce") == 200
    third.refresh_from_db()
    assert third.status == "deferred"
    assert Suppression.objects.count() == 0


# --- the brand's From address ---------------------------------------------------------
# Edited in the admin: the next email carries it (no restart), the edit is in the brand's
# history, and an empty address falls back to DEFAULT_FROM_EMAIL. A name that is not ASCII,
# or holds quotes, reaches the ESP intact; a line break is a form error, never a header.


def test_the_brands_from_address_holds_for_the_next_email_and_is_in_history(
    admin_client,
    admin_user,
    settings,
    fake_postmark,
    email_contact,
):
    settings.DEFAULT_FROM_EMAIL = "cue@localhost.example"
    email_send(email_contact, key="before")

    response = admin_client.post(
        CHANGE,
        brand_form(email_from_name='Café "Fleet" Team', email_from_address="news@acme.example"),
    )
    email_send(email_contact, key="after")

    assert response.status_code == 302
    before, after = fake_postmark.sent
    assert before.sender == "cue@localhost.example"
    assert after.sender == '"Café \\"Fleet\\" Team" <news@acme.example>'
    latest = Brand.history.order_by("-history_id").first()
    assert (latest.email_from_address, latest.history_user) == ("news@acme.example", admin_user)


def test_the_brands_name_is_the_from_name_when_none_is_given(
    admin_client,
    fake_postmark,
    email_contact,
):
    admin_client.post(CHANGE, brand_form(name="Acme Fleet", email_from_address="a@acme.example"))

    email_send(email_contact)

    assert [email.sender for email in fake_postmark.sent] == ["Acme Fleet <a@acme.example>"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (
            {
                "email_from_name": "Acme\r\nBcc: all@example.com",
                "email_from_address": "a@acme.example",
            },
            "email_from_name",
        ),
        ({"email_from_address": "news@acme.example\r\nBcc: x@y.example"}, "email_from_address"),
        ({"email_from_address": "not an address"}, "email_from_address"),
    ],
)
def test_a_from_that_could_inject_a_header_is_a_form_error_and_changes_nothing(
    admin_client, changes, field
):
    response = admin_client.post(CHANGE, brand_form(**changes))

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == [field]
    assert Brand.objects.get().email_from_address == ""
