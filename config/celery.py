"""The Celery app. Its configuration lives in settings (the CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("cue")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
