"""The local DynamoDB engine against moto's DynamoDB, request by request (issue 14): the evaluation's
small traffic (`python -m evaluation --scale small`: sign-ups, purchases, account changes, rewards,
removals) is replayed through the functions on moto in process while every DynamoDB request is
recorded as botocore serialized it; the recorded requests are then answered again, each by a fresh
moto and by a fresh engine (`local_system.dynamodb.Engine`) side by side, timed in CPU time, and
their answers compared (consumed capacity and moto's empty `ItemCollectionMetrics` left out; numbers
compared by value).

Prints, per operation, the requests, CPU ms per request on each, and their ratio; the requests whose
answers differ (none expected); and a last line
`dynamodb_requests=N moto_ms_per_request=M engine_ms_per_request=E differing_answers=D`."""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from decimal import Decimal
from typing import Any

from benchmarks import moto_environment

SEED = 7


def _recorded(scale: Any) -> list[tuple[str, bytes]]:
    """The DynamoDB requests the functions send while the traffic is replayed on moto."""
    import botocore.handlers

    from evaluation.generator import generate
    from evaluation.replay import replay

    requests: list[tuple[str, bytes]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.service_model.service_name == "dynamodb":
            body = params.get("body") or b""
            requests.append(
                (params["headers"]["X-Amz-Target"], body if isinstance(body, bytes) else body.encode())
            )

    handler = ("before-call", record)
    botocore.handlers.BUILTIN_HANDLERS.insert(0, handler)  # sessions made from now on record
    try:
        replay(generate(SEED, scale), "moto")
    finally:
        botocore.handlers.BUILTIN_HANDLERS.remove(handler)
    return requests


def _comparable(body: bytes) -> Any:
    answer = json.loads(body or b"{}")
    answer.pop("ConsumedCapacity", None)
    if answer.get("ItemCollectionMetrics") == {}:
        answer.pop("ItemCollectionMetrics")
    if "__type" in answer:
        reasons = [reason.get("Code") for reason in answer.get("CancellationReasons") or []]
        return {"error": answer["__type"].rpartition("#")[2], "reasons": reasons}
    if isinstance(answer.get("Responses"), dict):  # a batch get's items come in any order
        for table, items in answer["Responses"].items():
            answer["Responses"][table] = sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    return _numbers(answer)


def _numbers(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: str(Decimal(v).normalize()) if k == "N" else _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return value


def _without_token(body: bytes) -> bytes:
    """A transaction sent again as a new one: without the client request token botocore gave it (the
    same token, within 10 minutes, is answered as done by DynamoDB and the engine, never refused;
    moto ignores it)."""
    request = json.loads(body or b"{}")
    if not isinstance(request, dict) or "ClientRequestToken" not in request:
        return body
    del request["ClientRequestToken"]
    return json.dumps(request).encode()


def answered_twice(
    scale: Any = "small", passes: int = 1
) -> tuple[list[tuple[str, bytes]], dict[str, tuple[list[float], list[float]]], list[str]]:
    """The traffic's DynamoDB requests; per operation, the CPU seconds of each request on moto and on
    the engine; the requests whose answers differ. With `passes=2` every request is sent again once
    all have been answered: the conditions that held the first time (an item not there yet, a
    version) are refused the second, so the refusals are compared too."""
    moto_environment()
    from moto import mock_aws

    from local_system.dynamodb import Engine
    from local_system.moto_atomic import make_moto_dynamodb_atomic
    from local_system.moto_direct import moto_answers

    make_moto_dynamodb_atomic()  # moto as the tests and the evaluation run it
    requests = _recorded(scale)
    url = "https://dynamodb.us-east-1.amazonaws.com/"
    spent: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    differing: list[str] = []
    engine = Engine()
    again = [(target, _without_token(body)) for target, body in requests]
    with mock_aws():
        for target, body in requests + again * (passes - 1):
            operation = target.rpartition(".")[2]
            headers = {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"}
            started = time.process_time()
            moto_status, _, moto_body = moto_answers("POST", url, headers, body) or (0, {}, b"")
            between = time.process_time()
            engine_status, _, engine_body = engine.answer(target, body)
            ended = time.process_time()
            spent[operation][0].append(between - started)
            spent[operation][1].append(ended - between)
            if operation in ("CreateTable", "DescribeTable", "UpdateTimeToLive"):
                # descriptions differ by design (ids, times, counts); enabling TTL again is refused
                # by DynamoDB ("TimeToLive is already enabled"), as by the engine, not by moto
                continue
            if moto_status != engine_status or _comparable(moto_body) != _comparable(engine_body):
                differing.append(f"{operation}: {body[:200]!r}")
    return requests, spent, differing


def run() -> dict[str, float]:
    requests, spent, differing = answered_twice()
    print(f"  {len(requests)} DynamoDB requests recorded from the evaluation's small traffic (seed {SEED})")
    print(f"  {'operation':<20} {'requests':>8} {'moto ms':>9} {'engine ms':>10} {'ratio':>7}")
    for operation, (on_moto, on_engine) in sorted(spent.items(), key=lambda entry: -sum(entry[1][0])):
        moto_ms, engine_ms = 1000 * statistics.mean(on_moto), 1000 * statistics.mean(on_engine)
        print(
            f"  {operation:<20} {len(on_moto):>8} {moto_ms:>9.3f} {engine_ms:>10.3f} "
            f"{moto_ms / engine_ms if engine_ms else 0:>6.1f}x"
        )
    for line in differing[:10]:
        print("  differs:", line)
    every_moto = [t for on_moto, _ in spent.values() for t in on_moto]
    every_engine = [t for _, on_engine in spent.values() for t in on_engine]
    figures = {
        "dynamodb_requests": float(len(requests)),
        "moto_ms_per_request": 1000 * statistics.mean(every_moto),
        "engine_ms_per_request": 1000 * statistics.mean(every_engine),
        "differing_answers": float(len(differing)),
    }
    print(
        f"  dynamodb_requests={len(requests)} moto_ms_per_request={figures['moto_ms_per_request']:.3f} "
        f"engine_ms_per_request={figures['engine_ms_per_request']:.3f} differing_answers={len(differing)}"
    )
    return figures


if __name__ == "__main__":
    run()
