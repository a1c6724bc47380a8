"""Lambda entry point of the edge authorizer (API Gateway REQUEST authorizer)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.authorizer.service import authorize
from functions.shared.observability import logger, tracer
from functions.shared.runtime import dependencies


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deps = dependencies()
    return authorize(deps.repository, deps.clock, event)
