"""Lambda entry point of the program teams' API: cases, rewards, removals, summary."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.cases.routes import router
from functions.shared import api
from functions.shared.observability import logger, metrics, tracer
from functions.shared.runtime import dependencies

app = api.build_resolver()
app.include_router(router)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.serve(app, event, context, dependencies())
