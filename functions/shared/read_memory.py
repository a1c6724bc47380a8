"""What a score function's environment knows without reading it again (SPEC 1: a key that takes every
read of a program caps it as one that takes every write does).

Facts that never turn false, or not before a time they carry, learnt from what scoring read: a
crowded identifier's link that no purchase's customer will read as evidence (`links.crowd_for_good`)
with its velocity slots, and an hour's counter item at the velocity cap (`velocity.saturated_hours`).
Scoring leaves the items they make useless out of its snapshot, and decides, writes and says exactly
what reading them gives. A cold environment reads each; a warm one reads it again when the fact
lapses. Not truth kept in memory: each fact is one DynamoDB gave, and one no write takes back.

One per environment (`runtime.Dependencies.read_memory`, built once as the repository is), bounded:
the least recently used facts of each kind leave first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from functions.shared.domain.model import LinkKey

# a crowd's velocity slots are read again this often: a purchase that read the link just short of
# its crowd and joined it after this environment saw the crowd adds a slot (and a member) the
# memory lacks, seconds later; members only grow, so the crowd itself never lapses
CROWD_KNOWN_FOR = timedelta(seconds=60)
FACTS_KEPT = 4096  # facts of each kind: a few hundred bytes each at most, a few megabytes in all

CrowdKey = tuple[str, LinkKey]  # (program id, the crowded identifier's link)
HourKey = tuple[str, str]  # (program id, a velocity counter item's name)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Facts(Generic[K, V]):
    """Facts of one kind by key, each until a time; past `size`, the least recently used leave first.
    Thread-safe (the local system's API scores synchronous decisions on a thread per request)."""

    def __init__(self, size: int = FACTS_KEPT) -> None:
        self._size = size
        self._facts: OrderedDict[K, tuple[datetime, V]] = OrderedDict()
        self._lock = threading.Lock()

    def recall(self, key: K, now: datetime) -> V | None:
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

    def learn(self, key: K, fact: V, until: datetime) -> None:
        with self._lock:
            self._facts[key] = (until, fact)
            self._facts.move_to_end(key)
            while len(self._facts) > self._size:
                self._facts.popitem(last=False)

    def __len__(self) -> int:
        return len(self._facts)


class ReadMemory:
    """A score function's environment's facts, each kind typed: `crowd_slots`, the velocity slots of
    an identifier's link that is a crowd for good, for `CROWD_KNOWN_FOR`; `saturated_hours`, counter
    items at `velocity.SATURATED`, until their `SATURATED_KNOWN_FOR`."""

    def __init__(self, size: int = FACTS_KEPT) -> None:
        self.crowd_slots: Facts[CrowdKey, Mapping[str, int]] = Facts(size)
        self.saturated_hours: Facts[HourKey, bool] = Facts(size)
