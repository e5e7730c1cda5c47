"""Email touches in attribution and on the dashboard: a person's click on an email's tracked
link and a reply to the email count, each with its own window; bots and opens never do. The
dashboard shows SMS and email side by side, read from the rollups."""

from datetime import timedelta

import pytest
from django.urls import reverse

from apps.accounts import roles
from apps.contacts.models import Event
from apps.library.services import template_create
from apps.reporting.models import Attribution, AttributionModel
from apps.reporting.selectors import ChannelFigures, DashboardFilters, dashboard
from apps.reporting.services.attribution import attribution_rebuild
from apps.reporting.services.rollups import reporting_refresh
from apps.sends.models import OutboundMessage
from tests.factories import UserFactory
from tests.reporting.conftest import BUILT_AT, T
from tests.reporting.scenario import frozen

pytestmark = pytest.mark.django_db

DAY, HOUR, SECOND = timedelta(days=1), timedelta(hours=1), timedelta(seconds=1)


@pytest.fixture
def email_version(db):
    with frozen(BUILT_AT):
        template = template_create(
            actor=UserFactory(role=roles.MARKETER), name="Webinar recap", channel="email",
            purpose="progress", category="marketing", subject="The recording",
            body="Here is the recording: {link:details}",
            links={"details": {"url": "https://www.example.com/recap", "key": True}},
        )  # fmt: skip
    return template.versions.get()


@pytest.fixture
def send_email(scenario, email_version):
    def send(contact, *, sent_at, delivered_at=None) -> OutboundMessage:
        message = scenario.message(
            contact, sent_at=sent_at, delivered_at=delivered_at, version=email_version
        )
        OutboundMessage.objects.filter(pk=message.pk).update(
            channel="email", to_address=contact.email, subject="The recording"
        )
        message.channel = "email"
        return message

    return send


def email_reply(message, at) -> Event:
    return Event.objects.create(
        contact=message.contact, type="email_reply", occurred_at=at,
        properties={"message_id": message.pk, "journey_id": message.journey_id},
        idempotency_key=f"email-reply-{message.pk}-{at.isoformat()}", source="email",
    )  # fmt: skip


def email_open(message, at) -> Event:
    return Event.objects.create(
        contact=message.contact, type="email_open", occurred_at=at,
        properties={"message_id": message.pk, "reliable": False},
        idempotency_key=f"email-open-{message.pk}", source="email",
    )  # fmt: skip


def rebuild() -> list[tuple]:
    attribution_rebuild(start=T - 30 * DAY, end=T + DAY)
    return list(
        Attribution.objects.order_by("kind", "conversion_id", "touched_at", "message_id")
        .values_list("kind", "message_id", "touch_type", "touched_at", "credit")
    )  # fmt: skip


# Each email touch type's own window (7 days by default), at its edges, beside SMS's 5 days.
EDGES = [
    ("email_click", 7 * DAY, True),
    ("email_click", 7 * DAY + SECOND, False),
    ("email_reply", 7 * DAY, True),
    ("email_reply", 7 * DAY + SECOND, False),
    ("email_click", -SECOND, False),  # after the conversion: never
]


@pytest.mark.parametrize(("touch", "before", "inside"), EDGES)
def test_it_credits_email_touches_within_their_own_window(
    scenario, rules, send_email, touch, before, inside
):
    rules.count_deliveries = False
    rules.save()
    contact = scenario.contact()
    touched_at = T - before
    message = send_email(contact, sent_at=touched_at - HOUR)
    if touch == "email_click":
        scenario.click(message, touched_at)
    else:
        email_reply(message, touched_at)
    scenario.meeting(contact, T)
    expected = [("meeting_booked", message.pk, touch, touched_at, 1.0)] if inside else []
    assert rebuild() == expected


def test_a_changed_email_window_changes_what_counts(scenario, rules, send_email):
    rules.count_deliveries, rules.email_reply_window_hours = False, 12
    rules.save()
    contact = scenario.contact()
    message = send_email(contact, sent_at=T - 2 * DAY)
    email_reply(message, T - 13 * HOUR)
    scenario.meeting(contact, T)
    assert rebuild() == []
    rules.email_reply_window_hours = 13
    rules.save()
    assert rebuild() == [("meeting_booked", message.pk, "email_reply", T - 13 * HOUR, 1.0)]


def test_bots_opens_and_email_deliveries_never_count(scenario, rules, send_email):
    rules.count_deliveries = True  # an SMS delivery would count; an email's never does
    rules.save()
    contact = scenario.contact()
    message = send_email(contact, sent_at=T - 2 * HOUR, delivered_at=T - 2 * HOUR)
    scenario.click(message, T - HOUR, bot=True)
    email_open(message, T - HOUR)
    scenario.meeting(contact, T)
    assert rebuild() == []


def test_email_touches_are_left_out_when_the_rule_says_so(scenario, rules, send_email):
    rules.count_deliveries, rules.count_email_clicks, rules.count_email_replies = (False,) * 3
    rules.save()
    contact = scenario.contact()
    message = send_email(contact, sent_at=T - DAY)
    scenario.click(message, T - HOUR)
    email_reply(message, T - HOUR)
    scenario.meeting(contact, T)
    assert rebuild() == []


def test_linear_shares_a_stage_move_between_a_text_and_an_email(scenario, rules, send_email):
    rules.count_deliveries, rules.model = False, AttributionModel.LINEAR
    rules.save()
    contact = scenario.contact()
    text = scenario.message(contact, sent_at=T - 3 * DAY)
    email = send_email(contact, sent_at=T - 2 * DAY)
    scenario.click(text, T - 3 * DAY + HOUR)
    scenario.click(email, T - 2 * DAY + HOUR)
    email_reply(email, T - DAY)
    scenario.deal(contact, [("discovery", T - 4 * DAY), ("demo", T)])
    half_and_thirds = pytest.approx(1 / 3)
    assert rebuild() == [
        ("stage_progression", text.pk, "click", T - 3 * DAY + HOUR, half_and_thirds),
        ("stage_progression", email.pk, "email_click", T - 2 * DAY + HOUR, half_and_thirds),
        ("stage_progression", email.pk, "email_reply", T - DAY, half_and_thirds),
    ]


def test_last_touch_goes_to_an_sms_click_before_an_email_click_at_the_same_moment(
    scenario, rules, send_email
):
    rules.count_deliveries = False
    rules.save()
    contact = scenario.contact()
    text = scenario.message(contact, sent_at=T - DAY)
    email = send_email(contact, sent_at=T - DAY)
    scenario.click(email, T - HOUR)
    scenario.click(text, T - HOUR)
    scenario.meeting(contact, T)
    assert rebuild() == [("meeting_booked", text.pk, "click", T - HOUR, 1.0)]


@pytest.fixture
def both_channels(scenario, rules, send_email):
    """Texts: three sent, two delivered, one clicked by a person (and one by a bot), one
    reply, credited with one stage move. Emails: two sent, two delivered, one clicked by a
    person, one opened, two replies (one each), credited with two stage moves."""
    rules.count_deliveries = False
    rules.save()
    people = [scenario.contact() for _ in range(5)]
    texts = [
        scenario.message(people[0], sent_at=T, delivered_at=T + HOUR),
        scenario.message(people[1], sent_at=T, delivered_at=T + HOUR),
        scenario.message(people[2], sent_at=T),
    ]
    scenario.click(texts[0], T + 2 * HOUR)
    scenario.click(texts[1], T + 2 * HOUR, bot=True)
    scenario.reply(texts[2], T + 2 * HOUR)
    scenario.deal(people[0], [("discovery", T - DAY), ("demo", T + 3 * HOUR)])
    emails = [
        send_email(people[3], sent_at=T + HOUR, delivered_at=T + HOUR),
        send_email(people[4], sent_at=T + HOUR, delivered_at=T + HOUR),
    ]
    scenario.click(emails[0], T + 2 * HOUR)
    email_open(emails[1], T + 2 * HOUR)
    email_reply(emails[0], T + 3 * HOUR)
    email_reply(emails[1], T + 3 * HOUR)
    scenario.deal(people[3], [("discovery", T - DAY), ("demo", T + 4 * HOUR)])
    scenario.deal(people[4], [("discovery", T - DAY), ("demo", T + 4 * HOUR)])
    with frozen(T + DAY):
        reporting_refresh()


EXPECTED_CHANNELS = [
    ChannelFigures("sms", "SMS", sent=3, delivered=2, clicked=1, replied=1, stage_moves=1.0),
    ChannelFigures("email", "Email", sent=2, delivered=2, clicked=1, replied=2, stage_moves=2.0),
]


def test_the_dashboard_shows_each_channel_from_the_rollups(both_channels):
    filters = DashboardFilters(start=(T - DAY).date(), end=(T + DAY).date())
    assert dashboard(filters).channels == EXPECTED_CHANNELS


def test_the_admin_index_shows_sms_and_email_side_by_side(client, make_user, both_channels):
    client.force_login(make_user(roles.MARKETER))
    dates = {"start": (T - DAY).date().isoformat(), "end": (T + DAY).date().isoformat()}
    html = client.get(reverse("admin:index"), dates).content.decode()
    for channel in EXPECTED_CHANNELS:
        for name in ("sent", "delivered", "clicked", "replied", "stage_moves"):
            cell = f'data-channel="{channel.channel}" data-figure="{name}">'
            assert f"{cell}{getattr(channel, name):g}<" in html


def test_a_range_with_nothing_shows_zero_for_both_channels(both_channels):
    filters = DashboardFilters(start=(T + 5 * DAY).date(), end=(T + 6 * DAY).date())
    assert dashboard(filters).channels == [
        ChannelFigures("sms", "SMS"),
        ChannelFigures("email", "Email"),
    ]
