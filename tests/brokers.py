"""Pointing this process's Celery at another broker: a drill's private Redis, or a port
where nothing listens (the broker is down)."""

import socket
from contextlib import contextmanager

from django.conf import settings as django_settings

from config.celery import app

BROKER_SETTINGS = ("broker_url", "broker_read_url", "broker_write_url")


@contextmanager
def web_broker(url: str, settings=None):
    """This process (the web app) publishes to `url`, not eagerly, from now on."""
    settings = settings or django_settings
    previous = {name: app.conf[name] for name in BROKER_SETTINGS}
    previous_url, eager = settings.CELERY_BROKER_URL, app.conf.task_always_eager
    settings.CELERY_BROKER_URL = url
    app.conf.update(dict.fromkeys(BROKER_SETTINGS, url))
    app.conf.task_always_eager = False
    _connections_forget()
    try:
        yield
    finally:
        app.conf.update(previous)
        app.conf.task_always_eager = eager
        settings.CELERY_BROKER_URL = previous_url
        _connections_forget()


@contextmanager
def broker_down():
    """Every publish fails as it does when the broker is unreachable."""
    with web_broker(f"redis://127.0.0.1:{_closed_port()}/0"):
        yield


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free once the probe closes: nothing listens there


def _connections_forget() -> None:
    # Celery keeps its broker connections in pools made from the first URL it saw; drop
    # them, as it does itself after a fork, so the next publish connects to the new URL.
    app._pool = None
    app.amqp._producer_pool = None
