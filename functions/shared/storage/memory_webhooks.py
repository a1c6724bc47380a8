"""The webhooks port in memory: the same contract as `DynamoWebhooks`, under one lock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from functions.shared.domain.webhooks import (
    Creation,
    Delivery,
    Disabling,
    ProgramWebhooks,
    Silence,
    Slowness,
    Webhook,
)
from functions.shared.errors import Conflict, NotFound
from functions.shared.storage.port_webhooks import WebhooksPort


class InMemoryWebhooks(WebhooksPort):
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._webhooks: dict[tuple[str, str], Webhook] = {}
        self._made: dict[str, int] = {}  # per program: how many webhooks it ever made
        self._deliveries: dict[tuple[str, str, str], Delivery] = {}
        self._slow_tries: dict[str, datetime] = {}  # per program: until when its slow try is taken

    def program_webhooks(self, program_id: str) -> ProgramWebhooks:
        with self._lock:
            return ProgramWebhooks(
                program_id, tuple(self.list_webhooks(program_id)), self._made.get(program_id, 0)
            )

    def create_webhook(self, creation: Creation) -> None:
        webhook = creation.webhook
        with self._lock:
            slot = (webhook.program_id, webhook.webhook_id)
            if slot in self._webhooks:
                raise Conflict(f"webhook {webhook.webhook_id} exists")
            if self._made.get(webhook.program_id, 0) != creation.made_before:
                raise Conflict(f"creating webhook {webhook.webhook_id}: another was made meanwhile")
            self._made[webhook.program_id] = creation.made_before + 1
            self._webhooks[slot] = webhook

    def replace_webhook(self, webhook: Webhook, expected_updated_at: datetime) -> None:
        with self._lock:
            stored = self.get_webhook(webhook.program_id, webhook.webhook_id)
            if stored.updated_at != expected_updated_at:
                raise Conflict(f"webhook {webhook.webhook_id} changed meanwhile")
            self._webhooks[(webhook.program_id, webhook.webhook_id)] = webhook

    def get_webhook(self, program_id: str, webhook_id: str) -> Webhook:
        with self._lock:
            found = self._webhooks.get((program_id, webhook_id))
        if found is None:
            raise NotFound(f"webhook {webhook_id} not found")
        return found

    def list_webhooks(self, program_id: str) -> list[Webhook]:
        with self._lock:
            return sorted(
                (w for (p, _), w in self._webhooks.items() if p == program_id), key=lambda w: w.webhook_id
            )

    def delete_webhook(self, program_id: str, webhook_id: str) -> None:
        with self._lock:
            if self._webhooks.pop((program_id, webhook_id), None) is None:
                raise NotFound(f"webhook {webhook_id} not found")

    def disable_webhook(self, disabling: Disabling) -> bool:
        slot = (disabling.program_id, disabling.webhook_id)
        with self._lock:
            current = self._webhooks.get(slot)
            if current is None or not disabling.applies_to(current):
                return False
            self._webhooks[slot] = disabling.applied_to(current)
            return True

    def note_silence(self, webhook: Webhook, silence: Silence | None) -> bool:
        return self._note(webhook, lambda w: w.silence, lambda w: replace(w, silence=silence))

    def note_pace(self, webhook: Webhook, slow: Slowness | None) -> bool:
        return self._note(webhook, lambda w: w.slow, lambda w: replace(w, slow=slow))

    def _note(
        self, webhook: Webhook, part: Callable[[Webhook], object], changed: Callable[[Webhook], Webhook]
    ) -> bool:
        """The webhook `changed` while it is the one read (made then, unchanged since) and its `part`
        still as read; whether it was."""
        slot = (webhook.program_id, webhook.webhook_id)
        with self._lock:
            current = self._webhooks.get(slot)
            read = (webhook.created_at, webhook.updated_at, part(webhook))
            if current is None or (current.created_at, current.updated_at, part(current)) != read:
                return False
            self._webhooks[slot] = changed(current)
            return True

    def take_slow_try(self, program_id: str, now: datetime, until: datetime) -> bool:
        with self._lock:
            held = self._slow_tries.get(program_id)
            if held is not None and held > now:
                return False
            self._slow_tries[program_id] = until
            return True

    def give_back_slow_try(self, program_id: str, until: datetime) -> None:
        with self._lock:
            if self._slow_tries.get(program_id) == until:
                del self._slow_tries[program_id]

    def create_delivery(self, delivery: Delivery) -> tuple[Delivery, bool]:
        with self._lock:
            slot = (delivery.program_id, delivery.webhook_id, delivery.delivery_id)
            if slot in self._deliveries:
                return self._deliveries[slot], False
            self._deliveries[slot] = delivery
            return delivery, True

    def get_delivery(self, program_id: str, webhook_id: str, delivery_id: str) -> Delivery:
        with self._lock:
            found = self._deliveries.get((program_id, webhook_id, delivery_id))
        if found is None:
            raise NotFound(f"delivery {delivery_id} not found")
        return found

    def save_delivery(self, delivery: Delivery, expected: Delivery) -> None:
        with self._lock:
            stored = self.get_delivery(delivery.program_id, delivery.webhook_id, delivery.delivery_id)
            if (stored.tries, stored.status, stored.next_attempt_at) != (
                expected.tries,
                expected.status,
                expected.next_attempt_at,
            ):
                raise Conflict(f"delivery {delivery.delivery_id} changed meanwhile")
            self._deliveries[(delivery.program_id, delivery.webhook_id, delivery.delivery_id)] = delivery

    def list_deliveries(
        self, program_id: str, webhook_id: str, limit: int, before: tuple[datetime, str] | None = None
    ) -> list[Delivery]:
        with self._lock:
            found = [d for (p, w, _), d in self._deliveries.items() if (p, w) == (program_id, webhook_id)]
        found.sort(key=lambda d: (d.created_at, d.delivery_id), reverse=True)
        if before is not None:
            found = [d for d in found if (d.created_at, d.delivery_id) < before]
        return found[:limit]
