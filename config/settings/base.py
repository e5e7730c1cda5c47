"""Cue settings. Every variable is read from the environment (see .env.example)."""

import ipaddress
import os
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import available_timezones

import environ
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

from config.env_file import env_file_read

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
env_file_read()  # .env in the checkout, or CUE_ENV_FILE's (empty: none)

DEBUG = env.bool("DEBUG", default=False)
# Production (DEBUG off) refuses to start without these three: no default fits a real host.
_UNLESS_DEBUG = environ.Env.NOTSET
SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key" if DEBUG else _UNLESS_DEBUG)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else _UNLESS_DEBUG
)
PUBLIC_BASE_URL = env(
    "PUBLIC_BASE_URL", default="http://127.0.0.1:8000" if DEBUG else _UNLESS_DEBUG
).rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[PUBLIC_BASE_URL])

INSTALLED_APPS = [
    "config.admin.CueAdminConfig",  # django.contrib.admin, with the dashboard as its index
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "simple_history",
    "anymail",
    "phonenumber_field",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Cue, lowest first: an app imports only from apps above it in this list.
    "apps.core",
    "apps.accounts",
    "apps.contacts",
    "apps.segment_intake",
    "apps.consent",
    "apps.library",
    "apps.sends",
    "apps.routing",
    "apps.inbox",
    "apps.journeys",
    "apps.reporting",
    "apps.crm",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every answer (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the session is read from the cookie and before any view: no NUL, no surrogate.
    "apps.core.middleware.StorableInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Whose session proved a second factor (request.user.is_verified()), and the staff who
    # must before anything else: apps/accounts/two_factor.
    "apps.core.sessions.SessionLifetimeMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "apps.accounts.two_factor.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: answers a locked-out sign-in with the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy (django-csp): scripts only from Cue's own static files, or an
# inline one carrying the request's nonce ({{ request.csp_nonce }}); never an inline event
# handler. Inline styles stay allowed: Django's admin and the Swagger UI set style attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Where browsers report what the policy blocked (optional): any collector's URL.
if _csp_report_uri := env("CSP_REPORT_URI", default=""):
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = [_csp_report_uri]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "admin:login"

# A signed-in session ends after this many minutes without a request, and this many hours
# after sign-in however busy (0: no limit); the cookie itself lasts no longer.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=60)
SESSION_MAX_HOURS = env.int("SESSION_MAX_HOURS", default=12)
SESSION_COOKIE_AGE = (SESSION_MAX_HOURS or 14 * 24) * 3600

# Sign-in lockout (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one username
# (or from one client IP), it is locked for LOGIN_LOCKOUT_MINUTES (0: until an admin unlocks
# it, by deleting its row under Axes > Access attempts). Every attempt is logged (Access
# logs, Access failures), with the client IP from apps.core.http.client_ip.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
_lockout_minutes = env.float("LOGIN_LOCKOUT_MINUTES", default=30.0)
AXES_COOLOFF_TIME = timedelta(minutes=_lockout_minutes) if _lockout_minutes > 0 else None
# Each counted on its own: a username guessed at from anywhere, and an address guessing at any.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "apps.core.http.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# django-otp: the issuer an authenticator app shows next to the account.
OTP_TOTP_ISSUER = env("OTP_ISSUER", default="Cue")
# The admin never shows a second factor's secret (QR code, otpauth URL): only its owner sees
# it, once, while setting it up.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Roles that must use a second factor (TOTP) before they reach any page; every other user
# may turn it on for themselves at /account/two-factor/.
OTP_REQUIRED_GROUPS = env.list("OTP_REQUIRED_GROUPS", default=["Admin", "Compliance"])

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'cue.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, worker and beat share one file; IMMEDIATE avoids
    # "database is locked" when a read transaction later wants to write.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
# Connections outlive a request on SQLite too: opening one runs the PRAGMAs above, which
# cost an inbound webhook more than everything it does itself.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Reporting reads (dashboards, exports, audits) go to a read replica when one is given;
# writes never do (apps/core/db_router.py). Its tests mirror it onto the test database.
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **env.db_url_config(DATABASE_REPLICA_URL),
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["apps.core.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

# Email: console in development; EMAIL_URL (smtp://user:pass@host:587) in production.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Cue <cue@localhost>")

# An email service provider through django-anymail when ANYMAIL_ESP names one; otherwise
# EMAIL_URL above (SMTP or the console). Each ESP reads its own keys; tracking webhooks are
# verified as anymail verifies them (basic auth with ANYMAIL_WEBHOOK_SECRET, and the ESP's
# signature where it signs).
ANYMAIL_ESPS = ("postmark", "sendgrid", "mailgun", "amazon_ses")
ANYMAIL_ESP = env("ANYMAIL_ESP", default="")
if ANYMAIL_ESP and ANYMAIL_ESP not in ANYMAIL_ESPS:
    raise ImproperlyConfigured(f"ANYMAIL_ESP must be one of {', '.join(ANYMAIL_ESPS)}.")
if ANYMAIL_ESP:
    EMAIL_BACKEND = f"anymail.backends.{ANYMAIL_ESP}.EmailBackend"
if ANYMAIL_ESP and not DEBUG and not env("ANYMAIL_WEBHOOK_SECRET", default=""):
    # anymail would take unauthenticated webhooks: anyone could post bounces and complaints.
    raise ImproperlyConfigured(
        "ANYMAIL_WEBHOOK_SECRET (user:password) is required with ANYMAIL_ESP."
    )
_ANYMAIL_KEYS = {
    "WEBHOOK_SECRET": env("ANYMAIL_WEBHOOK_SECRET", default=""),
    "POSTMARK_SERVER_TOKEN": env("POSTMARK_SERVER_TOKEN", default=""),
    "POSTMARK_API_URL": env("POSTMARK_API_URL", default="https://api.postmarkapp.com/"),
    "SENDGRID_API_KEY": env("SENDGRID_API_KEY", default=""),
    "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": env(
        "SENDGRID_WEBHOOK_VERIFICATION_KEY", default=""
    ),
    "MAILGUN_API_KEY": env("MAILGUN_API_KEY", default=""),
    "MAILGUN_SENDER_DOMAIN": env("MAILGUN_SENDER_DOMAIN", default=""),
    "MAILGUN_WEBHOOK_SIGNING_KEY": env("MAILGUN_WEBHOOK_SIGNING_KEY", default=""),
    "AMAZON_SES_CLIENT_PARAMS": {"region_name": env("AMAZON_SES_REGION", default="us-east-1")},
}
# A key left unset is left out, so that anymail names the missing one.
ANYMAIL = {name: value for name, value in _ANYMAIL_KEYS.items() if value}
# Soft bounces (mailbox full, server busy) are retried with backoff; after this many in a row
# without a delivery the address is suppressed like a hard bounce.
EMAIL_SOFT_BOUNCE_LIMIT = env.int("EMAIL_SOFT_BOUNCE_LIMIT", default=3)

# Celery. Without CELERY_BROKER_URL, kombu's filesystem transport under var/ needs no server.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "celery-broker"
    (_broker_dir / "queue").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged only after it ran, and handed back if its worker dies: every
# task is idempotent, so running twice is safe while losing one is not.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 150
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Four queues, so one kind of work never starves another (advancing a big journey step
# used to hold every pool process while the sends behind it waited). The Procfile runs a
# worker per queue; scale "engine" for enrollment advance, "dispatch" for provider calls.
CELERY_TASK_DEFAULT_QUEUE = "housekeeping"
CELERY_TASK_ROUTES = {
    "contacts.events_hand_off": {"queue": "intake"},
    "sends.inbound_reply_handle": {"queue": "intake"},
    "consent.contact_import_run": {"queue": "intake"},
    "contacts.opportunity_import_run": {"queue": "intake"},
    "crm.sync_in": {"queue": "intake"},
    "crm.sync_in_all": {"queue": "intake"},
    "journeys.*": {"queue": "engine"},
    "sends.message_dispatch": {"queue": "dispatch"},
    "sends.messages_dispatch": {"queue": "dispatch"},
    "sends.messages_call": {"queue": "dispatch"},
    "crm.push": {"queue": "dispatch"},
    "crm.push_all": {"queue": "dispatch"},
    "routing.notifications_send": {"queue": "dispatch"},
    "routing.webhook_deliver": {"queue": "dispatch"},
    "routing.webhook_deliveries_send": {"queue": "dispatch"},
}
# Advance runs working at once (apps/journeys/engine/slots.py), whatever the engine's pool:
# more than the cores would only take them from dispatch and the database.
CUE_ADVANCE_RUNS = max(1, int(env("CUE_ADVANCE_RUNS", default="") or os.cpu_count() or 1))
CELERY_TIMEZONE = TIME_ZONE

PHONENUMBER_DEFAULT_REGION = env("PHONENUMBER_DEFAULT_REGION", default="US")

# Twilio. Without TWILIO_ACCOUNT_SID, messages go to the console transport.
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")
TWILIO_MESSAGING_SERVICE_SID = env("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER", default="")
TWILIO_API_BASE_URL = env("TWILIO_API_BASE_URL", default="")
TWILIO_TIMEOUT_SECONDS = env.float("TWILIO_TIMEOUT_SECONDS", default=10.0)

# CRM connectors (apps/crm). A connection is configured when its credentials are set;
# secrets live only in the environment, never in the database or the logs.
HUBSPOT_ACCESS_TOKEN = env("HUBSPOT_ACCESS_TOKEN", default="")
HUBSPOT_API_BASE_URL = env("HUBSPOT_API_BASE_URL", default="https://api.hubapi.com").rstrip("/")
HUBSPOT_WEBHOOK_SECRET = env("HUBSPOT_WEBHOOK_SECRET", default="")
SALESFORCE_LOGIN_URL = env("SALESFORCE_LOGIN_URL", default="https://login.salesforce.com")
SALESFORCE_INSTANCE_URL = env("SALESFORCE_INSTANCE_URL", default="")
SALESFORCE_CLIENT_ID = env("SALESFORCE_CLIENT_ID", default="")
SALESFORCE_CLIENT_SECRET = env("SALESFORCE_CLIENT_SECRET", default="")
SALESFORCE_REFRESH_TOKEN = env("SALESFORCE_REFRESH_TOKEN", default="")
SALESFORCE_API_VERSION = env("SALESFORCE_API_VERSION", default="62.0")
# An External ID field on Task holding Cue's key of each task and SMS activity; with it,
# writes are upserts a retry cannot duplicate. Empty: plain creates, never resent blindly.
SALESFORCE_TASK_KEY_FIELD = env("SALESFORCE_TASK_KEY_FIELD", default="")
# The zone the Salesforce org reads its activity in: an SMS activity's ActivityDate (a date
# without a time) is the day it happened there. Empty: ROUTING_BUSINESS_TIME_ZONE.
SALESFORCE_TIME_ZONE = env("SALESFORCE_TIME_ZONE", default="")
if SALESFORCE_TIME_ZONE and SALESFORCE_TIME_ZONE not in available_timezones():
    raise ImproperlyConfigured(f"SALESFORCE_TIME_ZONE {SALESFORCE_TIME_ZONE!r} is no IANA zone.")
# Seconds before a call to a CRM is abandoned (and retried with backoff).
CRM_TIMEOUT_SECONDS = env.float("CRM_TIMEOUT_SECONDS", default=20.0)
# The longest a sync waits in one go when a CRM asks it to (429 Retry-After); a longer
# wait ends the run with its cursor kept, and the next scheduled run resumes.
CRM_MAX_RETRY_WAIT_SECONDS = env.float("CRM_MAX_RETRY_WAIT_SECONDS", default=120.0)
# The most records a sync writes in one transaction (the CRM's pages gathered up to it): a
# crash re-reads at most this many.
CRM_SYNC_STORE_RECORDS = env.int("CRM_SYNC_STORE_RECORDS", default=2000)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's tokens, refused once expired, with their last use noted (apps/accounts/tokens.py).
        "apps.accounts.tokens.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.core.api.permissions.ModelPermissions"],
    # Refuses JSON that would otherwise reach the database or a response and fail there
    # (1e400, absurd nesting) with a 400; NUL characters and lone surrogates are cleaned.
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.api.parsers.StrictJSONParser",
        "apps.core.api.parsers.StorableFormParser",
        "apps.core.api.parsers.StorableMultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="60/minute"),
        "user": env("API_THROTTLE_USER", default="6000/minute"),
    },
    "EXCEPTION_HANDLER": "apps.core.api.errors.exception_handler",
}
# /api/schema/ and /api/docs/ answer signed-in callers only, unless this is true.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=False)
SPECTACULAR_SETTINGS = {
    "TITLE": "Cue API",
    "DESCRIPTION": "Events, contacts, consent and templates for journey-based SMS.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Two choice sets are both called "category" in the API: a template's and a message's.
    "ENUM_NAME_OVERRIDES": {
        "TemplateCategoryEnum": "apps.library.models.Category",
        "MessageCategoryEnum": "apps.sends.models.MessageCategory",
        "JourneyStatusEnum": "apps.journeys.models.JourneyStatus",
        "JourneyVersionStatusEnum": "apps.journeys.models.JourneyVersionStatus",
        "StepKindEnum": "apps.journeys.models.StepKind",
        "ContactKindEnum": "apps.contacts.models.ContactKind",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.api.schema.error_responses_add",
    ],
}

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# The proxies in front of Cue (apps/core/http.py client_ip): X-Forwarded-For is believed only
# through them. TRUSTED_PROXIES lists their networks (CIDR, e.g. 10.0.0.0/8); otherwise
# TRUSTED_PROXY_COUNT says how many hops to take from the right. Neither: REMOTE_ADDR.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
for _network in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_error}") from None
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Budgets per client IP and minute on the public endpoints (apps/core/ratelimit.py).
THROTTLE_OPTIN_PER_MINUTE = env.int("THROTTLE_OPTIN_PER_MINUTE", default=10)
# SMS pumping guard of the opt-in form's confirmation texts (apps/consent/pumping.py): the
# countries whose numbers get one (default: the account's own region), and per 24 hours the
# most per number, per number prefix (all digits but the last four) and in all.
CUE_OPTIN_SMS_COUNTRIES = env.list("OPTIN_SMS_COUNTRIES", default=[PHONENUMBER_DEFAULT_REGION])
CUE_OPTIN_SMS_PER_NUMBER = env.int("OPTIN_SMS_PER_NUMBER_PER_DAY", default=3)
CUE_OPTIN_SMS_PER_PREFIX = env.int("OPTIN_SMS_PER_PREFIX_PER_DAY", default=20)
CUE_OPTIN_SMS_DAILY_CEILING = env.int("OPTIN_SMS_DAILY_CEILING", default=1000)
THROTTLE_LINK_CLICKS_PER_MINUTE = env.int("THROTTLE_LINK_CLICKS_PER_MINUTE", default=300)
# Only refused (unsigned or tampered) webhook calls count: Twilio's own signed callbacks
# arrive in bursts when a campaign goes out and are never turned away.
THROTTLE_WEBHOOK_REFUSALS_PER_MINUTE = env.int("THROTTLE_WEBHOOK_REFUSALS_PER_MINUTE", default=20)
# Segment intake: requests a minute per write key, and refused (bad key) requests per client.
THROTTLE_SEGMENT_PER_MINUTE = env.int("THROTTLE_SEGMENT_PER_MINUTE", default=600)
THROTTLE_SEGMENT_REFUSALS_PER_MINUTE = env.int("THROTTLE_SEGMENT_REFUSALS_PER_MINUTE", default=20)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "()": "apps.core.logs.MaskingFormatter",  # phone numbers and emails masked
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # The twilio client logs request URLs, which carry phone numbers: keep them out.
    "loggers": {"twilio.http_client": {"level": "WARNING"}},
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"

# Intent bands: a contact whose decayed event score reaches these is high / medium intent.
INTENT_HIGH_SCORE = 40.0
INTENT_MEDIUM_SCORE = 15.0
# Events accepted in one API request.
EVENTS_BATCH_LIMIT = 1000

# Sends: the default quiet-hours window (local time; stricter state rules apply on top),
# how long the duplicate guard looks back, and messages per second for each sender.
CUE_QUIET_HOURS_DEFAULT = (time(8), time(21))
CUE_DUPLICATE_WINDOW_HOURS = 24
CUE_SEND_RATES = {"default": 1.0}
# The senders' pacing schedules live in Redis when Cue has it (unset: the broker's, if it is
# Redis): no database row every send must lock. Otherwise one database row per sender.
CUE_PACING_REDIS_URL = env("CUE_PACING_REDIS_URL", default="") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else ""
)
# A message held because the recipient's zone (or country rule) is unknown is gated again
# when the contact changes; one still held this many hours after it was created expires.
CUE_HELD_MESSAGE_EXPIRY_HOURS = env.int("CUE_HELD_MESSAGE_EXPIRY_HOURS", default=72)

# Template library. Lint run when a version is submitted (errors block it, warnings go to
# the approver); who may approve what. The brand it demands is data (accounts' Brand).
CUE_TEMPLATE_LINT = {
    # Marketing SMS must name the brand, say how to opt out and fit MAX_SEGMENTS at its longest.
    "MARKETING_SMS": True,
    "MAX_SEGMENTS": 3,
    # Opt-out language: any one of these (case-insensitive regular expressions) will do.
    "OPT_OUT_PATTERNS": [
        r"\breply\s+stop\b",
        r"\b(?:txt|text|send)\s+stop\b",
        r"\bstop\s+to\s+(?:opt[\s-]?out|end|cancel|quit|unsubscribe|stop)\b",
    ],
    # Public URL shorteners hide the destination and carriers filter them: never in any SMS.
    "SHORTENER_DOMAINS": [
        "bit.ly", "tinyurl.com", "goo.gl", "t.co", "ow.ly", "is.gd", "buff.ly", "rebrand.ly",
        "cutt.ly", "tiny.cc", "shorturl.at", "rb.gy", "t.ly", "s.id", "bl.ink", "lnkd.in",
    ],
    # Words that make a transactional message read as promotional: they block its
    # submission (apps/library/lint.py says why). Matched as whole words, any case.
    "PROMOTIONAL_WORDS": [
        "sale", "% off", "discount", "limited time", "buy now", "free", "offer", "deal",
        "promo", "coupon", "save", "exclusive", "act now", "shop now", "clearance", "bogo",
        "off your next", "upgrade now",
    ],
    # Everyday phrases holding one of those words that promote nothing.
    "NOT_PROMOTIONAL": ["feel free", "toll-free", "toll free", "hands-free", "free to reply"],
}  # fmt: skip
# An author may never approve their own version, not even an admin, unless this is True.
CUE_ALLOW_SELF_APPROVAL = False
# When True, a marketing template version also needs a Compliance approval to be sent.
CUE_REQUIRE_COMPLIANCE_APPROVAL = False

# Routing. Business-hours SLAs count the owner's working hours; a task in a team queue (or
# for an owner with none set) counts this week instead.
CUE_ROUTING_BUSINESS_HOURS = {
    "time_zone": env("ROUTING_BUSINESS_TIME_ZONE", default="America/New_York"),
    "weekdays": (0, 1, 2, 3, 4),
    "hours": (time(9), time(17)),
}
# The inbox: minutes a team has to answer a text (first response), unless the team's own
# inbox policy (admin) says otherwise.
INBOX_FIRST_RESPONSE_MINUTES = env.int("INBOX_FIRST_RESPONSE_MINUTES", default=60)
# Outbound CRM webhooks: seconds before a POST is abandoned, attempts before giving up, and
# the backoff between attempts (base × 2^(n−1), capped).
CUE_WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
CUE_WEBHOOK_MAX_ATTEMPTS = 8
CUE_WEBHOOK_BACKOFF_SECONDS = 30
CUE_WEBHOOK_BACKOFF_MAX = 3600

# Reporting. Retention: message bodies (outbound, inbound and the reply text copied onto
# sms_reply events) and click IP addresses are cleared after these many days by a daily
# beat task, which records each prune. The consent ledger is evidence: the prune never
# touches it, so it is kept longer than the 5 years the design asks for.
CUE_RETENTION_MESSAGE_DAYS = env.int("CUE_RETENTION_MESSAGE_DAYS", default=400)
# Whole messages (with their log, links, clicks and attributions) are deleted after this
# many days; 0 keeps them. On PostgreSQL whole months go as partitions (apps.core.partitions).
CUE_RETENTION_MESSAGE_ROW_DAYS = env.int("CUE_RETENTION_MESSAGE_ROW_DAYS", default=0)
CUE_RETENTION_CLICK_IP_DAYS = env.int("CUE_RETENTION_CLICK_IP_DAYS", default=90)
# Segment messages Cue rejected are kept, with why, this long for the team to look into.
CUE_RETENTION_SEGMENT_REJECTION_DAYS = env.int("CUE_RETENTION_SEGMENT_REJECTION_DAYS", default=90)
# Event properties (what a page, form or reply said) are cleared after this many days; the
# events themselves stay for counts and attribution.
CUE_RETENTION_EVENT_DAYS = env.int("CUE_RETENTION_EVENT_DAYS", default=730)
# Whole events (with their handler failures; tasks and enrollments they started forget
# them) are deleted after this many days of occurred_at; 0 keeps them. On PostgreSQL whole
# months go as partitions (apps.core.partitions).
CUE_RETENTION_EVENT_ROW_DAYS = env.int("CUE_RETENTION_EVENT_ROW_DAYS", default=0)
# A closed follow-up task's notes and context (the reply that made it) are cleared after this.
CUE_RETENTION_TASK_NOTE_DAYS = env.int("CUE_RETENTION_TASK_NOTE_DAYS", default=365)
# The CRM sync error log (the records a CRM sent that Cue could not take) is kept this long.
CUE_RETENTION_SYNC_LOG_DAYS = env.int("CUE_RETENTION_SYNC_LOG_DAYS", default=90)
# Finished CRM sync runs (counts, errors) are deleted after this many days; the last run of
# each connection and direction stays.
CUE_RETENTION_SYNC_RUN_DAYS = env.int("CUE_RETENTION_SYNC_RUN_DAYS", default=365)
# Erasure keeps an erased phone number or email (in the consent ledger and on the suppression
# list) as an HMAC-SHA256 under this key, so a STOP still binds the number. Empty: a key
# derived from SECRET_KEY (then rotating SECRET_KEY unlinks the erased suppressions).
CUE_ERASURE_HASH_KEY = env("CUE_ERASURE_HASH_KEY", default="")
# The recurring compliance audit looks back this many days (it runs weekly).
CUE_AUDIT_PERIOD_DAYS = env.int("CUE_AUDIT_PERIOD_DAYS", default=7)
