"""Plain email addresses are judged without Django's validate_email (apps/core/emails.py),
and every answer is validate_email's own: the same acceptances and the same refusals."""

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from apps.core import emails
from apps.core.emails import email_address_valid


def django_accepts(text: str) -> bool:
    """The reference."""
    try:
        validate_email(text)
    except ValidationError:
        return False
    return True


# Near-plain addresses: the characters at the edges of both forms, in any order.
LOCAL_CHARACTERS = "aZ09._+-!#'\"\\ é@"
DOMAIN_CHARACTERS = "aZ09.-_é[]: "
locals_ = st.text(alphabet=LOCAL_CHARACTERS, min_size=0, max_size=12)
labels = st.text(alphabet=DOMAIN_CHARACTERS, min_size=0, max_size=8)
domains = st.lists(labels, min_size=1, max_size=4).map(".".join)
addresses = st.builds(lambda local, domain: f"{local}@{domain}", locals_, domains)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(addresses, st.text(max_size=40)))
@example("person0@bench.example")
@example("a@b.co")
def test_it_answers_as_validate_email_for_any_text(text):
    assert email_address_valid(text) is django_accepts(text)


BOUNDARIES = [
    ("plain@example.com", True),
    ("First.Last+tag@Sub-Domain.Example.COM", True),
    ("a_b-c@x.io", True),
    (".a@example.com", False),
    ("a.@example.com", False),
    ("a..b@example.com", False),
    ("a@-example.com", False),
    ("a@example-.com", False),
    ("a@example..com", False),
    ("a@example.com.", False),
    ("a@example.c", False),
    ("a@example.c0m", False),
    ("a@example.xn--p1ai", True),  # a punycode top-level domain: validate_email's word
    ("a@exämple.com", True),
    ("é@example.com", False),
    ('"quoted.local!"@example.com', True),
    ('"quoted local"@example.com', False),  # a space is not among the quoted characters
    ("a@localhost", True),
    ("a@[127.0.0.1]", True),
    ("a@[999.0.0.1]", False),
    ("a@example", False),
    ("a@b@example.com", False),
    ("a@" + "l" * 63 + ".com", True),
    ("a@" + "l" * 64 + ".com", False),
    ("a@x." + "l" * 63 + ".com", True),
    ("a@x." + "l" * 64 + ".com", False),
    ("a@example." + "c" * 63, True),
    ("a@example." + "c" * 64, False),
    ("a" * 64 + "@" + "d" * 60 + ".com", True),
    ("a" * 250 + "@" + "d" * 60 + ".com", True),  # 315 characters
    ("a" * 254 + "@" + "d" * 60 + ".com", True),  # 319
    ("a" * 255 + "@" + "d" * 60 + ".com", True),  # 320: the most
    ("a" * 256 + "@" + "d" * 60 + ".com", False),  # 321
    ("a@example.com\n", False),
    (" a@example.com", False),
    ("", False),
]


@pytest.mark.parametrize(("text", "valid"), BOUNDARIES)
def test_it_answers_the_boundaries_as_validate_email(text, valid):
    assert django_accepts(text) is valid  # the table is right about Django
    assert email_address_valid(text) is valid


def test_it_answers_plain_addresses_without_validate_email(monkeypatch):
    def refuse(text):
        raise AssertionError(f"validate_email was asked about {text!r}")

    monkeypatch.setattr(emails, "validate_email", refuse)

    assert email_address_valid("person41@bench.example") is True
    assert email_address_valid("First.Last+tag@mail.example.co.uk") is True
