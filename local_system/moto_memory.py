"""moto's models kept as long as its backends hold them, not for as long as the process runs.

moto notes every instance of its models (`BaseModel.__new__` appends it to its class's
`instances_tracked`) for its dashboard (`/moto-api/data.json`), and forgets them only at a reset.
The local system never resets, and SQS makes a `Message` per message sent and another per receive
(the copy handed out): every message the scoring queue ever carried stayed in memory, about 2 KB
each, some 5 MB for every 1,000 events scored. Here each class's list keeps weak references, so an
instance goes when its backend lets it go; the dashboard still lists every live one, in order.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Any

_INSTALLED = "__moto_tracks_weakly__"


class WeakInstances:
    """What `instances_tracked` is to moto (`append` and iteration), with weak references: the
    instances still alive, in the order they were made."""

    def __init__(self) -> None:
        self._refs: list[Any] = []
        self._pruned_at = 64

    def append(self, instance: Any) -> None:
        try:
            self._refs.append(weakref.ref(instance))
        except TypeError:  # a model without weak references (none in moto 5): kept, as moto keeps it
            self._refs.append(lambda instance=instance: instance)
        if len(self._refs) >= 2 * self._pruned_at:
            self._refs = [ref for ref in self._refs if ref() is not None]
            self._pruned_at = max(64, len(self._refs))

    def __iter__(self) -> Iterator[Any]:
        for ref in list(self._refs):
            instance = ref()
            if instance is not None:
                yield instance

    def __len__(self) -> int:
        return sum(1 for _ in self)


def make_moto_track_instances_weakly() -> None:
    """Patches moto's `BaseModel` (once per process). A reset (`reset_model_data`) puts plain lists
    back: the first instance made after it replaces its class's list again."""
    from moto.core.common_models import BaseModel

    if getattr(BaseModel.__new__, _INSTALLED, False):
        return

    def __new__(cls: Any, *args: Any, **kwargs: Any) -> Any:
        instance = super(BaseModel, cls).__new__(cls)  # moto's own __new__ but for the list
        tracked = cls.__dict__.get("instances_tracked")
        if not isinstance(tracked, WeakInstances):
            before, tracked = tracked or [], WeakInstances()
            for earlier in before:  # made before the patch (or a reset's list): tracked as they were
                tracked.append(earlier)
            cls.instances_tracked = tracked
        tracked.append(instance)
        return instance

    setattr(__new__, _INSTALLED, True)
    BaseModel.__new__ = __new__  # type: ignore[method-assign]
