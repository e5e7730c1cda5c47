"""Test settings: SQLite (or DATABASE_URL), eager Celery, fast hashing, local email."""

import os

os.environ.setdefault("DEBUG", "true")

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES, REST_FRAMEWORK, VAR_DIR

# A file, not memory: the tests that start a real worker process share it. Two suites
# running side by side in one checkout each name their own with CUE_TEST_SQLITE_NAME.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("CUE_TEST_SQLITE_NAME") or str(VAR_DIR / "test-cue.sqlite3")
    }

# A replica that mirrors the test database, so that routing reports to it can be tested;
# reads go there only where a test sets DATABASE_REPLICA_URL (tests/core/test_replica.py).
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}

CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None}}
TWILIO_ACCOUNT_SID = ""
TWILIO_AUTH_TOKEN = ""
# Pacing is tested where it is the subject; elsewhere it must not slow the suite down.
# (A worker started by a pacing test is given its rate and schedule store by environment.)
CUE_SEND_RATES = {"default": float(os.environ.get("CUE_TEST_SEND_RATE", "1000"))}
# Redis keeps no test transaction: each test's schedule starts afresh in the database row;
# the Redis schedule is tested where it is the subject.
CUE_PACING_REDIS_URL = os.environ.get("CUE_TEST_PACING_REDIS_URL", "")
# Sessions never time out in tests (time_machine moves the clock by days); the lifetime is
# tested where it is the subject (tests/core/test_session_lifetime.py).
SESSION_IDLE_MINUTES = 0
SESSION_MAX_HOURS = 0
SESSION_COOKIE_AGE = 14 * 24 * 3600  # Django's default
