"""What a score function's environment knows without reading it again (SPEC 1: no key may take every
request of a program, reads included).

Facts that never turn false, or not before a time they carry, learnt from what scoring read: a
crowded identifier's link that no purchase's customer will read as evidence (`links.crowd_for_good`),
and an hour's velocity count at its cap (`velocity.saturated_hours`). Scoring leaves the items they
make useless out of its snapshot, and decides, writes and says exactly what reading them gives. A
cold environment reads each once; a warm one reads it again when the fact lapses. Not truth kept in
memory: each fact is one DynamoDB gave, and one no write takes back.

One per environment (`MEMORY`), bounded: the least recently used facts leave first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from datetime import datetime, timedelta

# a crowd's velocity slots are read again this often: a purchase that read the link just short of
# its crowd and joined it after this environment saw the crowd adds a slot (and a member) the
# memory lacks, seconds later; members only grow, so the crowd itself never lapses
CROWD_KNOWN_FOR = timedelta(seconds=60)
FACTS_KEPT = 4096  # a fact is a few hundred bytes at most: a megabyte or so in all


class ReadMemory:
    """Facts by key, each until a time; the oldest used leave first past `size`. Thread-safe (the
    local system's API scores synchronous decisions on a thread per request)."""

    def __init__(self, size: int = FACTS_KEPT) -> None:
        self._size = size
        self._facts: OrderedDict[Hashable, tuple[datetime, object]] = OrderedDict()
        self._lock = threading.Lock()

    def recall(self, key: Hashable, now: datetime) -> object | None:
        with self._lock:
            found = self._facts.get(key)
            if found is None:
                return None
            until, fact = found
            if now >= until:
                del self._facts[key]
                return None
            self._facts.move_to_end(key)
            return fact

    def learn(self, key: Hashable, fact: object, until: datetime) -> None:
        with self._lock:
            self._facts[key] = (until, fact)
            self._facts.move_to_end(key)
            while len(self._facts) > self._size:
                self._facts.popitem(last=False)

    def __len__(self) -> int:
        return len(self._facts)

    def forget(self) -> None:
        with self._lock:
            self._facts.clear()


def crowd_key(program_id: str, key: tuple[str, str]) -> Hashable:
    return ("crowd", program_id, *key)


def saturated_key(program_id: str, name: str) -> Hashable:
    return ("saturated", program_id, name)


def slots_of(fact: object) -> Mapping[str, int]:
    assert isinstance(fact, Mapping)
    return fact


MEMORY = ReadMemory()  # the environment's: `service.engine_for` gives it to every engine it builds
