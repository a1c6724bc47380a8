"""DynamoDB calls of this process answered by a local engine (`local_system.dynamodb.Engine`), with no
wire and no moto.

A boto3 or pynamodb call (pynamodb goes through botocore too) is validated and serialized by
botocore as it would be for AWS; a `before-call` handler, botocore's documented way to answer a call
instead of the endpoint, then hands the serialized request (its `X-Amz-Target` header and JSON body)
to `engine.answer`, and botocore parses the engine's answer with the operation's output shape
(`moto_direct.parsed_answer`, as for moto's answers): `after-call` handlers still run, an error
still raises the modeled `ClientError` (`ConditionalCheckFailedException`, a
`TransactionCanceledException` with its `CancellationReasons`...). Only calls of the `dynamodb`
service are taken; SQS, EventBridge, KMS and the rest go where they went (moto).

Three ways in:
- `route_dynamodb_to(engine)`: the handler itself, for `session.events.register("before-call", ...)`;
- `answer_dynamodb_from(session, engine)`: that, registered on one boto3 or botocore session;
- `engines_beside_moto()`: every botocore session created from then on (pynamodb's, the default
  boto3 session's) answers DynamoDB from an engine kept beside moto's DynamoDB backend of the
  account and region called, while moto's mock is on. moto's reset (a new `mock_aws`, a test's end)
  drops its backends and with them their engines, so each moto account starts with an empty engine,
  as its moto tables would. `tests/conftest.py` turns it on with `LOCAL_DYNAMODB=engine`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

_TARGET = "X-Amz-Target"
_DEFAULT_URL = "https://dynamodb.{region}.amazonaws.com/"
_ENGINE_ATTRIBUTE = "_local_dynamodb_engine"


class Answers(Protocol):
    """What the handler needs of an engine: DynamoDB's answer to one request of its JSON protocol."""

    def answer(self, target: str, body: bytes) -> tuple[int, dict[str, str], bytes]: ...


Handler = Callable[..., "tuple[Any, dict[str, Any]] | None"]


def _is_dynamodb(model: Any) -> bool:
    # the service's name, not its endpoint prefix: DynamoDB Streams ("dynamodbstreams") is another
    # service and is left where it goes
    return bool(model.service_model.service_name == "dynamodb")


def _answer(engine: Answers, model: Any, params: dict[str, Any], context: Any) -> tuple[Any, dict[str, Any]]:
    from local_system.moto_direct import parsed_answer

    body = params.get("body") or b""
    if isinstance(body, str):
        body = body.encode()
    target = params["headers"][_TARGET]
    region = (context or {}).get("client_region") or "us-east-1"
    url = params.get("url") or _DEFAULT_URL.format(region=region)
    status, headers, answer = engine.answer(target, body)
    return parsed_answer(model, url, status, headers, answer)


def route_dynamodb_to(engine: Answers) -> Handler:
    """A `before-call` handler answering every DynamoDB call from `engine`; None (the usual way) for
    any other service."""

    def answer_from_engine(
        model: Any, params: dict[str, Any], context: Any = None, **_: Any
    ) -> tuple[Any, dict[str, Any]] | None:
        if not _is_dynamodb(model):
            return None
        return _answer(engine, model, params, context)

    return answer_from_engine


def answer_dynamodb_from(session: Any, engine: Answers) -> Handler:
    """Registers `route_dynamodb_to(engine)` on `session` (a boto3 or a botocore session): its clients
    made from now on, and those it already made, send their DynamoDB calls to `engine`. Returns the
    handler (to unregister it: `session.events.unregister("before-call", handler)`)."""
    handler = route_dynamodb_to(engine)
    events = session.events if hasattr(session, "events") else session.get_component("event_emitter")
    events.register("before-call", handler)
    return handler


# --- an engine beside each of moto's accounts ----------------------------------------------------
_engine_factory: Callable[[], Answers] | None = None
_installed = False


def _moto_backend(region: str) -> Any:
    """moto's DynamoDB backend for the default account and `region` (built on first use, as moto
    builds it for a request)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][region]


def engine_beside_moto(region: str = "us-east-1") -> Answers:
    """The engine answering DynamoDB for moto's default account in `region` (made on first use)."""
    backend = _moto_backend(region)
    engine = backend.__dict__.get(_ENGINE_ATTRIBUTE)
    if engine is None:
        factory = _engine_factory
        if factory is None:
            raise RuntimeError("engines_beside_moto() was not called")
        # moto's reset rebuilds a backend by emptying its __dict__ and running __init__ again: the
        # engine goes with the tables it stands for
        engine = backend.__dict__.setdefault(_ENGINE_ATTRIBUTE, factory())
    return engine  # type: ignore[no-any-return]


def _answer_beside_moto(
    model: Any, params: dict[str, Any], context: Any = None, **_: Any
) -> tuple[Any, dict[str, Any]] | None:
    from moto.core.models import botocore_stubber

    if _engine_factory is None or not botocore_stubber.enabled or not _is_dynamodb(model):
        return None
    region = (context or {}).get("client_region") or "us-east-1"
    return _answer(engine_beside_moto(region), model, params, context)


def engines_beside_moto(factory: Callable[[], Answers] | None = None) -> None:
    """From now on, while moto's mock is on, every DynamoDB call of a botocore session created after
    this (and of boto3's default session, which `mock_aws` makes anew) is answered by an engine
    made by `factory` (default: `Engine`) for that moto account and region. Calls made before moto's
    mock is on, or after it is off, go the usual way. The account is moto's default one: the tests'
    credentials are all the same fake ones."""
    global _engine_factory, _installed
    import botocore.handlers

    if factory is None:
        from local_system.dynamodb import Engine

        factory = Engine
    _engine_factory = factory
    if not _installed:
        botocore.handlers.BUILTIN_HANDLERS.append(("before-call", _answer_beside_moto))
        _installed = True


def stop_engines_beside_moto() -> None:
    """DynamoDB calls go to moto again (the handler stays registered and answers nothing)."""
    global _engine_factory
    _engine_factory = None
