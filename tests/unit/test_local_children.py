"""The local system's processes keep their long-lived objects out of the collector's full passes,
and still free a garbage cycle that was frozen (`local_system.children`)."""

from __future__ import annotations

import gc
import threading
import time
import weakref

from local_system import children


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def _wait_for(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_what_is_alive_is_frozen_and_a_frozen_garbage_cycle_is_still_freed(monkeypatch):
    monkeypatch.setattr(children, "FREEZE_SECONDS", 0.05)
    monkeypatch.setattr(children, "FULL_COLLECTION_SECONDS", 3600.0)
    stopping = threading.Event()
    gc.unfreeze()
    alive = [_Node()]
    freed = weakref.ref(alive[0])
    thread = children.keep_long_lived_objects_out_of_full_collections(stopping)
    try:
        # Given a live cycle, When a freeze has run, Then the collector's passes no longer walk it
        assert _wait_for(lambda: gc.get_freeze_count() > 0)
        assert _wait_for(lambda: not any(tracked is alive[0] for tracked in gc.get_objects()))
        # When it becomes garbage while frozen, Then a collection does not free it...
        alive.clear()
        gc.collect()
        assert freed() is not None
        # ...but the periodic full pass does
        monkeypatch.setattr(children, "FULL_COLLECTION_SECONDS", 0.0)
        assert _wait_for(lambda: freed() is None)
    finally:
        stopping.set()
        thread.join(timeout=5)
        gc.unfreeze()
    assert not thread.is_alive()
