"""Custom attributes marked PII, masked in log lines wherever a value is written next to its
key (`"nickname": "Ada"`, `'nickname': 'Ada'`, `nickname=Ada`), as a dict, JSON or a
keyword argument would print it.

The keys are read from the database at most once a minute per process, never inside a
transaction (a failed read there would abort it) and never from inside the read itself (the
database's own logging would call back in); until the first read nothing extra is masked.
The built-in masking of phone numbers and emails (apps.core.logs) applies regardless.
"""

import re
import threading
import time

from django.db import connection

from apps.contacts.models import AttributeDefinition

REFRESH_SECONDS = 60
MASK = "•••"
_VALUE = r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\[[^\]]*\]|[^,}\s)]+)"""

_state = threading.local()
_snapshot: dict = {"at": float("-inf"), "pattern": None}


def pii_attribute_keys_refresh() -> None:
    """Reads the PII keys now; called after a definition is saved, and once a minute."""
    keys = sorted(AttributeDefinition.objects.filter(pii=True).values_list("key", flat=True))
    alternatives = "|".join(map(re.escape, dict.fromkeys(keys)))
    pattern = rf"""(["']?)\b({alternatives})\1(\s*[:=]\s*){_VALUE}""" if keys else None
    _snapshot.update(at=time.monotonic(), pattern=re.compile(pattern) if pattern else None)


def pii_attributes_mask(text: str) -> str:
    """The log line with every PII attribute's value replaced by •••."""
    _refresh_when_due()
    pattern = _snapshot["pattern"]
    if pattern is None:
        return text
    return pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(1)}{m.group(3)}{MASK}", text)


def _refresh_when_due() -> None:
    due = time.monotonic() - _snapshot["at"] > REFRESH_SECONDS
    if not due or getattr(_state, "reading", False) or connection.in_atomic_block:
        return
    _state.reading = True
    try:
        pii_attribute_keys_refresh()
    except Exception:  # no database now: keep the keys known so far
        _snapshot["at"] = time.monotonic()
    finally:
        _state.reading = False
