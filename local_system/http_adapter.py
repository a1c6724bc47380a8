"""The local API Gateway: a WSGI app that turns each HTTP request into an API Gateway REST proxy
event, calls the function the route table names, and turns its answer back into HTTP.

It also serves the web console's static files at `/` when a folder is given."""

from __future__ import annotations

import base64
import mimetypes
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.exceptions import ClientDisconnected
from werkzeug.wrappers import Request, Response

from functions.shared import problems
from functions.shared.routes import DOCS_ROUTES, ROUTES, find_route
from local_system.edge import LocalAuthorizer, RateLimiter, rate_limited
from local_system.lambda_runtime import invoke

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's own payload limit
API_GATEWAY_TIMEOUT_SECONDS = 29  # what an API function has before API Gateway gives up on it


def _query(raw: bytes) -> dict[str, list[str]]:
    """The query's parameters as the API's gate reads them: a percent-escape that is not UTF-8
    (`q=Ada%C3`) kept as a lone surrogate, which the gate answers 400 as documented. Werkzeug's
    `request.args` kept it as the literal text `%C3`, and the search ran for that."""
    query: dict[str, list[str]] = {}
    text = raw.decode("utf-8", "surrogateescape")  # a byte sent unescaped, too
    pairs = parse_qsl(text, keep_blank_values=True, errors="surrogateescape")
    for name, value in pairs:
        query.setdefault(name, []).append(value)
    return query


def proxy_event(request: Request, body: bytes) -> dict[str, Any]:
    found = find_route(request.method, request.path)
    resource, path_parameters = (found[0].path, found[1]) if found else (request.path, None)
    text_body: str | None
    try:
        text_body, is_base64 = (body.decode("utf-8") if body else None), False
    except UnicodeDecodeError:
        text_body, is_base64 = base64.b64encode(body).decode(), True
    query = _query(request.query_string)
    now = datetime.now(UTC)
    return {
        "resource": resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": dict(request.headers.items()),
        "multiValueHeaders": {k: request.headers.getlist(k) for k, _ in request.headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": request.method,
            "path": f"/prod{request.path}",
            "stage": "prod",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "identity": {
                "sourceIp": request.remote_addr or "127.0.0.1",
                "userAgent": request.user_agent.string,
            },
            "accountId": "000000000000",
            "apiId": "local",
        },
        "body": text_body,
        "isBase64Encoded": is_base64,
    }


def to_response(answer: dict[str, Any]) -> Response:
    body = answer.get("body") or ""
    data = base64.b64decode(body) if answer.get("isBase64Encoded") else body.encode()
    response = Response(data, status=answer.get("statusCode", 200))
    del response.headers["Content-Type"]  # the function's answer names its own
    for key, values in (answer.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.add(key, value)
    for key, value in (answer.get("headers") or {}).items():
        response.headers[key] = value
    return response


def _body(request: Request) -> bytes:
    """The request's body up to the limit and a byte: read until it ends (a stream's read may
    give less than asked, a piece at a time)."""
    pieces, got = [], 0
    while got <= MAX_REQUEST_BYTES:
        piece = request.stream.read(MAX_REQUEST_BYTES + 1 - got)
        if not piece:
            break
        pieces.append(piece)
        got += len(piece)
    return b"".join(pieces)


class LocalApiGateway:
    def __init__(
        self,
        web_root: Path | None = None,
        *,
        rate_limiter: RateLimiter | None = None,
        authorizer: LocalAuthorizer | None = None,
    ) -> None:
        self.web_root = web_root.resolve() if web_root else None
        self.prefixes = {route.path.split("/")[1] for route in ROUTES}
        # the stage's WAF rule and its authorizer, with infra's defaults unless given
        self.rate_limiter = rate_limiter or RateLimiter()
        self.authorizer = authorizer or LocalAuthorizer()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        if request.path.split("/")[1] not in self.prefixes:
            if request.method not in ("GET", "HEAD"):  # as the console's distribution allows: a
                # mistyped API address (`/V1/loyalty/spend`) must not answer 200 with the console's page
                detail = f"no route {request.method} {request.path}: the console serves GET and HEAD only"
                answer = to_response(problems.proxy_response(405, problems.problem(405, detail)))
                answer.headers["Allow"] = "GET, HEAD"
                return answer
            return self.static(request.path)
        length = request.content_length or 0
        if length > MAX_REQUEST_BYTES:
            return to_response(problems.proxy_response(413, problems.problem(413, "request too large")))
        try:  # a body without a Content-Length (chunked) is read no further than the limit either
            body = _body(request)
        except ClientDisconnected:
            body = None
        if body is None or (request.content_length is not None and len(body) < request.content_length):
            # fewer bytes came than Content-Length said: API Gateway's 400
            detail = "the request's body ended before its Content-Length"
            return to_response(problems.proxy_response(400, problems.problem(400, detail)))
        if len(body) > MAX_REQUEST_BYTES:
            return to_response(problems.proxy_response(413, problems.problem(413, "request too large")))
        found = find_route(request.method, request.path)
        # an unknown route gets its 404 or 405 from the gate of any function; the public one builds nothing
        function = found[0].handler if found else "functions.openapi.handler.lambda_handler"
        started = time.monotonic()
        event = proxy_event(request, body)
        document = found is not None and found[0] in DOCS_ROUTES
        answer = self.edge(event, found[0].public if found else True, counted=not document)
        if answer is None:
            answer = invoke(function, event, timeout_seconds=API_GATEWAY_TIMEOUT_SECONDS)
        response = to_response(answer)
        response.headers["X-Local-Latency-Ms"] = f"{(time.monotonic() - started) * 1000:.1f}"
        return response

    def edge(self, event: dict[str, Any], public: bool, counted: bool = True) -> dict[str, Any] | None:
        """The WAF's rate limit (`counted`: not on the API's document, as the WAF's rule), then
        (credentialed routes) the authorizer: the edge's own answer when it refuses the request,
        else None with the authorizer's context in the event."""
        authorization = next((v for k, v in event["headers"].items() if k.lower() == "authorization"), None)
        retry_after = self.rate_limiter.retry_after(authorization) if counted else None
        if retry_after is not None:
            return rate_limited(retry_after)
        if public:
            return None
        context, refused = self.authorizer.authorize(event)
        if refused is not None:
            return refused
        event["requestContext"]["authorizer"] = context
        return None

    def static(self, path: str) -> Response:
        if self.web_root is None:
            return to_response(problems.proxy_response(404, problems.problem(404, f"no route GET {path}")))
        relative = path.lstrip("/").replace("\x00", "") or "index.html"  # no file is named with a NUL
        target = (self.web_root / relative).resolve()
        if not target.is_relative_to(self.web_root) or not target.is_file():  # `dist2` is not in `dist`
            target = self.web_root / "index.html"  # the console's own router handles the path
        if not target.is_file():
            return to_response(problems.proxy_response(404, problems.problem(404, f"no route GET {path}")))
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        response = Response(target.read_bytes(), content_type=content_type)
        response.headers["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
