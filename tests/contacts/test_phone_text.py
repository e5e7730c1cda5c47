"""A phone as text (apps/contacts/phones.py) is libphonenumber's own answer, read without
asking it again when the text already is the answer: the same text as str() of the field's
value, and the same E.164 form (or refusal) as parsing and formatting, for every input."""

import random

import phonenumbers
import pytest
from django.test import override_settings
from phonenumber_field.phonenumber import to_python

from apps.contacts.phones import phone_format_e164, phone_text
from tests.factories import ContactFactory

REGIONS = ["US", "CA", "GB", "DE", "IN", "MX", "JM"]


def random_numbers(seed: int, count: int) -> list[str]:
    """Numbers: "+1" and ten digits of any kind (valid, invalid, starting 0 or 1), other country
    codes, national forms, national prefixes, spaces, extensions and near misses."""
    rnd = random.Random(seed)
    numbers = []
    for index in range(count):
        digits = "".join(rnd.choice("0123456789") for _ in range(rnd.choice([7, 9, 10, 11])))
        form = index % 7
        if form < 3:
            numbers.append("+1" + digits[:10])
        elif form == 3:
            numbers.append(rnd.choice(["+44", "+49", "+91", "+52", "+440", "+33"]) + digits)
        elif form == 4:
            numbers.append(digits)
        elif form == 5:
            numbers.append(rnd.choice(["+1 ", "1", "+", "001", "(", "٤", "+1" + "٤"]) + digits)
        else:
            numbers.append("+1" + digits[:10] + rnd.choice([" x12", "ext. 7", "\x00", "a", ""]))
    return numbers


def formatted_e164(text: str, region: str) -> str | None:
    """Parsing and formatting, as address_normalize did: the reference."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@pytest.mark.parametrize("region", REGIONS)
def test_it_formats_as_libphonenumber_does(region):
    numbers = random_numbers(seed=hash(region) % 1000 + 20261207, count=3000)

    with override_settings(PHONENUMBER_DEFAULT_REGION=region):
        answers = [(text, phone_format_e164(text)) for text in numbers]

    assert answers == [(text, formatted_e164(text, region)) for text in numbers]


def test_it_reads_a_field_value_as_str_does():
    numbers = random_numbers(seed=7, count=5000)
    # As loaded from the database (parsed from the stored text) and as assigned in Python.
    values = [to_python(text) for text in numbers]
    values += [to_python(text, region="GB") for text in numbers]
    values += [phonenumbers.parse("+14155550123"), "", None]

    assert [phone_text(value) for value in values] == [str(value or "") for value in values]


@pytest.mark.django_db
def test_it_reads_a_loaded_contact_as_str_does():
    stored = ["+14155550123", "+14150001234", "+442079460000", "+12125550199"]
    contacts = [ContactFactory(phone=text) for text in stored]

    loaded = [type(c).objects.get(pk=c.pk).phone for c in contacts]

    assert [phone_text(phone) for phone in loaded] == [str(phone) for phone in loaded]
    assert [phone_text(phone) for phone in loaded] == stored
