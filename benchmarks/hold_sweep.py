"""The hold sweep's cost: DynamoDB items read and written and wall time with 10 flagged subjects,
10 new rewards each, and 10,000 then 100,000 other rewards in the table. The items read must stay
flat (the sweep reads the flagged subjects' rewards, never the table).

Then its wall time over BENCH_SWEEP_IDLE flagged subjects with nothing to hold (what most are on
most runs), every DynamoDB call given BENCH_SWEEP_RTT_MS of waiting as a region's round trip would
(moto in process answers in its own CPU time only): the shards one after the other
(`SHARD_WORKERS` = 1, as before) and side by side, the median of three runs each, alternated."""

from __future__ import annotations

import contextlib
import os
import time
from datetime import UTC, datetime
from typing import Any

from benchmarks import moto_environment, moto_system

FLAGGED = 10
REWARDS_EACH = 10
SIZES = tuple(int(n) for n in os.environ.get("BENCH_SWEEP_SIZES", "10000,100000").split(","))
IDLE = int(os.environ.get("BENCH_SWEEP_IDLE", "800"))
RTT_MS = float(os.environ.get("BENCH_SWEEP_RTT_MS", "8"))


class DynamoCounter:
    """Counts what DynamoDB calls return and take, through botocore's event hooks."""

    def __init__(self) -> None:
        self.calls = 0
        self.read = 0
        self.written = 0

    def after_call(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls += 1
        name = model.name
        if name in ("Query", "Scan"):
            self.read += parsed.get("ScannedCount", parsed.get("Count", 0))
        elif name == "GetItem":
            self.read += 1 if parsed.get("Item") else 0
        elif name == "BatchGetItem":
            self.read += sum(len(v) for v in parsed.get("Responses", {}).values())

    def before_call(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "TransactWriteItems":
            self.written += len(params.get("TransactItems", []))
        elif model.name in ("PutItem", "UpdateItem", "DeleteItem"):
            self.written += 1


def _filler(client: Any, table: str, program_id: str, count: int) -> None:
    """Rewards of 1,000 unflagged partners, written raw (batch writes of 25)."""
    rewards = [
        (f"fill-{n}", f"quiet-{n % 1000}", f"2026-10-{1 + n % 28:02d}T10:00:00.000000Z") for n in range(count)
    ]
    _pending(client, table, program_id, rewards)


def _pending(client: Any, table: str, program_id: str, rewards: list[tuple[str, str, str]]) -> None:
    """Pending rewards (reward id, partner id, creation time), written raw as an earlier writer left
    them."""
    requests = []
    for reward_id, partner, created in rewards:
        item = {
            "pk": {"S": f"P#{program_id}#REWARD#{reward_id}"},
            "sk": {"S": "REWARD"},
            "item_type": {"S": "reward"},
            "program_id": {"S": program_id},
            "reward_id": {"S": reward_id},
            "partner_id": {"S": partner},
            "amount_micros": {"N": "1000000"},
            "currency": {"S": "USD"},
            "status": {"S": "pending"},
            "created_at": {"S": created.replace("Z", "+0000")},
            "source": {"S": "transaction"},
            "overridden": {"BOOL": False},
            "partner_rewards_pk": {"S": f"P#{program_id}#PARTNER#{partner}"},
            "created_sk": {"S": f"{created}#{reward_id}"},
        }
        requests.append({"PutRequest": {"Item": item}})
        if len(requests) == 25:
            client.batch_write_item(RequestItems={table: requests})
            requests = []
    if requests:
        client.batch_write_item(RequestItems={table: requests})


def measure(size: int) -> dict[str, float]:
    import boto3

    from functions.hold_sweep.service import sweep
    from functions.shared import runtime, tenancy
    from functions.shared.clock import SystemClock
    from tests.integration.scoring_support import signup
    from tests.support import call, proxy_event

    with moto_system() as resources:
        deps = runtime.dependencies()
        program = tenancy.create_program(deps.repository, SystemClock(), "Bench")
        _, key = tenancy.create_key(
            deps.repository, SystemClock(), program.program_id, "integration", "bench"
        )
        sqs = boto3.client("sqs", region_name="us-east-1")

        def post(body: dict[str, Any]) -> None:
            assert call("ingest", proxy_event("POST", "/v1/events", body, key)).status == 202

        def drain() -> None:
            from local_system.poller import poll_once

            arn = sqs.get_queue_attributes(QueueUrl=resources.queue_url, AttributeNames=["QueueArn"])
            while poll_once(sqs, resources.queue_url, arn["Attributes"]["QueueArn"], wait_seconds=0):
                pass

        for n in range(FLAGGED):
            post(signup(f"orig-{n}", email=f"twin{n}@example.com", at="2026-11-01T09:00:00Z"))
            post(
                signup(
                    f"dup-{n}", email=f"twin{n}@example.com", device=f"fp-dup-{n}", at="2026-11-02T09:00:00Z"
                )
            )
        drain()
        # Scoring holds a flagged partner's new rewards itself; the sweep is for those it could not
        # (a reward written while the flag's steps were still going on): pending rewards, written raw.
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        after = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # after the flags: theirs to hold
        flagged = [(f"rw-{n}-{r}", f"dup-{n}", after) for n in range(FLAGGED) for r in range(REWARDS_EACH)]
        _pending(dynamodb, resources.table_name, program.program_id, flagged)
        _filler(dynamodb, resources.table_name, program.program_id, size)

        counter = DynamoCounter()
        models = deps.repository._m  # type: ignore[attr-defined]
        clients = {
            id(c): c for c in (models.base._get_connection().connection.client, models.connection().client)
        }
        for client in clients.values():  # one since every item class shares the connection
            client.meta.events.register("after-call.dynamodb", counter.after_call)
            # pynamodb calls the client's _make_api_call: its API parameters are seen at this event
            client.meta.events.register("before-parameter-build.dynamodb", counter.before_call)
        started = time.perf_counter()
        report = sweep(deps)
        elapsed = time.perf_counter() - started
        assert report.held == FLAGGED * REWARDS_EACH, report
        return {
            "rewards_in_table": size,
            "items_read": counter.read,
            "items_written": counter.written,
            "calls": counter.calls,
            "seconds": round(elapsed, 3),
        }


def idle_sweeps() -> dict[str, float]:
    """Seconds per run over IDLE idle flagged subjects: shards in turn, then side by side."""
    import statistics

    from functions.hold_sweep import service
    from functions.shared import runtime
    from functions.shared.domain.model import Subject
    from functions.shared.domain.writes import Step, WriteProfile

    with moto_system():
        deps = runtime.dependencies()
        flagged = datetime(2026, 11, 2, tzinfo=UTC)
        writes = [
            WriteProfile(
                Subject(
                    "prg-idle",
                    "partner",
                    f"p{n}",
                    f"P {n}",
                    status="flagged",
                    flagged_at=flagged,
                    flag_case_id=f"c{n}",
                ),
                expect_version=0,
            )
            for n in range(IDLE)
        ]
        for start in range(0, IDLE, 50):
            deps.repository.apply(Step(writes[start : start + 50]))
        client = deps.repository._m.connection().client  # type: ignore[attr-defined]
        client.meta.events.register("before-call.dynamodb", lambda **_: time.sleep(RTT_MS / 1000))
        times: dict[int, list[float]] = {1: [], service.SHARD_WORKERS: []}
        side_by_side = service.SHARD_WORKERS
        for _ in range(3):
            for workers in (1, side_by_side):
                service.SHARD_WORKERS = workers
                started = time.perf_counter()
                report = service.sweep(deps)
                times[workers].append(time.perf_counter() - started)
                assert report.subjects == IDLE and report.held == 0, report
        service.SHARD_WORKERS = side_by_side
    return {"in_turn": statistics.median(times[1]), "side_by_side": statistics.median(times[side_by_side])}


def run() -> None:
    moto_environment()
    results = []
    for size in SIZES:
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
            row = measure(size)
        results.append(row)
        print("  " + "  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    if len(results) > 1:
        ratio = results[1]["items_read"] / results[0]["items_read"]
        print(f"  items read ratio {SIZES[1]:,} / {SIZES[0]:,}: {ratio:.3f}")
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        idle = idle_sweeps()
    each = {name: seconds / IDLE * 1000 for name, seconds in idle.items()}
    print(
        f"  {IDLE} idle flagged subjects, {RTT_MS:g} ms a call: shards in turn {idle['in_turn']:.2f} s "
        f"({each['in_turn']:.1f} ms each), side by side {idle['side_by_side']:.2f} s "
        f"({each['side_by_side']:.1f} ms each): x{idle['in_turn'] / idle['side_by_side']:.1f}; "
        f"in a 300 s run less a {20:g} s margin, about {int(280 / each['in_turn'] * 1000):,} subjects in "
        f"turn, {int(280 / each['side_by_side'] * 1000):,} side by side"
    )
