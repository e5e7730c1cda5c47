"""The hosted opt-in form at /optin/<slug>/."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import RequestFactory, override_settings
from django.urls import reverse

from apps.consent.models import (
    Channel,
    ConsentAction,
    ConsentDisclosure,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    ConsentStatus,
    OptInForm,
    Purpose,
)
from apps.contacts.models import Contact, ContactKind, LifecycleStage
from apps.core.http import client_ip
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

DISCLOSURE_TEXT = (
    "By checking this box you agree to receive recurring automated marketing texts from "
    "Brightline at the number provided. Consent is not a condition of purchase."
)
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"


@pytest.fixture(autouse=True)
def empty_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def disclosure():
    return ConsentDisclosure.objects.create(key="sms-marketing", version=3, text=DISCLOSURE_TEXT)


@pytest.fixture
def optin(disclosure):
    return OptInForm.objects.create(
        slug="webinar",
        name="Webinar reminders",
        brand="Brightline",
        program_name="Brightline Webinar Alerts",
        message_frequency="Up to 4 msgs/month",
        help_contact="help@brightline.example",
        privacy_url="https://brightline.example/privacy",
        terms_url="https://brightline.example/sms-terms",
        disclosure=disclosure,
        double_opt_in=True,
        ask_email=True,
        purposes=[Purpose.MARKETING, Purpose.TRANSACTIONAL],
    )


def url(slug="webinar") -> str:
    return reverse("optin:form", args=[slug])


def submit(client, **overrides):
    data = {
        "name": "Jane  Q. Doe",
        "phone": "(415) 555-2671",
        "email": "jane@example.com",
        "consent": "on",
        **overrides,
    }
    data = {key: value for key, value in data.items() if value is not None}
    return client.post(url(), data, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.7")


def nothing_stored() -> tuple[int, int, int]:
    return (Contact.objects.count(), ConsentRecord.objects.count(), ConsentState.objects.count())


# The page


def test_it_shows_the_call_to_action_with_the_exact_disclosure(client, optin):
    response = client.get(url())

    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        "Brightline",
        "Brightline Webinar Alerts",
        "Up to 4 msgs/month",
        "Msg &amp; data rates may apply.",
        "Reply HELP for help, STOP to cancel.",
        '<a href="https://brightline.example/sms-terms"',
        '<a href="https://brightline.example/privacy"',
        f'<div class="disclosure" id="disclosure">{DISCLOSURE_TEXT}</div>',
        "/static/cue/optin.css",
    ):
        assert text in page, text
    assert "csrfmiddlewaretoken" in page


def test_it_does_not_pre_check_the_consent_box(client, optin):
    response = client.get(url())

    checkbox = response.context["form"]["consent"]
    assert str(checkbox) == '<input type="checkbox" name="consent" required id="id_consent">'


def test_it_asks_for_email_only_when_the_form_says_so(client, optin):
    optin.ask_email = False
    optin.save()

    response = client.get(url())

    assert list(response.context["form"].fields) == ["name", "phone", "consent"]
    assert 'name="email"' not in response.content.decode()


def test_it_answers_404_for_an_inactive_form(client, optin):
    optin.is_active = False
    optin.save()

    get, post = client.get(url()), submit(client)

    assert (get.status_code, post.status_code) == (404, 404)
    assert "This sign-up page isn't available" in get.content.decode()
    assert nothing_stored() == (0, 0, 0)


def test_it_answers_404_for_an_unknown_slug(client, optin):
    response = client.get(url("no-such-form"))

    assert response.status_code == 404


# Submitting


def test_it_refuses_a_submission_without_the_consent_box(client, optin):
    response = submit(client, consent=None)

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "consent": ["Check the box to agree to receive text messages."]
    }
    assert nothing_stored() == (0, 0, 0)


@pytest.mark.parametrize(
    ("phone", "error"),
    [
        ("12345", "This is not a valid phone number. Check the digits."),
        ("not a number", "Enter a mobile phone number, e.g. (415) 555-2671."),
        ("(800) 555-1234", "This number cannot receive text messages. Enter a mobile number."),
    ],
)
def test_it_refuses_a_phone_number_that_cannot_get_texts(client, optin, phone, error):
    response = submit(client, phone=phone)

    assert response.status_code == 400
    assert response.context["form"].errors == {"phone": [error]}
    assert error in response.content.decode()
    assert nothing_stored() == (0, 0, 0)


def test_it_stores_the_contact_and_one_opt_in_per_purpose_with_full_evidence(
    client, optin, disclosure
):
    response = submit(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("optin:thanks", args=["webinar"])
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name, str(contact.phone), contact.email) == (
        "Jane",
        "Q. Doe",
        "+14155552671",
        "jane@example.com",
    )
    assert (contact.kind, contact.lifecycle_stage, contact.source) == (
        ContactKind.PROSPECT,
        LifecycleStage.SUBSCRIBER,
        "optin:webinar",
    )
    records = ConsentRecord.objects.filter(contact=contact).order_by("purpose")
    assert [
        (
            r.channel, r.purpose, r.action, r.source, r.address, r.ip_address, r.user_agent,
            r.page_url, r.disclosure_id, r.disclosure_text, r.form_id,
        )
        for r in records
    ] == [
        (
            Channel.SMS, purpose, ConsentAction.OPT_IN, ConsentSource.WEB_FORM, "+14155552671",
            "203.0.113.7", BROWSER, "http://testserver/optin/webinar/", disclosure.pk,
            DISCLOSURE_TEXT, optin.pk,
        )
        for purpose in (Purpose.MARKETING, Purpose.TRANSACTIONAL)
    ]  # fmt: skip
    states = ConsentState.objects.filter(contact=contact).order_by("purpose")
    assert [(s.purpose, s.status) for s in states] == [
        (Purpose.MARKETING, ConsentStatus.PENDING),
        (Purpose.TRANSACTIONAL, ConsentStatus.OPTED_IN),
    ]


def test_it_opts_in_at_once_without_double_opt_in(client, optin):
    optin.double_opt_in = False
    optin.save()

    submit(client)

    assert list(ConsentState.objects.values_list("purpose", "status").order_by("purpose")) == [
        (Purpose.MARKETING, ConsentStatus.OPTED_IN),
        (Purpose.TRANSACTIONAL, ConsentStatus.OPTED_IN),
    ]


@pytest.mark.parametrize(
    ("success_message", "reply_yes_line"),
    [
        ("Thanks! Reply YES to the text we just sent to confirm.", False),
        ("Thanks for signing up.", True),
    ],
)
def test_it_tells_the_person_to_reply_yes(client, optin, success_message, reply_yes_line):
    optin.success_message = success_message
    optin.save()
    response = submit(client)

    thanks = client.get(response["Location"])

    assert thanks.status_code == 200
    page = thanks.content.decode()
    assert f'<p class="success">{success_message}</p>' in page
    line = "Reply <strong>YES</strong> to the text message from Brightline to confirm."
    assert (line in page) is reply_yes_line


def test_it_asks_for_no_reply_without_double_opt_in(client, optin):
    optin.double_opt_in = False
    optin.success_message = "You're in."
    optin.save()
    response = submit(client)

    page = client.get(response["Location"]).content.decode()

    assert "<h1>You're signed up</h1>" in page
    assert "YES" not in page


def test_it_only_fills_in_what_an_existing_contact_lacks(client, optin):
    customer = ContactFactory(
        first_name="Janet",
        last_name="Doe",
        email="",
        phone="+14155552671",
        kind=ContactKind.CUSTOMER,
        lifecycle_stage=LifecycleStage.CUSTOMER,
        source="crm",
    )

    submit(client, name="Someone Else", email="jane@example.com")

    customer.refresh_from_db()
    assert Contact.objects.count() == 1
    assert (customer.first_name, customer.last_name, customer.email) == (
        "Janet",
        "Doe",
        "jane@example.com",
    )
    assert (customer.kind, customer.lifecycle_stage, customer.source) == (
        ContactKind.CUSTOMER,
        LifecycleStage.CUSTOMER,
        "crm",
    )
    assert ConsentRecord.objects.filter(contact=customer).count() == 2


def test_it_does_not_take_an_email_that_belongs_to_another_contact(client, optin):
    other = ContactFactory(email="jane@example.com", phone="+12025550199")

    submit(client)

    newcomer = Contact.objects.exclude(pk=other.pk).get()
    assert (str(newcomer.phone), newcomer.email) == ("+14155552671", "")
    assert ConsentRecord.objects.filter(contact=other).count() == 0
    assert ConsentRecord.objects.filter(contact=newcomer).count() == 2


def test_it_refuses_a_post_without_a_csrf_token(optin):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(url(), {"name": "Jane", "consent": "on"})

    assert response.status_code == 403
    assert nothing_stored() == (0, 0, 0)


# Rate limiting


def test_it_answers_429_after_too_many_submissions_from_one_ip(client, optin):
    for _ in range(settings.THROTTLE_OPTIN_PER_MINUTE):
        assert submit(client, consent=None).status_code == 400

    response = submit(client)

    assert (response.status_code, response["Retry-After"]) == (429, "60")
    assert "Too many attempts" in response.content.decode()
    assert nothing_stored() == (0, 0, 0)


def test_it_counts_each_ip_separately(client, optin):
    for _ in range(settings.THROTTLE_OPTIN_PER_MINUTE):
        submit(client, consent=None)

    response = client.post(
        url(),
        {"name": "Jane", "phone": "4155552671", "consent": "on"},
        REMOTE_ADDR="198.51.100.20",
    )

    assert response.status_code == 302
    assert ConsentRecord.objects.count() == 2


def test_it_does_not_count_page_views(client, optin):
    for _ in range(settings.THROTTLE_OPTIN_PER_MINUTE + 1):
        client.get(url(), REMOTE_ADDR="203.0.113.7")

    assert submit(client).status_code == 302


# Where the evidence IP comes from


def test_it_takes_the_ip_from_remote_addr_when_not_behind_a_proxy():
    request = RequestFactory().get(
        "/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1"
    )

    with override_settings(TRUSTED_PROXIES=[], TRUSTED_PROXY_COUNT=0):
        assert client_ip(request) == "203.0.113.7"


def test_it_takes_the_hop_our_proxy_appended_not_one_the_client_wrote():
    # The client sent "X-Forwarded-For: 192.0.2.66" itself; our proxy appended what it saw.
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="192.0.2.66, 198.51.100.1"
    )

    with override_settings(TRUSTED_PROXY_COUNT=1):
        assert client_ip(request) == "198.51.100.1"


def test_it_records_no_ip_when_the_forwarded_hop_is_not_an_ip():
    # The proxy's own address is not the client's either: the evidence says "unknown".
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="unknown")

    with override_settings(TRUSTED_PROXY_COUNT=1):
        assert client_ip(request) is None
