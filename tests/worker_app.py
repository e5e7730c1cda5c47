"""The Celery app a test worker (tests/workers.py) runs: Cue's own, except that the tasks
the worker sends itself go to its private queue rather than the shared default one, where
no test worker listens and a developer's worker would pick them up later (routes too)."""

import os

from config.celery import app

if queue := os.environ.get("CUE_TEST_WORKER_QUEUE"):
    app.conf.task_default_queue = queue
    app.conf.task_routes = {}  # Cue's routes would send them to queues nobody here consumes

__all__ = ["app"]
