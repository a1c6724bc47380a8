"""Interleavings of store calls chosen by a test: each client runs on a thread of its own, and each
of its gated store calls waits until the scheduler lets that thread go, so hypothesis decides which
client's next call comes first (`Turnstile.run`)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Collection
from typing import Any


class Turnstile:
    """The store, each of its `gated` calls made only when the scheduler lets its thread go; a call
    named in `commits` is handed to `on_commit(name, args, make_it)` instead of being made."""

    def __init__(
        self,
        repository: Any,
        gated: Collection[str],
        commits: Collection[str],
        on_commit: Callable[[str, tuple[Any, ...], Callable[[], bool]], bool],
    ) -> None:
        self.repository, self.gated, self.commits, self.on_commit = repository, gated, commits, on_commit
        self.parked = threading.Semaphore(0)
        self.gates: dict[str, threading.Semaphore] = {}

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.repository, name)
        gate = self.gates.get(threading.current_thread().name)
        if name not in self.gated or gate is None:  # the test's own set-up and checks
            return method

        def in_turn(*args: Any, **kwargs: Any) -> Any:
            self.parked.release()
            gate.acquire()
            if name in self.commits:
                return self.on_commit(name, args, lambda: method(*args, **kwargs))
            return method(*args, **kwargs)

        return in_turn

    def run(
        self,
        calls: list[Callable[[], Any]],
        pick: Callable[[int], int],
        after_each: Callable[[], None] = lambda: None,
    ) -> None:
        """Each call on its own client thread; then, while any is not done, the one `pick` chooses
        among them makes its next gated call, and `after_each` checks what it left. A call that
        raises fails the run."""
        failures: list[BaseException] = []
        live: list[threading.Thread] = []
        done: set[str] = set()

        def body(call: Callable[[], Any]) -> None:
            try:
                call()
            except BaseException as exc:  # noqa: BLE001 (reported by the scheduler)
                failures.append(exc)
            finally:
                done.add(threading.current_thread().name)
                self.parked.release()

        for call in calls:
            thread = threading.Thread(
                target=body, args=(call,), name=f"client-{uuid.uuid4().hex}", daemon=True
            )
            self.gates[thread.name] = threading.Semaphore(0)
            thread.start()
            self.parked.acquire()  # at its first gated call (or done)
            live.append(thread)
        while live := [t for t in live if t.name not in done]:
            chosen = live[pick(len(live))]
            self.gates[chosen.name].release()
            self.parked.acquire()  # at its next gated call, or done
            assert not failures, failures
            after_each()
        assert not failures, failures
