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
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

from functions.shared.config import SCORE_TIMEOUT_SECONDS
from functions.shared.domain.model import LinkKey

# A crowd's velocity slots are learnt only from a read made this long after the environment first saw
# the crowd: the slot of a purchase that read the link just short of its crowd, and joins it after
# (an IP's joins are unguarded), is written within its function's time, which no function that
# scores passes (`SCORE_TIMEOUT_SECONDS`, the infra's too); once crowded, the link takes no member
# and no slot. Learnt sooner, a warm environment counted without that slot for a minute, and a
# flag could turn into an allow (a reviewer's probe).
CROWD_SETTLES_IN = timedelta(seconds=SCORE_TIMEOUT_SECONDS)
# and read again this often (what a crowd's slots say cannot change once settled: a margin, and the
# one read a minute per environment that shows them)
CROWD_KNOWN_FOR = timedelta(seconds=60)
FACTS_KEPT = 4096  # facts of each kind: a few hundred bytes each at most, a few megabytes in all
FOR_GOOD = datetime.max.replace(tzinfo=UTC)  # a crowd stays one: members only grow

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
    """A score function's environment's facts, each kind typed:
    - `crowds`: when the environment first read an identifier as a crowd for good (kept for good);
    - `crowd_slots`: that crowd's velocity slots, from a read `CROWD_SETTLES_IN` after it was first
      seen, for `CROWD_KNOWN_FOR` (`crowd_settled`, `learn_crowd`);
    - `saturated_hours`: counter items at `velocity.SATURATED`, until their `SATURATED_KNOWN_FOR`."""

    def __init__(self, size: int = FACTS_KEPT) -> None:
        self.crowds: Facts[CrowdKey, datetime] = Facts(size)
        self.crowd_slots: Facts[CrowdKey, Mapping[str, int]] = Facts(size)
        self.saturated_hours: Facts[HourKey, bool] = Facts(size)

    def learn_crowd(self, key: CrowdKey, slots: Mapping[str, int], read_at: datetime, now: datetime) -> None:
        """A read begun at `read_at` (and over by `now`) showed `key`'s link a crowd for good with
        these slots: the crowd is known from `now` on; the slots once the read began
        `CROWD_SETTLES_IN` after the crowd was first seen, when every purchase that read the link
        short of its crowd has written."""
        seen = self.crowds.recall(key, now)
        if seen is None:
            self.crowds.learn(key, now, FOR_GOOD)
        elif read_at >= seen + CROWD_SETTLES_IN:
            self.crowd_slots.learn(key, dict(slots), now + CROWD_KNOWN_FOR)
