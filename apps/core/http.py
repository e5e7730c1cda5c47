"""Small request helpers shared by every app."""

import ipaddress

from django.conf import settings


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
