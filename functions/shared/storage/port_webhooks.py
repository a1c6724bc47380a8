"""The webhooks port (SPEC 6): a program's webhooks and their deliveries, in domain terms.

Two stores implement it: `DynamoWebhooks` (pynamodb, secrets sealed with KMS) and
`InMemoryWebhooks`. Neither decides anything: `functions.shared.domain.webhooks` does; the stores
apply its decisions with conditions, so two writers never both win."""

from __future__ import annotations

import abc
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


class WebhooksPort(abc.ABC):
    @abc.abstractmethod
    def program_webhooks(self, program_id: str) -> ProgramWebhooks:
        """The program's webhooks and how many it ever made, to decide a creation on."""

    @abc.abstractmethod
    def create_webhook(self, creation: Creation) -> None:
        """Writes the new webhook while the program has made no other since the creation was decided
        on; Conflict when its id is taken or another was made meanwhile (a concurrent create won)."""

    @abc.abstractmethod
    def replace_webhook(self, webhook: Webhook, expected_updated_at: datetime) -> None:
        """Writes the webhook if it is still as read (`updated_at`); Conflict otherwise, NotFound
        when it is gone."""

    @abc.abstractmethod
    def get_webhook(self, program_id: str, webhook_id: str) -> Webhook:
        """Raises NotFound. Its secrets stay sealed until used (`Secrets`)."""

    @abc.abstractmethod
    def list_webhooks(self, program_id: str) -> list[Webhook]:
        """A program's webhooks, by id (a program has few: one query)."""

    @abc.abstractmethod
    def delete_webhook(self, program_id: str, webhook_id: str) -> None:
        """Raises NotFound."""

    @abc.abstractmethod
    def disable_webhook(self, disabling: Disabling) -> bool:
        """Disables the webhook (its secrets untouched) while the disabling applies to it
        (`Disabling.applies_to`: the webhook the try read, unchanged and enabled); whether this call
        did it. A webhook changed, disabled, deleted or made again since is left as it is."""

    @abc.abstractmethod
    def note_silence(self, webhook: Webhook, silence: Silence | None) -> bool:
        """Sets the webhook's `silence` (None: clears it) while the webhook is the one read (made at
        its `created_at`, unchanged since: its `updated_at`, so a try to the URL before a PUT
        silences nothing after it) and its silence is still the one read (`webhook.silence`);
        whether this call wrote it. Nothing else of the webhook changes, its `updated_at` neither."""

    @abc.abstractmethod
    def note_pace(self, webhook: Webhook, slow: Slowness | None) -> bool:
        """Sets the webhook's `slow` (None: clears it) while the webhook is the one read (made at its
        `created_at`, unchanged since: its `updated_at`) and its slowness is still the one read
        (`webhook.slow`); whether this call wrote it. Nothing else of the webhook changes, its
        `updated_at` neither."""

    @abc.abstractmethod
    def take_slow_try(self, program_id: str, now: datetime, until: datetime) -> bool:
        """Takes the program's one slow try until `until`, unless another holds it (its own `until`
        not yet past at `now`); whether this call took it. Exactly one of concurrent takers wins."""

    @abc.abstractmethod
    def give_back_slow_try(self, program_id: str, until: datetime) -> None:
        """Gives the program's slow try back, if it is still the one taken until `until` (a taker
        whose hold ran out gives back nothing of the next one's)."""

    @abc.abstractmethod
    def create_delivery(self, delivery: Delivery) -> tuple[Delivery, bool]:
        """Stores the delivery unless its id is taken; returns the stored one and whether it was
        created. Exactly one of concurrent writers of one id gets True."""

    @abc.abstractmethod
    def get_delivery(self, program_id: str, webhook_id: str, delivery_id: str) -> Delivery:
        """Raises NotFound."""

    @abc.abstractmethod
    def save_delivery(self, delivery: Delivery, expected: Delivery) -> None:
        """Writes the delivery if its tries and status are still those of `expected`; Conflict
        otherwise (another copy of the message got there first)."""

    @abc.abstractmethod
    def list_deliveries(
        self, program_id: str, webhook_id: str, limit: int, before: tuple[datetime, str] | None = None
    ) -> list[Delivery]:
        """A webhook's deliveries, newest first, at most `limit`; with `before`, those listed after
        that (created_at, delivery_id) position."""
