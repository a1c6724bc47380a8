"""The local system's processes keep their long-lived objects out of the collector's full passes,
and still free a garbage cycle that was frozen (`local_system.children`). Run in a fresh interpreter
of its own: the collector's state is the whole process's, and a test worker's heap (gigabytes after
the integration tests) would make each full pass take seconds."""

from __future__ import annotations

import subprocess
import sys

_SCENARIO = """
import gc, threading, time, weakref
from local_system import children

children.FREEZE_SECONDS = 0.05
children.FULL_COLLECTION_SECONDS = 3600.0

def wait_for(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False

class Node:
    def __init__(self):
        self.me = self  # a cycle: only the collector frees it

alive = [Node()]
freed = weakref.ref(alive[0])
stopping = threading.Event()
thread = children.keep_long_lived_objects_out_of_full_collections(stopping)
print("frozen", wait_for(lambda: not any(tracked is alive[0] for tracked in gc.get_objects())))
alive.clear()
gc.collect()
print("kept by a collection while frozen", freed() is not None)
children.FULL_COLLECTION_SECONDS = 0.0
print("freed by the periodic full pass", wait_for(lambda: freed() is None))
stopping.set()
thread.join(timeout=5)
print("stopped", not thread.is_alive())
"""


def test_what_is_alive_is_frozen_and_a_frozen_garbage_cycle_is_still_freed():
    # Given a live cycle, When a freeze has run, Then the collector's passes no longer walk it; When
    # it becomes garbage while frozen, Then a collection does not free it but the periodic full
    # pass does; and the loop stops when asked
    run = subprocess.run(  # noqa: S603 (this interpreter, our own scenario)
        [sys.executable, "-c", _SCENARIO], capture_output=True, text=True, timeout=60, check=True
    )
    assert run.stdout.splitlines() == [
        "frozen True",
        "kept by a collection while frozen True",
        "freed by the periodic full pass True",
        "stopped True",
    ], run.stderr
