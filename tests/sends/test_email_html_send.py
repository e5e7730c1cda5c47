"""An email made from an HTML template goes out with both parts: the HTML alternative
(CSS inlined, tracked links and the one-click unsubscribe link filled in) and the text,
with the List-Unsubscribe headers, as the fake Postmark server received them."""

import re
from datetime import UTC, datetime

import pytest
import time_machine

from apps.accounts import roles
from apps.consent.models import Channel, ConsentSource, ConsentState, Purpose
from apps.consent.services import consent_opt_in
from apps.library.services import template_create, version_approve, version_submit
from apps.sends.models import OutboundMessage, TrackedLink
from apps.sends.services.dispatch import message_dispatch
from apps.sends.services.messages import message_create, messages_create_batch
from apps.sends.testing.fake_postmark import FakePostmark
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TUESDAY_NOON_CHICAGO = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
BASE = "https://cue.example.com"
ADDRESS = "Cue Demo Inc., 100 Market Street, Suite 300, Springfield, IL 62701"
HTML = (
    "<style>.lead { color: #1f4e79; }</style>"
    '<p class="lead">Hi {{ contact.first_name | "there" }}, the recording is ready.</p>'
    '<p><a href="{link:recording}">Watch it</a></p>'
    f"<p>Cue Demo, {ADDRESS}<br>"
    '<a href="{link:unsubscribe}">Unsubscribe</a></p>'
)
LINKS = {"recording": {"url": "https://example.com/recording", "key": True}}


@pytest.fixture
def fake_postmark(settings):
    with FakePostmark() as fake:
        settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
        settings.ANYMAIL = {
            "POSTMARK_SERVER_TOKEN": fake.server_token,
            "POSTMARK_API_URL": fake.api_url,
        }
        settings.PUBLIC_BASE_URL = BASE
        yield fake


@pytest.fixture
def clock():
    with time_machine.travel(TUESDAY_NOON_CHICAGO, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ada(opted_in_contact, clock):
    contact = opted_in_contact(email="ada@example.com", first_name="Ada & Co")
    consent_opt_in(
        contact=contact, channel=Channel.EMAIL, purpose=Purpose.MARKETING, source=ConsentSource.API
    )
    return contact


def approved_email(*, body: str = ""):
    author = UserFactory(role=roles.MARKETER)
    template = template_create(
        actor=author, name="Recording", channel="email", purpose="progress",
        category="marketing", subject="Your recording", body=body, html=HTML, links=LINKS,
    )  # fmt: skip
    version = version_submit(actor=author, version=template.versions.get(), notify=False)
    return version_approve(actor=UserFactory(role=roles.APPROVER), version=version, notify=False)


def sent_to(contact, version, key="recording") -> OutboundMessage:
    message = message_create(
        send_key=key, origin="journey", category="marketing", channel="email",
        contact=contact, template_version=version,
    )  # fmt: skip
    message_dispatch(message_id=message.pk)
    message.refresh_from_db()
    return message


def test_it_sends_the_html_alternative_and_the_derived_text(fake_postmark, ada):
    message = sent_to(ada, approved_email())

    [email] = fake_postmark.sent
    [link] = TrackedLink.objects.filter(message=message)
    tracked = f"{BASE}/l/{link.token}"
    unsubscribe = re.search(r"<([^>]+)>", email.headers["List-Unsubscribe"]).group(1)
    assert message.status == "sent"
    assert unsubscribe.startswith(f"{BASE}/unsubscribe/")
    assert email.text_body == (
        "Hi Ada & Co, the recording is ready.\n\n"
        f"Watch it ({tracked})\n\n"
        f"Cue Demo, {ADDRESS}\n"
        f"Unsubscribe ({unsubscribe})"
    )
    assert email.html_body == (
        "<html><head></head><body>"
        '<p class="lead" style="color: #1f4e79;">Hi Ada &amp; Co, the recording is ready.</p>'
        f'<p><a href="{tracked}">Watch it</a></p>'
        f"<p>Cue Demo, {ADDRESS}<br>"
        f'<a href="{unsubscribe}">Unsubscribe</a></p>'
        "</body></html>"
    )
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (link.key, link.destination, link.is_key_link) == (
        "recording",
        "https://example.com/recording",
        True,
    )


def test_a_written_text_part_is_sent_beside_the_html(fake_postmark, ada):
    body = f"Cue Demo: watch it at {{link:recording}}\n{ADDRESS}\nStop: {{link:unsubscribe}}"
    message = sent_to(ada, approved_email(body=body))

    [email] = fake_postmark.sent
    [link] = TrackedLink.objects.filter(message=message)
    assert email.text_body.startswith(f"Cue Demo: watch it at {BASE}/l/{link.token}\n")
    assert f'<a href="{BASE}/l/{link.token}">Watch it</a>' in email.html_body


def test_the_unsubscribe_link_in_the_body_unsubscribes_in_one_click(fake_postmark, ada, client):
    sent_to(ada, approved_email())
    [email] = fake_postmark.sent
    in_html = re.search(r'<a href="([^"]+)">Unsubscribe</a>', email.html_body).group(1)

    response = client.post(in_html.removeprefix(BASE), {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert (
        ConsentState.objects.get(
            contact=ada, channel=Channel.EMAIL, purpose=Purpose.MARKETING
        ).status
        == "opted_out"
    )


def test_a_text_only_email_has_no_html_alternative(fake_postmark, ada):
    message_create(
        send_key="plain", origin="journey", category="marketing", channel="email",
        contact=ada, subject="Hi", body="Just text.",
    )  # fmt: skip
    message_dispatch(message_id=OutboundMessage.objects.get(send_key="plain").pk)

    [email] = fake_postmark.sent
    assert (email.text_body, email.html_body) == ("Just text.", "")


def test_the_html_decided_is_the_html_sent_though_the_contact_changed_before_dispatch(
    fake_postmark, ada
):
    message = message_create(
        send_key="decided", origin="journey", category="marketing", channel="email",
        contact=ada, template_version=approved_email(),
    )  # fmt: skip
    decided = OutboundMessage.objects.get(pk=message.pk).html
    ada.first_name = "Mallory"
    ada.save(update_fields=["first_name"])

    message_dispatch(message_id=message.pk)

    [email] = fake_postmark.sent
    [link] = TrackedLink.objects.filter(message=message)
    assert "Hi Ada &amp; Co, the recording is ready." in decided
    assert f'<a href="{BASE}/l/{link.token}">Watch it</a>' in decided
    assert email.html_body == decided
    assert "Mallory" not in email.html_body
    assert email.text_body.startswith("Hi Ada & Co, the recording is ready.")


def test_a_batch_of_emails_stores_each_html_as_decided(fake_postmark, ada, opted_in_contact):
    grace = opted_in_contact(email="grace@example.com", first_name="Grace")
    consent_opt_in(
        contact=grace, channel=Channel.EMAIL, purpose=Purpose.MARKETING, source=ConsentSource.API
    )
    version = approved_email()
    intents = [
        {"send_key": f"batch-{contact.pk}", "contact": contact, "template_version": version}
        | {"origin": "journey", "category": "marketing", "channel": "email"}
        for contact in (ada, grace)
    ]
    made = messages_create_batch(intents=intents, at=TUESDAY_NOON_CHICAGO)
    stored = dict(OutboundMessage.objects.values_list("send_key", "html"))
    ada.first_name = grace.first_name = "Mallory"
    ada.save(update_fields=["first_name"])
    grace.save(update_fields=["first_name"])

    for message in made.values():
        message_dispatch(message_id=message.pk)

    sent = {email.to: email.html_body for email in fake_postmark.sent}
    assert sent == {
        "ada@example.com": stored[f"batch-{ada.pk}"],
        "grace@example.com": stored[f"batch-{grace.pk}"],
    }
    assert "Hi Ada &amp; Co," in sent["ada@example.com"]
    assert "Hi Grace," in sent["grace@example.com"]


def test_a_text_only_email_and_a_text_store_no_html(fake_postmark, ada):
    message_create(
        send_key="plain", origin="journey", category="marketing", channel="email",
        contact=ada, subject="Hi", body="Just text.",
    )  # fmt: skip

    assert OutboundMessage.objects.get(send_key="plain").html == ""


def test_the_message_page_shows_the_html_sent_as_text_never_rendered(
    fake_postmark, ada, admin_client
):
    message = sent_to(ada, approved_email())

    page = admin_client.get(f"/admin/sends/outboundmessage/{message.pk}/change/")

    assert page.status_code == 200
    assert (
        "&lt;p class=&quot;lead&quot; style=&quot;color: #1f4e79;&quot;&gt;Hi Ada &amp;amp; Co"
        in (page.content.decode())
    )
    assert '<p class="lead" style="color: #1f4e79;">' not in page.content.decode()
