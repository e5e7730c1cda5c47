"""Reads of the send pipeline, in words people can use: why a message was (or wasn't) sent,
its decision and delivery timeline, one contact's conversation, and the messages on the
contact timeline. Nothing here writes."""

from apps.sends.selectors.conversation import (
    ConversationItem,
    conversation,
    message_timeline_entries,
)
from apps.sends.selectors.explain import REACHED, message_explain, message_explain_title
from apps.sends.selectors.lists import (
    inbound_search,
    links_with_clicks,
    messages_search,
    phone_e164_or_none,
)
from apps.sends.selectors.timeline import TimelineStep, message_timeline

__all__ = [
    "REACHED",
    "ConversationItem",
    "TimelineStep",
    "conversation",
    "inbound_search",
    "links_with_clicks",
    "message_explain",
    "message_explain_title",
    "message_timeline",
    "message_timeline_entries",
    "messages_search",
    "phone_e164_or_none",
]
