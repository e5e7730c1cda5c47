"""HTTP plumbing that points the real twilio client at a configurable Twilio API host."""

from urllib.parse import urlsplit, urlunsplit

from requests.adapters import HTTPAdapter
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

TWILIO_DOMAIN = "twilio.com"


def twilio_host_is(host: str) -> bool:
    """Tell whether a host name belongs to Twilio's public API domains."""
    host = host.lower()
    return host == TWILIO_DOMAIN or host.endswith("." + TWILIO_DOMAIN)


def twilio_url_rewrite(url: str, base_url: str | None) -> str:
    """Move a https://*.twilio.com URL onto base_url, keeping its path and query.

    Any other URL (or no base_url) passes through untouched, so requests the SDK sends
    somewhere else are never silently redirected.
    """
    if not base_url:
        return url
    parts = urlsplit(url)
    if parts.scheme != "https" or not twilio_host_is(parts.hostname or ""):
        return url
    base = urlsplit(base_url)
    path = base.path.rstrip("/") + parts.path
    return urlunsplit((base.scheme, base.netloc, path, parts.query, parts.fragment))


def base_url_check(base_url: str | None) -> str | None:
    """Reject a base URL that could never be requested, at construction time."""
    if not base_url:
        return None
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"Twilio base URL must be an absolute http(s) URL, got {base_url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"Twilio base URL must not carry a query or fragment: {base_url!r}")
    return base_url


class CueTwilioHttpClient(TwilioHttpClient):
    """Twilio HTTP client with an optional API base URL and a mandatory timeout.

    The SDK builds every URL against https://api.twilio.com (or another *.twilio.com
    product host); when base_url is set, those URLs are rewritten onto it, so a fake
    Twilio server or a proxy can stand in without patching the SDK.
    """

    def __init__(
        self,
        base_url: str | None,
        timeout: float,
        *,
        pool_connections: bool = True,
        pool_size: int | None = None,
    ):
        if timeout is None or timeout <= 0:
            # The SDK default is no timeout at all, which can hang a worker forever.
            raise ValueError(f"Twilio HTTP timeout must be a positive number, got {timeout!r}")
        super().__init__(pool_connections=pool_connections, timeout=timeout)
        self.base_url = base_url_check(base_url)
        if self.session is not None and pool_size:
            # Keep as many connections open as calls run at once, for http:// base URLs too.
            for scheme in ("http://", "https://"):
                self.session.mount(scheme, HTTPAdapter(pool_maxsize=pool_size))

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        return super().request(
            method,
            twilio_url_rewrite(url, self.base_url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=self.timeout if timeout is None else timeout,
            allow_redirects=allow_redirects,
        )


def twilio_client_build(
    *,
    account_sid: str,
    auth_token: str,
    base_url: str | None = None,
    timeout: float = 10.0,
    pool_size: int | None = None,
) -> Client:
    """Build a real twilio REST client that talks to base_url (or Twilio) with a timeout."""
    http_client = CueTwilioHttpClient(base_url=base_url, timeout=timeout, pool_size=pool_size)
    return Client(
        username=account_sid,
        password=auth_token,
        account_sid=account_sid,
        http_client=http_client,
    )
