"""Lambda entry point of scoring: consumes the scoring queue in batches.

Each failed record is reported back (partial batch response), so SQS retries only those and moves
what keeps failing to the dead-letter queue. The notifications the bus took while the batch was
scored leave the outbox together at its end (one batch write per 25), not one round trip per event;
should that not happen (a timeout, DynamoDB down), the relay sends them again and consumers drop
the second delivery by its `notification_id`. The batch's events are read together first (one
`BatchGetItem`), not one `GetItem` per record."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.score import service
from functions.shared.changes import take_out
from functions.shared.domain.model import Notification
from functions.shared.messaging import RestingPublisher
from functions.shared.observability import logger, metrics, tracer
from functions.shared.runtime import dependencies

processor = BatchProcessor(event_type=EventType.SQS)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    # a bus down is waited on once a batch, not once a notification (each waits the call's bound,
    # `aws_calls.HANDED_ON`): the rest wait in the outbox for the relay (a webhooks tester's: 25
    # flags took 51 s against the function's 30)
    built = dependencies()
    deps = replace(built, publisher=RestingPublisher(built.publisher))
    delivered: list[Notification] = []
    # the batch's events in one read (issue 15: a scored event is its share of this read, one
    # BatchGetItem and one TransactWriteItems)
    read = service.read_batch(deps, [str(record.get("body", "")) for record in event.get("Records", [])])

    def record_handler(record: SQSRecord) -> None:
        count = int(record.attributes.get("ApproximateReceiveCount") or 1)
        service.take_message(deps, record.body, count, delivered, read)

    try:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    finally:
        take_out(deps.repository, delivered)
