"""A fake CRM served from a process of its own, so that the bench measures Cue's side of a
sync: the fake's HTTP handling then runs on its own interpreter, not between Cue's
statements under one GIL. The child is forked from the bench process (it never touches the
parent's database connection) and does what the parent asks through a pipe."""

import multiprocessing
import traceback
from collections.abc import Callable
from typing import Any


class FakeProcess:
    """Runs `make()` in a forked child (it answers a started fake), then calls
    `function(fake, *args)` there for each `call`, answering its result. Functions must be
    module-level, so that the child finds them by name."""

    def __init__(self, make: Callable[[], Any]):
        context = multiprocessing.get_context("fork")
        self._pipe, child_end = context.Pipe()
        self._process = context.Process(target=_serve, args=(make, child_end), daemon=True)

    def __enter__(self) -> "FakeProcess":
        self._process.start()
        self._answer()  # the fake is up
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._pipe.send(None)
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.kill()

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        self._pipe.send((function, args))
        return self._answer()

    def _answer(self) -> Any:
        ok, value = self._pipe.recv()
        if not ok:
            raise RuntimeError(f"the fake CRM process failed:\n{value}")
        return value


def _serve(make: Callable[[], Any], pipe) -> None:
    try:
        fake = make()
    except Exception:
        pipe.send((False, traceback.format_exc()))
        return
    pipe.send((True, None))
    try:
        while (command := pipe.recv()) is not None:
            function, args = command
            try:
                pipe.send((True, function(fake, *args)))
            except Exception:
                pipe.send((False, traceback.format_exc()))
    finally:
        fake.stop()
