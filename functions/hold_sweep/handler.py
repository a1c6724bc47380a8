"""Lambda entry point of the hold sweep, run by an EventBridge schedule every 15 minutes."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.hold_sweep.service import sweep
from functions.hold_sweep.settings import SweepSettings
from functions.shared.observability import logger, metrics, tracer
from functions.shared.runtime import dependencies, time_left


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=EventBridgeModel)
def lambda_handler(event: EventBridgeModel, context: LambdaContext) -> dict[str, Any]:
    settings = SweepSettings.from_env()
    return asdict(sweep(dependencies(), time_left(context), settings.workers))
