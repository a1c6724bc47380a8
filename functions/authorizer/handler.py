"""Lambda entry point of the edge authorizer (API Gateway REQUEST authorizer)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.authorizer.service import authorize
from functions.shared.errors import Unauthorized
from functions.shared.observability import logger, tracer
from functions.shared.runtime import dependencies

# API Gateway answers 401 (its UNAUTHORIZED gateway response, a problem document) when an authorizer
# fails with exactly this message; any other failure is its AUTHORIZER_FAILURE (503 here).
REFUSED = "Unauthorized"


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deps = dependencies()
    try:
        return authorize(deps.repository, deps.clock, event)
    except Unauthorized as refused:
        logger.info("key refused at the edge", extra={"reason": refused.detail})
        raise Exception(REFUSED) from None  # noqa: TRY002 (API Gateway's contract)
