"""Lambda entry point of the loyalty workflow relay, run by an EventBridge schedule every minute:
sends again the workflow runs that earns recorded but the queue never got."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.loyalty.runs import relay_due_runs
from functions.shared.observability import logger, metrics, tracer
from functions.shared.runtime import dependencies


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=EventBridgeModel)
def lambda_handler(event: EventBridgeModel, context: LambdaContext) -> dict[str, Any]:
    return {"relayed": relay_due_runs(dependencies())}
