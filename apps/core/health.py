"""Reachability of what Cue needs: the database and the broker (and how fresh the worker is)."""

from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone
from kombu import Connection

from apps.core.models import Heartbeat


def database_check() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down", and says which
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "vendor": connection.vendor}


def broker_check() -> dict:
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        return _filesystem_broker_check()
    try:
        with Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            conn.default_channel  # noqa: B018 - opening a channel proves the broker answers
    except Exception as exc:  # kombu wraps many transports' errors; all mean "down"
        return {"ok": False, "transport": url.split("://")[0], "error": exc.__class__.__name__}
    return {"ok": True, "transport": url.split("://")[0]}


def _filesystem_broker_check() -> dict:
    folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
    ok = folder.is_dir() and _is_writable(folder)
    return {"ok": ok, "transport": "filesystem"}


def _is_writable(folder: Path) -> bool:
    probe = folder / ".healthz"
    try:
        probe.write_text("ok")
        probe.unlink()
    except OSError:
        return False
    return True


def worker_check() -> dict:
    heartbeat = Heartbeat.objects.filter(name="worker").first()
    if heartbeat is None:
        return {"last_seen": None}
    age = (timezone.now() - heartbeat.seen_at).total_seconds()
    return {"last_seen": heartbeat.seen_at.isoformat(), "age_seconds": round(age)}
