"""The local stand-in for the SQS event source mapping: receives batches from the scoring queue,
calls the score function with an SQS event, and deletes what it reports done. What it reports failed
stays on the queue, comes back after the visibility timeout, and after `maxReceiveCount` deliveries
SQS moves it to the dead-letter queue, as in AWS."""

from __future__ import annotations

import threading
import time
from typing import Any

from functions.shared.observability import logger
from local_system.lambda_runtime import invoke
from local_system.scheduler import QUIET_SECONDS

SCORE_HANDLER = "functions.score.handler.lambda_handler"
WORKFLOW_RUNNER_HANDLER = "functions.loyalty.workflow_runner.lambda_handler"  # the workflow queue's
# The deployed mapping's window (infra/constants.py: a 1-second window, up to 25 messages); locally
# up to 10 (one receive), so a batch is scored well within the local visibility timeout (5 s by
# default, for quick retries) even on a loaded machine.
LOCAL_BATCH_SIZE = 10
LOCAL_BATCH_WINDOW_SECONDS = 1.0
_WINDOW_LOOK_SECONDS = 0.05  # between receives while a window is open


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {k: str(v) for k, v in m.get("Attributes", {}).items()},
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


def poll_once(
    sqs: Any,
    queue_url: str,
    queue_arn: str,
    batch_size: int = 10,
    wait_seconds: int = 1,
    handler: str = SCORE_HANDLER,
    window_seconds: float = 0.0,
    timeout_seconds: float = 30,
) -> int:
    """One receive-invoke-delete round; returns how many messages were handled successfully.

    With a batching window, the first message opens it and the batch is invoked when it holds
    `batch_size` messages or the window is over, as the event source mapping's
    `MaximumBatchingWindowInSeconds` does."""
    received = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=min(batch_size, 10),  # SQS hands out at most 10 a call
        WaitTimeSeconds=wait_seconds,
        AttributeNames=["All"],
    ).get("Messages", [])
    if not received:
        return 0
    closes = time.monotonic() + window_seconds
    while len(received) < batch_size and (left := closes - time.monotonic()) > 0:
        more = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(batch_size - len(received), 10),
            WaitTimeSeconds=0,
            AttributeNames=["All"],
        ).get("Messages", [])
        received += more
        if not more:
            time.sleep(min(_WINDOW_LOOK_SECONDS, left))
    try:
        answer = invoke(handler, sqs_event(received, queue_arn), timeout_seconds=timeout_seconds)
        failed = {item["itemIdentifier"] for item in (answer or {}).get("batchItemFailures", [])}
    except Exception:  # a failed invocation fails the whole batch (Powertools raises when all fail)
        logger.warning("queue consumer failed the whole batch", extra={"handler": handler}, exc_info=True)
        failed = {m["MessageId"] for m in received}
    done = [m for m in received if m["MessageId"] not in failed]
    if done:
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
        )
    return len(done)


class QueuePoller(threading.Thread):
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        handler: str = SCORE_HANDLER,
        batch_size: int = LOCAL_BATCH_SIZE,
        window_seconds: float = LOCAL_BATCH_WINDOW_SECONDS,
        timeout_seconds: float = 30,  # the function's own timeout (infra/constants.py)
    ) -> None:
        super().__init__(name=f"queue-poller {handler}", daemon=True)
        self.sqs, self.queue_url, self.handler = sqs, queue_url, handler
        self.batch_size, self.window_seconds = batch_size, window_seconds
        self.timeout_seconds = timeout_seconds
        self.queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                poll_once(
                    self.sqs,
                    self.queue_url,
                    self.queue_arn,
                    self.batch_size,
                    1,
                    handler=self.handler,
                    window_seconds=self.window_seconds,
                    timeout_seconds=self.timeout_seconds,
                )
            except Exception:  # keep polling, as the event source mapping does
                if self.stopping.wait(QUIET_SECONDS):
                    return  # the system stopping: its AWS stand-in may have gone first (a SIGTERM to all)
                # the handler named here: the shared logger still carries the keys of the last one it ran
                logger.exception(
                    "local poller round failed", extra={"handler": self.handler, "queue_url": self.queue_url}
                )

    def stop(self) -> None:
        self.stopping.set()
