"""When a relay sends again what waits in an outbox (accepted events for scoring, loyalty workflow
runs): once per copy's life in its queue, so a copy sent is scored (or run), or dead-lettered after
its deliveries, before the next one is sent. Work a throttled or refusing store keeps failing is
kept for a day (`errors.retried_later`): sent at every run instead, it piled copy on copy on the key
that was already throttled. Stateless: the runs' times say which run sends, no write per item sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from functions.shared.errors import StorageUnavailable


@dataclass(frozen=True)
class RelaySchedule:
    after: timedelta  # younger work may still be on its way to the queue
    every: timedelta  # the relay schedule's rate
    copy_lifetime: timedelta  # the longest a copy stays in the queue: deliveries x visibility timeout

    def due(self, since: datetime, now: datetime) -> bool:
        """Whether a run at `now` sends work waiting since `since`: in its first run past `after`,
        then once in each `copy_lifetime`. Each window is open at its start, as the outbox reads
        work waiting strictly longer than `after` (a run exactly at its end is in it), so runs
        `every` apart, whatever their phase, send it once per window (a run missed costs one)."""
        waited = now - since - self.after
        return waited > timedelta(0) and (waited - _TICK) % self.copy_lifetime < self.every


_TICK = timedelta(microseconds=1)  # the finest a time here is


def failed_after_all(relay: str, what: str, failed: list[str]) -> None:
    """Every program tried, a relay run fails if one program's work could not be handed on: its
    error is the alarm that says accepted work waits unsent. One program's failure never keeps the
    others' work waiting (each goes on to the next program and fails here, at the end)."""
    if failed:
        raise StorageUnavailable(f"{relay}: {what} of {len(failed)} program(s) not relayed ({failed[0]})")
