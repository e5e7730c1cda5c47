"""Quiet hours in the recipient's local time: zone resolution, windows, DST, next moment."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phonenumbers import timezone as phone_timezone

from apps.sends.quiet_hours import (
    DEFAULT_WINDOW,
    HOLD_NO_COMMON_WINDOW,
    HOLD_ZONE_UNKNOWN,
    TWILIO_MAX_VALIDITY_SECONDS,
    LocalWindow,
    QuietHoursDecision,
    candidate_zones,
    load_rules,
    message_validity_seconds,
    quiet_hours_check,
)

NEW_YORK = ZoneInfo("America/New_York")
CHICAGO = ZoneInfo("America/Chicago")
DENVER = ZoneInfo("America/Denver")
PHOENIX = ZoneInfo("America/Phoenix")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")

NYC_PHONE = "+12125550100"
MIAMI_PHONE = "+13055550100"
IDAHO_PHONE = "+12085550100"
TOLL_FREE_PHONE = "+18005550100"
UNPLACEABLE_PHONE = "+15551234567"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def local(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone)


def check(at: datetime, **contact) -> QuietHoursDecision:
    contact.setdefault("time_zone", None)
    contact.setdefault("region", None)
    contact.setdefault("phone_e164", None)
    return quiet_hours_check(at=at, **contact)


def zone_names(zones: list[ZoneInfo]) -> list[str]:
    return [zone.key for zone in zones]


# --- Zone resolution ---------------------------------------------------------------------


def test_stated_zone_beats_address_and_phone():
    zones, source = candidate_zones(time_zone="America/Phoenix", region="FL", phone_e164=NYC_PHONE)
    assert (zone_names(zones), source) == (["America/Phoenix"], "contact")


def test_address_beats_phone():
    zones, source = candidate_zones(time_zone=None, region="TX", phone_e164=NYC_PHONE)
    assert (zone_names(zones), source) == (["America/Chicago", "America/Denver"], "address")


def test_phone_is_the_last_resort():
    zones, source = candidate_zones(time_zone=None, region=None, phone_e164=NYC_PHONE)
    assert (zone_names(zones), source) == (["America/New_York"], "phone")


def test_unrecognised_stated_zone_falls_back_to_the_address():
    zones, source = candidate_zones(time_zone="Mars/Olympus", region="WA", phone_e164=None)
    assert (zone_names(zones), source) == (["America/Los_Angeles"], "address")


@pytest.mark.parametrize("region", ["fl", " FL ", "US-FL", "us-fl"])
def test_region_spellings(region):
    zones, _ = candidate_zones(time_zone=None, region=region, phone_e164=None)
    assert zone_names(zones) == ["America/New_York", "America/Chicago"]


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("TX", {"America/Chicago", "America/Denver"}),
        ("FL", {"America/New_York", "America/Chicago"}),
        ("IN", {"America/Indiana/Indianapolis", "America/Chicago"}),
        ("KY", {"America/Kentucky/Louisville", "America/Chicago"}),
        ("TN", {"America/Chicago", "America/New_York"}),
        ("MI", {"America/Detroit", "America/Menominee"}),
        ("ND", {"America/Chicago", "America/Denver"}),
        ("SD", {"America/Chicago", "America/Denver"}),
        ("NE", {"America/Chicago", "America/Denver"}),
        ("KS", {"America/Chicago", "America/Denver"}),
        ("ID", {"America/Boise", "America/Los_Angeles"}),
        ("OR", {"America/Los_Angeles", "America/Boise"}),
        ("AK", {"America/Anchorage", "America/Adak"}),
        ("AZ", {"America/Phoenix", "America/Denver"}),
    ],
)
def test_states_spanning_zones_list_all_of_them(region, expected):
    zones, source = candidate_zones(time_zone=None, region=region, phone_e164=None)
    assert (set(zone_names(zones)), source) == (expected, "address")


def test_canadian_province_with_country():
    zones, source = candidate_zones(time_zone=None, region="ON", country="CA", phone_e164=None)
    assert (zone_names(zones), source) == (["America/Toronto", "America/Winnipeg"], "address")


def test_every_region_in_the_table_names_real_zones():
    for names in load_rules().region_zones.values():
        assert all(ZoneInfo(name) for name in names)


def test_phone_prefix_mapping_to_several_zones():
    zones, source = candidate_zones(time_zone=None, region=None, phone_e164=IDAHO_PHONE)
    assert (zone_names(zones), source) == (["America/Boise", "America/Los_Angeles"], "phone")


def test_toll_free_number_could_be_anywhere_in_the_nanp():
    zones, _ = candidate_zones(time_zone=None, region=None, phone_e164=TOLL_FREE_PHONE)
    assert {"Pacific/Guam", "Pacific/Pago_Pago", "America/St_Johns"} <= set(zone_names(zones))


def test_phonenumbers_unknown_zone_answer_means_unknown():
    number = phonenumbers.parse(UNPLACEABLE_PHONE)
    assert phone_timezone.time_zones_for_number(number) == ("Etc/Unknown",)
    assert candidate_zones(time_zone=None, region=None, phone_e164=UNPLACEABLE_PHONE) == (
        [],
        "unknown",
    )


@pytest.mark.parametrize("phone", [None, "", "not a number", "+999"])
def test_nothing_known_means_unknown(phone):
    assert candidate_zones(time_zone=None, region=None, phone_e164=phone) == ([], "unknown")


# --- Default window ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wall", "allowed"),
    [
        (time(7, 59, 59), False),
        (time(8, 0), True),
        (time(13, 0), True),
        (time(20, 59, 59), True),
        (time(21, 0), False),
        (time(23, 30), False),
    ],
)
def test_default_window_edges(wall, allowed):
    at = datetime.combine(datetime(2024, 6, 4).date(), wall, tzinfo=NEW_YORK)
    decision = check(at, time_zone="America/New_York")
    assert decision.allowed is allowed
    assert decision.window_rule == "default"


def test_before_the_window_waits_for_its_start():
    decision = check(local(NEW_YORK, 2024, 6, 4, 7, 15), time_zone="America/New_York")
    assert decision.next_allowed_at == utc(2024, 6, 4, 12, 0)
    assert decision.reason == "07:15 in America/New_York is outside 08:00\u201321:00 (default)"


def test_after_the_window_waits_for_tomorrow():
    decision = check(local(NEW_YORK, 2024, 6, 4, 21, 0), time_zone="America/New_York")
    assert decision.next_allowed_at == utc(2024, 6, 5, 12, 0)
    assert decision.next_allowed_at.tzinfo is UTC


def test_allowed_decision_points_at_the_moment_itself():
    at = local(NEW_YORK, 2024, 6, 4, 12, 0)
    decision = check(at, time_zone="America/New_York")
    assert decision.allowed and not decision.held
    assert decision.next_allowed_at == at
    assert decision.reason == "12:00 in America/New_York is inside 08:00\u201321:00 (default)"


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        check(datetime(2024, 6, 4, 12, 0), time_zone="America/New_York")


# --- State rules -------------------------------------------------------------------------


def test_florida_stops_at_eight_pm():
    decision = check(local(NEW_YORK, 2024, 6, 4, 20, 30), region="FL")
    assert not decision.allowed
    assert decision.window_rule == "state:FL"
    assert decision.reason == "20:30 in America/New_York is outside 08:00\u201320:00 (state:FL)"
    # 08:00 in New York is still 07:00 in the panhandle, so Chicago's 08:00 decides.
    assert decision.next_allowed_at == utc(2024, 6, 5, 13, 0)


def test_next_allowed_moment_is_exact_to_the_second():
    decision = check(local(NEW_YORK, 2024, 6, 4, 20, 30), region="FL")
    nxt = decision.next_allowed_at
    assert check(nxt, region="FL").allowed
    assert not check(nxt - timedelta(seconds=1), region="FL").allowed


def test_florida_evening_closes_on_eastern_time():
    assert check(local(NEW_YORK, 2024, 6, 4, 19, 59), region="FL").allowed
    assert not check(local(NEW_YORK, 2024, 6, 4, 20, 0), region="FL").allowed


def test_oklahoma_stops_at_eight_pm():
    assert check(local(CHICAGO, 2024, 6, 4, 19, 59), region="OK").allowed
    decision = check(local(CHICAGO, 2024, 6, 4, 20, 15), region="OK")
    assert not decision.allowed
    assert decision.next_allowed_at == utc(2024, 6, 5, 13, 0)


def test_maryland_stops_at_eight_pm():
    assert check(local(NEW_YORK, 2024, 6, 4, 19, 59), region="MD").allowed
    decision = check(local(NEW_YORK, 2024, 6, 4, 20, 0), region="MD")
    assert (decision.allowed, decision.window_rule) == (False, "state:MD")


def test_washington_stops_at_eight_pm():
    decision = check(local(LOS_ANGELES, 2024, 6, 4, 20, 0), region="WA")
    assert (decision.allowed, decision.window_rule) == (False, "state:WA")


def test_connecticut_starts_at_nine_am():
    decision = check(local(NEW_YORK, 2024, 6, 4, 8, 30), region="CT")
    assert not decision.allowed
    assert decision.next_allowed_at == utc(2024, 6, 4, 13, 0)


def test_texas_sunday_starts_at_noon_in_both_texas_zones():
    # 2024-06-09 is a Sunday; El Paso (Mountain) reaches noon an hour after Houston.
    decision = check(local(CHICAGO, 2024, 6, 9, 11, 30), region="TX")
    assert not decision.allowed
    assert decision.reason == "11:30 in America/Chicago is outside 12:00\u201321:00 (state:TX)"
    assert decision.next_allowed_at == utc(2024, 6, 9, 18, 0)


def test_texas_weekday_starts_at_nine_am():
    decision = check(local(CHICAGO, 2024, 6, 10, 9, 30), region="TX")
    assert not decision.allowed
    assert decision.next_allowed_at == utc(2024, 6, 10, 15, 0)
    assert check(local(CHICAGO, 2024, 6, 10, 10, 0), region="TX").allowed


def test_texas_saturday_night_waits_for_sunday_noon():
    decision = check(local(CHICAGO, 2024, 6, 8, 21, 0), region="TX")
    assert decision.next_allowed_at == utc(2024, 6, 9, 18, 0)


def test_area_code_state_applies_when_the_address_is_unknown():
    decision = check(local(NEW_YORK, 2024, 6, 4, 20, 30), phone_e164=MIAMI_PHONE)
    assert (decision.allowed, decision.zone_source, decision.window_rule) == (
        False,
        "phone",
        "state:FL",
    )


def test_area_code_state_also_applies_beside_another_address_state():
    decision = check(local(CHICAGO, 2024, 6, 4, 20, 15), region="TX", phone_e164=MIAMI_PHONE)
    assert decision.window_rule == "state:TX+state:FL"
    assert not decision.allowed
    assert check(local(CHICAGO, 2024, 6, 4, 20, 15), region="TX").allowed


def test_texas_rule_reads_its_weekday_table():
    texas = load_rules().state_rules["TX"].windows
    assert texas.days[6] == LocalWindow(time(12), time(21))
    assert set(texas.days[:6]) == {LocalWindow(time(9), time(21))}


def test_every_area_code_belongs_to_a_state_with_a_rule():
    rules = load_rules()
    assert set(rules.area_code_states.values()) == set(rules.state_rules)
    assert all(rule.citation for rule in rules.state_rules.values())


# --- Personal window ---------------------------------------------------------------------


def test_personal_window_narrows():
    decision = check(
        local(NEW_YORK, 2024, 6, 4, 9, 0),
        time_zone="America/New_York",
        personal_window=(time(10), time(18)),
    )
    assert (decision.allowed, decision.window_rule) == (False, "personal")
    assert decision.next_allowed_at == utc(2024, 6, 4, 14, 0)


def test_personal_window_cannot_widen_a_state_rule():
    contact = {"region": "FL", "personal_window": (time(6), time(23))}
    assert not check(local(NEW_YORK, 2024, 6, 4, 20, 30), **contact).allowed
    decision = check(local(CHICAGO, 2024, 6, 4, 7, 30), **contact)
    assert (decision.allowed, decision.window_rule) == (False, "state:FL+personal")


def test_backwards_personal_window_is_refused():
    with pytest.raises(ValueError, match="before its end"):
        check(
            local(NEW_YORK, 2024, 6, 4, 12),
            time_zone="America/New_York",
            personal_window=(time(20), time(9)),
        )


# --- Held results ------------------------------------------------------------------------


def test_unknown_zone_is_held():
    decision = check(local(NEW_YORK, 2024, 6, 4, 12), phone_e164=UNPLACEABLE_PHONE)
    assert (decision.allowed, decision.held, decision.hold_code) == (
        False,
        True,
        HOLD_ZONE_UNKNOWN,
    )
    assert decision.next_allowed_at is None
    assert decision.zone_source == "unknown"


def test_zones_whose_windows_never_overlap_are_held():
    # An 08:00-09:00 window never overlaps between Eastern and Central Tennessee.
    decision = check(
        local(NEW_YORK, 2024, 6, 4, 12), region="TN", personal_window=(time(8), time(9))
    )
    assert (decision.held, decision.hold_code, decision.next_allowed_at) == (
        True,
        HOLD_NO_COMMON_WINDOW,
        None,
    )
    assert "8 days" in decision.reason


# --- Several zones -----------------------------------------------------------------------


def test_toll_free_number_needs_a_moment_inside_every_nanp_zone():
    # Guam (UTC+10) opens at 22:00 UTC; St. John's (UTC-2:30 in summer) closes at 23:30 UTC.
    decision = check(utc(2024, 6, 2, 15, 0), phone_e164=TOLL_FREE_PHONE)
    assert decision.next_allowed_at == utc(2024, 6, 2, 22, 0)
    inside = check(utc(2024, 6, 2, 23, 0), phone_e164=TOLL_FREE_PHONE)
    assert inside.allowed
    assert inside.reason == "inside the window in all 42 candidate zones (default)"
    assert not check(utc(2024, 6, 2, 23, 30), phone_e164=TOLL_FREE_PHONE).allowed


def test_idaho_number_must_be_inside_in_mountain_and_pacific():
    decision = check(local(DENVER, 2024, 6, 4, 8, 30), phone_e164=IDAHO_PHONE)
    assert not decision.allowed
    assert decision.next_allowed_at == utc(2024, 6, 4, 15, 0)


# --- DST ---------------------------------------------------------------------------------


def test_spring_forward_night_is_only_23_hours_long():
    # Saturday 21:30 EST; the night loses an hour, so 08:00 EDT comes 9.5 hours later.
    decision = check(local(NEW_YORK, 2024, 3, 9, 21, 30), time_zone="America/New_York")
    assert decision.next_allowed_at == utc(2024, 3, 10, 12, 0)


def test_fall_back_night_is_25_hours_long():
    decision = check(utc(2024, 11, 3, 5, 30), time_zone="America/New_York")
    assert decision.next_allowed_at == utc(2024, 11, 3, 13, 0)


def test_window_start_inside_the_spring_forward_gap_opens_at_the_jump():
    # 02:30 never happens on 2024-03-10; the clock reads 03:00 EDT at 07:00 UTC.
    decision = check(
        utc(2024, 3, 10, 6, 0),
        time_zone="America/New_York",
        default_window=(time(2, 30), time(21)),
    )
    assert decision.next_allowed_at == utc(2024, 3, 10, 7, 0)


def test_window_start_inside_the_fall_back_fold_opens_twice():
    contact = {"time_zone": "America/New_York", "default_window": (time(1, 30), time(21))}
    assert check(utc(2024, 11, 3, 5, 0), **contact).next_allowed_at == utc(2024, 11, 3, 5, 30)
    # After the clocks go back, 01:00-01:30 EST is before the window again.
    repeated = check(utc(2024, 11, 3, 6, 0), **contact)
    assert not repeated.allowed
    assert repeated.next_allowed_at == utc(2024, 11, 3, 6, 30)


def test_arizona_summer_window_is_narrowed_by_navajo_nation_dst():
    # In July Phoenix is UTC-7 and Denver UTC-6: the Arizona window is 08:00-20:00 Phoenix.
    assert not check(local(PHOENIX, 2024, 7, 1, 20, 30), region="AZ").allowed
    decision = check(local(PHOENIX, 2024, 7, 1, 7, 30), region="AZ")
    assert decision.next_allowed_at == utc(2024, 7, 1, 15, 0)


def test_arizona_winter_zones_agree():
    assert check(local(PHOENIX, 2024, 1, 15, 20, 30), region="AZ").allowed


def test_phoenix_keeps_its_window_across_the_mainland_spring_forward():
    # Denver jumps at 09:00 UTC on 2024-03-10; Phoenix does not, and opens at 15:00 UTC.
    decision = check(utc(2024, 3, 10, 8, 0), time_zone="America/Phoenix")
    assert decision.next_allowed_at == utc(2024, 3, 10, 15, 0)
    az = check(utc(2024, 3, 10, 8, 0), region="AZ")
    assert az.next_allowed_at == utc(2024, 3, 10, 15, 0)
    evening = check(local(PHOENIX, 2024, 3, 10, 20, 30), region="AZ")
    assert not evening.allowed


# --- Twilio validity ---------------------------------------------------------------------


def test_validity_runs_until_the_earliest_close():
    decision = check(local(NEW_YORK, 2024, 6, 4, 14, 0), region="FL")
    assert message_validity_seconds(decision=decision) == 6 * 3600


def test_validity_is_capped_at_twilios_maximum():
    decision = check(local(NEW_YORK, 2024, 6, 4, 8, 0), time_zone="America/New_York")
    assert message_validity_seconds(decision=decision) == TWILIO_MAX_VALIDITY_SECONDS


def test_validity_uses_the_earliest_closing_zone():
    decision = check(utc(2024, 6, 2, 22, 0), phone_e164=TOLL_FREE_PHONE)
    assert message_validity_seconds(decision=decision) == 90 * 60


def test_validity_counts_real_seconds_across_a_dst_jump():
    # 01:30 EST to 09:00 EDT is 6.5 hours of elapsed time, not 7.5.
    decision = check(
        utc(2024, 3, 10, 6, 30),
        time_zone="America/New_York",
        default_window=(time(1), time(9)),
    )
    assert message_validity_seconds(decision=decision) == int(6.5 * 3600)


def test_validity_rounds_down_and_refuses_under_a_second():
    decision = check(local(NEW_YORK, 2024, 6, 4, 20, 59, 58, 500_000), time_zone=NEW_YORK.key)
    assert message_validity_seconds(decision=decision) == 1
    late = check(local(NEW_YORK, 2024, 6, 4, 20, 59, 59, 500_000), time_zone=NEW_YORK.key)
    assert message_validity_seconds(decision=late) is None


def test_validity_is_none_outside_the_window():
    decision = check(local(NEW_YORK, 2024, 6, 4, 22, 0), time_zone="America/New_York")
    assert message_validity_seconds(decision=decision) is None


def test_validity_refuses_a_naive_moment():
    decision = check(local(NEW_YORK, 2024, 6, 4, 14, 0), time_zone="America/New_York")
    with pytest.raises(ValueError, match="timezone-aware"):
        message_validity_seconds(decision=decision, at=datetime(2024, 6, 4, 15, 0))


def test_validity_can_be_asked_for_a_later_moment():
    decision = check(local(NEW_YORK, 2024, 6, 4, 14, 0), time_zone="America/New_York")
    later = local(NEW_YORK, 2024, 6, 4, 20, 0)
    assert message_validity_seconds(decision=decision, at=later) == 3600


# --- Properties --------------------------------------------------------------------------

ZONE_CHOICES = [
    None,
    "America/New_York",
    "America/Phoenix",
    "America/St_Johns",
    "Pacific/Honolulu",
    "Europe/London",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Not/A_Zone",
]
REGION_CHOICES = [None, "FL", "TX", "AZ", "IN", "ID", "NV", "AK", "CT", "ON", "ZZ"]
PHONE_CHOICES = [
    None,
    NYC_PHONE,
    MIAMI_PHONE,
    IDAHO_PHONE,
    TOLL_FREE_PHONE,
    "+19075550100",
    "+14055550100",
    "+19155550100",
    UNPLACEABLE_PHONE,
]
DEFAULT_WINDOW_CHOICES = [
    DEFAULT_WINDOW,
    (time(0, 30), time(3)),
    (time(1, 30), time(23, 30)),
    (time(2, 30), time(21)),
]
QUARTER_HOURS = st.integers(min_value=0, max_value=95).map(
    lambda quarter: time(quarter // 4, quarter % 4 * 15)
)


@st.composite
def personal_windows(draw) -> tuple[time, time] | None:
    if draw(st.booleans()):
        return None
    start, end = sorted(draw(st.lists(QUARTER_HOURS, min_size=2, max_size=2, unique=True)))
    return (start, end)


contacts = st.fixed_dictionaries(
    {
        "time_zone": st.sampled_from(ZONE_CHOICES),
        "region": st.sampled_from(REGION_CHOICES),
        "country": st.sampled_from(["US", "CA"]),
        "phone_e164": st.sampled_from(PHONE_CHOICES),
        "personal_window": personal_windows(),
        "default_window": st.sampled_from(DEFAULT_WINDOW_CHOICES),
    }
)
moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


def wall_clock_allows(moment: datetime, decision: QuietHoursDecision) -> bool:
    """Independent oracle: read each zone's wall clock and compare with that day's window."""
    for name in decision.zones:
        wall = moment.astimezone(ZoneInfo(name))
        window = decision.schedule.for_day(wall.date())
        if window is None or not window.start <= wall.time() < window.end:
            return False
    return True


def minute_marks_between(start: datetime, end: datetime, samples: int = 150) -> list[datetime]:
    first = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
    minutes = int((end - first) / timedelta(minutes=1))
    if minutes <= 0:
        return []
    step = max(1, minutes // samples)
    marks = [first + timedelta(minutes=offset) for offset in range(0, minutes, step)]
    marks.append(first + timedelta(minutes=minutes - 1))
    return [mark for mark in marks if start < mark < end]


def assert_narrower_than(decision: QuietHoursDecision, outer: tuple[time, time] | None) -> None:
    if outer is None:
        return
    bound = LocalWindow(*outer)
    for window in decision.schedule.days:
        assert window is None or (bound.start <= window.start and window.end <= bound.end)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(at=moments, contact=contacts)
def test_decisions_agree_with_the_wall_clock(at, contact):
    decision = quiet_hours_check(at=at, **contact)
    assert_narrower_than(decision, contact["default_window"])
    assert_narrower_than(decision, contact["personal_window"])
    if decision.allowed:
        assert wall_clock_allows(at, decision)
        return
    if decision.next_allowed_at is None:
        assert decision.held
        return
    nxt = decision.next_allowed_at
    assert nxt > at
    assert nxt - at <= timedelta(days=8)
    assert not wall_clock_allows(at, decision)
    assert wall_clock_allows(nxt, decision)
    assert quiet_hours_check(at=nxt, **contact).allowed
    if nxt - timedelta(seconds=1) > at:
        assert not wall_clock_allows(nxt - timedelta(seconds=1), decision)
    for mark in minute_marks_between(at, nxt):
        assert not wall_clock_allows(mark, decision), mark


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(at=moments, contact=contacts)
def test_validity_never_reaches_past_the_window(at, contact):
    decision = quiet_hours_check(at=at, **contact)
    seconds = message_validity_seconds(decision=decision)
    if seconds is None:
        return
    assert decision.allowed
    assert 1 <= seconds <= TWILIO_MAX_VALIDITY_SECONDS
    expiry = at + timedelta(seconds=seconds)
    assert all(wall_clock_allows(mark, decision) for mark in minute_marks_between(at, expiry))
    assert wall_clock_allows(expiry - timedelta(microseconds=1), decision)
    if seconds < TWILIO_MAX_VALIDITY_SECONDS:
        assert not wall_clock_allows(expiry + timedelta(seconds=1), decision)
