"""The edge authorizer's decision (API Gateway Lambda authorizer, REQUEST type).

Identity source: the `Authorization` header. A key that checks out gets a policy allowing every
method of the stage, since API Gateway caches the answer per header value and reuses it whatever
method the next request calls (roles are checked per route by the functions), and a context naming
the caller, which the functions trust instead of reading the key again. Anything else gets a Deny
for the stage: refused before any function runs. The key's check is `functions.shared.auth`'s, the
one implementation.
"""

from __future__ import annotations

from typing import Any

from functions.shared import auth
from functions.shared.clock import Clock
from functions.shared.errors import Unauthorized
from functions.shared.observability import logger
from functions.shared.storage.port import ProgramsPort


def authorization_header(event: dict[str, Any]) -> str | None:
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == "authorization":
            return value
    return None


def stage_arn(method_arn: str) -> str:
    """`arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>` → every method and path
    of that stage."""
    api_and_stage = method_arn.split("/", 2)[:2]
    if len(api_and_stage) != 2 or not method_arn.startswith("arn:") or not all(api_and_stage):
        raise ValueError(f"not a method ARN: {method_arn!r}")
    return "/".join(api_and_stage) + "/*"


def authorize(repository: ProgramsPort, clock: Clock, event: dict[str, Any]) -> dict[str, Any]:
    """Allow, with the caller in the context, for a valid key; Deny for a missing, malformed,
    unknown, wrong or revoked one, which API Gateway answers with its ACCESS_DENIED response, a 401
    problem document here (infra/capabilities/api.py). A Deny rather than a failure: a refused key is
    no error of the function (no alarm for every bad key sent) and API Gateway caches the Deny too.
    `StorageUnavailable` (the table did not answer) propagates: API Gateway answers 503."""
    try:
        principal = auth.authenticate_key(repository, authorization_header(event))
    except Unauthorized as refused:
        logger.info("key refused at the edge", extra={"reason": refused.detail})
        return _policy("refused", "Deny", event)
    auth.note_use(repository, principal, clock.now())
    return {**_policy(principal.key_id, "Allow", event), "context": auth.authorizer_context(principal)}


def _policy(principal_id: str, effect: str, event: dict[str, Any]) -> dict[str, Any]:
    return {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": effect,
                    "Resource": stage_arn(event.get("methodArn", "")),
                }
            ],
        },
    }
