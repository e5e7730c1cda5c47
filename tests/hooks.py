"""Records what a hand-off hook (apps.core.hooks) hands its handlers, batch by batch."""

import contextlib


@contextlib.contextmanager
def hook_recorded(hook, name: str = "tests.recorder"):
    """Yields the list of batches the hook fires while the block runs."""
    batches: list[list] = []
    hook.register(name, batches.append)
    try:
        yield batches
    finally:
        hook.unregister(name)
