"""Admins manage their program's webhooks (SPEC 6): save, list, read, delete, rotate the secret,
list deliveries, send one again. Every request stays inside the caller's program: another
program's webhook is not found, as if it did not exist. The rules are in
`functions.shared.domain.webhooks`; this module reads, asks them and writes."""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import replace
from datetime import datetime

from functions.shared import paging, replaces
from functions.shared.domain.webhooks import (
    SECRET_PREFIX,
    Delivery,
    Secrets,
    UrlRefused,
    Webhook,
    check_url,
    held_back,
    no_longer_subscribed,
    retried_by_hand,
)
from functions.shared.errors import Conflict, DomainError, InvalidInput, NotFound, StorageUnavailable
from functions.webhooks.models import (
    AttemptView,
    DeliveryPage,
    DeliveryView,
    PutWebhook,
    SecretRotated,
    WebhookPage,
    WebhookView,
)
from functions.webhooks.outside import try_message
from functions.webhooks.wiring import WebhookDeps

ATTEMPTS = 3  # a write refused by a concurrent one is decided again on a fresh read


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def checked_url(deps: WebhookDeps, url: str) -> None:
    try:
        check_url(url, deps.resolve, allow_loopback_http=deps.allow_loopback_http)
    except UrlRefused as refused:
        raise InvalidInput(f"url: {refused}", [{"field": "url", "message": str(refused)}]) from None


def put_webhook(deps: WebhookDeps, program_id: str, webhook_id: str, body: PutWebhook) -> WebhookView:
    """Creates the webhook (its secret in this answer alone), unless the program has as many as it
    may (`ProgramWebhooks.create`: 409), or changes its URL, events and `enabled` (enabling a
    webhook a receiver's 410 disabled turns it back on). Neither opens a secret. What the body says
    it `replaces` is checked against each read, and the write holds only while that read stands (a
    create on none being there, a change on the `updated_at` read): a webhook made or changed
    meanwhile is 409, nothing changed."""
    checked_url(deps, body.url)
    events = tuple(dict.fromkeys(body.events))
    seen = replaces.replaces_of(body)
    for _ in range(ATTEMPTS):
        now = deps.clock.now()
        try:
            current = deps.store.get_webhook(program_id, webhook_id)
        except NotFound:
            replaces.check(f"webhook {webhook_id}", seen, None)
            created = Webhook(
                program_id, webhook_id, body.url, events, body.enabled, now, now, Secrets.clear(new_secret())
            )
            creation = deps.store.program_webhooks(program_id).create(created)
            try:
                deps.store.create_webhook(creation)
            except Conflict:
                if _made(deps, created):  # a retry of this very write, refused as existing
                    return view(created, show_secret=True)
                continue  # a concurrent create won: change that one, or decide on the count again
            except StorageUnavailable:
                # its answer lost after the commit (a timeout): made all the same if what is there
                # is this one, whose secret only this answer can show (a retry, an update, shows none)
                if _made(deps, created):
                    return view(created, show_secret=True)
                raise
            return view(created, show_secret=True)
        try:
            replaces.check(f"webhook {webhook_id}", seen, current.updated_at)
        except Conflict:
            # a change read at a version since changed, to what is there already: a retry of this
            # change, its answer lost (or the same change made by a teammate). Not a create's retry
            # (`replaces` null): its secret was shown by no answer, and the 409 says it exists
            if isinstance(seen, datetime) and _as_asked(current, body.url, events, body.enabled):
                return view(current)
            raise
        changed = replace(
            current,
            url=body.url,
            events=events,
            enabled=body.enabled,
            updated_at=max(now, current.updated_at),
            disabled_reason=None if body.enabled else current.disabled_reason,
            silence=None,  # a receiver changed, or looked at, is tried afresh
            # its slowness kept, a new URL's too (it ends 10 minutes after the last slow try): ended
            # by any PUT, a program's admin could keep its slow receivers from being taken in turn
        )
        if changed.updated_at == current.updated_at:
            changed = replace(changed, updated_at=_later(current.updated_at))
        try:
            _replaced(deps, changed, current.updated_at)
        except (Conflict, NotFound):
            continue  # changed or deleted since read: decided again on what is there now
        return view(changed)
    raise Conflict(f"webhook {webhook_id} kept changing; try again")


def _as_asked(webhook: Webhook, url: str, events: tuple[str, ...], enabled: bool) -> bool:
    """The webhook already is what a change asks for."""
    return (webhook.url, webhook.events, webhook.enabled) == (url, events, enabled)


def _replaced(deps: WebhookDeps, changed: Webhook, expected_updated_at: datetime) -> None:
    """`replace_webhook`, and when its answer is lost after the commit (a timeout: 503), the
    webhook read again: the change stands if what is there is it (its version and secret), and is
    answered as made; a retry would otherwise be a 409 naming the caller's own change, or a second
    rotation whose secret no one ever saw, signing for 24 hours (a webhooks tester's)."""
    try:
        deps.store.replace_webhook(changed, expected_updated_at)
    except StorageUnavailable:
        try:
            found = deps.store.get_webhook(changed.program_id, changed.webhook_id)
        except DomainError:
            found = None
        if found is None or (found.updated_at, found.secret) != (changed.updated_at, changed.secret):
            raise


def _made(deps: WebhookDeps, created: Webhook) -> bool:
    """The webhook stored under `created`'s id is `created` itself: made at its moment, to its URL."""
    try:
        found = deps.store.get_webhook(created.program_id, created.webhook_id)
    except NotFound:
        return False
    return found.created_at == created.created_at and found.url == created.url


def _later(at: datetime) -> datetime:
    """A version stamp strictly after `at` (two changes within one clock tick stay apart)."""
    from datetime import timedelta

    return at + timedelta(microseconds=1)


def list_webhooks(deps: WebhookDeps, program_id: str) -> WebhookPage:
    return WebhookPage(items=[view(w) for w in deps.store.list_webhooks(program_id)])


def get_webhook(deps: WebhookDeps, program_id: str, webhook_id: str) -> WebhookView:
    return view(deps.store.get_webhook(program_id, webhook_id))


def delete_webhook(deps: WebhookDeps, program_id: str, webhook_id: str) -> None:
    """404 for a webhook there was not when asked; else gone when answered. Its answer lost after
    the commit (a timeout), or botocore's retry of it refused (the webhook gone), the webhook is read
    back, as a workflow's delete does (a faults tester's: answered 503, and its retry 404, or 404 at
    once, for a webhook it had deleted)."""
    deps.store.get_webhook(program_id, webhook_id)  # NotFound: none there (or another program's)
    try:
        deps.store.delete_webhook(program_id, webhook_id)
    except (StorageUnavailable, NotFound):
        try:
            deps.store.get_webhook(program_id, webhook_id)
        except NotFound:
            return
        raise


def rotate_secret(deps: WebhookDeps, program_id: str, webhook_id: str) -> SecretRotated:
    """A new secret; the old one keeps signing for 24 hours, as those retired before it do until
    their own 24 hours end (`Webhook.rotated`: receivers switch over in that time)."""
    for _ in range(ATTEMPTS):
        current = deps.store.get_webhook(program_id, webhook_id)
        rotated = current.rotated(new_secret(), max(deps.clock.now(), _later(current.updated_at)))
        try:
            _replaced(deps, rotated, current.updated_at)
        except Conflict:
            continue
        return SecretRotated(
            id=webhook_id, secret=rotated.secret, previous_secret_valid_until=rotated.retired[0].until
        )
    raise Conflict(f"webhook {webhook_id} kept changing; try again")


def list_deliveries(
    deps: WebhookDeps, program_id: str, webhook_id: str, limit: int, cursor: str | None = None
) -> DeliveryPage:
    """Newest first, a page at a time past the cursor's (created_at, delivery_id) position; a
    cursor is bound to the program and webhook that gave it."""
    webhook = deps.store.get_webhook(program_id, webhook_id)  # NotFound for another program's
    query = {"program_id": program_id, "webhook_id": webhook_id}
    before = None
    if cursor:
        at, delivery_id = paging.decode_cursor(cursor, query, (str, str))
        before = (paging.cursor_time(at), delivery_id)
    found = deps.store.list_deliveries(program_id, webhook_id, limit + 1, before)
    # a webhook deleted and made again under the same id does not show the old one's deliveries:
    # they are older than it, all at the end of the listing
    page, more = paging.read_page((d for d in found if webhook.made(d)), limit)
    last = page[-1] if page else None
    return DeliveryPage(
        items=[delivery_view(d, webhook) for d in page],
        next_cursor=paging.encode_cursor((last.created_at.isoformat(), last.delivery_id), query)
        if more and last
        else None,
    )


def retry_delivery(deps: WebhookDeps, program_id: str, webhook_id: str, delivery_id: str) -> DeliveryView:
    """Sends the delivery once again, now, with the same id and body (signed afresh). Not for a
    disabled webhook (409: it would send nothing), nor a delivery of a webhook deleted since whose
    id this one took (404, as its listing does not show it)."""
    webhook = deps.store.get_webhook(program_id, webhook_id)
    delivery = deps.store.get_delivery(program_id, webhook_id, delivery_id)
    if not webhook.made(delivery):
        raise NotFound(f"delivery {delivery_id} not found")
    if not webhook.enabled:
        why = f" ({webhook.disabled_reason})" if webhook.disabled_reason else ""
        raise Conflict(
            f"webhook {webhook_id} is disabled{why}: enable it (PUT with enabled true), then send again"
        )
    if (unsubscribed := no_longer_subscribed(webhook, delivery)) is not None:
        raise Conflict(f"{unsubscribed}: subscribe it (PUT with {delivery.type} in events), then send again")
    reopened = retried_by_hand(delivery, deps.clock.now(), deps.schedule)
    try:
        deps.store.save_delivery(reopened, delivery)
    except Conflict:
        raise Conflict(f"delivery {delivery_id} is being sent right now; try again") from None
    except StorageUnavailable:
        # its answer lost after the commit: reopened all the same if what is there is it, and then
        # its try is scheduled (else it said `pending` with no try on its way, until someone retried)
        if not _saved(deps, reopened):
            raise
    if webhook.silence is not None:
        # sent by hand, now: its receiver is taken to be back (were it not, the tries say so again);
        # best effort: not written, the try waits its turn as the others do
        with contextlib.suppress(DomainError):
            if deps.store.note_silence(webhook, None):
                webhook = replace(webhook, silence=None)  # as the answer's `held_back_because` says
    try:
        deps.queue.schedule(try_message(program_id, webhook_id, delivery_id, reopened.tries), 0)
    except DomainError:
        # nothing will send it: put it back as it was, so the 503 is true (nothing changed) and it
        # does not say `pending` for ever with no try on its way
        with contextlib.suppress(DomainError):
            deps.store.save_delivery(delivery, reopened)
        raise
    return delivery_view(reopened, webhook)


def _saved(deps: WebhookDeps, delivery: Delivery) -> bool:
    """The delivery stored under `delivery`'s id is `delivery` as written (its tries, status and
    next try); False when that cannot be read either."""
    try:
        found = deps.store.get_delivery(delivery.program_id, delivery.webhook_id, delivery.delivery_id)
    except DomainError:
        return False
    return (found.tries, found.status, found.next_attempt_at) == (
        delivery.tries,
        delivery.status,
        delivery.next_attempt_at,
    )


def view(webhook: Webhook, show_secret: bool = False) -> WebhookView:
    return WebhookView(
        id=webhook.webhook_id,
        url=webhook.url,
        events=list(webhook.events),
        enabled=webhook.enabled,
        created_at=webhook.created_at,
        updated_at=webhook.updated_at,
        disabled_reason=webhook.disabled_reason,
        receiver_silent_since=webhook.silence.since if webhook.silence and webhook.silence.silent else None,
        receiver_slow_since=webhook.slow.since if webhook.slow else None,
        secret=webhook.secret if show_secret else None,
    )


def delivery_view(delivery: Delivery, webhook: Webhook) -> DeliveryView:
    return DeliveryView(
        held_back_because=held_back(webhook, delivery),
        id=delivery.delivery_id,
        notification_id=delivery.notification_id,
        type=delivery.type,
        status=delivery.status,
        created_at=delivery.created_at,
        next_attempt_at=delivery.next_attempt_at,
        stopped_because=delivery.stopped,
        attempts=[
            AttemptView(number=a.number, at=a.at, answer_code=a.answer_code, outcome=a.outcome)  # type: ignore[arg-type]
            for a in delivery.attempts
        ],
    )
