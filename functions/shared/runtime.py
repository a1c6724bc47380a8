"""Wiring: the collaborators a function uses, built from validated settings.

Built on first use in an invocation and kept for warm invocations of the same configuration: only
clients and connections are kept, never state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from functions.shared.clock import Clock, SystemClock
from functions.shared.config import Settings
from functions.shared.messaging import (
    EventBridgePublisher,
    EventPublisher,
    ScoringQueue,
    SqsScoringQueue,
    SqsWorkflowQueue,
    WorkflowQueue,
)
from functions.shared.storage.port import Repository


@dataclass
class Dependencies:
    repository: Repository
    publisher: EventPublisher
    clock: Clock
    queue: ScoringQueue | None = None
    workflow_queue: WorkflowQueue | None = None


_built: dict[Settings, Dependencies] = {}


def boto3_client(service: str, settings: Settings) -> Any:
    import boto3

    return boto3.client(service, region_name=settings.region, endpoint_url=settings.endpoint_url)


def build_repository(settings: Settings) -> Repository:
    from functions.shared.storage.dynamodb import DynamoRepository, build_models

    return DynamoRepository(build_models(settings.table_name, settings.endpoint_url, settings.region))


def dependencies(settings: Settings | None = None) -> Dependencies:
    settings = settings or Settings.from_env()
    if settings not in _built:
        queue = (
            SqsScoringQueue(boto3_client("sqs", settings), settings.queue_url) if settings.queue_url else None
        )
        _built[settings] = Dependencies(
            repository=build_repository(settings),
            publisher=EventBridgePublisher(boto3_client("events", settings), settings.event_bus_name),
            clock=SystemClock(),
            queue=queue,
            workflow_queue=(
                SqsWorkflowQueue(boto3_client("sqs", settings), settings.workflow_queue_url)
                if settings.workflow_queue_url
                else None
            ),
        )
    return _built[settings]


def forget_dependencies() -> None:
    """Drops the built clients (tests that start a fresh AWS stand-in call this)."""
    _built.clear()
