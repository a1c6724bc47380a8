"""moto's SQS with a backlog (issue 14): CPU per `ReceiveMessage` (10 messages) and per
`DeleteMessageBatch` (the 10 received), through boto3 into moto in process, with the queue holding
300 and 10,000 messages, with moto's own walks (`moto_sqs.moto_queue_walks()`) and with the local
stand-in's patch. The backlog is topped up between rounds, outside the measured calls, so every
round sees the same one. `python -m benchmarks sqs_queue`; `BENCH_SQS_ROUNDS` rounds per figure."""

from __future__ import annotations

import contextlib
import os
import time
from typing import Any

from benchmarks import moto_environment

ROUNDS = int(os.environ.get("BENCH_SQS_ROUNDS", "50"))
BACKLOGS = (300, 10_000)


def _measure(backlog: int, rounds: int, backend_only: bool = False) -> tuple[float, float]:
    """Mean CPU ms of a receive of 10 and of the delete of those 10."""
    import boto3
    from moto import mock_aws
    from moto.sqs.models import sqs_backends

    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="bench")["QueueUrl"]
        backend = sqs_backends["123456789012"]["us-east-1"]
        for n in range(backlog):
            backend.send_message("bench", f"message {n}")
        receive = delete = 0.0
        for _ in range(rounds):
            started = time.process_time()
            if backend_only:
                handles = [m.receipt_handle for m in backend.receive_message("bench", 10, 0, 30)]
                received = time.process_time()
                backend.delete_message_batch(
                    "bench", [{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(handles)]
                )
            else:
                answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)
                handles = [m["ReceiptHandle"] for m in answer["Messages"]]
                received = time.process_time()
                sqs.delete_message_batch(
                    QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(handles)]
                )
            receive += received - started
            delete += time.process_time() - received
            for n in range(len(handles)):
                backend.send_message("bench", f"top-up {n}")
        return receive / rounds * 1000, delete / rounds * 1000


def run() -> dict[str, Any]:
    moto_environment()
    from local_system.moto_atomic import make_moto_dynamodb_atomic
    from local_system.moto_sqs import moto_queue_walks

    make_moto_dynamodb_atomic()
    _measure(100, 5)  # imports and botocore's models, untimed
    columns = f"{'ReceiveMessage ms':>18} {'DeleteMessageBatch ms':>22}"
    print(f"  {'backlog':>8} {'walks':<12} {'measured':<14} {columns}")
    for backlog in BACKLOGS:
        for backend_only, measured in ((False, "boto3 call"), (True, "backend only")):
            for label, walks in (("moto's own", moto_queue_walks), ("patched", contextlib.nullcontext)):
                with walks():
                    receive, delete = _measure(backlog, ROUNDS, backend_only)
                print(
                    f"  {backlog:>8,} {label:<12} {measured:<14} {receive:>18.2f} {delete:>22.2f}", flush=True
                )
    return {}


if __name__ == "__main__":
    run()
