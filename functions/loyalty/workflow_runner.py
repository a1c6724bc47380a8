"""Lambda entry point of the loyalty workflow runner: consumes the workflow queue in batches.

Each earn that matched workflows is one message (references only); a failed one is reported back
(partial batch response), retried alone, and after its last delivery moves to the dead-letter
queue."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.loyalty import runs, workflows
from functions.shared.observability import logger, metrics, tracer
from functions.shared.runtime import dependencies

processor = BatchProcessor(event_type=EventType.SQS)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    deps = dependencies()
    received = workflows.receipt()  # audience sweeps: one per workflow for the whole batch

    def record_handler(record: SQSRecord) -> None:
        count = int(record.attributes.get("ApproximateReceiveCount") or 1)
        runs.take_message(deps, record.body, count, received)

    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
