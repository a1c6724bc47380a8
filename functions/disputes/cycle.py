"""Lambda entry point of the monthly dispute cycle, run by an EventBridge schedule at 00:00 UTC on
the 1st of each month (the start of the invoicing month)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.disputes.service import run_cycle
from functions.shared.observability import logger, metrics, tracer
from functions.shared.runtime import dependencies


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=EventBridgeModel)
def lambda_handler(event: EventBridgeModel, context: LambdaContext) -> dict[str, Any]:
    return run_cycle(dependencies())
