"""Lambda entry point of webhook deliveries: consumes the webhooks queue in batches (notifications
from the bus, scheduled tries). Each failed record is reported back (partial batch response), so
SQS retries only those, and what keeps failing ends in the dead-letter queue."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.shared.observability import logger, metrics, tracer
from functions.webhooks.delivery import take_message
from functions.webhooks.wiring import webhook_deps

processor = BatchProcessor(event_type=EventType.SQS)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    deps = webhook_deps()

    def record_handler(record: SQSRecord) -> None:
        take_message(deps, record.body, int(record.attributes.get("ApproximateReceiveCount") or 1))

    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
