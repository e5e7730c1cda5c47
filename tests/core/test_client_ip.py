"""The client IP (apps.core.http.client_ip): X-Forwarded-For only through trusted proxies."""

import pytest
from django.test import RequestFactory, override_settings

from apps.core.http import client_ip

FORGED = "192.0.2.66"  # what a client writes into X-Forwarded-For itself
CLIENT = "198.51.100.7"  # the address our outermost proxy saw and appended


def ip_of(remote_addr: str, forwarded: str | None = None, **config) -> str | None:
    headers = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
    request = RequestFactory().get("/", REMOTE_ADDR=remote_addr, **headers)
    settings = {"TRUSTED_PROXIES": [], "TRUSTED_PROXY_COUNT": 0, **config}
    with override_settings(**settings):
        return client_ip(request)


# No proxy configured: REMOTE_ADDR, whatever the headers say


def test_it_ignores_x_forwarded_for_when_no_proxy_is_configured():
    assert ip_of("203.0.113.9", f"{FORGED}, {CLIENT}") == "203.0.113.9"


def test_it_ignores_x_forwarded_for_even_behind_the_tls_header_alone():
    with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
        assert ip_of("203.0.113.9", FORGED) == "203.0.113.9"


def test_it_answers_none_for_an_unusable_remote_addr():
    assert ip_of("") is None


# A count of proxies


def test_it_takes_the_hop_one_proxy_appended():
    assert ip_of("10.0.0.5", f"{FORGED}, {CLIENT}", TRUSTED_PROXY_COUNT=1) == CLIENT


def test_it_takes_the_hop_the_outer_of_two_proxies_appended():
    forwarded = f"{FORGED}, {CLIENT}, 10.0.0.9"
    assert ip_of("10.0.0.5", forwarded, TRUSTED_PROXY_COUNT=2) == CLIENT


def test_it_takes_the_leftmost_hop_when_there_are_fewer_hops_than_proxies():
    assert ip_of("10.0.0.5", CLIENT, TRUSTED_PROXY_COUNT=3) == CLIENT


def test_it_takes_remote_addr_when_a_proxy_sent_no_header():
    assert ip_of("10.0.0.5", None, TRUSTED_PROXY_COUNT=1) == "10.0.0.5"


def test_it_answers_none_when_the_trusted_hop_is_not_an_address():
    assert ip_of("10.0.0.5", f"{CLIENT}, unknown", TRUSTED_PROXY_COUNT=1) is None


# An allow-list of proxy networks


def test_it_walks_through_trusted_networks_to_the_first_untrusted_hop():
    forwarded = f"{FORGED}, {CLIENT}, 10.1.2.3, 172.16.0.4"
    proxies = ["10.0.0.0/8", "172.16.0.0/12"]
    assert ip_of("10.0.0.5", forwarded, TRUSTED_PROXIES=proxies) == CLIENT


def test_a_client_reaching_cue_directly_cannot_choose_its_address():
    assert ip_of("203.0.113.9", CLIENT, TRUSTED_PROXIES=["10.0.0.0/8"]) == "203.0.113.9"


def test_it_takes_the_leftmost_hop_when_every_hop_is_a_trusted_proxy():
    assert ip_of("10.0.0.5", "10.9.9.9, 10.0.0.7", TRUSTED_PROXIES=["10.0.0.0/8"]) == "10.9.9.9"


def test_it_stops_at_a_hop_that_is_not_an_address():
    forwarded = f"{CLIENT}, garbage, 10.0.0.7"
    assert ip_of("10.0.0.5", forwarded, TRUSTED_PROXIES=["10.0.0.0/8"]) is None


def test_it_reads_ipv6_hops_and_networks():
    forwarded = f"{FORGED}, 2001:db8::1, fd00::7"
    assert ip_of("fd00::5", forwarded, TRUSTED_PROXIES=["fd00::/8"]) == "2001:db8::1"


def test_it_normalises_the_address_it_answers():
    assert ip_of("10.0.0.5", " 2001:DB8:0:0::1 ", TRUSTED_PROXIES=["10.0.0.0/8"]) == "2001:db8::1"


def test_an_allow_list_wins_over_a_count():
    # A count of 2 would take the forged hop; the allow-list knows 203.0.113.9 is no proxy.
    forwarded = f"{FORGED}, 203.0.113.9"
    config = {"TRUSTED_PROXIES": ["10.0.0.0/8"], "TRUSTED_PROXY_COUNT": 2}
    assert ip_of("10.0.0.5", forwarded, **config) == "203.0.113.9"


def test_a_bad_network_in_the_environment_stops_the_settings_from_loading(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import config.settings.base as base

    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8,not-a-network")
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        importlib.reload(base)
    monkeypatch.delenv("TRUSTED_PROXIES")
    importlib.reload(base)


# The per-IP budgets use it


@pytest.mark.django_db
def test_a_forged_header_does_not_buy_a_direct_client_a_fresh_budget(client, settings):
    settings.THROTTLE_WEBHOOK_REFUSALS_PER_MINUTE = 2
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    statuses = [
        client.post(
            "/webhooks/twilio/status/",
            {},
            REMOTE_ADDR="203.0.113.9",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        ).status_code
        for n in range(4)
    ]

    assert statuses == [403, 403, 429, 429]


@pytest.mark.django_db
def test_clients_behind_the_trusted_proxy_each_have_their_own_budget(client, settings):
    settings.THROTTLE_WEBHOOK_REFUSALS_PER_MINUTE = 2
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    def refused(forwarded: str) -> int:
        return client.post(
            "/webhooks/twilio/status/", {}, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=forwarded
        ).status_code

    first = [refused(f"{FORGED}, 198.51.100.1") for _ in range(3)]
    second = [refused(f"{FORGED}, 198.51.100.2") for _ in range(2)]

    assert (first, second) == ([403, 403, 429], [403, 403])
