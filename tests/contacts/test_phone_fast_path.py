"""North American numbers are read without phonenumbers.parse (apps/contacts/nanp.py), and
the answer is phonenumbers' own: the same E.164 form, the same refusals, for every input.
"""

import random

import phonenumbers
import pytest
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from apps.contacts import nanp
from apps.contacts.identity import InvalidPhone, phone_e164

NANP_REGIONS = list(COUNTRY_CODE_TO_REGION_CODE[1])
OTHER_REGIONS = ["GB", "DE", "FR", "IN", "MX", "BR", "AU", "us", ""]


def phonenumbers_e164(value: str, region: str) -> str | None:
    """What phonenumbers alone says: the reference."""
    try:
        number = phonenumbers.parse(value, region or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def cue_e164(value: str, region: str) -> str | None:
    try:
        return phone_e164(value, region or "US")
    except InvalidPhone:
        return None


def random_inputs(seed: int, count: int) -> list[tuple[str, str]]:
    """Ten digits with or without "+1", of any digits (valid, invalid, starting 0 or 1),
    and some near misses the fast path must leave to phonenumbers."""
    rnd = random.Random(seed)
    inputs = []
    for index in range(count):
        digits = "".join(rnd.choice("0123456789") for _ in range(10))
        region = rnd.choice(NANP_REGIONS + OTHER_REGIONS)
        form = index % 8
        if form < 3:
            value = "+1" + digits
        elif form < 6:
            value = digits
        elif form == 6:
            value = rnd.choice(["+1 ", "1", "+", "+11", "001", "(", "٤"]) + digits[:-1]
        else:
            value = digits + rnd.choice(["", "0", " x12", "\x00"])
        inputs.append((value, region))
    return inputs


def test_it_gives_phonenumbers_answer_for_many_random_numbers():
    inputs = random_inputs(seed=20261207, count=30_000)

    answers = [(value, region, cue_e164(value, region)) for value, region in inputs]

    differing = [
        (value, region, got, phonenumbers_e164(value, region or "US"))
        for value, region, got in answers
        if got != phonenumbers_e164(value, region or "US")
    ]
    assert differing == []
    valid = sum(1 for *_, got in answers if got)
    assert 3_000 < valid < 27_000  # both answers were really asked


def test_it_reads_one_number_of_every_north_american_area_code_as_phonenumbers():
    rnd = random.Random(7)
    numbers = [f"{area}{rnd.randrange(10**7):07d}" for area in range(200, 1000)]

    for region in ("US", "CA", "JM"):
        fast = [nanp.nanp_e164(number, region) for number in numbers]
        assert fast == [phonenumbers_e164(number, region) for number in numbers]
    fast = [nanp.nanp_e164("+1" + number, "GB") for number in numbers]
    assert fast == [phonenumbers_e164("+1" + number, "GB") for number in numbers]


@pytest.mark.parametrize(
    ("value", "region"),
    [
        ("+14155552671 ", "US"),  # a space: phonenumbers trims it
        ("+1 415 555 2671", "US"),
        ("(415) 555-2671", "US"),
        ("14155552671", "US"),  # the national prefix
        ("+11155552671", "US"),
        ("+1٤١٥5552671", "US"),  # Arabic-Indic digits
        ("4155552671", "GB"),  # not a North American region
        ("4155552671", "us"),  # phonenumbers knows regions in capitals only
        ("2685552671", "AG"),  # its own national prefix rule
        ("+442071838750", "GB"),
    ],
)
def test_it_leaves_every_other_form_to_phonenumbers(value, region):
    assert nanp.nanp_e164(value, region) is False


def test_it_knows_how_many_leading_digits_decide_a_north_american_number():
    # Read from the metadata's own patterns: if a new metadata release constrains a later
    # digit, this says so (the reading follows it, or turns the fast path off).
    assert nanp._prefix_digits() == 7
    assert nanp._constrained_digits(r"[2-9]\d{9}") == 1
    assert nanp._constrained_digits(r"8(?:00|33)[2-9]\d{6}") == 4
    assert nanp._constrained_digits(r"(?=5)\d{10}") is None  # a look-ahead: not read


def phonenumbers_region(e164: str) -> str | None:
    return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))


def test_it_names_the_region_phonenumbers_names_for_many_random_numbers():
    rnd = random.Random(20261207)
    numbers = [f"+1{rnd.randrange(2, 10)}{rnd.randrange(10**9):09d}" for _ in range(20_000)]
    # Every area code too, with numbers phonenumbers calls invalid (exchange 0xx, 1xx).
    numbers += [
        f"+1{area}{rnd.choice('01')}{rnd.randrange(10**6):06d}" for area in range(200, 1000)
    ]

    answers = [(number, nanp.nanp_region(number)) for number in numbers]

    assert answers == [(number, phonenumbers_region(number)) for number in numbers]
    assert len({region for _, region in answers}) > 10  # many regions, and None, were asked


@pytest.mark.parametrize("value", ["+11155552671", "+1415555267", "+1 4155552671", "+442071838750"])
def test_it_leaves_the_region_of_every_other_form_to_phonenumbers(value):
    assert nanp.nanp_region(value) is False
