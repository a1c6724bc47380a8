"""Lambda entry point of the outbox relay, run by an EventBridge schedule.

Sends again every accepted event that scoring has not taken (its queue send failed), and delivers
every notification the bus did not take when its change was made."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.outbox_relay.service import relay_all_notifications, relay_outbox
from functions.shared.observability import logger, metrics, tracer
from functions.shared.runtime import dependencies


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deps = dependencies()
    return {"relayed": relay_outbox(deps), "notifications": relay_all_notifications(deps)}
