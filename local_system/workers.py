"""The local system's queue consumers and schedules, in a process of their own.

In AWS each function has its own execution environments. Locally, the API's functions (the main
process, behind the HTTP server) and these run apart too: the score function's batches, the loyalty
workflow runner's, the webhook deliveries and the scheduled functions (the outbox relay, the hold
sweep, the dispute cycle, the loyalty workflow relay) no longer take the interpreter lock from the
requests, nor the requests from them; each process has its own core when the machine has two.

`python -m local_system.workers` is started by `python -m local_system` (`Workers`) once the
resources exist, with the functions' environment (the table, the queues, the bus, the webhooks'
key) and the way to moto's process (`aws_process.AwsProcess.environment()`)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local_system.children import (
    SWITCH_INTERVAL_SECONDS,
    Child,
    keep_long_lived_objects_out_of_full_collections,
    serve_until_stopped,
)


@dataclass(frozen=True)
class WorkerSettings:
    """How the consumers and schedules run (`python -m local_system`'s options of the same names)."""

    batch_window_seconds: float
    score_consumers: int
    relay_seconds: float
    hold_sweep_seconds: float
    dispute_cycle_seconds: float | None  # None: at the start of each month (UTC), as deployed

    def arguments(self) -> list[str]:
        every = (
            []
            if self.dispute_cycle_seconds is None
            else [f"--dispute-cycle-seconds={self.dispute_cycle_seconds}"]
        )
        return [
            f"--batch-window-seconds={self.batch_window_seconds}",
            f"--score-consumers={self.score_consumers}",
            f"--relay-seconds={self.relay_seconds}",
            f"--hold-sweep-seconds={self.hold_sweep_seconds}",
            *every,
        ]


class Workers(Child):
    """The workers' process, started and polling."""

    def __init__(self, settings: WorkerSettings, environment: dict[str, str]) -> None:
        super().__init__("local_system.workers", settings.arguments(), environment)


def score_consumers(sqs: Callable[[], Any], queue_url: str, count: int, window_seconds: float) -> list[Any]:
    """The scoring queue's consumers: each stands for one Lambda environment of the deployed
    mapping (which runs up to `SCORING_MAX_CONCURRENCY` at once), with a client and batches of its
    own. Two let one batch be scored while the other waits on moto's answers; events of one partner
    scored at the same time are safe as they are in AWS (each write is conditional on what it read,
    and the engine reads again when a concurrent event got there first)."""
    from local_system.poller import QueuePoller

    return [QueuePoller(sqs(), queue_url, window_seconds=window_seconds) for _ in range(count)]


def _threads(args: argparse.Namespace) -> list[Any]:
    import boto3

    from local_system.poller import WORKFLOW_RUNNER_HANDLER, QueuePoller
    from local_system.scheduler import LocalScheduler, Schedule
    from local_system.webhooks import webhooks_poller

    def sqs() -> Any:
        return boto3.client("sqs", region_name="us-east-1")

    return [
        *score_consumers(
            sqs, os.environ["SCORING_QUEUE_URL"], args.score_consumers, args.batch_window_seconds
        ),
        QueuePoller(sqs(), os.environ["LOYALTY_WORKFLOW_QUEUE_URL"], WORKFLOW_RUNNER_HANDLER),
        webhooks_poller(sqs(), os.environ["WEBHOOKS_QUEUE_URL"]),
        *(
            LocalScheduler(schedule)
            for schedule in (
                Schedule("outbox-relay", "functions.outbox_relay.handler.lambda_handler", args.relay_seconds),
                Schedule(
                    "hold-sweep", "functions.hold_sweep.handler.lambda_handler", args.hold_sweep_seconds
                ),
                Schedule(
                    "dispute-cycle", "functions.disputes.cycle.lambda_handler", args.dispute_cycle_seconds
                ),
                Schedule("loyalty-workflow-relay", "functions.loyalty.workflow_relay.lambda_handler", 60),
            )
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local_system.workers", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--batch-window-seconds", type=float, required=True)
    parser.add_argument("--score-consumers", type=int, required=True)
    parser.add_argument("--relay-seconds", type=float, required=True)
    parser.add_argument("--hold-sweep-seconds", type=float, required=True)
    parser.add_argument("--dispute-cycle-seconds", type=float, default=None)  # none: monthly
    args = parser.parse_args(argv)

    from local_system.aws_process import route_calls_from_environment

    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    route_calls_from_environment()  # before any client
    keep_long_lived_objects_out_of_full_collections()
    threads = _threads(args)
    stopped: list[bool] = []  # set from the signal handler: no lock there (the main thread may hold it)
    serve_until_stopped(lambda: stopped.append(True))
    for thread in threads:
        thread.start()
    while not stopped:
        time.sleep(0.2)
    for thread in threads:
        thread.stop()
    deadline = time.monotonic() + 5  # all of them within 5 s, not 5 s each (the parent kills at 10)
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
