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
    """The client's IP. Behind our TLS proxy (SECURE_PROXY_SSL_HEADER set) REMOTE_ADDR is the
    proxy, which appends the address it saw to X-Forwarded-For: the last hop is the one no
    client can forge."""
    candidates = [request.META.get("REMOTE_ADDR", "")]
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        candidates.insert(0, forwarded.split(",")[-1].strip())
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
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
