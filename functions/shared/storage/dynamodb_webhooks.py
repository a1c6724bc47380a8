"""The webhooks port on DynamoDB (pynamodb), in the one table (keys in `keys_webhooks.py`).

Webhook secrets are sealed before they are written (`SecretSealer`: KMS in AWS, moto's KMS
locally), with the program and webhook as encryption context, so a sealed secret copied onto
another webhook does not open. They are opened only when used (`Secrets`: signing, rotating), and
written back sealed as read while unchanged, so listing, reading, changing or disabling a webhook
calls no key service. AWS errors become domain errors in `dynamodb_base.domain_error`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from functions.shared.domain.webhooks import (
    Attempt,
    Creation,
    Delivery,
    Disabling,
    OpenSecrets,
    ProgramWebhooks,
    RetiredSecret,
    Secrets,
    Silence,
    Slowness,
    Webhook,
)
from functions.shared.errors import Conflict, NotFound
from functions.shared.sealing import WEBHOOK_SECRET_CONTEXT, SecretSealer
from functions.shared.storage import keys_webhooks as keys
from functions.shared.storage.dynamodb_base import (
    DynamoBase,
    Models,
    batch_items,
    condition_failed,
    domain_error,
)
from functions.shared.storage.dynamodb_base import build_models as build_base_models
from functions.shared.storage.port_webhooks import WebhooksPort

DELIVERY_RETENTION = timedelta(days=30)  # deliveries (and their listing) expire by TTL


def webhook_items(base: type[Model]) -> dict[str, type[Model]]:
    class WebhookItem(base, discriminator="webhook"):  # type: ignore[valid-type,misc,call-arg]
        program_id = UnicodeAttribute()
        webhook_id = UnicodeAttribute()
        url = UnicodeAttribute()
        events = ListAttribute(of=UnicodeAttribute)
        enabled = BooleanAttribute()
        created_at = UTCDateTimeAttribute()
        updated_at = UTCDateTimeAttribute()
        sealed_secret = UnicodeAttribute()
        # the retired secrets still signing, sealed together (one KMS call): JSON [[secret, until]]
        sealed_retired = UnicodeAttribute(null=True)
        # written before there could be several: the one retired secret (read, no longer written)
        sealed_previous_secret = UnicodeAttribute(null=True)
        previous_secret_until = UTCDateTimeAttribute(null=True)
        disabled_reason = UnicodeAttribute(null=True)
        silent_since = UTCDateTimeAttribute(null=True)  # `Silence`: its receiver did not answer
        silent_until = UTCDateTimeAttribute(null=True)
        silent_missed = NumberAttribute(null=True)
        silent_last = UTCDateTimeAttribute(null=True)
        slow_since = UTCDateTimeAttribute(null=True)  # `Slowness`: its receiver's tries are slow
        slow_last = UTCDateTimeAttribute(null=True)

    class WebhooksMadeItem(base, discriminator="webhooks_made"):  # type: ignore[valid-type,misc,call-arg]
        made = NumberAttribute()  # how many webhooks the program ever made: each creation moves it on

    class SlowTryItem(base, discriminator="webhooks_slow_try"):  # type: ignore[valid-type,misc,call-arg]
        until = UTCDateTimeAttribute(null=True)  # the program's slow try taken until then (absent: free)

    class DeliveryItem(base, discriminator="webhook_delivery"):  # type: ignore[valid-type,misc,call-arg]
        program_id = UnicodeAttribute()
        webhook_id = UnicodeAttribute()
        delivery_id = UnicodeAttribute()
        notification_id = UnicodeAttribute()
        type = UnicodeAttribute()
        created_at = UTCDateTimeAttribute()
        payload = UnicodeAttribute()
        status = UnicodeAttribute()
        tries = NumberAttribute()
        attempts = UnicodeAttribute()  # JSON list of every try
        next_attempt_at = UTCDateTimeAttribute(null=True)
        horizon = UTCDateTimeAttribute(null=True)
        stopped = UnicodeAttribute(null=True)  # why it failed without a try (Delivery.stopped)

    class DeliveryListingItem(base, discriminator="webhook_delivery_listing"):  # type: ignore[valid-type,misc,call-arg]
        delivery_id = UnicodeAttribute()

    return {
        "webhook": WebhookItem,
        "webhooks_made": WebhooksMadeItem,
        "slow_try": SlowTryItem,
        "delivery": DeliveryItem,
        "delivery_listing": DeliveryListingItem,
    }


def build_models(table_name: str, host: str | None = None, region: str = "us-east-1") -> Models:
    return build_base_models(table_name, (webhook_items,), host, region)


def _retired_text(retired: tuple[RetiredSecret, ...]) -> str:
    return json.dumps([[r.secret, r.until.isoformat()] for r in retired])


def _context(program_id: str, webhook_id: str) -> dict[str, str]:
    return dict(zip(WEBHOOK_SECRET_CONTEXT, (program_id, webhook_id), strict=True))


@dataclass(frozen=True)
class _Sealed:
    """A webhook item's secrets as stored (`Secrets.sealed`), bound to their webhook."""

    context: tuple[str, str]  # (program, webhook): what they were sealed for
    secret: str
    retired: str | None = None  # the retired secrets still signing, sealed together
    previous: str | None = None  # an item's one retired secret, from before there could be several
    previous_until: datetime | None = None


class DynamoWebhooks(DynamoBase, WebhooksPort):
    def __init__(self, models: Models, sealer: SecretSealer) -> None:
        super().__init__(models)
        self._sealer = sealer

    # --- webhooks ------------------------------------------------------------------------------
    def _webhook_item(self, webhook: Webhook) -> Any:
        sealed = webhook.secrets.sealed
        if not isinstance(sealed, _Sealed) or sealed.context != (webhook.program_id, webhook.webhook_id):
            sealed = self._seal(webhook.secrets.opened, webhook.program_id, webhook.webhook_id)
        return self._m.webhook(
            keys.webhooks_pk(webhook.program_id),
            keys.webhook_sk(webhook.webhook_id),
            program_id=webhook.program_id,
            webhook_id=webhook.webhook_id,
            url=webhook.url,
            events=list(webhook.events),
            enabled=webhook.enabled,
            created_at=webhook.created_at,
            updated_at=webhook.updated_at,
            sealed_secret=sealed.secret,
            sealed_retired=sealed.retired,
            sealed_previous_secret=sealed.previous,
            previous_secret_until=sealed.previous_until,
            disabled_reason=webhook.disabled_reason,
            silent_since=webhook.silence.since if webhook.silence else None,
            silent_until=webhook.silence.until if webhook.silence else None,
            silent_missed=webhook.silence.missed if webhook.silence else None,
            silent_last=webhook.silence.last if webhook.silence else None,
            slow_since=webhook.slow.since if webhook.slow else None,
            slow_last=webhook.slow.last if webhook.slow else None,
        )

    def _seal(self, secrets: OpenSecrets, program_id: str, webhook_id: str) -> _Sealed:
        context = _context(program_id, webhook_id)
        return _Sealed(
            (program_id, webhook_id),
            self._sealer.seal(secrets.current, context),
            self._sealer.seal(_retired_text(secrets.retired), context) if secrets.retired else None,
        )

    def _webhook(self, item: Any) -> Webhook:
        sealed = _Sealed(
            (item.program_id, item.webhook_id),
            item.sealed_secret,
            item.sealed_retired,
            item.sealed_previous_secret,
            item.previous_secret_until,
        )
        return Webhook(
            program_id=item.program_id,
            webhook_id=item.webhook_id,
            url=item.url,
            events=tuple(item.events or ()),
            enabled=bool(item.enabled),
            created_at=item.created_at,
            updated_at=item.updated_at,
            secrets=Secrets(lambda: self._open(sealed), sealed),
            disabled_reason=item.disabled_reason,
            silence=Silence(
                item.silent_since, item.silent_until, int(item.silent_missed or 1), item.silent_last
            )
            if item.silent_since and item.silent_until
            else None,
            slow=Slowness(item.slow_since, item.slow_last) if item.slow_since and item.slow_last else None,
        )

    def _open(self, sealed: _Sealed) -> OpenSecrets:
        """A call to the key service per sealed value (the retired secrets are sealed together)."""
        context = _context(*sealed.context)
        retired: tuple[RetiredSecret, ...] = ()
        if sealed.retired:
            retired = tuple(
                RetiredSecret(secret, datetime.fromisoformat(until))
                for secret, until in json.loads(self._sealer.open(sealed.retired, context))
            )
        elif sealed.previous and sealed.previous_until:
            retired = (RetiredSecret(self._sealer.open(sealed.previous, context), sealed.previous_until),)
        return OpenSecrets(self._sealer.open(sealed.secret, context), retired)

    def program_webhooks(self, program_id: str) -> ProgramWebhooks:
        # the count first: a creation this reading misses (not in the listing) has moved it on
        made = self._get(self._m.webhooks_made, keys.webhooks_pk(program_id), keys.WEBHOOKS_MADE_SK)
        webhooks = tuple(self.list_webhooks(program_id))
        return ProgramWebhooks(program_id, webhooks, int(made.made) if made is not None else 0)

    def create_webhook(self, creation: Creation) -> None:
        webhook = creation.webhook
        made = self._m.webhooks_made
        counted = made(
            keys.webhooks_pk(webhook.program_id), keys.WEBHOOKS_MADE_SK, made=creation.made_before + 1
        )
        unchanged = (
            made.made == creation.made_before if creation.made_before else self._m.base.pk.does_not_exist()
        )
        try:
            with TransactWrite(connection=self._m.connection()) as tx:
                tx.save(self._webhook_item(webhook), condition=self._m.base.pk.does_not_exist())
                tx.save(counted, condition=unchanged)
        except PynamoDBException as exc:
            raise domain_error(
                exc, f"creating webhook {webhook.webhook_id}: it exists, or another was made meanwhile"
            ) from exc

    def replace_webhook(self, webhook: Webhook, expected_updated_at: datetime) -> None:
        try:
            self._webhook_item(webhook).save(condition=self._m.webhook.updated_at == expected_updated_at)
        except PynamoDBException as exc:
            if condition_failed(exc):
                self.get_webhook(webhook.program_id, webhook.webhook_id)  # NotFound when it is gone
                raise Conflict(f"webhook {webhook.webhook_id} changed meanwhile") from exc
            raise domain_error(exc, f"writing webhook {webhook.webhook_id} failed") from exc

    def get_webhook(self, program_id: str, webhook_id: str) -> Webhook:
        item = self._get(self._m.webhook, keys.webhooks_pk(program_id), keys.webhook_sk(webhook_id))
        if item is None:
            raise NotFound(f"webhook {webhook_id} not found")
        return self._webhook(item)

    def list_webhooks(self, program_id: str) -> list[Webhook]:
        try:
            query = self._m.webhook.query(
                keys.webhooks_pk(program_id),
                self._m.base.sk.startswith(keys.WEBHOOK_SK_PREFIX),
                consistent_read=True,
            )
            return [self._webhook(item) for item in query]
        except PynamoDBException as exc:
            raise domain_error(exc, "listing webhooks failed") from exc

    def delete_webhook(self, program_id: str, webhook_id: str) -> None:
        item = self._m.webhook(keys.webhooks_pk(program_id), keys.webhook_sk(webhook_id))
        try:
            item.delete(condition=self._m.base.pk.exists())
        except PynamoDBException as exc:
            if condition_failed(exc):
                raise NotFound(f"webhook {webhook_id} not found") from exc
            raise domain_error(exc, f"deleting webhook {webhook_id} failed") from exc

    def disable_webhook(self, disabling: Disabling) -> bool:
        hook = self._m.webhook
        item = hook(keys.webhooks_pk(disabling.program_id), keys.webhook_sk(disabling.webhook_id))
        # `Disabling.applies_to` as a condition: the webhook the try read, unchanged and enabled
        applies = (
            self._m.base.pk.exists()
            & (hook.enabled == True)  # noqa: E712 (a condition)
            & (hook.created_at == disabling.created_at)
            & (hook.updated_at == disabling.updated_at)
        )
        try:
            item.update(
                actions=[
                    hook.enabled.set(False),
                    hook.disabled_reason.set(disabling.reason),
                    hook.updated_at.set(disabling.at),
                ],
                condition=applies,
            )
        except PynamoDBException as exc:
            if condition_failed(exc):
                return False
            raise domain_error(exc, f"disabling webhook {disabling.webhook_id} failed") from exc
        return True

    def note_silence(self, webhook: Webhook, silence: Silence | None) -> bool:
        hook = self._m.webhook
        read = webhook.silence
        still = (
            (hook.silent_since == read.since)
            & (hook.silent_until == read.until)
            # one miss: also as written before misses were counted (no `silent_missed`)
            & (
                (hook.silent_missed == read.missed) | hook.silent_missed.does_not_exist()
                if read.missed == 1
                else hook.silent_missed == read.missed
            )
            if read is not None
            else hook.silent_until.does_not_exist()
        )
        actions = (
            [
                hook.silent_since.set(silence.since),
                hook.silent_until.set(silence.until),
                hook.silent_missed.set(silence.missed),
                hook.silent_last.set(silence.last) if silence.last else hook.silent_last.remove(),
            ]
            if silence is not None
            else [
                hook.silent_since.remove(),
                hook.silent_until.remove(),
                hook.silent_missed.remove(),
                hook.silent_last.remove(),
            ]
        )
        return self._note(webhook, actions, still, "silent")

    def _note(self, webhook: Webhook, actions: list[Any], still: Any, what: str) -> bool:
        """`actions` on the webhook's item while it is the one read (made then, unchanged since) and
        `still` holds; whether they were written."""
        hook = self._m.webhook
        item = hook(keys.webhooks_pk(webhook.program_id), keys.webhook_sk(webhook.webhook_id))
        unchanged = (hook.created_at == webhook.created_at) & (hook.updated_at == webhook.updated_at)
        try:
            item.update(actions=actions, condition=self._m.base.pk.exists() & unchanged & still)
        except PynamoDBException as exc:
            if condition_failed(exc):
                return False
            raise domain_error(exc, f"noting webhook {webhook.webhook_id}'s receiver {what} failed") from exc
        return True

    def note_pace(self, webhook: Webhook, slow: Slowness | None) -> bool:
        hook = self._m.webhook
        actions = (
            [hook.slow_since.set(slow.since), hook.slow_last.set(slow.last)]
            if slow is not None
            else [hook.slow_since.remove(), hook.slow_last.remove()]
        )
        read = webhook.slow
        still = (
            (hook.slow_since == read.since) & (hook.slow_last == read.last)
            if read is not None
            else hook.slow_since.does_not_exist()
        )
        return self._note(webhook, actions, still, "slow")

    def take_slow_try(self, program_id: str, now: datetime, until: datetime) -> bool:
        slow = self._m.slow_try
        item = slow(keys.webhooks_pk(program_id), keys.WEBHOOKS_SLOW_TRY_SK)
        try:
            item.update(
                actions=[slow.item_type.set(slow), slow.until.set(until)],  # type: ignore[attr-defined]
                condition=slow.until.does_not_exist() | (slow.until <= now),
            )
        except PynamoDBException as exc:
            if condition_failed(exc):
                return False
            raise domain_error(exc, "taking the program's slow webhook try failed") from exc
        return True

    def give_back_slow_try(self, program_id: str, until: datetime) -> None:
        slow = self._m.slow_try
        item = slow(keys.webhooks_pk(program_id), keys.WEBHOOKS_SLOW_TRY_SK)
        try:
            item.update(actions=[slow.until.remove()], condition=slow.until == until)
        except PynamoDBException as exc:
            if condition_failed(exc):
                return  # its hold ran out and another try took it: that one gives it back
            raise domain_error(exc, "giving back the program's slow webhook try failed") from exc

    # --- deliveries ----------------------------------------------------------------------------
    def _delivery_item(self, delivery: Delivery) -> Any:
        return self._m.delivery(
            keys.deliveries_pk(delivery.program_id, delivery.webhook_id),
            keys.delivery_sk(delivery.delivery_id),
            program_id=delivery.program_id,
            webhook_id=delivery.webhook_id,
            delivery_id=delivery.delivery_id,
            notification_id=delivery.notification_id,
            type=delivery.type,
            created_at=delivery.created_at,
            payload=delivery.payload,
            status=delivery.status,
            tries=delivery.tries,
            attempts=json.dumps([_attempt_json(a) for a in delivery.attempts]),
            next_attempt_at=delivery.next_attempt_at,
            horizon=delivery.horizon,
            stopped=delivery.stopped,
            expires_at=int((delivery.created_at + DELIVERY_RETENTION).timestamp()),
        )

    def create_delivery(self, delivery: Delivery) -> tuple[Delivery, bool]:
        listing = self._m.delivery_listing(
            keys.deliveries_pk(delivery.program_id, delivery.webhook_id),
            keys.delivery_list_sk(delivery.created_at, delivery.delivery_id),
            delivery_id=delivery.delivery_id,
            expires_at=int((delivery.created_at + DELIVERY_RETENTION).timestamp()),
        )
        try:
            with TransactWrite(connection=self._m.connection()) as tx:
                tx.save(self._delivery_item(delivery), condition=self._m.base.pk.does_not_exist())
                tx.save(listing)
        except PynamoDBException as exc:
            error = domain_error(exc, f"recording delivery {delivery.delivery_id}")
            if not isinstance(error, Conflict):
                raise error from exc
            return self.get_delivery(delivery.program_id, delivery.webhook_id, delivery.delivery_id), False
        return delivery, True

    def get_delivery(self, program_id: str, webhook_id: str, delivery_id: str) -> Delivery:
        item = self._get(
            self._m.delivery, keys.deliveries_pk(program_id, webhook_id), keys.delivery_sk(delivery_id)
        )
        if item is None:
            raise NotFound(f"delivery {delivery_id} not found")
        return _delivery(item)

    def save_delivery(self, delivery: Delivery, expected: Delivery) -> None:
        d = self._m.delivery
        condition = (d.tries == expected.tries) & (d.status == expected.status)
        if expected.next_attempt_at is None:
            condition &= d.next_attempt_at.does_not_exist()
        else:
            condition &= d.next_attempt_at == expected.next_attempt_at
        try:
            self._delivery_item(delivery).save(condition=condition)
        except PynamoDBException as exc:
            raise domain_error(exc, f"delivery {delivery.delivery_id} changed meanwhile") from exc

    def list_deliveries(
        self, program_id: str, webhook_id: str, limit: int, before: tuple[datetime, str] | None = None
    ) -> list[Delivery]:
        pk = keys.deliveries_pk(program_id, webhook_id)
        sk = self._m.base.sk
        # past the position: its own listing entry is the first the range gives back (inclusive)
        listed = (
            sk.between(keys.DELIVERY_LIST_SK_PREFIX, keys.delivery_list_sk(*before))
            if before is not None
            else sk.startswith(keys.DELIVERY_LIST_SK_PREFIX)
        )
        try:
            listing = self._m.delivery_listing.query(
                pk,
                listed,
                scan_index_forward=False,
                limit=limit + (1 if before is not None else 0),
            )
            ids = [item.delivery_id for item in listing if before is None or item.delivery_id != before[1]]
            ids = ids[:limit]
            if not ids:
                return []
            found = {
                item.delivery_id: _delivery(item)
                for item in batch_items(
                    self._m.delivery,
                    [(pk, keys.delivery_sk(i)) for i in ids],
                    what="listing deliveries",
                    consistent=False,
                )
            }
        except PynamoDBException as exc:
            raise domain_error(exc, "listing deliveries failed") from exc
        return [found[i] for i in ids if i in found]


def _attempt_json(attempt: Attempt) -> dict[str, Any]:
    found: dict[str, Any] = {
        "number": attempt.number,
        "at": attempt.at.isoformat(),
        "answer_code": attempt.answer_code,
        "outcome": attempt.outcome,
    }
    if attempt.webhook_version is not None:
        found["webhook_version"] = attempt.webhook_version.isoformat()
    return found


def _delivery(item: Any) -> Delivery:
    attempts = tuple(
        Attempt(
            a["number"],
            datetime.fromisoformat(a["at"]),
            a["answer_code"],
            a["outcome"],
            datetime.fromisoformat(a["webhook_version"]) if a.get("webhook_version") else None,
        )
        for a in json.loads(item.attempts or "[]")
    )
    return Delivery(
        program_id=item.program_id,
        webhook_id=item.webhook_id,
        delivery_id=item.delivery_id,
        notification_id=item.notification_id,
        type=item.type,
        created_at=item.created_at,
        payload=item.payload,
        status=item.status,
        attempts=attempts,
        next_attempt_at=item.next_attempt_at,
        horizon=item.horizon,
        stopped=item.stopped,
    )
