"""The Celery app the campaign bench's workers and beat run: Cue's own, with its four queues
and time limits, except that each queue's name carries the run's prefix (so nothing left in
a shared broker reaches the bench's workers, and nothing of theirs reaches anyone else), and
that a filesystem broker keeps its messages in the run's own folder."""

import os
import uuid
from time import monotonic

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

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

    def _put_whole(self, queue, payload, **kwargs):
        """kombu's filesystem _put, but a reader never sees the message half-written: it
        moves a file away without taking its writer's lock, so a message taken between
        open() and write() was read empty (the worker died on it, and the message was
        lost). Written under a name no queue matches, then renamed into place."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        path = os.path.join(self.data_folder_out, name)
        with open(path + ".part", "wb") as part:
            part.write(str_to_bytes(dumps(payload)))
        os.replace(path + ".part", path)

    filesystem.Channel._put = _put_whole

__all__ = ["app"]
