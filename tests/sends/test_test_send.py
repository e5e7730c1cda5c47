"""A test send to the composer's own verified phone goes through the normal send path:
the verification code is texted by the pipeline, and "Send me a test" sends the working
version (draft or not), marked [TEST], to nobody but the person who clicked."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from apps.accounts import roles
from apps.accounts.models import PhoneVerification
from apps.accounts.services import (
    phone_verification_confirm,
    phone_verification_start,
    user_phone_set,
)
from apps.consent.models import Suppression
from apps.library.services import template_create
from apps.sends.errors import SendsError
from apps.sends.models import LinkClick, MessageOrigin, OutboundMessage, TrackedLink
from apps.sends.services.messages import message_create
from tests.factories import ContactFactory, TemplateVersionFactory, UserFactory
from tests.sends.templates import draft_sms_version

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
PHONE = "+14155550123"
VERIFY_URL = reverse("admin:sends_verify_phone")
CODE_TEXT = re.compile(r"Your Cue verification code is (\d{6})\. It expires in 10 minutes\.")


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def marketer(make_user):
    return make_user(roles.MARKETER, username="maria", email="maria@example.com", phone=PHONE)


@pytest.fixture
def verified_marketer(marketer):
    _, code = phone_verification_start(user=marketer)
    return phone_verification_confirm(user=marketer, code=code)


@pytest.fixture
def draft():
    return draft_sms_version()


def signed_in(client, user):
    client.force_login(user)
    return client


def send_test_url(version) -> str:
    return reverse("admin:sends_test_send", args=[version.pk])


def change_url(version) -> str:
    return reverse("admin:library_messagetemplate_change", args=[version.template_id])


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def nothing_sent(fake_twilio) -> None:
    assert OutboundMessage.objects.count() == 0
    assert fake_twilio.requests == []


# The verification code goes through the pipeline


def test_it_texts_the_code_through_the_pipeline_and_the_code_verifies(
    client, marketer, fake_twilio, django_capture_on_commit_callbacks
):
    client = signed_in(client, marketer)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(VERIFY_URL, {"action": "start"}, follow=True)

    assert messages_of(response) == [f"We texted a code to {PHONE}. It expires in 10 minutes."]
    assert len(fake_twilio.requests) == 1
    [sms] = fake_twilio.messages_sent()
    assert sms["To"] == PHONE
    code = CODE_TEXT.fullmatch(sms["Body"]).group(1)
    verification = PhoneVerification.objects.get()
    message = OutboundMessage.objects.get()
    assert (
        message.origin, message.category, message.recipient_user, message.contact,
        message.to_address, message.send_key, message.status,
    ) == (
        "notification", "notification", marketer, None, PHONE, f"verify:{verification.pk}",
        "sent",
    )  # fmt: skip
    response = client.post(VERIFY_URL, {"action": "confirm", "code": code}, follow=True)
    assert messages_of(response) == [f"Your phone {PHONE} is verified."]
    marketer.refresh_from_db()
    assert marketer.phone_verified_at == NOW


def test_it_counts_a_wrong_code_typed_on_the_page(client, marketer, monkeypatch):
    monkeypatch.setattr("apps.accounts.services.secrets.randbelow", lambda _: 111111)
    client = signed_in(client, marketer)
    client.post(VERIFY_URL, {"action": "start"})

    response = client.post(VERIFY_URL, {"action": "confirm", "code": "222222"})

    assert response.status_code == 200
    assert response.context["form"].errors == {"code": ["That code is not right."]}
    assert PhoneVerification.objects.get().attempts == 1
    marketer.refresh_from_db()
    assert marketer.phone_verified_at is None


def test_it_texts_at_most_three_codes_per_ten_minutes(
    client, marketer, fake_twilio, django_capture_on_commit_callbacks
):
    client = signed_in(client, marketer)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            client.post(VERIFY_URL, {"action": "start"}, follow=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(VERIFY_URL, {"action": "start"}, follow=True)

    assert messages_of(response) == [
        "You asked for 3 codes in the last 10 minutes; wait a few minutes and try again."
    ]
    assert PhoneVerification.objects.count() == 3
    assert OutboundMessage.objects.count() == 3
    assert len(fake_twilio.requests) == 3


def test_it_shows_the_phone_and_the_button(client, marketer):
    page = signed_in(client, marketer).get(VERIFY_URL).content.decode()

    assert f"{PHONE}:" in page
    assert "not verified yet." in page
    assert "Text me a code" in page


def test_it_sends_a_sales_rep_to_the_login_page(client, make_user, fake_twilio):
    rep = make_user(roles.SALES_REP, phone=PHONE)

    response = signed_in(client, rep).post(VERIFY_URL, {"action": "start"})

    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("admin:login"))
    assert PhoneVerification.objects.count() == 0
    nothing_sent(fake_twilio)


# A test send of a draft reaches the composer's phone


def test_it_texts_a_draft_to_the_composers_verified_phone(
    client, verified_marketer, draft, fake_twilio, django_capture_on_commit_callbacks
):
    client = signed_in(client, verified_marketer)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(send_test_url(draft))

    assert response.status_code == 302
    assert response.headers["Location"] == change_url(draft)
    assert len(fake_twilio.requests) == 1
    [sms] = fake_twilio.messages_sent()
    link = TrackedLink.objects.get()
    assert sms["To"] == PHONE
    assert sms["Body"] == (
        "[TEST] Cue Demo: hi Alex, your demo is booked. "
        f"Details: https://cue.example.com/l/{link.token} Reply STOP to opt out."
    )
    message = OutboundMessage.objects.get()
    assert (
        message.origin, message.category, message.channel, message.recipient_user,
        message.contact, message.to_address, message.template_version, message.status,
        message.send_key,
    ) == (
        "test_send", "transactional", "sms", verified_marketer, None, PHONE, draft, "sent",
        f"test-send:{draft.pk}:{verified_marketer.pk}:{int(NOW.timestamp())}",
    )  # fmt: skip
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_it_reports_the_message_with_a_link_to_it(client, verified_marketer, draft):
    response = signed_in(client, verified_marketer).post(send_test_url(draft), follow=True)

    message = OutboundMessage.objects.get()
    url = reverse("admin:sends_outboundmessage_change", args=[message.pk])
    assert messages_of(response) == [
        f'A test of version 1 is on its way to {PHONE}. <a href="{url}">Message {message.pk}</a>.'
    ]


def test_it_links_to_the_declared_destination_through_a_normal_token(
    client, verified_marketer, draft
):
    signed_in(client, verified_marketer).post(send_test_url(draft))
    link = TrackedLink.objects.get()

    response = client.get(f"/l/{link.token}", HTTP_USER_AGENT="Mozilla/5.0 (iPhone)")

    assert (link.key, link.destination, link.is_key_link) == (
        "details",
        "https://www.example.com/demo",
        True,
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "https://www.example.com/demo"
    assert LinkClick.objects.filter(link=link).count() == 1


def test_it_writes_the_test_for_a_chosen_contact_but_sends_it_to_the_composer(
    client, verified_marketer, draft
):
    contact = ContactFactory(first_name="Priya")

    signed_in(client, verified_marketer).post(send_test_url(draft), {"contact": contact.pk})

    message = OutboundMessage.objects.get()
    assert message.body.startswith("[TEST] Cue Demo: hi Priya, your demo is booked.")
    assert (message.contact, message.to_address) == (None, PHONE)
    assert contact.messages.count() == 0


def test_it_refuses_a_contact_the_user_cannot_see(client, verified_marketer, draft, fake_twilio):
    response = signed_in(client, verified_marketer).post(
        send_test_url(draft), {"contact": "999999"}, follow=True
    )

    assert messages_of(response) == ["There is no contact 999999 you can see."]
    nothing_sent(fake_twilio)


def test_it_emails_an_email_version_to_the_composers_own_address(
    client, verified_marketer, django_capture_on_commit_callbacks
):
    template = template_create(
        actor=verified_marketer,
        name="Recording",
        channel="email",
        purpose="progress",
        category="transactional",
        subject="Your recording, {{ contact.first_name }}",
        body="Hi {{ contact.first_name }}, the recording is ready.",
    )

    with django_capture_on_commit_callbacks(execute=True):
        signed_in(client, verified_marketer).post(send_test_url(template.versions.get()))

    [email] = mail.outbox
    assert (email.to, email.subject, email.body) == (
        ["maria@example.com"],
        "[TEST] Your recording, Alex",
        "[TEST] Hi Alex, the recording is ready.",
    )
    message = OutboundMessage.objects.get()
    assert (message.channel, message.origin, message.status) == ("email", "test_send", "sent")


# Refusals: nothing is created, nothing is sent


def test_it_refuses_without_a_verified_phone(client, marketer, draft, fake_twilio):
    response = signed_in(client, marketer).post(send_test_url(draft), follow=True)

    assert messages_of(response) == ["Verify your phone before sending yourself a test."]
    nothing_sent(fake_twilio)


def test_it_refuses_once_the_verified_phone_changed(client, verified_marketer, draft, fake_twilio):
    user_phone_set(user=verified_marketer, phone="+14155550199")

    response = signed_in(client, verified_marketer).post(send_test_url(draft), follow=True)

    assert messages_of(response) == ["Verify your phone before sending yourself a test."]
    nothing_sent(fake_twilio)


@pytest.mark.parametrize("role", [roles.SALES_REP, roles.SALES_MANAGER])
def test_it_sends_sales_roles_to_the_login_page(client, make_user, role, draft, fake_twilio):
    user = make_user(role, phone=PHONE)
    _, code = phone_verification_start(user=user)
    phone_verification_confirm(user=user, code=code)

    response = signed_in(client, user).post(send_test_url(draft))

    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("admin:login"))
    nothing_sent(fake_twilio)


def test_it_forbids_staff_who_may_not_view_templates(client, draft, fake_twilio):
    user = UserFactory(is_staff=True, phone=PHONE)
    _, code = phone_verification_start(user=user)
    phone_verification_confirm(user=user, code=code)

    response = signed_in(client, user).post(send_test_url(draft))

    assert response.status_code == 403
    nothing_sent(fake_twilio)


def test_it_answers_only_a_post(client, verified_marketer, draft, fake_twilio):
    response = signed_in(client, verified_marketer).get(send_test_url(draft))

    assert response.status_code == 405
    nothing_sent(fake_twilio)


def test_it_refuses_a_version_with_a_placeholder_error(client, verified_marketer, fake_twilio):
    version = TemplateVersionFactory(body="Hi {{ contact.ssn }}, Reply STOP to opt out.")

    response = signed_in(client, verified_marketer).post(send_test_url(version), follow=True)

    [text] = messages_of(response)
    assert text.startswith(
        f"Version {version.number} cannot be tested until it is fixed: Unknown placeholder"
    )
    nothing_sent(fake_twilio)


def test_it_allows_one_test_per_user_per_30_seconds(
    client, verified_marketer, draft, fake_twilio, clock, django_capture_on_commit_callbacks
):
    client = signed_in(client, verified_marketer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(send_test_url(draft), follow=True)
    clock.shift(timedelta(seconds=29))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(send_test_url(draft), follow=True)

    assert messages_of(response) == [
        "You sent yourself a test less than 30 seconds ago; wait a moment and try again."
    ]
    assert OutboundMessage.objects.count() == 1
    assert len(fake_twilio.requests) == 1
    clock.shift(timedelta(seconds=2))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(send_test_url(draft))
    assert OutboundMessage.objects.count() == 2
    assert len(fake_twilio.requests) == 2


def test_it_honours_the_suppression_list(
    client, verified_marketer, draft, fake_twilio, django_capture_on_commit_callbacks
):
    Suppression.objects.create(channel="sms", address=PHONE, reason="keyword")

    with django_capture_on_commit_callbacks(execute=True):
        signed_in(client, verified_marketer).post(send_test_url(draft))

    message = OutboundMessage.objects.get()
    assert (message.status, message.reason_code) == ("suppressed", "suppressed_keyword")
    assert fake_twilio.requests == []


# Every other origin still sends only approved versions


@pytest.mark.parametrize(
    "origin", [origin for origin in MessageOrigin.values if origin != MessageOrigin.TEST_SEND]
)
def test_it_still_refuses_a_draft_for_every_other_origin(origin, draft, opted_in_contact):
    with pytest.raises(SendsError) as caught:
        message_create(
            send_key="m1",
            origin=origin,
            category="marketing",
            contact=opted_in_contact(),
            template_version=draft,
        )

    assert (caught.value.field, caught.value.message) == (
        "template_version",
        "Only an approved template version can be sent.",
    )
    assert OutboundMessage.objects.count() == 0


# The template page


def test_it_offers_the_button_to_a_verified_user(client, verified_marketer, draft):
    page = signed_in(client, verified_marketer).get(change_url(draft)).content.decode()

    assert f'action="{send_test_url(draft)}"' in page
    assert 'id="cue-test-send"' in page
    assert 'id="cue-verify-phone"' not in page


def test_it_links_an_unverified_user_to_the_verification_page(client, marketer, draft):
    page = signed_in(client, marketer).get(change_url(draft)).content.decode()

    assert f'href="{VERIFY_URL}?next=' in page
    assert 'id="cue-test-send"' not in page


def test_it_keeps_no_readable_copy_of_a_verification_code(
    client, fake_twilio, django_capture_on_commit_callbacks
):
    from apps.accounts import roles
    from apps.sends.models import SECRET_BODY, OutboundMessage
    from apps.sends.services.self_sends import phone_verification_send
    from tests.factories import UserFactory

    user = UserFactory(role=roles.MARKETER, phone="+14155550177")
    with django_capture_on_commit_callbacks(execute=True):
        phone_verification_send(user=user)
    [sent] = fake_twilio.messages_sent()
    message = OutboundMessage.objects.get(recipient_user=user)
    assert "verification code is" in sent["Body"]
    assert message.body == SECRET_BODY
    client.force_login(UserFactory(role=roles.COMPLIANCE))
    page = client.get(f"/admin/sends/outboundmessage/{message.pk}/change/").content.decode()
    assert sent["Body"] not in page
