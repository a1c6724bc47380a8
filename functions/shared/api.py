"""The HTTP edge shared by every API function.

`serve` runs the checks every request passes before any route code (route known, body size, media
type, JSON, credentials, role, signature), then hands the request to the function's Powertools
resolver. Running them first means an unauthenticated caller learns nothing from validation errors,
and a rejected request reaches no domain code.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from functions.shared import problems
from functions.shared.auth import Principal, authenticate, note_use, verify_signature
from functions.shared.errors import DomainError, Forbidden
from functions.shared.observability import logger
from functions.shared.routes import allowed_methods, find_route
from functions.shared.runtime import Dependencies

MAX_BODY_BYTES = 64 * 1024


def build_resolver(union_tags: frozenset[str] = frozenset()) -> APIGatewayRestResolver:
    """A function's resolver. `union_tags`: the discriminator values of its bodies (event types,
    action types), which pydantic puts in error paths and the answer leaves out."""
    app = APIGatewayRestResolver(enable_validation=True, serializer=problems.to_json)

    @app.exception_handler(DomainError)
    def domain_error(error: DomainError) -> Response:
        status = problems.status_of(error)
        headers = {"Retry-After": "1"} if status == 503 else None
        return Response(status, problems.PROBLEM_JSON, problems.to_json(problems.problem_for(error)), headers)

    @app.exception_handler(RequestValidationError)
    def invalid(error: RequestValidationError) -> Response:
        errors = problems.validation_errors(list(error.errors()), union_tags)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        body = problems.problem(422, detail, errors)
        return Response(422, problems.PROBLEM_JSON, problems.to_json(body))

    return app


def raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode()


def header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name.lower():
            return value
    return None


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def gate(event: dict[str, Any], deps: Dependencies | None) -> Principal | None:
    """Every check a request passes before route code. Raises a `_Rejected` with its answer."""
    method, path = event.get("httpMethod", ""), event.get("path", "")
    found = find_route(method, path)
    if found is None:
        if allowed_methods(path):
            raise _Rejected(
                405, f"{method} is not allowed on {path}", {"Allow": ", ".join(allowed_methods(path))}
            )
        raise _Rejected(404, f"no route {method} {path}")
    route, _ = found
    body = raw_body(event)
    if len(body) > MAX_BODY_BYTES:
        raise _Rejected(413, f"the body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}")
    principal = None
    if not route.public:
        assert deps is not None, "a route with credentials needs its dependencies"
        principal = authenticate(deps.repository, header(event, "Authorization"))
        note_use(deps.repository, principal, deps.clock.now())
        principal.require(*route.roles)
        if route.signed and principal.program and principal.program.signing_secret:
            verify_signature(
                principal.program.signing_secret,
                header(event, "X-Signature"),
                body,
                deps.clock.now(),
            )
    if body.strip():
        if not _is_json(header(event, "Content-Type")):
            raise _Rejected(415, "send the body as application/json")
        try:
            json.loads(body)
        except ValueError as exc:
            raise _Rejected(400, f"the body is not valid JSON: {exc}") from None
    return principal


class _Rejected(Exception):
    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers


def serve(
    app: APIGatewayRestResolver, event: dict[str, Any], context: Any, deps: Dependencies | None
) -> dict[str, Any]:
    try:
        principal = gate(event, deps)
    except _Rejected as rejected:
        return problems.proxy_response(
            rejected.status, problems.problem(rejected.status, rejected.detail), rejected.headers
        )
    except DomainError as error:
        status = problems.status_of(error)
        return problems.proxy_response(status, problems.problem_for(error))
    app.append_context(principal=principal, deps=deps)
    try:
        return app.resolve(event, context)
    except Exception:  # the caller gets a problem document, the log gets the trace
        logger.exception("unhandled error")
        return problems.proxy_response(500, problems.problem(500, "an unexpected error occurred"))
    finally:
        app.clear_context()


def principal_of(app: Any) -> Principal:
    principal = app.context.get("principal")
    assert principal is not None, "route without credentials asked for a principal"
    return principal


def program_of(app: Any) -> str:
    """The caller's program: the routes of program teams admit program keys only."""
    program_id = principal_of(app).program_id
    if program_id is None:
        raise Forbidden("a platform key belongs to no program")
    return program_id


def deps_of(app: Any) -> Dependencies:
    return app.context["deps"]
