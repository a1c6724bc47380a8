"""Wiring: the collaborators a function uses, built from validated settings.

Built on first use in an invocation and kept for warm invocations of the same configuration: only
clients and connections are kept, never state (and scoring's `read_memory`: facts DynamoDB gave that
no write takes back, each until it lapses)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from functions.shared import aws_calls
from functions.shared.auth import AUTHORIZER_TIMEOUT_SECONDS, ProgramCache
from functions.shared.clock import Clock, SystemClock
from functions.shared.config import ConfigurationError, Settings
from functions.shared.messaging import (
    EventBridgePublisher,
    EventPublisher,
    ScoringQueue,
    SqsScoringQueue,
    SqsWorkflowQueue,
    WorkflowQueue,
)
from functions.shared.read_memory import ReadMemory
from functions.shared.storage.port import Repository


@dataclass
class Dependencies:
    repository: Repository
    publisher: EventPublisher
    clock: Clock
    queue: ScoringQueue | None = None
    programs: ProgramCache = field(default_factory=ProgramCache)  # kept for warm invocations
    # Empties the edge authorizer's cache of the stage (a revoked key stops at once); None: no
    # authorizer cache to flush (tests calling handlers directly).
    flush_authorizer_cache: Callable[[], None] | None = None
    workflow_queue: WorkflowQueue | None = None
    # what scoring read that stays true (`read_memory`): the environment's, kept as the clients are,
    # so each set of dependencies (each test's too) starts cold
    read_memory: ReadMemory = field(default_factory=ReadMemory)


_built: dict[Settings, Dependencies] = {}


def time_left(context: Any) -> Callable[[], float]:
    """The seconds an invocation has left, as its Lambda context says at each call: what a
    scheduled run plans its work on (the sweep, the dispute cycle, the outbox relay)."""
    return lambda: context.get_remaining_time_in_millis() / 1000


def boto3_client(service: str, settings: Settings) -> Any:
    """A client of `service` whose calls wait no longer than `aws_calls` says (never botocore's
    minutes of defaults on a service that does not answer)."""
    import boto3

    return boto3.client(
        service,
        region_name=settings.region,
        endpoint_url=settings.endpoint_url,
        config=aws_calls.limits_of(service).botocore_config(),
    )


class _ClientOnFirstUse:
    """A boto3 client made when a function first calls it: every function's dependencies name the
    bus and its queues, and most invocations of most functions never touch them, so their cold
    starts should not pay for building those clients. Made once under a lock: boto3 makes clients
    unsafely from threads (the outbox relay sends from several)."""

    def __init__(self, service: str, settings: Settings) -> None:
        self._service, self._settings = service, settings
        self._client: Any = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = boto3_client(self._service, self._settings)
        return getattr(self._client, name)


def build_repository(settings: Settings) -> Repository:
    """The DynamoDB store; programs' signing secrets sealed with the settings' key (its KMS client
    made on first use: a function that never seals nor opens one never makes it)."""
    from functions.shared.sealing import KmsSealer
    from functions.shared.storage.dynamodb import DynamoRepository, build_models

    models = build_models(settings.table_name, settings.endpoint_url, settings.region)
    return DynamoRepository(
        models, KmsSealer(_ClientOnFirstUse("kms", settings), settings.program_secrets_key_id)
    )


# what a dependency a function may need is built from, to name it when it is missing
_BUILT_FROM = {"queue": "SCORING_QUEUE_URL", "workflow_queue": "LOYALTY_WORKFLOW_QUEUE_URL"}


def dependencies(settings: Settings | None = None, needs: tuple[str, ...] = ()) -> Dependencies:
    """`needs`: the dependencies the function cannot do without (`queue`, `workflow_queue`): one
    missing fails the invocation naming its variable, rather than accept work it cannot pass on."""
    deps = _dependencies(settings or Settings.from_env())
    if missing := [_BUILT_FROM[name] for name in needs if getattr(deps, name) is None]:
        raise ConfigurationError(f"function configuration: {', '.join(missing)} not set")
    return deps


def _dependencies(settings: Settings) -> Dependencies:
    if settings not in _built:
        queue = (
            SqsScoringQueue(_ClientOnFirstUse("sqs", settings), settings.queue_url)
            if settings.queue_url
            else None
        )
        _built[settings] = Dependencies(
            repository=build_repository(settings),
            publisher=EventBridgePublisher(_ClientOnFirstUse("events", settings), settings.event_bus_name),
            clock=SystemClock(),
            queue=queue,
            flush_authorizer_cache=_stage_flush(settings) if settings.rest_api_id else _local_flush,
            workflow_queue=(
                SqsWorkflowQueue(_ClientOnFirstUse("sqs", settings), settings.workflow_queue_url)
                if settings.workflow_queue_url
                else None
            ),
        )
    return _built[settings]


def flush_stage_authorizers(
    client: Any, rest_api_id: str, stage: str, wait: Callable[[float], None] = time.sleep
) -> None:
    """API Gateway's FlushStageAuthorizersCache on a stage, twice: an authorizer run that read the
    key before its revocation may answer after the first flush, and API Gateway keeps that answer
    for the cache's lifetime; once the authorizer's timeout has passed, no such run is left, and
    the second flush empties what one kept. The one way a revocation empties the edge's cache:
    the keys function's (`DELETE /v1/keys/{id}`) and fraudctl's (`revoke-key`)."""
    client.flush_stage_authorizers_cache(restApiId=rest_api_id, stageName=stage)
    wait(AUTHORIZER_TIMEOUT_SECONDS + 1)
    client.flush_stage_authorizers_cache(restApiId=rest_api_id, stageName=stage)


def _stage_flush(settings: Settings, wait: Callable[[float], None] = time.sleep) -> Callable[[], None]:
    """`flush_stage_authorizers` on this function's own stage (the only stage its role may flush).
    The revocation's answer waits those seconds (a rare call, an admin's)."""
    client, rest_api_id = boto3_client("apigateway", settings), settings.rest_api_id or ""

    def flush() -> None:
        flush_stage_authorizers(client, rest_api_id, settings.api_stage, wait)

    return flush


_local_flush: Callable[[], None] | None = None


def use_local_authorizer_cache(flush: Callable[[], None] | None) -> None:
    """The local gateway (local_system) keeps the authorizer cache in its own process: functions
    built after this call flush it, as they flush API Gateway's when deployed."""
    global _local_flush
    _local_flush = flush
    _built.clear()


_local_invoke: Callable[[str, dict[str, Any]], object] | None = None


def use_local_invocations(invoke_later: Callable[[str, dict[str, Any]], object] | None) -> None:
    """The local system runs functions in its own process (`local_system.lambda_runtime`), where
    no Lambda service takes an asynchronous invocation: a function invoking one (the dispute cycle
    handing itself on) calls `invoke_later(handler path, event)` instead. None: Lambda's."""
    global _local_invoke
    _local_invoke = invoke_later


def local_invocations() -> Callable[[str, dict[str, Any]], object] | None:
    return _local_invoke


def forget_dependencies() -> None:
    """Drops the built clients (tests that start a fresh AWS stand-in call this)."""
    _built.clear()
