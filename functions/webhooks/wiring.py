"""The webhooks function's collaborators, built from validated settings on first use and kept for
warm invocations (clients only, never state). Tests hand in their own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from functions.shared.clock import Clock, SystemClock
from functions.shared.config import Settings
from functions.shared.domain.webhooks import RetrySchedule
from functions.shared.runtime import boto3_client
from functions.shared.storage.port_webhooks import WebhooksPort
from functions.webhooks.outside import PinnedHttpSender, Sender, SqsTryQueue, TryQueue, resolve
from functions.webhooks.settings import WebhookSettings


@dataclass
class WebhookDeps:
    store: WebhooksPort
    queue: TryQueue
    clock: Clock
    schedule: RetrySchedule
    resolve: Callable[[str, int], list[str]]
    sender: Sender
    allow_loopback_http: bool = False


_built: dict[tuple[Settings, WebhookSettings], WebhookDeps] = {}


def webhook_deps() -> WebhookDeps:
    settings, hooks = Settings.from_env(), WebhookSettings.from_env()
    if (settings, hooks) not in _built:
        from functions.shared.sealing import KmsSealer
        from functions.shared.storage.dynamodb_webhooks import DynamoWebhooks, build_models

        store = DynamoWebhooks(
            build_models(settings.table_name, settings.endpoint_url, settings.region),
            KmsSealer(boto3_client("kms", settings), hooks.kms_key_id),
        )
        _built[(settings, hooks)] = WebhookDeps(
            store=store,
            queue=SqsTryQueue(boto3_client("sqs", settings), hooks.queue_url),
            clock=SystemClock(),
            schedule=hooks.schedule,
            resolve=resolve,
            sender=PinnedHttpSender(),
            allow_loopback_http=hooks.allow_loopback_http,
        )
    return _built[(settings, hooks)]


def forget_webhook_deps() -> None:
    _built.clear()
