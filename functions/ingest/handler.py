"""Lambda entry point of the ingest API (API Gateway REST proxy)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.ingest.routes import router
from functions.shared import api
from functions.shared.observability import logger, metrics, tracer
from functions.shared.partner_events import EVENT_TYPES
from functions.shared.runtime import dependencies

app = api.build_resolver(union_tags=frozenset(EVENT_TYPES))
app.include_router(router)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # without its queue an event would be accepted and wait for a relay that has none either
    return api.serve(app, event, context, dependencies(needs=("queue",)))
