"""The recipient's window: area codes that span zones, state and country rules from cited
data, and the one function the gate and dispatch's ValidityPeriod both ask."""

import json
import shutil
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from apps.consent.models import Preference
from apps.sends.caps import DEFAULT_CAPS
from apps.sends.quiet_hours import (
    HOLD_COUNTRY_UNSUPPORTED,
    QuietHoursDataError,
    Recipient,
    load_rules,
    recipient_window,
)
from apps.sends.quiet_hours.rules import DATA_DIR, RULES_FILE
from apps.sends.services.dispatch import message_dispatch
from apps.sends.services.messages import message_create

SPLIT = load_rules().split_area_codes
BODY = "Acme: your webinar starts in 1 hour. Reply STOP to opt out."


def _offset(zone: str, moment: datetime) -> timedelta:
    return moment.astimezone(ZoneInfo(zone)).utcoffset()


def _just_open_in_the_east(zones: tuple[str, ...]) -> datetime:
    """A moment just after 08:00 in the easternmost zone while the westernmost is still
    before 08:00 (in winter or in summer, whichever splits the zones)."""
    for day in (date(2026, 1, 13), date(2026, 7, 14)):  # Tuesdays
        noon = datetime.combine(day, time(12), UTC)
        east = max(zones, key=lambda zone: _offset(zone, noon))
        west = min(zones, key=lambda zone: _offset(zone, noon))
        gap = _offset(east, noon) - _offset(west, noon)
        if gap >= timedelta(minutes=30):
            opens = datetime.combine(day, time(8), ZoneInfo(east))
            return (opens + min(gap / 2, timedelta(minutes=30))).astimezone(UTC)
    raise AssertionError(f"{zones} never differ by half an hour")


@pytest.mark.parametrize("code", sorted(SPLIT))
def test_a_number_in_a_split_area_code_waits_for_its_westernmost_zone(code):
    # Given a number in the area code and nothing else about where its owner is
    row = SPLIT[code]
    at = _just_open_in_the_east(row.zones)

    # When a text is asked for just after 08:00 in the code's eastern zone
    decision = recipient_window(recipient=Recipient(phone_e164=f"+1{code}2345678"), at=at)

    # Then it is deferred, and the reason names every zone the number could be in
    assert (decision.allowed, decision.held, decision.zone_source) == (False, False, "phone")
    assert set(row.zones) <= set(decision.zones)
    assert all(zone in decision.reason for zone in row.zones)
    assert decision.next_allowed_at > at


def test_the_florida_panhandle_is_not_texted_at_half_past_seven_central():
    # 13:30 UTC on a January Tuesday: 08:30 in Tallahassee, 07:30 in Pensacola
    at = datetime(2026, 1, 13, 13, 30, tzinfo=UTC)
    decision = recipient_window(recipient=Recipient(phone_e164="+18504380100"), at=at)
    assert decision.reason == (
        "07:30 in America/Chicago is outside 08:00\u201320:00 (state:FL); the number could be "
        "in America/Chicago, America/New_York"
    )
    assert decision.next_allowed_at == datetime(2026, 1, 13, 14, 0, tzinfo=UTC)


def test_a_stated_zone_or_address_still_wins_over_the_area_code():
    at = datetime(2026, 1, 13, 13, 30, tzinfo=UTC)  # 08:30 in New York
    stated = Recipient(phone_e164="+18504380100", time_zone="America/New_York", region="FL")
    assert recipient_window(recipient=stated, at=at).allowed is True


# --- Country rules -----------------------------------------------------------------------


def test_a_canadian_gets_the_crtc_weekend_hours():
    # Saturday 18:30 in Toronto: inside the US window, outside Canada's 10:00-18:00
    at = datetime(2026, 3, 14, 22, 30, tzinfo=UTC)
    recipient = Recipient(phone_e164="+14165550100", time_zone="America/Toronto", country="CA")
    decision = recipient_window(recipient=recipient, at=at)
    assert (decision.allowed, decision.window_rule) == (False, "country:CA")
    assert decision.reason == "18:30 in America/Toronto is outside 10:00\u201318:00 (country:CA)"
    assert decision.next_allowed_at == datetime(2026, 3, 15, 14, 0, tzinfo=UTC)


def test_a_us_contact_with_a_canadian_number_gets_both_countries_rules():
    at = datetime(2026, 3, 14, 22, 30, tzinfo=UTC)
    recipient = Recipient(phone_e164="+14165550100", time_zone="America/Toronto")
    assert recipient_window(recipient=recipient, at=at).window_rule == "country:CA"


@pytest.mark.parametrize(
    ("phone", "country", "local", "allowed"),
    [
        ("+447400123456", "GB", datetime(2026, 3, 10, 20, 30), True),
        ("+447400123456", "GB", datetime(2026, 3, 10, 21, 0), False),
        ("+4915112345678", "DE", datetime(2026, 3, 10, 20, 0), False),  # EU default 09-20
        ("+4915112345678", "DE", datetime(2026, 3, 10, 9, 0), True),
        ("+33612345678", "FR", datetime(2026, 3, 14, 15, 0), False),  # no Saturdays
        ("+919812345678", "IN", datetime(2026, 3, 10, 9, 30), False),  # 10-21
        ("+919812345678", "IN", datetime(2026, 3, 10, 10, 0), True),
    ],
)
def test_a_country_gets_its_own_rule(phone, country, local, allowed):
    zones = recipient_window(
        recipient=Recipient(phone_e164=phone, country=country), at=datetime.now(UTC)
    ).zones
    zone = zones[-1]  # Europe/London, Europe/Berlin, Europe/Paris, Asia/Kolkata
    at = local.replace(tzinfo=ZoneInfo(zone))
    decision = recipient_window(recipient=Recipient(phone_e164=phone, country=country), at=at)
    assert decision.allowed is allowed


@pytest.mark.parametrize(
    ("phone", "country", "named"),
    [("+61412345678", "AU", "AU"), ("+61412345678", "US", "AU"), ("+12125550100", "BR", "BR")],
)
def test_a_country_without_a_rule_is_held_not_sent_on_us_rules(phone, country, named):
    at = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # midday in Sydney
    decision = recipient_window(recipient=Recipient(phone_e164=phone, country=country), at=at)
    assert (decision.allowed, decision.held, decision.hold_code) == (
        False,
        True,
        HOLD_COUNTRY_UNSUPPORTED,
    )
    assert decision.reason.startswith(f"Cue has no sending-hours rule for {named};")


# --- The data tables ---------------------------------------------------------------------


def test_every_rule_row_says_where_it_comes_from():
    rules = load_rules()
    for rule in [*rules.state_rules.values(), *rules.country_rules.values()]:
        assert rule.citation and rule.effective <= date.today()
        assert rule.covers in ("texts", "calls", "policy")
    assert {"US", "CA", "GB", "EU", "IN"} <= set(rules.country_rules)


def test_the_state_caps_and_the_default_caps_agree():
    table = {state: rule.cap for state, rule in load_rules().state_rules.items() if rule.cap}
    defaults = {region: (maximum, hours) for _, _, hours, maximum, region in DEFAULT_CAPS if region}
    assert table == defaults == {"FL": (3, 24), "OK": (3, 24), "MD": (3, 24)}


@pytest.mark.parametrize("missing", ["citation", "effective"])
def test_the_loader_refuses_a_rule_without_its_source(tmp_path, missing):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    raw = json.loads((data / RULES_FILE).read_text(encoding="utf-8"))
    del raw["state_rules"]["FL"][missing]
    (data / RULES_FILE).write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(QuietHoursDataError, match=f"state:FL: a rule needs its {missing}"):
        load_rules(data)


# --- The gate and dispatch ask the same function -----------------------------------------


@pytest.mark.django_db
def test_the_gate_defers_a_panhandle_number_with_no_zone(opted_in_contact):
    contact = opted_in_contact(time_zone="", region="", phone="+18504380100")
    with time_machine.travel(datetime(2026, 1, 13, 13, 30, tzinfo=UTC), tick=False):
        message = message_create(
            send_key="k1", origin="journey", category="marketing", contact=contact, body=BODY
        )
    assert (message.status, message.reason_code) == ("deferred", "quiet_hours")
    assert message.next_attempt_at == datetime(2026, 1, 13, 14, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_validity_ends_with_the_personal_window(fake_twilio, opted_in_contact):
    # Given a Chicago contact whose own window is 09:00-17:00, at 16:30 in Chicago
    contact = opted_in_contact()
    Preference.objects.update_or_create(
        contact=contact, defaults={"quiet_start": time(9), "quiet_end": time(17)}
    )
    with time_machine.travel(datetime(2026, 3, 10, 21, 30, tzinfo=UTC), tick=False):
        message = message_create(
            send_key="k1", origin="journey", category="marketing", contact=contact, body=BODY
        )
        # When it is dispatched
        assert message_dispatch(message_id=message.pk) == "sent"
    # Then Twilio may hold it only until 17:00, not until the default 21:00
    [sent] = fake_twilio.messages_sent()
    assert sent["ValidityPeriod"] == "1800"


@pytest.mark.django_db
def test_validity_uses_the_canadian_window(fake_twilio, opted_in_contact):
    # Saturday 17:00 in Toronto: Canada's weekend window closes at 18:00
    contact = opted_in_contact(
        time_zone="America/Toronto", region="ON", country="CA", phone="+14165550100"
    )
    with time_machine.travel(datetime(2026, 3, 14, 21, 0, tzinfo=UTC), tick=False):
        message = message_create(
            send_key="k1", origin="journey", category="marketing", contact=contact, body=BODY
        )
        assert message_dispatch(message_id=message.pk) == "sent"
    [sent] = fake_twilio.messages_sent()
    assert sent["ValidityPeriod"] == "3600"


@pytest.mark.django_db
def test_a_contact_in_an_unsupported_country_is_held_at_creation(opted_in_contact):
    contact = opted_in_contact(time_zone="", region="", country="AU", phone="+61412345678")
    with time_machine.travel(datetime(2026, 3, 10, 2, 0, tzinfo=UTC), tick=False):
        message = message_create(
            send_key="k1", origin="journey", category="marketing", contact=contact, body=BODY
        )
    assert (message.status, message.reason_code) == ("held", HOLD_COUNTRY_UNSUPPORTED)
    assert message.next_attempt_at is None
