"""What API Gateway and its WAF do before any function runs, done locally with the same code and
numbers: the per-key rate limit (WAF's rule, `infra/capabilities/rate_limit.py`), then the edge
authorizer (`functions/authorizer/`, invoked as Lambda would, its answers cached per
`Authorization` header for `auth.AUTHORIZER_CACHE_SECONDS`, as API Gateway caches them).
"""

from __future__ import annotations

import fnmatch
import math
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from functions.shared import problems
from functions.shared.auth import AUTHORIZER_CACHE_SECONDS
from local_system.lambda_runtime import invoke

AUTHORIZER = "functions.authorizer.handler.lambda_handler"
# Infra's defaults (infra/constants.py: RATE_LIMIT_PER_KEY, RATE_LIMIT_WINDOW_SECONDS), repeated here
# because the local system does not import the CDK app; tests/infra checks the two agree.
RATE_LIMIT_PER_KEY = 4000
RATE_LIMIT_WINDOW_SECONDS = 60
_SPACES = re.compile(r"\s+")


class RateLimiter:
    """Requests of one key counted per window; over `per_second` times the window, 429 until the
    window ends. Keyed as the WAF rule keys: the header lowercased, its white space compressed.
    Requests without the header are not counted (the edge refuses them as unauthenticated)."""

    def __init__(
        self,
        per_second: float = RATE_LIMIT_PER_KEY,
        window_seconds: float = RATE_LIMIT_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_second <= 0 or window_seconds <= 0:
            raise ValueError("the rate limit and its window must be positive")
        self.limit = max(1, math.floor(per_second * window_seconds))
        self.window = window_seconds
        self._clock = clock
        self._counts: dict[str, int] = {}
        self._window_index = -1
        self._lock = threading.Lock()

    def retry_after(self, authorization: str | None) -> int | None:
        """None when the request may go on; else the seconds until the key's window ends."""
        if not authorization or not authorization.strip():
            return None
        key = _SPACES.sub(" ", authorization.lower())
        now = self._clock()
        index = int(now // self.window)
        with self._lock:
            if index != self._window_index:
                self._window_index, self._counts = index, {}
            count = self._counts[key] = self._counts.get(key, 0) + 1
        if count <= self.limit:
            return None
        return max(1, math.ceil((index + 1) * self.window - now))


def rate_limited(retry_after: int) -> dict[str, Any]:
    detail = "request rate over this API key's limit; retry after the number of seconds in Retry-After"
    return problems.proxy_response(429, problems.problem(429, detail), {"Retry-After": str(retry_after)})


class LocalAuthorizer:
    """The REQUEST authorizer with API Gateway's result cache: keyed on the identity source (the
    `Authorization` header, verbatim), its answer (Allow or Deny) reused for every method of the
    stage for `ttl_seconds`; a failure of the authorizer is not kept. A missing header is refused
    without calling the authorizer, as API Gateway does. An answer the authorizer began before a
    flush is given to its request and not kept: it may have read a key revoked since (API Gateway
    keeps it, which the deployed flush answers by flushing again: `runtime._stage_flush`)."""

    def __init__(
        self, ttl_seconds: float = AUTHORIZER_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[dict[str, Any], float]] = {}
        self._lock = threading.Lock()
        self._flushes = 0  # answers begun before the last flush are not kept
        self.invocations = 0  # how often the authorizer function ran (the cache's effect, for tests)

    def flush(self) -> None:
        """FlushStageAuthorizersCache, locally."""
        with self._lock:
            self._cache.clear()
            self._flushes += 1

    def authorize(self, event: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """(the authorizer's context to put in requestContext.authorizer, None) when admitted;
        (None, the edge's answer) when refused."""
        identity = next(
            (v for k, v in (event.get("headers") or {}).items() if k.lower() == "authorization"), None
        )
        if not identity or not identity.strip():
            return None, problems.edge_answer("UNAUTHORIZED")
        now = self._clock()
        context = event["requestContext"]
        method_arn = (
            f"arn:aws:execute-api:us-east-1:{context['accountId']}:{context['apiId']}/"
            f"{context['stage']}/{event['httpMethod']}{event['path']}"
        )
        with self._lock:
            cached, flushes = self._cache.get(identity), self._flushes
        if cached is not None and cached[1] > now:
            return self._apply(cached[0], method_arn)
        request = {
            "type": "REQUEST",
            "methodArn": method_arn,
            "resource": event["resource"],
            "path": event["path"],
            "httpMethod": event["httpMethod"],
            "headers": event.get("headers"),
            "queryStringParameters": event.get("queryStringParameters"),
            "pathParameters": event.get("pathParameters"),
            "requestContext": context,
        }
        self.invocations += 1
        try:
            answer = invoke(AUTHORIZER, request)
        except Exception as failure:
            if str(failure) == "Unauthorized":  # API Gateway's word for a 401
                return None, problems.edge_answer("UNAUTHORIZED")
            return None, problems.edge_answer("AUTHORIZER_FAILURE")  # not cached
        with self._lock:
            if flushes == self._flushes:  # no flush while it ran: an Allow or a Deny, as API Gateway
                self._cache[identity] = (answer, now + self.ttl)
        return self._apply(answer, request["methodArn"])

    @staticmethod
    def _apply(
        answer: dict[str, Any], method_arn: str
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        statement = answer["policyDocument"]["Statement"][0]
        if statement["Effect"] != "Allow" or not fnmatch.fnmatchcase(method_arn, statement["Resource"]):
            return None, problems.edge_answer("ACCESS_DENIED")
        return {**answer.get("context", {}), "principalId": answer["principalId"]}, None
