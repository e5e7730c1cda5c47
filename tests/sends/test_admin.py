"""The sends admin: messages are read-only for everyone (the pipeline writes them), the list
stays at a fixed number of queries, and each message's page says why it was or wasn't sent
above its decision and delivery timeline, with a link to the contact's conversation."""

import html
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts import roles
from apps.sends.models import FrequencyCap, KeywordRule, LinkClick, OutboundMessage, TrackedLink
from apps.sends.services.dispatch import message_dispatch
from apps.sends.services.inbound import InboundText, inbound_receive
from apps.sends.services.messages import message_create
from apps.sends.webhooks.status import status_callback_apply
from tests.factories import ContactFactory, UserFactory
from tests.sends.templates import approved_sms_version

pytestmark = pytest.mark.django_db

TUESDAY_1602 = datetime(2026, 3, 10, 16, 2, tzinfo=UTC)
MONDAY_2100_NEW_YORK = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
BODY = "Acme: your webinar starts in 1 hour. Reply STOP to opt out."


def admin_url(model: str, view: str, *args) -> str:
    return reverse(f"admin:sends_{model}_{view}", args=args)


def signed_in(client, role: str):
    client.force_login(UserFactory(role=role))
    return client


def marketing(contact, key="m1", **fields) -> OutboundMessage:
    return message_create(
        send_key=key, origin="journey", category="marketing", contact=contact, body=BODY, **fields
    )


def page_text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def message():
    with time_machine.travel(TUESDAY_1602, tick=False):
        return marketing(ContactFactory(time_zone="America/Chicago"))


# Who may look


@pytest.mark.parametrize("role", [roles.MARKETER, roles.APPROVER, roles.COMPLIANCE, roles.ADMIN])
@pytest.mark.parametrize(
    "model",
    [
        "outboundmessage",
        "inboundmessage",
        "trackedlink",
        "linkclick",
        "frequencycap",
        "keywordrule",
    ],
)
def test_it_opens_the_lists_for_the_office_roles(client, role, model, message):
    assert signed_in(client, role).get(admin_url(model, "changelist")).status_code == 200


@pytest.mark.parametrize("role", [roles.SALES_REP, roles.SALES_MANAGER])
def test_it_sends_sales_roles_to_the_login_page(client, role, message):
    response = signed_in(client, role).get(admin_url("outboundmessage", "changelist"))

    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("admin:login"))


# Nobody writes a message by hand


def test_it_refuses_the_add_page_even_to_an_admin(admin_client):
    url = admin_url("outboundmessage", "add")

    get = admin_client.get(url)
    post = admin_client.post(url, {"to_address": "+14155550100", "body": "Hand made"})

    assert (get.status_code, post.status_code) == (403, 403)
    assert OutboundMessage.objects.count() == 0


def test_it_refuses_a_change_even_to_an_admin(admin_client, message):
    before = OutboundMessage.objects.values().get(pk=message.pk)

    response = admin_client.post(
        admin_url("outboundmessage", "change", message.pk),
        {"status": "delivered", "body": "Forged", "to_address": "+15550000000"},
    )

    assert response.status_code == 403
    assert OutboundMessage.objects.values().get(pk=message.pk) == before


def test_it_refuses_deleting_even_to_an_admin(admin_client, message):
    get = admin_client.get(admin_url("outboundmessage", "delete", message.pk))
    post = admin_client.post(admin_url("outboundmessage", "delete", message.pk), {"post": "yes"})
    bulk = admin_client.post(
        admin_url("outboundmessage", "changelist"),
        {"action": "delete_selected", "_selected_action": [message.pk], "post": "yes"},
    )

    assert (get.status_code, post.status_code) == (403, 403)
    assert bulk.status_code in (200, 302)
    assert OutboundMessage.objects.filter(pk=message.pk).exists()


def test_it_shows_a_message_read_only(admin_client, message):
    response = admin_client.get(admin_url("outboundmessage", "change", message.pk))

    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert 'name="_save"' not in response.content.decode()


@pytest.mark.parametrize("model", ["inboundmessage", "trackedlink", "linkclick"])
def test_it_refuses_adding_the_other_pipeline_records(admin_client, model):
    assert admin_client.get(admin_url(model, "add")).status_code == 403


# The list


def test_it_lists_a_page_of_fifty_messages_in_a_fixed_number_of_queries(
    client, django_assert_max_num_queries
):
    version = approved_sms_version()
    with time_machine.travel(TUESDAY_1602, tick=False):
        for i in range(50):
            contact = ContactFactory(time_zone="America/Chicago")
            fields = {"template_version": version} if i % 2 else {"body": BODY}
            message_create(
                send_key=f"m{i}",
                origin="journey",
                category="marketing",
                contact=contact,
                journey_id=i % 3,
                **fields,
            )
    signed_in(client, roles.MARKETER)
    url = admin_url("outboundmessage", "changelist")
    client.get(url)  # warm the session and the permission cache

    with django_assert_max_num_queries(12):
        response = client.get(url)

    assert len(response.context["cl"].result_list) == 50
    one_address = OutboundMessage.objects.first().to_address
    with CaptureQueriesContext(connection) as fifty:
        client.get(url)
    with CaptureQueriesContext(connection) as one:
        response = client.get(url, {"q": one_address})
    assert len(response.context["cl"].result_list) == 1
    assert len(fifty) == len(one)


@pytest.mark.parametrize("term", ["+14155550042", "(415) 555-0042", "4155550042", "contact"])
def test_it_finds_messages_by_phone_number_or_contact_id(admin_client, term):
    with time_machine.travel(TUESDAY_1602, tick=False):
        wanted = marketing(ContactFactory(phone="+14155550042"), key="wanted")
        marketing(ContactFactory(phone="+14155550043"), key="other")
    term = str(wanted.contact_id) if term == "contact" else term

    response = admin_client.get(admin_url("outboundmessage", "changelist"), {"q": term})

    assert [m.pk for m in response.context["cl"].result_list] == [wanted.pk]


def test_it_finds_a_message_by_its_provider_sid(admin_client, fake_twilio, opted_in_contact):
    with time_machine.travel(TUESDAY_1602, tick=False):
        sent = marketing(opted_in_contact())
        message_dispatch(message_id=sent.pk)
        marketing(opted_in_contact(), key="other")
    sent.refresh_from_db()

    response = admin_client.get(
        admin_url("outboundmessage", "changelist"), {"q": sent.provider_sid}
    )

    assert [m.pk for m in response.context["cl"].result_list] == [sent.pk]


def test_it_filters_by_status_and_reason(admin_client, message, opted_in_contact):
    with time_machine.travel(TUESDAY_1602, tick=False):
        marketing(opted_in_contact(), key="queued")

    response = admin_client.get(
        admin_url("outboundmessage", "changelist"),
        {"status__exact": "suppressed", "reason_code": "consent_none"},
    )

    assert [m.pk for m in response.context["cl"].result_list] == [message.pk]


# Why was (or wasn't) it sent


def test_it_explains_a_suppressed_message_on_its_page(admin_client, message):
    response = admin_client.get(admin_url("outboundmessage", "change", message.pk))

    text = page_text(response)
    assert "Why wasn't this sent?" in text
    assert (
        "Held back at creation: Marketing needs an active, confirmed opt-in; "
        "no SMS consent is on record."
    ) in text
    assert "Gate decision at creation: suppress" in text


def test_it_explains_a_deferred_message_on_its_page(admin_client, opted_in_contact):
    contact = opted_in_contact(time_zone="America/New_York", region="FL")
    with time_machine.travel(MONDAY_2100_NEW_YORK, tick=False):
        deferred = marketing(contact)

    response = admin_client.get(admin_url("outboundmessage", "change", deferred.pk))

    text = page_text(response)
    assert (
        "Deferred to 08:00 in America/New_York (Tue 12:00 UTC) by quiet hours (state:FL)." in text
    )
    assert "21:00 in America/New_York is outside 08:00–20:00 (state:FL)" in text
    assert "the contact's stated time zone" in text


def test_it_explains_a_delivered_message_on_its_page(admin_client, fake_twilio, opted_in_contact):
    with time_machine.travel(TUESDAY_1602, tick=False):
        sent = marketing(opted_in_contact())
        message_dispatch(message_id=sent.pk)
        sent.refresh_from_db()
        status_callback_apply(
            message=sent,
            sid=sent.provider_sid,
            status="delivered",
            params={"MessageStatus": "delivered"},
            idempotency_token="",
        )

    response = admin_client.get(admin_url("outboundmessage", "change", sent.pk))

    text = page_text(response)
    assert "Why was this sent?" in text
    assert "Allowed at creation and again at dispatch: every rule allows it." in text
    assert "Sent 16:02, delivered 16:02." in text
    assert [step.title for step in response.context["timeline"]] == [
        "Gate decision at creation: allow",
        "Status: Sending",
        "Provider reports: sent",
        "Provider reports: delivered",
    ]


# The conversation


@pytest.fixture
def thread(fake_twilio, opted_in_contact):
    """A delivered text, the contact's reply, and a second text not yet sent."""
    with time_machine.travel(datetime(2026, 3, 10, 16, 0, tzinfo=UTC), tick=False):
        contact = opted_in_contact()
        first = marketing(contact, key="first")
        message_dispatch(message_id=first.pk)
    with time_machine.travel(datetime(2026, 3, 10, 16, 5, tzinfo=UTC), tick=False):
        inbound_receive(
            text=InboundText(
                sid="SMreply",
                from_address=str(contact.phone),
                to_address="+15550001111",
                body="Can we do 3pm?",
            )
        )
    with time_machine.travel(datetime(2026, 3, 10, 16, 10, tzinfo=UTC), tick=False):
        last = message_create(
            send_key="last",
            origin="rep_reply",
            category="transactional",
            contact=contact,
            body="3pm works, see you then.",
        )
    return contact, first, last


def test_it_shows_the_conversation_oldest_first(admin_client, thread):
    contact, _, _ = thread

    response = admin_client.get(admin_url("outboundmessage", "conversation", contact.pk))

    assert response.status_code == 200
    assert [(item.direction, item.body) for item in response.context["items"]] == [
        ("out", BODY),
        ("in", "Can we do 3pm?"),
        ("out", "3pm works, see you then."),
    ]
    text = page_text(response)
    assert text.index(BODY) < text.index("Can we do 3pm?") < text.index("3pm works")


def test_it_links_each_message_to_the_conversation(admin_client, thread):
    contact, first, _ = thread

    response = admin_client.get(admin_url("outboundmessage", "change", first.pk))

    assert admin_url("outboundmessage", "conversation", contact.pk) in response.content.decode()


def test_it_shows_a_number_without_a_contact_by_its_number(admin_client):
    inbound_receive(
        text=InboundText(
            sid="SMstranger",
            from_address="+14155550999",
            to_address="+15550001111",
            body="who is this?",
        )
    )

    response = admin_client.get(admin_url("outboundmessage", "conversation_number", "+14155550999"))

    assert [item.body for item in response.context["items"]] == ["who is this?"]


@pytest.mark.parametrize("role", [roles.MARKETER, roles.COMPLIANCE])
def test_it_opens_the_conversation_for_those_who_view_sends(client, role, thread):
    contact, _, _ = thread
    response = signed_in(client, role).get(admin_url("outboundmessage", "conversation", contact.pk))

    assert response.status_code == 200


def test_it_keeps_the_conversation_from_sales_reps_and_strangers(client, thread):
    contact, _, _ = thread
    url = admin_url("outboundmessage", "conversation", contact.pk)

    anonymous = client.get(url)
    rep = signed_in(client, roles.SALES_REP).get(url)
    client.force_login(UserFactory(is_staff=True))  # staff, but no sends permission
    staff = client.get(url)

    assert (anonymous.status_code, rep.status_code, staff.status_code) == (302, 302, 403)
    assert anonymous.headers["Location"].startswith(reverse("admin:login"))


def test_it_answers_404_for_an_unknown_contact(admin_client):
    assert admin_client.get(admin_url("outboundmessage", "conversation", 999999)).status_code == 404


# Links, caps and keywords


def test_it_counts_people_and_previews_apart_on_the_link_list(admin_client, opted_in_contact):
    with time_machine.travel(TUESDAY_1602, tick=False):
        message = message_create(
            send_key="t",
            origin="journey",
            category="marketing",
            contact=opted_in_contact(),
            template_version=approved_sms_version(),
        )
    link = TrackedLink.objects.get(message=message)
    for is_bot in (False, False, True):
        LinkClick.objects.create(link=link, is_bot=is_bot, user_agent="ua")

    response = admin_client.get(admin_url("trackedlink", "changelist"))

    [row] = response.context["cl"].result_list
    assert (row.human_clicks, row.bot_clicks) == (2, 1)


def test_it_lets_an_admin_change_a_frequency_cap_and_keeps_its_history(admin_client):
    cap = FrequencyCap.objects.create(
        name="Test cap", category="marketing", window_hours=24, max_messages=2
    )

    response = admin_client.post(
        admin_url("frequencycap", "change", cap.pk),
        {
            "name": "Test cap",
            "channel": "sms",
            "category": "marketing",
            "window_hours": 24,
            "max_messages": 1,
            "region": "",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    cap.refresh_from_db()
    assert cap.max_messages == 1
    assert cap.history.first().history_user.username == "admin"


@pytest.mark.parametrize("role", [roles.MARKETER, roles.COMPLIANCE])
def test_it_keeps_frequency_caps_read_only_for_other_roles(client, role):
    cap = FrequencyCap.objects.create(
        name="Test cap", category="marketing", window_hours=24, max_messages=2
    )
    response = signed_in(client, role).post(
        admin_url("frequencycap", "change", cap.pk),
        {
            "name": "Test cap",
            "channel": "sms",
            "category": "marketing",
            "window_hours": 24,
            "max_messages": 50,
            "region": "",
            "is_active": "on",
        },
    )

    assert response.status_code == 403
    cap.refresh_from_db()
    assert cap.max_messages == 2


def test_it_refuses_a_custom_keyword_that_shadows_a_carrier_keyword(admin_client):
    response = admin_client.post(
        admin_url("keywordrule", "add"), {"keyword": " Stop ", "kind": "reply", "reply": "Hi!"}
    )

    assert response.status_code == 200
    assert "STOP is a carrier-standard keyword" in page_text(response)
    assert KeywordRule.objects.count() == 0


def test_it_adds_a_custom_keyword(admin_client):
    response = admin_client.post(
        admin_url("keywordrule", "add"),
        {
            "keyword": "DEMO",
            "kind": "reply",
            "reply": "Book a demo: example.com",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    assert list(KeywordRule.objects.values_list("keyword", "kind")) == [("DEMO", "reply")]


def test_it_puts_the_message_on_the_contacts_page(admin_client, message):
    response = admin_client.get(reverse("admin:contacts_contact_change", args=[message.contact_id]))

    assert response.status_code == 200
    assert admin_url("outboundmessage", "change", message.pk) in response.content.decode()
    assert f"SMS suppressed: {BODY}" in page_text(response)
