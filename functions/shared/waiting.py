"""A blocking call that has no timeout of its own (name resolution, a multiprocessing handshake),
given one."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def within(seconds: float, call: Callable[[], T], what: str) -> T:
    """`call()`'s answer, or what it raised, once it comes within `seconds`; else TimeoutError (an
    OSError), naming `what`. The call runs on a daemon thread, left behind when the time is up: it
    ends when its own call does."""
    answers: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)

    def run() -> None:
        try:
            answers.put((True, call()))
        except BaseException as error:  # handed to the caller, whatever it is
            answers.put((False, error))

    threading.Thread(target=run, daemon=True).start()
    try:
        answered, value = answers.get(timeout=seconds)
    except queue.Empty:
        raise TimeoutError(f"no {what} within {seconds} s") from None
    if not answered:
        raise value
    return value  # type: ignore[no-any-return]
