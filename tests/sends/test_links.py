"""GET /l/<token>: an unguessable token redirects to exactly the destination declared on the
approved template version; a person's click becomes an sms_click event, a link preview
fetched by a messaging app is stored as a bot click and nothing more."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import OperationalError

from apps.contacts.models import Event
from apps.sends import links
from apps.sends.models import LinkClick, TrackedLink
from apps.sends.services.messages import message_create
from tests.sends.templates import LINKS, approved_sms_version

pytestmark = pytest.mark.django_db

DESTINATION = LINKS["details"]["url"]
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36"
)
LINK_PREVIEW_AGENTS = [
    "facebookexternalhit/1.1 Facebot Twitterbot/1.0",  # iMessage, as Apple sends it
    "WhatsApp/2.23.20.0",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "TelegramBot (like TwitterBot)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
]


@pytest.fixture
def link(settings, opted_in_contact) -> TrackedLink:
    """The one tracked link in a demo confirmation sent from step 7 of journey 42."""
    settings.PUBLIC_BASE_URL = "https://cue.example.com"
    with time_machine.travel(datetime(2026, 3, 10, 16, 0, tzinfo=UTC), tick=False):
        message = message_create(
            send_key="demo-confirmation",
            origin="journey",
            category="marketing",
            contact=opted_in_contact(),
            template_version=approved_sms_version(),
            journey_id=42,
            step_id=7,
        )
    return TrackedLink.objects.get(message=message)


def url_of(link: TrackedLink) -> str:
    return f"/l/{link.token}"


def click(client, link, user_agent=IPHONE_SAFARI, query=""):
    return client.get(url_of(link) + query, headers={"User-Agent": user_agent})


def sms_clicks() -> list[Event]:
    return list(Event.objects.filter(type="sms_click"))


# The link in the message


def test_it_mints_one_unguessable_token_per_declared_link(link):
    assert TrackedLink.objects.count() == 1
    assert len(link.token) >= 22
    assert re.fullmatch(r"[A-Za-z0-9_-]+", link.token)
    assert (link.key, link.destination, link.is_key_link) == ("details", DESTINATION, True)
    assert f"https://cue.example.com/l/{link.token} " in link.message.body
    assert DESTINATION not in link.message.body


# A person's click


def test_it_redirects_to_exactly_the_declared_destination(client, link):
    response = click(client, link)

    assert response.status_code == 302
    assert response.headers["Location"] == DESTINATION
    assert "no-cache" in response.headers["Cache-Control"]


@pytest.mark.parametrize("user_agent", [IPHONE_SAFARI, ANDROID_CHROME])
def test_it_stores_a_persons_click_and_one_sms_click_event(client, link, user_agent):
    click(client, link, user_agent=user_agent)

    [stored] = LinkClick.objects.all()
    assert (stored.link, stored.is_bot, stored.ip_address, stored.user_agent) == (
        link,
        False,
        "127.0.0.1",
        user_agent,
    )
    [event] = sms_clicks()
    assert (event.contact, event.source, event.occurred_at) == (
        link.message.contact,
        "sms",
        stored.at,
    )
    assert event.properties == {
        "message_id": link.message_id,
        "link": "details",
        "key_link": True,
        "journey_id": 42,
    }


def test_it_stores_the_clients_address_not_the_proxys(client, link, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    client.get(
        url_of(link),
        headers={"User-Agent": IPHONE_SAFARI, "X-Forwarded-For": "192.0.2.1, 198.51.100.7"},
        REMOTE_ADDR="10.0.0.2",
    )

    assert LinkClick.objects.get().ip_address == "198.51.100.7"


def test_it_still_redirects_when_the_address_is_unusable(client, link):
    response = client.get(url_of(link), headers={"User-Agent": IPHONE_SAFARI}, REMOTE_ADDR="")

    assert (response.status_code, response.headers["Location"]) == (302, DESTINATION)
    assert LinkClick.objects.get().ip_address is None


def test_it_counts_each_click_of_a_person_once(client, link):
    click(client, link)
    click(client, link)

    assert LinkClick.objects.filter(is_bot=False).count() == 2
    assert len(sms_clicks()) == 2


# Link previews and bots


@pytest.mark.parametrize("user_agent", [*LINK_PREVIEW_AGENTS, ""])
def test_it_stores_a_link_preview_as_a_bot_click_and_records_no_event(client, link, user_agent):
    response = click(client, link, user_agent=user_agent)

    assert (response.status_code, response.headers["Location"]) == (302, DESTINATION)
    assert list(LinkClick.objects.values_list("is_bot", "user_agent")) == [(True, user_agent)]
    assert sms_clicks() == []


# What never happens


def test_it_answers_an_unknown_token_with_the_friendly_page_and_stores_nothing(client, link):
    response = client.get("/l/" + "x" * 22, headers={"User-Agent": IPHONE_SAFARI})

    assert response.status_code == 404
    assert "This link doesn't lead anywhere" in response.content.decode()
    assert (LinkClick.objects.count(), sms_clicks()) == (0, [])


@pytest.mark.parametrize(
    "query",
    [
        "?next=https://evil.example/",
        "?url=https%3A%2F%2Fevil.example%2F&destination=https://evil.example/",
        "?token=" + "y" * 22,
        "?%0d%0aLocation:%20https://evil.example/",
    ],
)
def test_it_ignores_a_tampered_query_string(client, link, query):
    response = click(client, link, query=query)

    assert (response.status_code, response.headers["Location"]) == (302, DESTINATION)


def test_it_never_redirects_through_a_token_that_is_only_a_prefix(client, link):
    response = client.get(url_of(link)[:-1], headers={"User-Agent": IPHONE_SAFARI})

    assert response.status_code == 404
    assert LinkClick.objects.count() == 0


@pytest.mark.parametrize("method", ["head", "post", "put", "delete"])
def test_it_refuses_anything_but_get_and_stores_nothing(client, link, method):
    response = getattr(client, method)(url_of(link), headers={"User-Agent": IPHONE_SAFARI})

    assert response.status_code == 405
    assert "Location" not in response.headers
    assert (LinkClick.objects.count(), sms_clicks()) == (0, [])


def test_it_shares_one_token_when_a_template_repeats_a_link(opted_in_contact):
    body = "Cue Demo: book at {link:details} or later at {link:details}. Reply STOP to opt out."
    version = approved_sms_version(name="Twice", body=body)
    message = message_create(
        send_key="twice",
        origin="journey",
        category="marketing",
        contact=opted_in_contact(),
        template_version=version,
    )
    [link] = TrackedLink.objects.filter(message=message)
    assert message.body.count(f"/l/{link.token}") == 2


def test_it_answers_429_once_a_client_has_opened_too_many_links_this_minute(client, link, settings):
    settings.THROTTLE_LINK_CLICKS_PER_MINUTE = 3
    answers = [click(client, link).status_code for _ in range(3)]
    refused = click(client, link)
    assert answers == [302, 302, 302]
    assert (refused.status_code, refused["Retry-After"]) == (429, "60")
    assert "try the link again in a minute" in refused.content.decode()
    assert LinkClick.objects.count() == 3
    assert len(sms_clicks()) == 3
    other = client.get(
        url_of(link), headers={"User-Agent": IPHONE_SAFARI}, REMOTE_ADDR="198.51.100.9"
    )
    assert other.status_code == 302


def test_a_lost_database_answers_503_not_500(client, link, monkeypatch):
    def lost(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(links, "link_click_record", lost)
    response = click(client, link)
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert LinkClick.objects.count() == 0
