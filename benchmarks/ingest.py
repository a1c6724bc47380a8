"""The walking skeleton's figures.

cold start  each handler module's import (CPU time) in a fresh interpreter, as a ratio to a bare
            `import boto3` plus one DynamoDB client (the floor of any Python Lambda using AWS); with
            BENCH_INSTRUCTIONS=1 and valgrind installed, also the same ratio in instructions
            (callgrind counts them, the same whatever else the machine does: the figure to compare
            two trees by; about 3 minutes more), the interpreter's own start taken out of both
first       a Lambda's first requests after its cold start, in a fresh interpreter against moto in
            process: CPU time of the ingest function's first POST /v1/events and of the score
            function's first batch (each building its clients then), beside each one's second
ingest      POST /v1/events through the real ingest handler against moto, in process
"""

from __future__ import annotations

import compileall
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import moto_environment, moto_system

REPEATS = 5
# every Lambda entry point: each function folder's handler module, and the dispute cycle's
HANDLERS = tuple(
    sorted(
        f"{p.parent.name}.handler"
        for p in (Path(__file__).resolve().parents[1] / "functions").glob("*/handler.py")
    )
    + ["disputes.cycle"]
)
ROOT = Path(__file__).resolve().parents[1]
BASELINE = "import boto3; boto3.client('dynamodb', region_name='us-east-1')"


def _environment() -> dict[str, str]:
    """A fresh interpreter's environment: this one's, credentials boto3 accepts, no tracing."""
    return {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


def _compiled() -> None:
    """Bytecode for every module of `functions`, as the Lambda bundle ships it (`infra/bundle.py`):
    a cold start there compiles nothing, and a shell with PYTHONDONTWRITEBYTECODE set (or a fresh
    clone) would otherwise time the compiler on every import."""
    compileall.compile_dir(ROOT / "functions", quiet=1)


def _timed_import(statement: str) -> float:
    # CPU time of the interpreter: what a Lambda core spends; the shared machine's other load does not count
    code = f"import time; t=time.process_time(); {statement}; print(time.process_time()-t)"
    command = [sys.executable, "-c", code]
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=_environment())  # noqa: S603
    return float(out.stdout.strip().splitlines()[-1])


def cold_start() -> dict[str, dict[str, float]]:
    _compiled()
    results: dict[str, dict[str, float]] = {}
    baseline_runs, runs = [], {h: [] for h in HANDLERS}
    for _ in range(REPEATS):  # interleaved, so machine noise hits every subject alike
        baseline_runs.append(_timed_import(BASELINE))
        for handler in HANDLERS:
            runs[handler].append(_timed_import(f"import functions.{handler}"))
    baseline = statistics.median(baseline_runs)
    results["baseline (boto3 + client)"] = {"median_ms": baseline * 1000, "ratio": 1.0}
    for handler, values in runs.items():
        median = statistics.median(values)
        results[handler] = {"median_ms": median * 1000, "ratio": median / baseline}
    return results


def _instructions(statement: str) -> int:
    """Instructions of `python -c statement` under callgrind (deterministic for one tree)."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-c",
        statement,
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=_environment())  # noqa: S603
    found = re.search(r"Collected : (\d+)", out.stderr)
    assert found, out.stderr[-500:]
    return int(found.group(1))


def cold_start_instructions() -> dict[str, float]:
    """Each handler's import in instructions, as a ratio to the baseline's (the bare interpreter's
    start taken out of both); empty unless asked for (BENCH_INSTRUCTIONS=1) and valgrind is here."""
    if os.environ.get("BENCH_INSTRUCTIONS") != "1" or shutil.which("valgrind") is None:
        return {}
    _compiled()
    start = _instructions("pass")
    baseline = _instructions(BASELINE) - start
    return {h: (_instructions(f"import functions.{h}") - start) / baseline for h in HANDLERS}


def first_requests() -> dict[str, float]:
    """The medians of REPEATS fresh interpreters per function (`_first_requests_child`), in ms."""
    runs: dict[str, list[tuple[float, float]]] = {"ingest": [], "score": []}
    for _ in range(REPEATS):
        for function, found in runs.items():
            code = f"from benchmarks.ingest import _first_requests_child; _first_requests_child({function!r})"
            out = subprocess.run(  # noqa: S603
                [sys.executable, "-c", code],
                capture_output=True,
                text=True,
                check=True,
                env=_environment(),
                cwd=ROOT,
            )
            found.append(tuple(json.loads(out.stdout.strip().splitlines()[-1])))
    figures = {}
    for function, found in runs.items():
        figures[f"{function}_first_ms"] = statistics.median(first for first, _ in found)
        figures[f"{function}_second_ms"] = statistics.median(second for _, second in found)
    return figures


def _first_requests_child(function: str) -> None:
    """In a fresh interpreter: everything imported and the program set up, then the dependencies
    and boto3's session dropped, as a function's own process starts without them; prints the CPU
    time of that function's first and second request (`ingest`: a POST /v1/events each; `score`: a
    batch of one event each, queued beforehand) as a JSON pair."""
    import boto3

    from functions.shared import runtime, tenancy
    from functions.shared.clock import SystemClock
    from local_system.poller import poll_once
    from tests.support import call, proxy_event, sample

    with moto_system() as resources, open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        repository = runtime.dependencies().repository
        program = tenancy.create_program(repository, SystemClock(), "Bench")
        _, key = tenancy.create_key(repository, SystemClock(), program.program_id, "integration", "bench")
        sqs = boto3.client("sqs", region_name="us-east-1")  # the poller's, as the event source mapping's
        arn = sqs.get_queue_attributes(QueueUrl=resources.queue_url, AttributeNames=["QueueArn"])
        queue_arn = arn["Attributes"]["QueueArn"]

        def post(n: int) -> None:
            body = sample("partnership.created", id=f"first-{n}")
            answer = call("ingest", proxy_event("POST", "/v1/events", body, key))
            assert answer.status == 202, answer

        def score(n: int) -> None:
            assert poll_once(sqs, resources.queue_url, queue_arn, wait_seconds=0) == 1

        request = post if function == "ingest" else score
        times = []
        for n in (1, 2):
            if function == "score":
                post(n)  # queued first: not timed
            if n == 1:
                runtime.forget_dependencies()
                boto3.DEFAULT_SESSION = None
            t = time.process_time()
            request(n)
            times.append((time.process_time() - t) * 1000)
    print(json.dumps(times))


def ingest_throughput(count: int = 400) -> dict[str, float]:
    moto_environment()

    from functions.shared import runtime, tenancy
    from functions.shared.clock import SystemClock
    from tests.support import call, proxy_event, sample

    with moto_system():
        repository = runtime.dependencies().repository
        program = tenancy.create_program(repository, SystemClock(), "Bench")
        _, key = tenancy.create_key(repository, SystemClock(), program.program_id, "integration", "bench")
        latencies = []
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):  # EMF metric lines
            started = time.perf_counter()
            for n in range(count):
                event = sample("transaction.created", id=f"bench-{n}")
                t = time.perf_counter()
                answer = call("ingest", proxy_event("POST", "/v1/events", event, key))
                latencies.append(time.perf_counter() - t)
                assert answer.status == 202, answer
            elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": count,
        "requests_per_second": count / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def run() -> dict[str, float]:
    print("cold start (import of the handler module; median of", REPEATS, "fresh interpreters)")
    starts = cold_start()
    counted = cold_start_instructions()
    for name, figures in starts.items():
        instructions = f"   instructions x{counted[name]:.2f}" if name in counted else ""
        print(f"  {name:<28} {figures['median_ms']:8.1f} ms   x{figures['ratio']:.2f}{instructions}")
    first = first_requests()
    print("first requests after a cold start (CPU; median of", REPEATS, "fresh interpreters)")
    for function in ("ingest", "score"):
        print(
            f"  {function:<8} first {first[f'{function}_first_ms']:6.1f} ms   "
            f"second {first[f'{function}_second_ms']:6.1f} ms"
        )
    figures = ingest_throughput()
    print("ingest through the handler against moto (one process, one core)")
    print("  " + json.dumps({k: round(v, 2) for k, v in figures.items()}))
    worst = {"cold_start_worst": max(f["ratio"] for f in starts.values())}
    return worst | ({"cold_start_worst_instructions": max(counted.values())} if counted else {})
