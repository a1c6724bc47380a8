"""The edge authorizer's decision (API Gateway Lambda authorizer, REQUEST type).

Identity source: the `Authorization` header. A key that checks out gets a policy allowing every
method of the stage, since API Gateway caches the answer per header value and reuses it whatever
method the next request calls (roles are checked per route by the functions), and a context naming
the caller, which the functions trust instead of reading the key again. Anything else is refused
before any function runs. The key's check is `functions.shared.auth`'s, the one implementation.
"""

from __future__ import annotations

from typing import Any

from functions.shared import auth
from functions.shared.clock import Clock
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
    """The allow answer for a valid key; raises `Unauthorized` for a missing, malformed, unknown,
    wrong or revoked one (and `StorageUnavailable` when the table does not answer)."""
    principal = auth.authenticate_key(repository, authorization_header(event))
    auth.note_use(repository, principal, clock.now())
    return {
        "principalId": principal.key_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": stage_arn(event.get("methodArn", "")),
                }
            ],
        },
        "context": auth.authorizer_context(principal),
    }
