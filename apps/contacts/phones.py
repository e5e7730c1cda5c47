"""A phone number as text, asked of libphonenumber as seldom as the answer allows.

A message asks the same number several questions (its address, the suppression list's key,
the consent's address, the erased key), and libphonenumber's validity check alone costs
more than the rest of the answer: for a number it calls invalid, it tries every region of
the country code in turn. These give exactly its answers, reading the text as it is when
that text already is the answer.
"""

from functools import lru_cache

import phonenumbers
from django.conf import settings

from apps.contacts.nanp import nanp_written_as_e164


def phone_text(phone) -> str:
    """What `str(phone)` gives for a phone field's value: its E.164 form when the number is
    valid, else the text it was entered as; "" for none.

    A contact loaded from the database holds the text it was stored as, and that is its
    E.164 form (a valid number is stored so; an invalid one as entered). When that text is
    the number's E.164 form, both answers are that text, and the validity check is skipped."""
    if phone is None or isinstance(phone, str):
        return phone or ""
    raw = phone.raw_input
    if raw and _default_format_e164() and raw == _e164_of(phone):
        return raw
    return str(phone)


def _default_format_e164() -> bool:
    return getattr(settings, "PHONENUMBER_DEFAULT_FORMAT", "E164") == "E164"


def _e164_of(phone) -> str:
    """libphonenumber's E.164 formatting: no metadata, no validity check."""
    return phonenumbers.format_number(phone, phonenumbers.PhoneNumberFormat.E164)


def phone_format_e164(text: str) -> str | None:
    """The number written in `text` (read in PHONENUMBER_DEFAULT_REGION when it has no
    country code) in E.164 form, valid or not; None when it does not read as a number."""
    return _format_e164(text, settings.PHONENUMBER_DEFAULT_REGION)


@lru_cache(maxsize=65_536)  # one message asks of its number up to four times
def _format_e164(text: str, region: str) -> str | None:
    if nanp_written_as_e164(text):
        return text
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
