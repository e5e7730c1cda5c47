"""Log lines without personal data: phone numbers and email addresses are masked in every
formatted line (message, arguments and tracebacks alike) before it leaves the process."""

import logging
import re
from collections.abc import Callable

# E.164 (+14155550123) and the usual national spellings: (415) 555-0123, 415.555.0123,
# 415-555-0123, 4155550123. Runs of digits inside longer numbers (ids, timestamps) are not
# phone-shaped and stay readable.
PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{8,15}|\(\d{3}\)\s?\d{3}[-.\s]\d{4}|\d{3}[-.]\d{3}[-.]\d{4}|\d{10})(?!\w)"
)
EMAIL = re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")


def personal_data_mask(text: str) -> str:
    """'+14155550123' → '+1•••••••••23'; 'jane@example.com' → 'j•••@example.com'."""
    text = PHONE.sub(_phone_masked, text)
    return EMAIL.sub(lambda m: f"{m.group(1)}•••@{m.group(2)}", text)


def _phone_masked(match: re.Match) -> str:
    value = match.group(0)
    digits = [i for i, char in enumerate(value) if char.isdigit()]
    keep = set(digits[:1] + digits[-2:]) if value.startswith("+") else set(digits[-2:])
    return "".join("•" if i in digits and i not in keep else char for i, char in enumerate(value))


# Apps above core add what only they know is personal (contacts: the values of custom
# attributes marked PII), registered from AppConfig.ready(). A masker that fails is skipped:
# a log line is never lost to it.
LogMasker = Callable[[str], str]
_maskers: dict[str, LogMasker] = {}


def log_masker_register(name: str, masker: LogMasker) -> None:
    _maskers[name] = masker


class MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = personal_data_mask(super().format(record))
        for masker in list(_maskers.values()):
            try:
                text = masker(text)
            except Exception:  # best effort, on top of the masking above
                continue
        return text
