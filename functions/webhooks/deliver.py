"""Lambda entry point of webhook deliveries: consumes the webhooks queue in batches (notifications
from the bus, scheduled tries). Each failed record is reported back (partial batch response), so
SQS retries only those, and what keeps failing ends in the dead-letter queue.

A batch's records are taken side by side: each try may wait up to `SEND_TIMEOUT_SECONDS` on its
receiver, and taken in turn, one program's receivers that never answer held every other record of
the batch, another program's among them, for the sum of their waits (five tries: 50 s). Side by
side a batch takes about its slowest try. Records of one notification (published twice: the relay
and the bus) or of one delivery's try (scheduled twice) are taken in turn, in one lane, as they
were: the second finds the first's delivery or try recorded and sends nothing again."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.shared.observability import logger, metrics, tracer
from functions.webhooks.delivery import lane_of, take_message
from functions.webhooks.wiring import WebhookDeps, webhook_deps


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deps = webhook_deps()
    records = [SQSRecord(raw) for raw in event.get("Records") or []]
    lanes: dict[str, list[SQSRecord]] = {}
    for record in records:
        lanes.setdefault(lane_of(record.body) or f"record {record.message_id}", []).append(record)
    with ThreadPoolExecutor(max_workers=max(1, len(lanes))) as pool:
        failed = [r for lane in pool.map(partial(_failed_of, deps), lanes.values()) for r in lane]
    if failed and len(failed) == len(records):
        # none taken (DynamoDB or KMS down): an error, as powertools' batch raised, so the
        # function's Errors alarm sees it; SQS gives every record again either way
        raise RuntimeError(f"webhooks queue: none of the batch's {len(failed)} records was taken")
    return {"batchItemFailures": [{"itemIdentifier": record.message_id} for record in failed]}


def _failed_of(deps: WebhookDeps, lane: list[SQSRecord]) -> list[SQSRecord]:
    return [record for record in lane if not _taken(deps, record)]


def _taken(deps: WebhookDeps, record: SQSRecord) -> bool:
    """The record taken (True), or its failure logged for SQS to give it again."""
    try:
        take_message(deps, record.body, int(record.attributes.get("ApproximateReceiveCount") or 1))
    except Exception:
        logger.exception(
            "webhooks queue: a record failed; SQS gives it again", extra={"message_id": record.message_id}
        )
        return False
    return True
