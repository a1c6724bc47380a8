"""Deliveries (SPEC 6), run from the webhooks queue, which holds two kinds of message:

- a notification, as the bus's rule put it there: one delivery per subscribed webhook is made
  (its id derived from the webhook and the notification, so a notification arriving twice makes
  each delivery once), and its first try is scheduled at once;
- a scheduled try (`try_message`): the URL is checked again (DNS can change), the body signed with
  every valid secret and posted; the outcome is recorded on condition that nobody else recorded
  this try, and the next try scheduled with backoff. No Lambda ever sleeps: a wait is a delayed
  message. A try of a webhook whose receiver did not answer waits instead, unless it is the one
  that finds out whether the receiver is back (`gate`); a try of a slow receiver's waits while
  another try to one of its program's slow receivers is out (`slow_try_wait`).

At least once: a try whose outcome could not be recorded may be made again; receivers deduplicate
on the delivery id. A secret is never logged."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Literal

from functions.shared.documents import json_default
from functions.shared.domain.webhooks import (
    SEND_TIMEOUT_SECONDS,
    STOPPED_DISABLED,
    STOPPED_SLOW,
    Delivery,
    Silence,
    UrlRefused,
    Webhook,
    after_answer,
    after_attempt,
    check_url,
    delivery_id,
    gate,
    gone_again,
    no_longer_subscribed,
    paced,
    paused_wait,
    probe_taken,
    signature_header,
    slow_try_until,
    slow_try_wait,
    stopped_as,
)
from functions.shared.errors import Conflict, DomainError, NotFound
from functions.shared.observability import logger
from functions.webhooks.outside import try_message
from functions.webhooks.wiring import WebhookDeps

USER_AGENT = "fraud-management-webhooks/1"
EARLY = timedelta(milliseconds=100)  # delays are rounded up; this covers only clock differences
# how long past its time a try's message may still be on its way (a queue behind, a function throttled)
STRANDED_AFTER = timedelta(minutes=5)


def take_message(deps: WebhookDeps, body: str, receive_count: int = 1) -> None:
    """`receive_count`: SQS's count of this message's deliveries (more than 1: a run took it before
    and did not finish)."""
    message = json.loads(body)
    if message.get("kind") == "webhook_try":
        run_try(deps, message, receive_count)
    elif "detail-type" in message:
        fan_out(deps, message)
    else:
        logger.warning("webhooks queue: a message of no known kind dropped", extra={"keys": sorted(message)})


def lane_of(body: str) -> str | None:
    """What a queue message is about, for taking a batch's messages side by side (`deliver`): a
    notification by its program and id (as `fan_out` names it), or one delivery's try. None: not a
    message of ours (`take_message` says so)."""
    try:
        message = json.loads(body)
        if message.get("kind") == "webhook_try":
            return f"try {message.get('delivery_id')}"
        detail = message.get("detail") or {}
        return f"notification {detail.get('program_id')} {_notification_id(message, detail)}"
    except Exception:  # a body of any shape (a list, `[` nested 100,000 deep): alone in its lane
        return None


def _notification_id(event: dict[str, Any], detail: dict[str, Any]) -> str:
    # the outbox's notifications carry a stable id; one published straight to the bus has the
    # bus event's id, which is the same on every copy the rule delivers
    return str(detail.get("notification_id") or event.get("id"))


def fan_out(deps: WebhookDeps, event: dict[str, Any]) -> list[Delivery]:
    """One delivery per webhook of the program subscribed to the notification."""
    name, detail = str(event["detail-type"]), dict(event.get("detail") or {})
    program_id = detail.get("program_id")
    if not isinstance(program_id, str) or not program_id:
        logger.warning("a notification without a program: no webhook gets it", extra={"notification": name})
        return []
    notification_id = _notification_id(event, detail)
    detail.pop("notification_id", None)
    made_at = _made_at(detail.pop("created_at", None))
    made = []
    for webhook in deps.store.list_webhooks(program_id):
        if not webhook.wants(name):
            continue
        made.append(_deliver_to(deps, webhook, name, notification_id, detail, made_at))
    return made


def _made_at(value: Any) -> datetime | None:
    """When the notification was made (`changes.publish` sends it), read back; None for one sent
    without it (by a version before, or straight to the bus)."""
    try:
        at = datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
    return at if at is not None and at.tzinfo is not None else None


def _deliver_to(
    deps: WebhookDeps,
    webhook: Webhook,
    name: str,
    notification_id: str,
    data: dict[str, Any],
    made_at: datetime | None = None,
) -> Delivery:
    """`made_at`: when the notification was made, the body's `created_at` (every webhook's delivery
    of it says the same: a tester's, after an outage the time of the fan-out read as the event's);
    the time of the fan-out when unknown."""
    now = deps.clock.now()
    dlv = delivery_id(webhook.webhook_id, notification_id)
    payload = json.dumps(
        {
            "id": dlv,
            "notification_id": notification_id,
            "type": name,
            "created_at": json_default(made_at or now),  # as the API writes a time
            "program_id": webhook.program_id,
            "data": data,
        },
        separators=(",", ":"),
        sort_keys=True,
        default=json_default,
    )
    delivery = Delivery(
        webhook.program_id, webhook.webhook_id, dlv, notification_id, name, now, payload, next_attempt_at=now
    )
    stored, created = deps.store.create_delivery(delivery)
    if created or (stored.status == "pending" and stored.tries == 0):
        # a copy of the notification finding the delivery untried schedules its first try again
        # (the run that made it may have stopped before scheduling it); two copies try once
        deps.queue.schedule(try_message(webhook.program_id, webhook.webhook_id, dlv, 0), 0)
    return stored


def run_try(deps: WebhookDeps, message: dict[str, Any], receive_count: int = 1) -> Delivery | None:
    program_id, webhook_id = str(message["program_id"]), str(message["webhook_id"])
    dlv, tries = str(message["delivery_id"]), int(message["tries"])
    try:
        webhook = deps.store.get_webhook(program_id, webhook_id)
        delivery = deps.store.get_delivery(program_id, webhook_id, dlv)
    except NotFound:
        return None  # the webhook was deleted: nothing to send
    if delivery.status != "pending":
        if receive_count > 1 and delivery.tries == tries + 1:  # this try's run stopped after recording
            disabling = gone_again(webhook, delivery, deps.clock.now())  # it: a 410 left undone
            if disabling is not None and deps.store.disable_webhook(disabling):
                logger.info("webhook disabled: its receiver answered 410", extra={"webhook_id": webhook_id})
        return None
    if not webhook.made(delivery):
        return _stopped(deps, delivery, "made for a webhook deleted since, whose id another one took")
    if delivery.tries == tries + 1:
        # this try was recorded. A message delivered again (its run stopped after recording it,
        # maybe before scheduling the next): schedule the next (again). A first delivery is a
        # second copy of the try (a notification that came twice): the run that recorded it
        # scheduled the next, and a copy scheduling it too would send the next try twice at once;
        # unless that next try is long overdue (`stranded`): then it was never scheduled
        if receive_count > 1 or stranded(delivery, deps.clock.now()):
            _schedule_next(deps, delivery)
        return None
    if delivery.tries != tries:
        return None  # a stale copy: the delivery has moved on
    now = deps.clock.now()
    if delivery.next_attempt_at is not None and delivery.next_attempt_at - now > EARLY:
        # a wait longer than SQS can delay a message: one more hop
        deps.queue.schedule(message, (delivery.next_attempt_at - now).total_seconds())
        return None
    return attempt(deps, webhook, delivery, _waited(message))


def stranded(delivery: Delivery, now: datetime) -> bool:
    """Whether a pending delivery's next try is overdue by more than `STRANDED_AFTER`: its message
    never came. The webhooks queue refused the next try's message through a whole outage, the try's
    own message went to the dead-letter queue, and the operator redrove it, which SQS delivers with
    its receive count begun again, as a second copy of the try would come (a cloud-faults tester's:
    the delivery stayed `pending` for ever, the redrive doing nothing)."""
    return (
        delivery.status == "pending"
        and delivery.next_attempt_at is not None
        and now - delivery.next_attempt_at > STRANDED_AFTER
    )


def _waited(message: dict[str, Any]) -> int:
    """How many times in a row the try found its program's slow try taken (0 when not said, or
    said wrong: a message is ours, but a count is only a wait's length)."""
    waited = message.get("waited")
    return waited if isinstance(waited, int) and 0 <= waited <= 64 else 0


def attempt(deps: WebhookDeps, webhook: Webhook, delivery: Delivery, waited: int = 0) -> Delivery:
    """One try of `delivery` as `webhook` is now: no longer subscribed to its notification, it
    stops (disabled too: enabled again, it would not be sent); disabled, it waits untried (at its
    horizon, it stops); its receiver silent, it may wait; slow, it waits its turn (`waited`: the
    times it has already, in a row)."""
    if (why := no_longer_subscribed(webhook, delivery)) is not None:
        return _stopped(deps, delivery, why)
    if not webhook.enabled:
        wait = paused_wait(delivery, deps.clock.now(), deps.schedule)
        if wait is None:
            return _stopped(deps, delivery, STOPPED_DISABLED)
        _wait(deps, delivery, wait, "the webhook is disabled")
        return delivery
    now = deps.clock.now()
    passage = gate(webhook.silence, delivery, now, deps.schedule)
    if passage.probe is not None:  # this try finds out whether the receiver is back, if first
        if _claimed(deps, webhook, passage.probe):
            webhook = replace(webhook, silence=passage.probe)
        else:
            passage = probe_taken(delivery, now, deps.schedule)
    if not passage.send:
        _wait(deps, delivery, passage.wait_seconds, "its receiver did not answer")
        return delivery
    held = _slow_try(deps, webhook, delivery, now, waited)
    if held is False:
        return delivery
    started = deps.clock.now()
    try:
        answer_code = _post(deps, webhook, delivery)
    finally:
        if held is not None:
            _give_back(deps, webhook.program_id, held)
    answered_at = deps.clock.now()
    after = after_attempt(delivery, answer_code, answered_at, deps.schedule, made_with=webhook.updated_at)
    saved = _save(deps, after, delivery)
    _note_receiver(deps, webhook, answer_code, answered_at)
    _note_pace(deps, webhook, (answered_at - started).total_seconds(), answered_at)
    if not saved:
        return deps.store.get_delivery(delivery.program_id, delivery.webhook_id, delivery.delivery_id)
    if answer_code == 410:
        _disable(deps, webhook)
    if after.status == "pending":
        _schedule_next(deps, after)
    logger.info(
        "webhook try",
        extra={
            "webhook_id": webhook.webhook_id,
            "delivery_id": delivery.delivery_id,
            "try": after.tries,
            "answer_code": answer_code,
            "status": after.status,
        },
    )
    return after


def _wait(deps: WebhookDeps, delivery: Delivery, wait_seconds: float, because: str, waited: int = 0) -> None:
    """The try comes back later, not counted: its receiver has not answered since a try before it,
    or is slow and its turn has not come (`waited` times in a row), or its webhook is disabled."""
    message = try_message(
        delivery.program_id, delivery.webhook_id, delivery.delivery_id, delivery.tries, waited
    )
    deps.queue.schedule(message, wait_seconds)
    logger.info(
        f"webhook try waits: {because}",
        extra={"webhook_id": delivery.webhook_id, "delivery_id": delivery.delivery_id, "wait": wait_seconds},
    )


def _slow_try(
    deps: WebhookDeps, webhook: Webhook, delivery: Delivery, now: datetime, waited: int
) -> datetime | Literal[False] | None:
    """A slow receiver's try first takes its program's slow try: until when it holds it (given back
    after the post), or False when another holds it (this try waits, scheduled back; a claim the
    table refuses too, as a probe's; its turn not come by its horizon, the delivery stops). None:
    not a slow receiver."""
    if webhook.slow is None:
        return None
    until = slow_try_until(now)
    try:
        if deps.store.take_slow_try(webhook.program_id, now, until):
            return until
    except DomainError:
        logger.warning("webhook slow try not taken; the try waits", extra={"webhook_id": webhook.webhook_id})
    wait = slow_try_wait(delivery, now, deps.schedule, waited)
    if wait is None:
        _stopped(deps, delivery, STOPPED_SLOW)
        return False
    _wait(
        deps,
        delivery,
        wait,
        "its receiver is slow and another try to one of its program's slow receivers is out",
        waited + 1,
    )
    return False


def _give_back(deps: WebhookDeps, program_id: str, until: datetime) -> None:
    """Best effort: not given back, the slow try is free again at `until`."""
    try:
        deps.store.give_back_slow_try(program_id, until)
    except DomainError:
        logger.warning("webhook slow try not given back; it is free again at its end", extra={"until": until})


def _note_pace(deps: WebhookDeps, webhook: Webhook, took_seconds: float, at: datetime) -> None:
    """The receiver slow, or no longer, as this try found it, written when it changed (best effort,
    as its silence: not written, its next tries find out again)."""
    slow = paced(webhook.slow, took_seconds, at)
    if slow == webhook.slow:
        return
    try:
        deps.store.note_pace(webhook, slow)
    except DomainError:
        logger.warning("webhook receiver's pace not written", extra={"webhook_id": webhook.webhook_id})


def _claimed(deps: WebhookDeps, webhook: Webhook, probe: Silence) -> bool:
    """Whether this try is the probe: its claim written first. A claim the table refuses (a
    throttle) makes the try wait, as a claim lost does: its record is taken, its try on its way
    back (a failed record would come back until SQS gave it up to the dead-letter queue)."""
    try:
        return deps.store.note_silence(webhook, probe)
    except DomainError:
        logger.warning(
            "webhook probe's claim not written; the try waits", extra={"webhook_id": webhook.webhook_id}
        )
        return False


NOTE_ATTEMPTS = 3  # a try's note of its receiver, read again when a concurrent try's came first


def _note_receiver(deps: WebhookDeps, webhook: Webhook, answer_code: int | None, at: datetime) -> None:
    """The receiver's silence as this try found it, written when it changed, on what concurrent
    tries wrote (tries side by side, all missed, each counts). An answer whose try read no silence
    reads the webhook first: tries out beside it may have written their misses while it was out,
    and its answer ends those too (a receiver that answered is not silent). Best effort: the try is
    recorded either way; a silence not written costs later tries their wait, nothing more."""
    try:
        for tried in range(NOTE_ATTEMPTS):  # not `attempt`, this module's try of a delivery
            if tried or (answer_code is not None and webhook.silence is None):
                current = _read_again(deps, webhook)
                if current is None:
                    return  # changed or deleted since this try read it: what it found is of the old one
                webhook = current
            silence = after_answer(webhook.silence, answer_code, at, deps.schedule)
            if silence == webhook.silence or deps.store.note_silence(webhook, silence):
                return
        logger.info(
            "webhook receiver's silence not written: other tries kept writing theirs",
            extra={"webhook_id": webhook.webhook_id},
        )
    except DomainError:
        logger.warning("webhook receiver's silence not written", extra={"webhook_id": webhook.webhook_id})


def _read_again(deps: WebhookDeps, webhook: Webhook) -> Webhook | None:
    """The webhook as it is now, if it is still the one read (made then, unchanged since)."""
    try:
        current = deps.store.get_webhook(webhook.program_id, webhook.webhook_id)
    except NotFound:
        return None
    if (current.created_at, current.updated_at) != (webhook.created_at, webhook.updated_at):
        return None
    return current


def _stopped(deps: WebhookDeps, delivery: Delivery, why: str) -> Delivery:
    """The delivery failed without a try: no more are made (`why` is listed with it)."""
    stopped = stopped_as(delivery, why)
    _save(deps, stopped, delivery)
    logger.info("webhook delivery stopped", extra={"delivery_id": delivery.delivery_id, "why": why})
    return stopped


def _post(deps: WebhookDeps, webhook: Webhook, delivery: Delivery) -> int | None:
    """The receiver's answer code; None when there was none (or the URL may no longer be called).
    The whole try, the name's resolution included, within SEND_TIMEOUT_SECONDS."""
    started = time.monotonic()
    try:
        target = check_url(webhook.url, deps.resolve, allow_loopback_http=deps.allow_loopback_http)
    except UrlRefused as refused:
        logger.warning(
            "webhook URL refused at send time", extra={"webhook_id": webhook.webhook_id, "why": str(refused)}
        )
        return None
    body = delivery.payload.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Signature": signature_header(webhook.secrets_at(deps.clock.now()), body, deps.clock.now()),
        "X-Webhook-Delivery": delivery.delivery_id,
    }
    answer = deps.sender.post(target, body, headers, SEND_TIMEOUT_SECONDS - (time.monotonic() - started))
    if answer.status is None:
        logger.info(
            "webhook receiver did not answer", extra={"webhook_id": webhook.webhook_id, "error": answer.error}
        )
    return answer.status


def _save(deps: WebhookDeps, after: Delivery, before: Delivery) -> bool:
    try:
        deps.store.save_delivery(after, before)
    except Conflict:
        return False  # another copy of the message recorded this try first
    return True


def _schedule_next(deps: WebhookDeps, delivery: Delivery) -> None:
    assert delivery.next_attempt_at is not None
    wait = (delivery.next_attempt_at - deps.clock.now()).total_seconds()
    message = try_message(delivery.program_id, delivery.webhook_id, delivery.delivery_id, delivery.tries)
    deps.queue.schedule(message, max(0.0, wait))


def _disable(deps: WebhookDeps, webhook: Webhook) -> None:
    """A receiver that answers 410 Gone wants nothing more: the webhook is disabled (an admin may
    enable it again with PUT), if it is still the one this try read (`Webhook.gone`): not once
    re-pointed, or deleted and made again, meanwhile. One update of the flag: the secrets are not
    rewritten."""
    if deps.store.disable_webhook(webhook.gone(deps.clock.now())):
        logger.info("webhook disabled: its receiver answered 410", extra={"webhook_id": webhook.webhook_id})
