"""The HTTP edge shared by every API function.

`serve` runs the checks every request passes before any route code (route known, body coding and
size, media type, JSON, credentials, role, signature), then hands the request to the function's Powertools
resolver. Running them first means an unauthenticated caller learns nothing from validation errors,
and a rejected request reaches no domain code.
"""

from __future__ import annotations

import base64
import codecs
import json
import re
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from functions.shared import problems
from functions.shared.auth import (
    Principal,
    authenticate,
    note_use,
    principal_from_context,
    verify_signature,
    with_program,
)
from functions.shared.documents import read_json
from functions.shared.errors import DomainError, Forbidden
from functions.shared.inputs import IDENTIFIER_MAX, IDENTIFIER_PATTERN, IDENTIFIER_RULE, trim
from functions.shared.observability import logger
from functions.shared.routes import ANY_ROLE, PAGE, Route, allowed_methods, find_route
from functions.shared.runtime import Dependencies

MAX_BODY_BYTES = 64 * 1024
MAX_BODY_DEPTH = 32  # DynamoDB's own limit for nested attributes; no body of this API needs 6
_TOO_DEEP = f"the body is nested more than {MAX_BODY_DEPTH} levels deep"
# every body of this API is an object (Powertools would take a list's first item, and `null` for none)
NOT_AN_OBJECT = "the body must be a JSON object"
NOT_AN_OBJECT_ERROR = {"field": "(body)", "message": "not an object"}
NO_BODY = "this operation takes no body"
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)


def build_resolver(union_tags: frozenset[str] = frozenset()) -> APIGatewayRestResolver:
    """A function's resolver. `union_tags`: the discriminator values of its bodies (event types,
    action types), which pydantic puts in error paths and the answer leaves out."""
    app = APIGatewayRestResolver(
        enable_validation=True, serializer=problems.to_json, json_body_deserializer=read_json
    )

    @app.exception_handler(DomainError)
    def domain_error(error: DomainError) -> Response:
        answer = problems.answer_for(error)
        headers = {k: v for k, v in answer["headers"].items() if k != "Content-Type"}
        return Response(answer["statusCode"], problems.PROBLEM_JSON, answer["body"], headers)

    @app.not_found
    def not_found(_: NotFoundError) -> Response:
        detail = f"no route {app.current_event.http_method} {app.current_event.path}"
        return Response(404, problems.PROBLEM_JSON, problems.to_json(problems.problem(404, detail)))

    @app.exception_handler(RequestValidationError)
    def invalid(error: RequestValidationError) -> Response:
        raw = list(error.errors())
        if any(e.get("type") == "missing" and tuple(e.get("loc", ())) == ("body",) for e in raw):
            if (app.current_event.body or "").strip():  # JSON `null`: JSON, and not an object
                return _not_an_object()
            # no body at all where one is taken: no JSON, as a blank body is (the gate's 400)
            detail = "the body is empty: send a JSON object"
            return Response(400, problems.PROBLEM_JSON, problems.to_json(problems.problem(400, detail)))
        errors = problems.validation_errors(raw, union_tags)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        body = problems.problem(422, detail, errors)
        return Response(422, problems.PROBLEM_JSON, problems.to_json(body))

    return app


def _not_an_object() -> Response:
    body = problems.problem(422, NOT_AN_OBJECT, [NOT_AN_OBJECT_ERROR])
    return Response(422, problems.PROBLEM_JSON, problems.to_json(body))


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


def _as_application_json(event: dict[str, Any]) -> None:
    """A JSON body's media type as Powertools' validation reads it: it takes only a type written
    `application/json...` in lower case, while media types are case-insensitive (RFC 9110) and
    `application/problem+json` or `application/vnd.api+json` are JSON as well (`_is_json`)."""
    for field in ("headers", "multiValueHeaders"):
        headers = event.get(field) or {}
        for name in [name for name in headers if name.lower() == "content-type"]:
            del headers[name]
        if field in event and event[field] is not None:
            headers["Content-Type"] = "application/json" if field == "headers" else ["application/json"]


def gate(event: dict[str, Any], deps: Dependencies | None) -> Principal | None:
    """Every check a request passes before route code. Raises a `_Rejected` with its answer."""
    method, path = event.get("httpMethod", ""), event.get("path", "")
    found = find_route(method, path)
    if found is None:
        if allowed_methods(path):
            allow = {"Allow": ", ".join(allowed_methods(path))}
            raise _Rejected(405, f"{method} is not allowed on {path}", headers=allow)
        raise _Rejected(404, f"no route {method} {path}")
    route, params = found
    if refused := [name for name, value in params.items() if not _IDENTIFIER.fullmatch(value)]:
        # every id is an identifier (SPEC 3.1): anything else names nothing, and never reaches a key;
        # a PUT would make one under it, so it is told why it cannot (a 404 said nothing was there)
        if method == "PUT":
            rule = f"at most {IDENTIFIER_MAX} {IDENTIFIER_RULE}"
            errors = [{"field": f"path.{name}", "message": rule} for name in refused]
            raise _Rejected(422, "; ".join(f"{e['field']}: not an identifier" for e in errors), errors)
        raise _Rejected(404, f"nothing at {path[:200]!r}" + (" (cut)" if len(path) > 200 else ""))
    if not _is_unicode(event.get("queryStringParameters")):
        raise _Rejected(400, "the query string is not valid UTF-8 text")
    body = raw_body(event)
    if body and (coding := _content_coding(header(event, "Content-Encoding"))):
        # read as it came, a compressed body was "not UTF-8", and a plain one labelled gzip passed
        raise _Rejected(415, f"Content-Encoding {coding} is not accepted: send the body uncompressed")
    if len(body) > MAX_BODY_BYTES:
        raise _Rejected(413, f"the body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}")
    principal = None
    if not route.public:
        assert deps is not None, "a route with credentials needs its dependencies"
        principal = principal_from_context((event.get("requestContext") or {}).get("authorizer"))
        if principal is None:  # no edge authorizer ran (a direct invocation): the key is read here
            principal = authenticate(deps.repository, header(event, "Authorization"))
            note_use(deps.repository, principal, deps.clock.now())
        principal.require(*route.roles)
        principal = with_program(principal, deps.programs, deps.repository, deps.clock.now())
        program, signature, now = principal.program, header(event, "X-Signature"), deps.clock.now()
        if route.signed and program and (secrets := program.secrets_to_check(now, signature is not None)):
            verify_signature(secrets, signature, body, now)
    # after the key, its role and the signature: a caller refused learns nothing of the route
    given = set(event.get("queryStringParameters") or ()) | set(
        event.get("multiValueQueryStringParameters") or ()
    )
    if unknown := sorted(given - set(route.query)):
        takes = f"it takes {', '.join(route.query)}" if route.query else "it takes none"
        raise _Rejected(
            422,
            f"unknown query parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} ({takes})",
            [{"field": f"query.{name}", "message": "not a parameter of this route"} for name in unknown],
        )
    _blank_paging_absent(event)
    if not body:  # no body names no media type (Powertools would parse a multipart one, or answer 415)
        _as_application_json(event)
    if body and not body.strip() and route.takes_body:  # no JSON: Powertools's error
        raise _Rejected(400, "the body is blank: send a JSON object")
    if body.strip():
        if not _is_json(header(event, "Content-Type")):
            raise _Rejected(415, "send the body as application/json")
        _as_application_json(event)
        if body.startswith(codecs.BOM_UTF8):
            raise _Rejected(400, "the body starts with a byte order mark: send JSON as UTF-8 without one")
        if wide := _wide_encoding(body):
            raise _Rejected(
                400, f"the body is {wide}: send JSON as UTF-8 (RFC 8259), without a byte order mark"
            )
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise _Rejected(400, "the body is not UTF-8 text (JSON is sent as UTF-8: RFC 8259)") from None
        try:
            parsed = read_json(text)
        except ValueError as exc:
            raise _Rejected(400, f"the body is not valid JSON: {exc}") from None
        except RecursionError:  # the parser's own limit, far deeper than ours
            raise _Rejected(400, _TOO_DEEP) from None
        if _nested_over(parsed, MAX_BODY_DEPTH):
            raise _Rejected(400, _TOO_DEEP)
        if not _is_unicode(parsed):
            raise _Rejected(400, "the body has text that is not Unicode (an unpaired surrogate escape)")
        if not route.takes_body and parsed not in (None, {}):
            raise _no_body_taken(parsed)
        if parsed is not None and not isinstance(parsed, dict):
            raise _Rejected(422, NOT_AN_OBJECT, [NOT_AN_OBJECT_ERROR])
    return principal


# the query parameters a client that fills every parameter sends blank: a page's, and how long to
# wait for a decision (`?wait=decision&timeout_ms=`: the default three seconds)
BLANK_IS_ABSENT = (*PAGE, "timeout_ms")


def _blank_paging_absent(event: dict[str, Any]) -> None:
    """A blank `limit`, `cursor` or `timeout_ms` (`?limit=&cursor=`, a client that fills every
    parameter) is absent, as a blank optional field is (SPEC 3.1): the first page, of the default
    size. A blank given beside a value is a parameter given twice, refused as any other."""
    single = event.get("queryStringParameters") or {}
    multi = event.get("multiValueQueryStringParameters") or {}
    for name in BLANK_IS_ABSENT:
        values = multi.get(name) or ([single[name]] if name in single else [])
        if values and not any(trim(value or "") for value in values):
            single.pop(name, None)
            multi.pop(name, None)


def _no_body_taken(parsed: Any) -> _Rejected:
    """A body that says something, sent to an operation that reads none: its resolver would drop it
    unread (`{"overlap_hours": 0}` to rotate-secret kept the old secret 24 hours). `{}` and `null`
    say nothing, and pass (the console posts `{}`)."""
    if not isinstance(parsed, dict):
        return _Rejected(422, f"{NO_BODY}: send none", [{"field": "(body)", "message": NO_BODY}])
    return _Rejected(
        422,
        f"{NO_BODY}: it would not read {', '.join(parsed)}",
        [{"field": name, "message": f"not a field: {NO_BODY}"} for name in parsed],
    )


def _content_coding(value: str | None) -> str | None:
    """The codings a Content-Encoding header names beyond `identity` (none: the body as sent)."""
    codings = [c.strip() for c in (value or "").split(",") if c.strip().lower() not in ("", "identity")]
    return ", ".join(codings) or None


def _wide_encoding(body: bytes) -> str | None:
    """UTF-16 or UTF-32 (PowerShell's and .NET's default text), by its byte order mark or, without
    one, by where the zero bytes of JSON's first ASCII characters fall (RFC 4627's detection)."""
    marked = [
        (codecs.BOM_UTF32_LE, "UTF-32 with a byte order mark"),
        (codecs.BOM_UTF32_BE, "UTF-32 with a byte order mark"),
        (codecs.BOM_UTF16_LE, "UTF-16 with a byte order mark"),
        (codecs.BOM_UTF16_BE, "UTF-16 with a byte order mark"),
    ]
    for mark, name in marked:  # UTF-32's little-endian mark begins as UTF-16's: longest first
        if body.startswith(mark):
            return name
    head = body[:4]
    if len(head) == 4 and head[0] == 0 and head[1] == 0:
        return "UTF-32"
    if len(head) == 4 and head[1] == 0 and head[2] == 0 and head[3] == 0:
        return "UTF-32"
    if len(head) >= 2 and (head[0] == 0) != (head[1] == 0):
        return "UTF-16"
    return None


def _nested_over(value: Any, limit: int) -> bool:
    """Whether a parsed document nests objects and arrays more than `limit` deep (walked without
    recursion: a 60 KiB body can nest 30,000 deep, and the handler's own stack is not that deep)."""
    pending = [(value, 1)]
    while pending:
        current, depth = pending.pop()
        children = (
            current.values() if isinstance(current, dict) else current if isinstance(current, list) else ()
        )
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                pending.append((child, depth + 1))
    return False


def _is_unicode(value: Any) -> bool:
    """Whether every text in a parsed document can be stored (JSON may escape lone surrogates)."""
    try:
        json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")  # numbers: Decimal
    except UnicodeEncodeError:
        return False
    return True


def edge_answers(route: Route, *, body: bool, query: bool) -> dict[int, str]:
    """What `gate` and validation may answer for a route, beyond its own `answers`: the OpenAPI
    document lists these for each operation."""
    answers: dict[int, str] = {}
    if not route.public:
        answers[401] = "No credentials, or a key that is unknown, revoked or wrong"
        answers[429] = "The key's request rate is over its limit: retry after Retry-After seconds"
        answers[503] = "A dependency is unavailable: retry after Retry-After seconds"
        if set(route.roles) != set(ANY_ROLE):
            answers[403] = f"The key's role may not do this (allowed: {', '.join(route.roles)})"
        if route.signed:
            answers[401] += "; or a missing, stale or wrong X-Signature"
    if "{" in route.path:
        answers[404] = "Not found (or another program's)"
    # `gate` reads any body sent before it knows whether the route takes one: its size, coding,
    # media type and JSON are checked alike, so an operation without a body answers these too
    answers[400] = (
        "The query string is not UTF-8 text, or the body is not JSON in UTF-8 (another encoding, a byte "
        f"order mark), or is nested more than {MAX_BODY_DEPTH} levels deep"
    )
    answers[413] = f"The body is over {MAX_BODY_BYTES // 1024} KiB"
    answers[415] = "The body is not application/json, or is sent compressed (a Content-Encoding)"
    if not body:
        answers[413] += " (the operation takes none)"
        answers[415] += " (the operation takes none)"
    answers[422] = (
        "A field breaks the contract: `errors` names each one"
        if body or query
        else "A query parameter the operation does not take, or a body (it takes none): `errors` names each"
    )
    return answers


class _Rejected(Exception):
    def __init__(
        self,
        status: int,
        detail: str,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.errors, self.headers = status, detail, errors, headers


def serve(
    app: APIGatewayRestResolver, event: dict[str, Any], context: Any, deps: Dependencies | None
) -> dict[str, Any]:
    try:
        principal = gate(event, deps)
    except _Rejected as rejected:
        return problems.proxy_response(
            rejected.status,
            problems.problem(rejected.status, rejected.detail, rejected.errors),
            rejected.headers,
        )
    except DomainError as error:
        return problems.answer_for(error)
    except Exception:  # as below: a problem document, never the platform's bare 502
        logger.exception("unhandled error before routing")
        return problems.proxy_response(500, problems.problem(500, problems.UNEXPECTED_DETAIL))
    app.append_context(principal=principal, deps=deps)
    try:
        return app.resolve(event, context)
    except Exception:  # the caller gets a problem document, the log gets the trace
        logger.exception("unhandled error")
        return problems.proxy_response(500, problems.problem(500, problems.UNEXPECTED_DETAIL))
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
