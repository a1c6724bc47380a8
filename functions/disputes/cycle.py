"""Lambda entry point of the monthly dispute cycle, run by an EventBridge schedule at 00:00 UTC on
the 1st of each month (the start of the invoicing month), and by itself when a run hands on what its
time did not reach (`functions.disputes.continuation`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.disputes.continuation import CycleEvent, continuation_of
from functions.disputes.service import run_cycle_invocation
from functions.shared.observability import logger, metrics, tracer
from functions.shared.runtime import dependencies, time_left

HANDLER = f"{__name__}.lambda_handler"  # as the local system invokes it


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=CycleEvent)
def lambda_handler(event: CycleEvent, context: LambdaContext) -> dict[str, Any]:
    return run_cycle_invocation(
        dependencies(), event.run(), time_left(context), continuation_of(context, HANDLER)
    )
