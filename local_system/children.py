"""The local system's child processes: each started by the running interpreter, ready when it says
so on its standard output, its later output relayed, and never outliving its parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

READY = "local child ready"
# Each of the local system's processes runs threads that wait on sockets beside one that computes
# (a request beside a scoring batch; moto's answer to one call beside a transaction). A thread back
# from a socket waits for the interpreter lock, by default up to 5 ms each time: an ingest request
# crosses several such points and took 35 to 55 ms for about 6 ms of work. Every process hands the
# lock over every 1 ms instead.
SWITCH_INTERVAL_SECONDS = 0.001


class Child:
    """`python -m <module> <arguments>`, started with `environment` on top of this process's, and
    waited for until it prints `READY` (or fails to within `start_timeout`)."""

    def __init__(
        self, module: str, arguments: list[str], environment: dict[str, str], start_timeout: float = 120.0
    ) -> None:
        self.module = module
        self.process = subprocess.Popen(  # noqa: S603 (our own module, by the running interpreter)
            [sys.executable, "-m", module, *arguments],
            env={**os.environ, **environment},
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            self._wait_ready(start_timeout)
        except BaseException:
            self.close()
            raise

    def _wait_ready(self, timeout: float) -> None:
        assert self.process.stdout is not None
        timer = threading.Timer(timeout, self.process.kill)
        timer.start()
        try:
            for line in self.process.stdout:
                if line.strip() == READY:
                    break
                print(line, end="", flush=True)
            else:
                status = self.process.wait()
                raise RuntimeError(f"{self.module} stopped before it was ready (exit {status})")
        finally:
            timer.cancel()
        # its later output (errors, warnings) goes to this process's standard output
        threading.Thread(target=_relay, args=(self.process.stdout,), daemon=True).start()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _relay(stream: Any) -> None:
    for line in stream:
        print(line, end="", flush=True)


def serve_until_stopped(stop: Callable[[], None]) -> None:
    """In a child: says it is ready, then calls `stop` on SIGTERM or when its parent is gone (killed
    without a word: the child must not outlive it). Ctrl-C reaches the whole group; the parent stops
    its children itself."""
    parent = os.getppid()
    signal.signal(signal.SIGTERM, lambda *_: stop())
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_stop_when_orphaned, args=(parent,), daemon=True).start()
    print(READY, flush=True)


def _stop_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)


FREEZE_SECONDS = 2.0  # how often what is alive leaves the collector's full passes
FULL_COLLECTION_SECONDS = 600.0  # how often a full pass still runs over everything


def keep_long_lived_objects_out_of_full_collections(
    stopping: threading.Event | None = None,
) -> threading.Thread:
    """Each full pass of the cyclic collector walks every object of the process: in moto's, the
    table's items (a second and more with 50,000 of them, in the middle of some request, so the
    local system slowed as its table grew); in every process, the modules, the service models, the
    reference data. Every 2 s, after a young pass, what is alive leaves the collector's passes
    (`gc.freeze`; reference counting still frees an object when it goes); every 10 minutes
    everything comes back for one full pass, which frees any cycle frozen after it became garbage.
    Runs until `stopping` is set (for the process's life without it)."""
    thread = threading.Thread(
        target=_freeze_periodically, args=(stopping or threading.Event(),), name="gc-freeze", daemon=True
    )
    thread.start()
    return thread


def _freeze_periodically(stopping: threading.Event) -> None:
    import gc

    last_full = time.monotonic()
    while not stopping.wait(FREEZE_SECONDS):
        if time.monotonic() - last_full >= FULL_COLLECTION_SECONDS:
            gc.unfreeze()
            gc.collect()
            last_full = time.monotonic()
        gc.collect(1)
        gc.freeze()
