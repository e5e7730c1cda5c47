"""The Celery app the campaign bench's workers and beat run: Cue's own, with its four queues
and time limits, except that each queue's name carries the run's prefix (so nothing left in
a shared broker reaches the bench's workers, and nothing of theirs reaches anyone else), and
that a filesystem broker keeps its messages in the run's own folder."""

import os

from config.celery import app

if prefix := os.environ.get("CUE_BENCH_QUEUE_PREFIX"):
    app.conf.update(
        task_default_queue=prefix + app.conf.task_default_queue,
        task_routes={
            name: {**route, "queue": prefix + route["queue"]}
            for name, route in app.conf.task_routes.items()
        },
    )

if folder := os.environ.get("CUE_BENCH_BROKER_DIR"):
    app.conf.broker_transport_options = {
        "data_folder_in": folder,
        "data_folder_out": folder,
        "control_folder": folder,
        "store_processed": False,
        "polling_interval": 0.1,  # kombu's default second would be most of a small run
    }

__all__ = ["app"]
