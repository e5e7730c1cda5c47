"""Small request helpers shared by every app."""

import ipaddress
import logging
from functools import wraps

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5  # what a client is told to wait after a lost database connection


def client_ip(request) -> str | None:
    """The client's IP: the one answer every per-IP budget, the sign-in lockout and the
    consent evidence use. X-Forwarded-For is read only through proxies the operator named
    (TRUSTED_PROXIES networks, or TRUSTED_PROXY_COUNT hops); with neither, REMOTE_ADDR, so a
    client that reaches Cue directly cannot choose the address it is counted or recorded as."""
    hops = [*_forwarded_hops(request), request.META.get("REMOTE_ADDR", "")]
    networks = trusted_proxy_networks()
    if networks:
        return _first_untrusted(hops, networks)
    count = settings.TRUSTED_PROXY_COUNT
    # Fewer hops than proxies: the request did not come through them all; the leftmost hop
    # is then the best the trusted ones said.
    return _address(hops[max(len(hops) - 1 - count, 0)])


def trusted_proxy_networks() -> list:
    return [ipaddress.ip_network(net, strict=False) for net in settings.TRUSTED_PROXIES]


def _forwarded_hops(request) -> list[str]:
    if not (settings.TRUSTED_PROXIES or settings.TRUSTED_PROXY_COUNT):
        return []
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return [hop.strip() for hop in forwarded.split(",")] if forwarded.strip() else []


def _first_untrusted(hops: list[str], networks: list) -> str | None:
    """Walks from the nearest hop outwards while each is a trusted proxy: the first hop that
    is not one is the client. A hop that is no address ends the walk (no one trusted wrote it)."""
    for index in range(len(hops) - 1, -1, -1):
        address = _address(hops[index])
        if address is None or index == 0:
            return address
        if not any(ipaddress.ip_address(address) in net for net in networks):
            return address
    return None


def _address(candidate: str) -> str | None:
    try:
        return str(ipaddress.ip_address(candidate.strip()))
    except ValueError:
        return None


def retry_when_database_unavailable(view):
    """A lost database connection (restart, failover) answers 503 with Retry-After, which
    callers such as Twilio retry, instead of a 500."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except (OperationalError, InterfaceError):
            logger.warning("Database unavailable during %s; answered 503", request.path)
            response = HttpResponse("The service is briefly unavailable; retry.", status=503)
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response

    return guarded
