"""Tracked links: GET /l/<token> redirects to the destination declared on the template
version (never anywhere else) and tells people from link-preview bots."""

import re

from django.conf import settings
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.contacts.events import record_event
from apps.contacts.models import EventType
from apps.core.http import client_ip, retry_when_database_unavailable
from apps.core.ratelimit import WINDOW_SECONDS, budget_spend
from apps.sends.hooks import link_click_fire
from apps.sends.models import LinkClick, TrackedLink

# Messaging apps fetch a link to draw its preview; those fetches are not a person's click.
BOT_AGENTS = re.compile(
    r"bot|crawler|spider|slurp|preview|facebookexternalhit|WhatsApp|Slackbot|Twitterbot|"
    r"TelegramBot|Discordbot|LinkedInBot|SkypeUriPreview|Googlebot|Google-PageRenderer|"
    r"bingbot|Applebot|iMessage|com\.apple\.|Signal|python-requests|curl|wget|HeadlessChrome|"
    r"Mediapartners|APIs-Google|Embedly|Pinterest|redditbot|vkShare|W3C_Validator|"
    r"^$",
    re.IGNORECASE,
)


def user_agent_is_bot(user_agent: str) -> bool:
    return bool(BOT_AGENTS.search(user_agent.strip()))


@never_cache
@require_GET
@retry_when_database_unavailable
def link_redirect(request, token: str):
    ip = client_ip(request)
    if not budget_spend("link", ip, per_minute=settings.THROTTLE_LINK_CLICKS_PER_MINUTE):
        response = render(request, "sends/link_rate_limited.html", status=429)
        response["Retry-After"] = str(WINDOW_SECONDS)
        return response
    link = TrackedLink.objects.select_related("message__contact").filter(token=token).first()
    if link is None or not link.destination:
        return render(request, "sends/link_unknown.html", status=404)
    user_agent = request.headers.get("User-Agent", "")[:1000]
    link_click_record(link=link, user_agent=user_agent, ip_address=ip)
    return HttpResponseRedirect(link.destination)


@transaction.atomic
def link_click_record(*, link: TrackedLink, user_agent: str, ip_address: str | None) -> LinkClick:
    """Stores the click; a person's click (not a bot's) also becomes an sms_click (or
    email_click) event, and is handed to the link-click hook."""
    is_bot = user_agent_is_bot(user_agent)
    click = LinkClick.objects.create(
        link=link, user_agent=user_agent, ip_address=ip_address, is_bot=is_bot
    )
    contact = link.message.contact
    if not is_bot and contact is not None:
        record_event(
            contact=contact,
            type=EventType.EMAIL_CLICK if link.message.channel == "email" else EventType.SMS_CLICK,
            occurred_at=click.at,
            idempotency_key=f"click:{click.pk}",
            source=link.message.channel,
            properties={
                "message_id": link.message_id,
                "link": link.key,
                "key_link": link.is_key_link,
                "journey_id": link.message.journey_id,
            },
        )
    if not is_bot:
        link_click_fire(click)
    return click
