"""The functions' AWS calls handed to moto's response layer in this process without the emulated wire.

A boto3 call into `mock_aws` normally goes: botocore validates and serializes the parameters (the
request dict: the JSON body, the target header), signs it (a SigV4 signature nobody checks), runs its
retry and send machinery, then moto's stubber finds the service by matching the URL against every
backend's patterns, builds its request, answers, and botocore parses the answer. Profiled, the signing,
the send and the stubber's URL search are a third of a call (see docs/design.md "Local mode").

`answer_in_process` is a `before-call` handler, botocore's documented way to answer a call instead
of the endpoint: botocore has already validated and serialized the call when it runs,
and everything after it (`after-call`, raising the modeled `ClientError`) still runs. The handler gives
the serialized request to moto's own dispatch for that URL (the same `DynamoHandler`, SQS or
EventBridge response class, so moto's backend and response layer stay the one source of the
services' semantics and errors), then parses moto's answer with botocore's parser for the operation's
output shape, with the second pass botocore's endpoint makes for modeled error fields (a
`TransactionCanceledException`'s `CancellationReasons`). Only JSON-protocol services (DynamoDB, SQS,
EventBridge, KMS), only AWS's own endpoints, and only while moto's mock is on; anything else goes the
usual way. What it skips besides: botocore's retries, which moto in this process never needs (it
throttles nothing; faults in tests are injected above botocore, at `_make_api_call`).

Its two halves serve the local system across processes (`aws_process`): `moto_answers` in moto's
process, `parsed_answer` in the functions'.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_dispatch_by_url: dict[str, Any] = {}
_parsers: dict[str, Any] = {}
_AWS_URL = re.compile(r"https://[a-z0-9.-]+\.amazonaws\.com/")


def _dispatcher(url: str) -> Any:
    """moto's dispatch method for this URL, found as its stubber finds it (once per URL)."""
    found = _dispatch_by_url.get(url)
    if found is not None:
        return found
    import moto.backend_index as backend_index
    import moto.backends as backends
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.core.base_backend import BackendDict
    from moto.core.utils import get_equivalent_url_in_aws_domain

    parsed_url, _ = get_equivalent_url_in_aws_domain(url)
    clean_url = f"{parsed_url.scheme}://{parsed_url.netloc}{parsed_url.path}"
    for service, pattern in backend_index.backend_url_patterns:
        if not pattern.match(clean_url):
            continue
        backend_dict = backends.get_backend(service)  # type: ignore[call-overload]
        if isinstance(backend_dict, BackendDict):
            regions = backend_dict[DEFAULT_ACCOUNT_ID]
            backend = regions["us-east-1"] if "us-east-1" in regions else regions["aws"]
        else:
            backend = backend_dict["global"]
        for url_pattern, method in backend.urls.items():
            if re.compile(url_pattern).match(clean_url):
                _dispatch_by_url[url] = method
                return method
    return None


def _parser(protocol: str) -> Any:
    parser = _parsers.get(protocol)
    if parser is None:
        from botocore.parsers import create_parser

        parser = _parsers[protocol] = create_parser(protocol)
    return parser


def moto_answers(
    method: str, url: str, headers: Any, body: bytes
) -> tuple[int, dict[str, str], bytes] | None:
    """moto's answer to one serialized request, as its stubber would give it: (status, headers,
    body), or None when no moto backend serves the URL."""
    dispatch = _dispatcher(url)
    if dispatch is None:
        return None
    from moto.core.exceptions import HTTPException
    from moto.core.request import Request
    from moto.moto_api import recorder

    request = Request.from_primitives(method, url, headers, body)
    try:
        recorder._record_request(request)
        status, answer_headers, answer = dispatch(request, request.raw_url, request.headers)
    except HTTPException as error:
        status, answer_headers, answer = error.code, error.get_headers(), error.get_body()
    if isinstance(answer, str):
        answer = answer.encode()
    return int(status), dict(answer_headers), answer or b""


class _RawBody:
    """The raw stream botocore's response reads its content from."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def parsed_answer(
    model: Any, url: str, status: int, headers: dict[str, str], body: bytes
) -> tuple[Any, dict[str, Any]]:
    """(http response, parsed response) for botocore from a JSON service's answer, parsed as its
    endpoint parses it: the operation's output shape, and for an error a second pass for the error
    shape's modeled fields (a `TransactionCanceledException`'s `CancellationReasons`)."""
    from botocore.awsrequest import AWSResponse

    http = AWSResponse(url, status, headers, _RawBody(body))
    response = {
        "headers": http.headers,
        "status_code": http.status_code,
        "body": http.content,
        "context": {"operation_name": model.name},
    }
    service_model = model.service_model
    parser = _parser(service_model.resolved_protocol)
    parsed = parser.parse(response, model.output_shape)
    if http.status_code >= 300:
        code = parsed.get("Error", {}).get("Code")
        error_shape = service_model.shape_for_error_code(code) if code else None
        if error_shape is not None:
            parsed.update(parser.parse(response, error_shape))
    return http, parsed


def answer_in_process(model: Any, params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
    """The `before-call` handler: (http response, parsed response) from moto, or None for the wire."""
    from moto.core.models import botocore_stubber

    if not botocore_stubber.enabled:
        return None
    url = params.get("url")
    if model.service_model.resolved_protocol != "json" or not url or not _AWS_URL.match(url):
        return None
    if params.get("query_string"):
        return None
    answer = moto_answers(params["method"], url, params["headers"], params.get("body") or b"")
    if answer is None:
        return None
    return parsed_answer(model, url, *answer)
