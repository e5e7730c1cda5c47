"""Reads one message of Segment's HTTP Tracking API into what Cue stores, or says why not.

The fields read are Segment's spec (segment.com/docs/connections/sources/catalog/libraries/
server/http-api/): the common fields of every call, then the call's own (`event` of a
track, `name` of a page or screen, `groupId` of a group, `previousId` of an alias).
"""

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from apps.contacts.models import validate_event_type

TYPES = ("identify", "track", "page", "screen", "group", "alias")
EVENT_TYPES = ("track", "page", "screen")
# A page or screen call becomes an event of this type; a track's `event` names its own.
VIEW_EVENT = {"page": "page_viewed", "screen": "screen_viewed"}
# Segment's limit per call: the body of a single call is held to it. A batch item is not
# measured again (the batch is held to 500 KB): what Cue keeps of it has limits of its own.
MAX_MESSAGE_BYTES = 32 * 1024
MAX_USER_ID = 100  # a contact's external id
MAX_ANONYMOUS_ID = 200
MAX_MESSAGE_ID = 200 - len("segment:")  # an event's idempotency key is at most 200


class Rejected(Exception):
    """A message that cannot be stored, and why (shown in the admin)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class SegmentMessage:
    """One message, its common fields read and checked."""

    type: str
    raw: dict
    message_id: str
    user_id: str | None
    anonymous_id: str | None
    occurred_at: datetime
    traits: dict = field(default_factory=dict)

    @property
    def idempotency_key(self) -> str:
        return f"segment:{self.message_id}"


def message_read(
    raw: object, *, type_: str | None, now: datetime, sent_at: object = None
) -> SegmentMessage:
    """`type_` is the call's path (/v1/track); a batch item names its own type."""
    if not isinstance(raw, dict):
        raise Rejected("A message is a JSON object.")
    type_ = type_ or raw.get("type")
    if type_ not in TYPES:
        raise Rejected(f"type must be one of: {', '.join(TYPES)}.")
    user_id = _id(raw, "userId", MAX_USER_ID)
    anonymous_id = _id(raw, "anonymousId", MAX_ANONYMOUS_ID)
    if user_id is None and anonymous_id is None:
        raise Rejected("Give a userId or an anonymousId.")
    return SegmentMessage(
        type=type_,
        raw=raw,
        message_id=_id(raw, "messageId", MAX_MESSAGE_ID) or f"cue-{uuid.uuid4()}",
        user_id=user_id,
        anonymous_id=anonymous_id,
        occurred_at=_occurred_at(raw, now, raw.get("sentAt", sent_at)),
        traits=_object(raw, "traits"),
    )


def event_type_of(message: SegmentMessage) -> str:
    if message.type in VIEW_EVENT:
        return VIEW_EVENT[message.type]
    name = message.raw.get("event")
    if not isinstance(name, str) or not name.strip():
        raise Rejected("A track call needs its event name in `event`.")
    return _event_type(name)


def event_properties_of(message: SegmentMessage) -> dict:
    if message.type not in VIEW_EVENT:  # a track's properties are stored as sent
        return _object(message.raw, "properties", copy=False)
    properties = _object(message.raw, "properties")
    for name in ("name", "category"):  # a page's name and category are Segment's own fields
        value = message.raw.get(name)
        if value is not None:
            properties.setdefault(name, value)
    return properties


@lru_cache(maxsize=1024)
def _event_type(name: str) -> str:
    """ "Order Completed", "orderCompleted" and "order-completed" are all order_completed."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    slug = re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")
    try:
        validate_event_type(slug)
    except Exception as error:  # the validator's ValidationError, reworded for this name
        raise Rejected(
            f"The event name {name[:100]!r} gives no event type: an event type is a"
            " lowercase slug of 2–63 letters, digits and underscores, starting with a letter."
        ) from error
    return slug


def _id(raw: dict, name: str, max_length: int) -> str | None:
    value = raw.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):  # a number will do; JSON's true and false will not
        if isinstance(value, bool) or not isinstance(value, int):
            raise Rejected(f"{name} must be a string.")
        value = str(value)
    value = value.strip()
    if len(value) > max_length:
        raise Rejected(f"{name} is longer than {max_length} characters.")
    return value or None


def _object(raw: dict, name: str, *, copy: bool = True) -> dict:
    """The object `name`, {} when not given; a copy unless the caller never changes it."""
    value = raw.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Rejected(f"{name} must be a JSON object.")
    return dict(value) if copy else value


def _occurred_at(raw: dict, now: datetime, sent_at: object) -> datetime:
    """`timestamp` when given; else `originalTimestamp` corrected for the device's clock
    by the time it says it sent the message (Segment's own rule); else now."""
    timestamp = raw.get("timestamp")
    if timestamp is not None:
        return _moment(timestamp, "timestamp")
    original = raw.get("originalTimestamp")
    if original is None:
        return now
    original_at = _moment(original, "originalTimestamp")
    if sent_at is None:
        return original_at
    try:
        return now - (_moment(sent_at, "sentAt") - original_at)
    except OverflowError as error:
        raise Rejected("originalTimestamp and sentAt are too far apart.") from error


def _moment(value: object, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise Rejected(f"{name} must be an ISO 8601 date and time, e.g. 2025-03-01T14:30:00Z.")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # Segment reads a time without offset as UTC
    try:
        return moment.astimezone(UTC)
    except OverflowError as error:
        raise Rejected(f"{name} is out of range.") from error
