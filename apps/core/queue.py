"""Sending work to the broker without letting an unreachable broker fail the request
whose data is already committed: the caller says what happens to the work instead (a
sweep picks it up, it runs inline, or the user is told)."""

import logging

logger = logging.getLogger(__name__)

QUEUE_DOWN = "Could not start it: the task queue is unreachable. Try again in a minute."


def task_send(task, *args) -> bool:
    """Queues task(*args); False, logged, when the broker cannot be reached."""
    try:
        task.delay(*args)
    except Exception:  # kombu raises many kinds: connection, timeout, DNS, auth
        logger.warning("Could not queue %s%r: the broker is unreachable", task.name, args)
        return False
    return True
