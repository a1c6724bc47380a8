"""The local system's speed (issue 14): events replayed over HTTP through `python -m local_system`
(what `make run` starts), as `fraudctl replay` sends them (`BENCH_LOCAL_LANES` lanes, by default its
one: one event after the other), timed from the first POST until the last event is scored; at the
small size also through 4 lanes (each partner's or customer's events in order on one of 4
connections: more load offered at once). Measured once the table holds
`BENCH_LOCAL_SMALL` items (500), then again at `BENCH_LOCAL_ITEMS` (50,000; filled by replaying more
of the same traffic): the second figure must be no lower than the first (queries read pages, not
the table). Both windows replay the same `BENCH_LOCAL_EVENTS` (1,000) events, the start of one round
of the evaluation's traffic under programs of their own: the mix of a round's start (half of it
sign-ups, the costliest events; a whole round has a quarter) would otherwise differ from one window
to the other with where the fill stopped. Also the CPU time the local system spent per event (its
three processes: the API's, the workers' and the AWS stand-in's, `aws`: the DynamoDB engine and
moto's other services), which the other processes of a shared machine do not inflate as they do
wall time. And the memory the AWS stand-in holds (its resident set, `aws_rss_mb`), which grows with
what it stores: from the small window's end to the large one's, MB per 1,000 events sent.

Prints one line per window and a last line `events_per_s_small=A events_per_s_large=B
stand_in_mb_per_1000_events=C`."""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

SAMPLE = int(os.environ.get("BENCH_LOCAL_EVENTS", "1000"))
SMALL = int(os.environ.get("BENCH_LOCAL_SMALL", "500"))
ITEMS = int(os.environ.get("BENCH_LOCAL_ITEMS", "50000"))
LANES = int(os.environ.get("BENCH_LOCAL_LANES", "1"))  # fraudctl replay's default
MORE_LANES = 4  # a second window at the small size: more load offered at once
FILL_POSTERS = 4  # the fill goes faster with a few callers at once; the windows use one, as fraudctl
MAX_BACKLOG = 100  # messages waiting for scoring before the fill's callers pause
SEED = 7
# How often the window asks the stand-in's server whether the scoring queue has drained: each ask
# costs the stand-in (once the local system's busier process) about a millisecond, so asking every
# 20 ms took 5 to 8 % of its time from the system measured; every 50 ms the end is known within 50 ms
# of a window of seconds.
DRAIN_CHECK_SECONDS = 0.05


def _events() -> Iterator[tuple[str, dict[str, Any]]]:
    """(program name, event body) in time order, round after round of the evaluation's traffic, each
    round under programs of its own (so ids never repeat)."""
    from evaluation.generator import Generator, Scale

    for round_number in range(1, 1000):
        traffic = Generator(SEED + round_number, Scale.named("full")).traffic()
        for step in traffic.events:
            yield f"r{round_number}-{step.program}", step.body


WINDOW_ROUND = 1000  # the traffic both windows replay: a round the fill's stream never reaches


def _window_events(window: int, count: int) -> list[tuple[str, dict[str, Any]]]:
    """The first `count` events of one round of the evaluation's traffic, the same for every window
    (so the two windows measure the same work), under programs of the window's own."""
    from evaluation.generator import Generator, Scale

    traffic = Generator(SEED + WINDOW_ROUND, Scale.named("full")).traffic()
    return [(f"w{window}-{step.program}", step.body) for step in traffic.events[:count]]


def _rss_mb_of(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):  # noqa: SIM115
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu_of(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()  # noqa: SIM115
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Bench:
    def __init__(self) -> None:
        import boto3

        from evaluation.replay import HttpSystem, _aws_environment

        self.system = HttpSystem(score_consumers=None)  # as `make run` scores: several batches at once
        self.stream = _events()
        self.windows = 0
        self.sent = 0  # events posted so far, fill and windows
        self.keys: dict[str, str] = {}
        self.programs_lock = threading.Lock()
        with _aws_environment():
            endpoint = {"endpoint_url": self.system.aws_url, "region_name": "us-east-1"}
            self.dynamodb = boto3.client("dynamodb", **endpoint)
            self.sqs = boto3.client("sqs", **endpoint)
            self.queue_url = self.sqs.get_queue_url(QueueName="fraud-scoring")["QueueUrl"]

    def key(self, program: str) -> str:
        with self.programs_lock:  # the fill's callers meet a new program at the same time
            if program not in self.keys:
                self.keys[program] = self.system.create_program(program).integration_key
            return self.keys[program]

    def items(self) -> int:
        return self.dynamodb.describe_table(TableName="fraud-management")["Table"]["ItemCount"]

    def backlog(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(v) for v in attributes.values())

    def wait_scored(self, timeout: float = 3600) -> None:
        deadline = time.monotonic() + timeout
        while self.backlog():
            if time.monotonic() > deadline:
                raise RuntimeError("the scoring queue did not drain")
            time.sleep(DRAIN_CHECK_SECONDS)

    def stand_in_rss_mb(self) -> float:
        main = self.system.process.pid
        for child in open(f"/proc/{main}/task/{main}/children").read().split():  # noqa: SIM115
            if b"aws_process" in open(f"/proc/{child}/cmdline", "rb").read():  # noqa: SIM115
                return _rss_mb_of(int(child))
        return 0.0

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time the local system has used (user and system), per process: the API's (the main
        one), the workers' (queue consumers and schedules) and the AWS stand-in's. A figure the other
        processes of a shared machine cannot inflate, unlike its wall time."""
        main = self.system.process.pid
        seconds = {"api": _cpu_of(main), "workers": 0.0, "aws": 0.0}
        for child in open(f"/proc/{main}/task/{main}/children").read().split():  # noqa: SIM115
            command = open(f"/proc/{child}/cmdline", "rb").read()  # noqa: SIM115
            seconds["aws" if b"aws_process" in command else "workers"] += _cpu_of(int(child))
        return seconds

    def post(self, session: Any, program: str, body: dict[str, Any]) -> tuple[int, float]:
        started = time.perf_counter()
        self.sent += 1
        answer = session.post(
            f"{self.system.api_url}/v1/events",
            json=body,
            headers={"Authorization": f"Bearer {self.key(program)}"},
            timeout=60,
        )
        return answer.status_code, time.perf_counter() - started

    def window(self, count: int, lanes: int = LANES) -> dict[str, Any]:
        """`count` events replayed as `fraudctl replay --lanes` sends them (`send_events`: each
        partner's or customer's events in order through one of `lanes` connections); seconds until
        every one is scored."""
        import requests

        from fraudctl.replay import send_events

        self.windows += 1
        batch = _window_events(self.windows, count)
        for program, _ in batch:
            self.key(program)  # programs created before the clock starts
        session = requests.Session()
        items_before = self.items()
        latencies: list[float] = []

        class TimedSession(requests.Session):
            def post(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
                started = time.perf_counter()
                try:
                    return super().post(*args, **kwargs)
                finally:
                    latencies.append(time.perf_counter() - started)

        cpu_before = self.cpu_seconds()
        started = time.perf_counter()
        report = send_events(
            self.system.api_url,
            [(self.key(program), body) for program, body in batch],
            lanes=lanes,
            session_factory=TimedSession,
        )
        posted = time.perf_counter() - started
        assert report["statuses"] == {"202": count}, report
        self.sent += count
        self.wait_scored()
        elapsed = time.perf_counter() - started
        cpu_after = self.cpu_seconds()
        cpu = {part: cpu_after[part] - cpu_before[part] for part in cpu_after}
        statuses = [
            session.get(
                f"{self.system.api_url}/v1/events/{body['id']}",
                headers={"Authorization": f"Bearer {self.key(program)}"},
                timeout=60,
            ).json()["status"]
            for program, body in batch
        ]
        return {
            "items_in_table": items_before,
            "events": count,
            "lanes": lanes,
            "scored": statuses.count("scored"),
            "events_per_s": round(count / elapsed, 1),
            "posted_per_s": round(count / posted, 1),
            "ingest_p50_ms": round(statistics.median(latencies) * 1000, 1),
            "cpu_ms_per_event": round(sum(cpu.values()) / count * 1000, 1),
            **{f"{part}_cpu_ms": round(seconds / count * 1000, 1) for part, seconds in cpu.items()},
            "seconds": round(elapsed, 2),
            "aws_rss_mb": round(self.stand_in_rss_mb(), 1),
            "events_sent": self.sent,
        }

    def fill(self, items: int) -> None:
        """Replays more of the traffic, a few callers at once, until the table holds `items`."""
        import requests

        lock = threading.Lock()
        done = threading.Event()
        caught_up = threading.Event()  # posters wait while scoring is behind, as a paced replay would

        def poster() -> None:
            session = requests.Session()
            while not done.is_set():
                caught_up.wait(1)
                with lock:
                    program, body = next(self.stream)
                self.post(session, program, body)

        threads = [threading.Thread(target=poster, daemon=True) for _ in range(FILL_POSTERS)]
        for thread in threads:
            thread.start()
        reported = 0.0
        while (count := self.items()) < items:
            if self.backlog() > MAX_BACKLOG:
                caught_up.clear()
            else:
                caught_up.set()
            if time.monotonic() - reported > 10:
                print(f"  filling: {count:,} items", file=sys.stderr, flush=True)
                reported = time.monotonic()
            time.sleep(0.5)
        caught_up.set()
        done.set()
        for thread in threads:
            thread.join()
        self.wait_scored()

    def close(self) -> None:
        self.system.close()


def run() -> None:
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        bench = Bench()
    try:
        bench.fill(SMALL)
        small = bench.window(SAMPLE)
        print("  " + "  ".join(f"{k}={v}" for k, v in small.items()), flush=True)
        if LANES != MORE_LANES:
            more = bench.window(SAMPLE, lanes=MORE_LANES)
            print("  " + "  ".join(f"{k}={v}" for k, v in more.items()), flush=True)
        bench.fill(ITEMS)
        large = bench.window(SAMPLE)
        print("  " + "  ".join(f"{k}={v}" for k, v in large.items()), flush=True)
        grown = (large["aws_rss_mb"] - small["aws_rss_mb"]) / (large["events_sent"] - small["events_sent"])
        print(
            f"  events_per_s_small={small['events_per_s']} events_per_s_large={large['events_per_s']}"
            f" stand_in_mb_per_1000_events={grown * 1000:.1f}"
        )
    finally:
        bench.close()
