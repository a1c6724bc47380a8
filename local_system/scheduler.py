"""The local stand-in for EventBridge schedules: runs each scheduled function at its interval with
a Scheduled Event, as EventBridge would, or at 00:00 UTC on the 1st of each month (the dispute
cycle's `cron(0 0 1 * ? *)`)."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.shared.observability import logger
from local_system.lambda_runtime import invoke


@dataclass(frozen=True)
class Schedule:
    name: str
    handler: str
    interval_seconds: float | None  # None: at the start of each month (UTC), as the deployed cron


def next_month_start(now: datetime) -> datetime:
    """00:00 UTC on the 1st of the month after `now`'s (UTC)."""
    now = now.astimezone(UTC)
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1)


def scheduled_event(rule: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:000000000000:rule/{rule}"],
        "detail": {},
    }


# a monthly schedule reads the clock again at least this often: a machine asleep over the 1st, or a
# clock set forward, runs it within the hour rather than a month's monotonic wait later
CLOCK_READ_SECONDS = 3600.0

# a run that failed waits this long for the system's stop before saying so: a SIGTERM to all of it
# stops the AWS stand-in as soon as the workers, whose last runs then fail
QUIET_SECONDS = 1.0


class LocalScheduler(threading.Thread):
    """One schedule's runs, each `interval_seconds` after the last ended, on a thread of its own:
    as EventBridge's rules, one schedule's run never holds another's back (one thread for all of
    them, a sweep of its 900 s held the relays and the dispute cycle as long)."""

    def __init__(self, schedule: Schedule) -> None:
        super().__init__(name=f"schedule {schedule.name}", daemon=True)
        self.schedule = schedule
        self.stopping = threading.Event()

    def run(self) -> None:
        schedule = self.schedule
        while self._next_run():
            # the interval counted from the last run's end: a run longer than it (a sweep of many
            # flagged subjects every 2 s in the end-to-end tests) does not start the next at once,
            # each schedule's thread busy for good on a machine of two cores
            try:
                answer = invoke(schedule.handler, scheduled_event(schedule.name), timeout_seconds=900)
                logger.info("schedule ran", extra={"schedule": schedule.name, "answer": answer})
            except Exception:
                if self.stopping.wait(QUIET_SECONDS):
                    return  # the system stopping: its AWS stand-in may have gone first (a SIGTERM to all)
                logger.exception("scheduled function failed", extra={"schedule": schedule.name})

    def _next_run(self) -> bool:
        """Waits for the schedule's next run: its interval after the last run's end, or the start of
        the next month (UTC); False when the system stops first."""
        if self.schedule.interval_seconds is not None:
            return not self.stopping.wait(self.schedule.interval_seconds)
        due = next_month_start(datetime.now(UTC))
        while (left := (due - datetime.now(UTC)).total_seconds()) > 0:
            if self.stopping.wait(min(left, CLOCK_READ_SECONDS)):
                return False
        return True

    def stop(self) -> None:
        self.stopping.set()
