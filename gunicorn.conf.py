"""gunicorn, Cue's production web server (the Procfile's web entry):
`gunicorn -c gunicorn.conf.py config.wsgi`. Each value can be changed by environment."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# gunicorn's own advice: two workers per core plus one (requests mostly wait on the database).
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
# A request still running after this many seconds is killed and its worker restarted.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 30
keepalive = 5
# Workers are replaced after this many requests (plus jitter), so a slow leak stays small.
max_requests = 2000
max_requests_jitter = 200
# Access and error logs on stdout/stderr; every value masked (phone numbers, emails).
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'
logger_class = "apps.core.access_log.MaskingLogger"
