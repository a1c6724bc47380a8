"""Lambda entry point of the outbox relay, run by an EventBridge schedule.

Sends again every accepted event that scoring has not taken (its queue send failed), and delivers
every notification the bus did not take when its change was made."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.outbox_relay.service import relay_all_notifications, relay_outbox
from functions.shared.observability import logger, metrics, tracer
from functions.shared.runtime import dependencies, time_left


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Both halves run whatever the other met: the scoring queue down must not keep notifications
    from a bus that is up, nor the reverse. A half that failed fails the run after (its alarm)."""
    deps, left = dependencies(needs=("queue",)), time_left(context)
    done: dict[str, Any] = {}
    failed: list[Exception] = []
    for name, relay in (("relayed", relay_outbox), ("notifications", relay_all_notifications)):
        try:
            done[name] = relay(deps, left)
        except Exception as error:
            logger.exception("a relay failed; the other still ran", extra={"relay": name})
            failed.append(error)
    if failed:
        raise failed[0]
    return done
