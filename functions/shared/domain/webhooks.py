"""Webhooks (SPEC 6): what a webhook and a delivery are, and every rule about them, decided here
once and applied by the stores and the delivery function.

- one delivery per (webhook, notification): its id is derived from both, so a notification that
  reaches the webhooks queue twice makes one delivery, and the id stays the same across retries;
- the signature: `t=<unix seconds>,v1=<hex>` with one `v1=` per valid secret (a retired secret keeps
  signing for 24 hours after the rotation that retired it, however many rotations follow);
- how many webhooks a program may have (WEBHOOKS_PER_PROGRAM: each notification fans out to every
  subscribed webhook, each delivery retried for 24 hours);
- the retry schedule: exponential backoff with jitter until the horizon (24 hours), then `failed`;
  an answer 410 disables the webhook, unless it changed since the try read it;
- a receiver that did not answer is tried by one delivery at a time (`Silence`, `gate`): the others
  wait without a try, so its silence costs the shared delivery function one wait, not one a try;
- a slow receiver (`paced`) is tried one try at a time per program (`slow_try_wait`): one program's
  slow receivers hold one of the shared function's runs, not all of them;
- which URLs may be called (SSRF): `https://` to public addresses only, checked when saved and again
  when sent.

Pure: no boto3, no sockets (name resolution is handed in)."""

from __future__ import annotations

import hashlib
import ipaddress
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args
from urllib.parse import urlsplit

from functions.shared import signatures
from functions.shared.domain.model import OpenedOnUse
from functions.shared.errors import Conflict
from functions.shared.signatures import SECRET_OVERLAP

# The notifications a webhook may subscribe to (SPEC 6).
NotificationName = Literal[
    "PartnerFlagged",
    "CustomerFlagged",
    "RewardsHeld",
    "DisputeOpened",
    "DisputeResolved",
    "PartnerRemoved",
    "CustomerSuspended",
    "CustomerBlocked",
    "LoyaltyCommunication",
]
NOTIFICATION_NAMES: tuple[str, ...] = get_args(NotificationName)
RETIRED_SECRETS_SIGNING = 9  # at most this many retired secrets sign beside the current one
SEND_TIMEOUT_SECONDS = 10.0
# a name's resolution at a try, within the try's SEND_TIMEOUT_SECONDS (getaddrinfo has no timeout)
RESOLVE_TIMEOUT_SECONDS = 2.0
ANSWER_BYTES_KEPT = 4096  # of a receiver's answer body: read at most this much, keep none of it
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, no secret)
# A program's webhooks at most: one notification makes a delivery per subscribed webhook, each
# retried for 24 hours, so the count bounds what one flag costs (and what a receiver is sent)
WEBHOOKS_PER_PROGRAM = 20
GONE_REASON = "the receiver answered 410 Gone"

DeliveryStatus = Literal["pending", "delivered", "failed"]


def _next_second(at: datetime) -> datetime:
    """`at` in UTC, rounded up to a whole second (a time said to the second is not before it)."""
    whole = at.astimezone(UTC).replace(microsecond=0)
    return whole if whole == at else whole + timedelta(seconds=1)


@dataclass(frozen=True)
class RetiredSecret:
    """A secret replaced by a rotation: it signs beside the current one until `until`."""

    secret: str
    until: datetime


@dataclass(frozen=True)
class OpenSecrets:
    """A webhook's secrets in clear: the current one, and those retired (newest first)."""

    current: str
    retired: tuple[RetiredSecret, ...] = ()


class Secrets(OpenedOnUse[OpenSecrets]):
    """A webhook's secrets as a store hands them over: a webhook read to be listed, shown, changed
    or disabled never opens them; signing a delivery and rotating do (`OpenedOnUse`)."""

    @staticmethod
    def clear(current: str, retired: tuple[RetiredSecret, ...] = ()) -> Secrets:
        opened = OpenSecrets(current, retired)
        return Secrets(lambda: opened)


@dataclass(frozen=True)
class Webhook:
    program_id: str
    webhook_id: str
    url: str
    events: tuple[str, ...]
    enabled: bool
    created_at: datetime
    updated_at: datetime
    secrets: Secrets  # the stores keep them encrypted
    disabled_reason: str | None = None
    silence: Silence | None = None  # its receiver's last tries got no answer (`gate`)
    slow: Slowness | None = None  # its receiver's tries have taken SLOW_TRY_SECONDS (`paced`)

    @property
    def secret(self) -> str:
        return self.secrets.opened.current

    @property
    def retired(self) -> tuple[RetiredSecret, ...]:
        """Newest first."""
        return self.secrets.opened.retired

    def secrets_at(self, at: datetime) -> list[str]:
        """The secrets that sign at `at`: the current one, then each retired one until its end."""
        return [self.secret, *(r.secret for r in self.retired if at < r.until)]

    def rotated(self, secret: str, now: datetime) -> Webhook:
        """`secret` signs from `now`; the current one is retired and keeps signing for 24 hours, as
        every secret retired in the 24 hours before does (a receiver that has not switched over
        yet keeps verifying). Retired secrets past their 24 hours are forgotten. More than
        RETIRED_SECRETS_SIGNING still signing would make every signature that much longer: a
        rotation beyond that is refused (Conflict) and says when the next one is possible."""
        signing = tuple(r for r in self.retired if now < r.until)
        if len(signing) >= RETIRED_SECRETS_SIGNING:
            raise Conflict(
                f"webhook {self.webhook_id} was rotated {len(signing)} times in the last 24 hours and "
                f"{len(signing) + 1} secrets still sign its deliveries; the next rotation is possible "
                f"from {_next_second(min(r.until for r in signing)):%Y-%m-%dT%H:%M:%SZ}"
            )
        retiring = RetiredSecret(self.secret, now + SECRET_OVERLAP)
        # a webhook written whole leaves its silence: written back as read, a silence a probe ended
        # meanwhile came back, and held every try up to 15 minutes (at worst, one try more waits)
        return replace(
            self, secrets=Secrets.clear(secret, (retiring, *signing)), updated_at=now, silence=None
        )

    def wants(self, notification_name: str) -> bool:
        return self.enabled and notification_name in self.events

    def made(self, delivery: Delivery) -> bool:
        """Whether `delivery` is this webhook's: made after it was. An older one was made for a
        webhook deleted since, whose id this one took: never sent, listed or retried by it (its
        receiver did not subscribe to what happened before it existed, nor has it the secret)."""
        return delivery.created_at >= self.created_at

    def gone(self, now: datetime) -> Disabling:
        """Its receiver answered 410 Gone to a try made with this webhook as read: it is disabled
        (`Disabling`), its version stamp moved on past the one read."""
        return Disabling.gone(self, self.updated_at, now)


@dataclass(frozen=True)
class Disabling:
    """A webhook disabled because a try's receiver answered 410, decided on the webhook as that try
    read it. It applies only while the webhook is still that one, unchanged (same creation, same
    `updated_at`) and enabled: a 410 from the old receiver of a webhook re-pointed (PUT), enabled
    again, rotated, or deleted and made again since says nothing about the webhook now, and
    changes nothing (a later try, if its receiver is gone too, disables it)."""

    program_id: str
    webhook_id: str
    created_at: datetime  # of the webhook the try read
    updated_at: datetime  # its version when read
    reason: str
    at: datetime  # the webhook's new `updated_at`

    @staticmethod
    def gone(webhook: Webhook, version: datetime, now: datetime) -> Disabling:
        """A 410 to a try made with `webhook` at `version` (its `updated_at` then): the version
        stamp moves on past that one."""
        at = max(now, version + timedelta(microseconds=1))
        return Disabling(webhook.program_id, webhook.webhook_id, webhook.created_at, version, GONE_REASON, at)

    def applies_to(self, current: Webhook) -> bool:
        return current.enabled and (current.created_at, current.updated_at) == (
            self.created_at,
            self.updated_at,
        )

    def applied_to(self, current: Webhook) -> Webhook:
        return replace(current, enabled=False, disabled_reason=self.reason, updated_at=self.at)


def gone_again(webhook: Webhook, delivery: Delivery, now: datetime) -> Disabling | None:
    """The disabling a try whose receiver answered 410 should have made, when its run stopped after
    recording the 410 (the save's answer lost) and SQS delivers its message again: for the webhook
    the try was made with (its version kept on the attempt), so a webhook changed since stays as it
    is. None when the last attempt was no 410, or kept no version (recorded before versions)."""
    last = delivery.attempts[-1] if delivery.attempts else None
    if last is None or last.outcome != "gone" or last.webhook_version is None:
        return None
    return Disabling.gone(webhook, last.webhook_version, now)


@dataclass(frozen=True)
class Creation:
    """A new webhook, decided on the program's webhooks as read (`ProgramWebhooks.create`): written
    only while the program has made no other since (`made_before`)."""

    webhook: Webhook
    made_before: int


@dataclass(frozen=True)
class ProgramWebhooks:
    """A program's webhooks as read to decide a creation, and `made`: how many it ever made. A store
    writes a creation only while `made` is unchanged, so two creations decided on one reading
    cannot both pass the cap; a deletion leaves `made` alone (it only makes room)."""

    program_id: str
    webhooks: tuple[Webhook, ...]
    made: int

    def create(self, webhook: Webhook) -> Creation:
        """Raises Conflict when the program has WEBHOOKS_PER_PROGRAM webhooks already."""
        if len(self.webhooks) >= WEBHOOKS_PER_PROGRAM:
            raise Conflict(
                f"the program has {len(self.webhooks)} webhooks, the most a program may have is "
                f"{WEBHOOKS_PER_PROGRAM}: delete one, or subscribe an existing one to more events, "
                f"before creating webhook {webhook.webhook_id}"
            )
        return Creation(webhook, self.made)


@dataclass(frozen=True)
class Attempt:
    number: int
    at: datetime
    answer_code: int | None  # None: no answer (timeout, refused, address not allowed)
    outcome: str  # delivered | retry | failed | gone
    # gone: the `updated_at` of the webhook the try was made with, what its disabling applies to
    # (`gone_again`: a run that stopped between recording the 410 and disabling the webhook)
    webhook_version: datetime | None = None


@dataclass(frozen=True)
class Delivery:
    program_id: str
    webhook_id: str
    delivery_id: str
    notification_id: str
    type: str
    created_at: datetime
    payload: str  # the exact JSON body sent on every attempt (the signature covers it)
    status: DeliveryStatus = "pending"
    attempts: tuple[Attempt, ...] = ()
    next_attempt_at: datetime | None = None
    horizon: datetime | None = None  # retries stop here; then failed
    stopped: str | None = None  # why it failed without a try of its own (`stopped_as`), in words

    @property
    def tries(self) -> int:
        """Tries made, those no longer kept too (`ATTEMPTS_KEPT`)."""
        return self.attempts[-1].number if self.attempts else 0

    def horizon_in(self, schedule: RetrySchedule) -> datetime:
        """When its tries stop: its own horizon (a retry by hand sets a new one), or the schedule's
        from its making (SPEC 6: retried for 24 hours)."""
        return self.horizon or (self.created_at + timedelta(seconds=schedule.horizon_seconds))


# A delivery keeps its latest attempts: a day of tries is about fifteen, and each retry by hand starts
# another day, so one delivery retried by a script without end would grow past DynamoDB's 400 KB item
# (about 4,000 attempts), its try then failing after the request went out, sent again at each redelivery.
ATTEMPTS_KEPT = 50


def _with(delivery: Delivery, attempt: Attempt) -> tuple[Attempt, ...]:
    return (*delivery.attempts, attempt)[-ATTEMPTS_KEPT:]


def delivery_id(webhook_id: str, notification_id: str) -> str:
    """Stable: the same (webhook, notification) is the same delivery, however often it arrives."""
    return "dlv_" + hashlib.sha256(f"{webhook_id}/{notification_id}".encode()).hexdigest()[:24]


def signature_header(secrets: Sequence[str], body: bytes, at: datetime) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, one `v1=` per secret:
    the scheme inbound events use (SPEC 2), so a receiver verifies with the same code."""
    return signatures.header(int(at.timestamp()), secrets, body)


# --- the retry schedule -------------------------------------------------------------------------
@dataclass(frozen=True)
class RetrySchedule:
    """Exponential backoff with full jitter: the wait before try n+1 is random in
    [base * 2^(n-1) / 2, base * 2^(n-1)], capped; the last try at `horizon` from the first."""

    base_seconds: float = 30.0
    max_seconds: float = 3 * 3600.0
    horizon_seconds: float = 24 * 3600.0

    def wait_after(self, tries: int, rng: Callable[[float, float], float] = random.uniform) -> float:
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** (tries - 1))
        return rng(ceiling / 2, ceiling)


def after_attempt(
    delivery: Delivery,
    answer_code: int | None,
    at: datetime,
    schedule: RetrySchedule,
    rng: Callable[[float, float], float] = random.uniform,
    *,
    made_with: datetime | None = None,
) -> Delivery:
    """The delivery once a try got `answer_code` (None: no answer): delivered on 2xx; failed on
    410 (the webhook is disabled: `gone`) or when it was made at the horizon or past it;
    otherwise pending, with the time of its next try (the horizon when the backoff would pass it)."""
    number = delivery.tries + 1
    horizon = delivery.horizon_in(schedule)
    if answer_code is not None and 200 <= answer_code < 300:
        attempt = Attempt(number, at, answer_code, "delivered")
        return replace(delivery, status="delivered", attempts=_with(delivery, attempt), next_attempt_at=None)
    if answer_code == 410:
        attempt = Attempt(number, at, answer_code, "gone", made_with)
        return replace(delivery, status="failed", attempts=_with(delivery, attempt), next_attempt_at=None)
    # the last try is at the horizon itself (SPEC 6: retried for 24 hours), not the last one the
    # backoff happened to place before it
    next_at = min(at + timedelta(seconds=schedule.wait_after(number, rng)), horizon)
    if at >= horizon:
        attempt = Attempt(number, at, answer_code, "failed")
        return replace(delivery, status="failed", attempts=_with(delivery, attempt), next_attempt_at=None)
    attempt = Attempt(number, at, answer_code, "retry")
    return replace(
        delivery,
        status="pending",
        attempts=_with(delivery, attempt),
        next_attempt_at=next_at,
        horizon=horizon,
    )


# --- a receiver that does not answer -------------------------------------------------------------
# A try waits up to SEND_TIMEOUT_SECONDS on a receiver that never answers, and the delivery function
# is shared by every program: tried delivery by delivery, one program's silent receivers took its
# every concurrent run (20 webhooks a program, each notification a delivery to each, each retried
# for a day) while other programs' deliveries waited behind them. Once SILENT_AFTER tries in a row
# got no answer, none answered since the first, the webhook's other tries wait without trying (a
# queue message, no socket), and one try at a time (the probe) finds out whether the receiver is
# back, the wait growing with the silence. One try without an answer is not silence: a receiver
# that misses one post in a hundred, or chokes on one payload, answers the others, and its stream
# paused a minute or more at each miss (a review's simulation: 1% missed, a median of 61 s late).
SILENT_AFTER = 3
# and the misses over this long at least: tries sent side by side to a receiver that answers in 8 to
# 12 s miss together, while others of theirs are answered, round after round (an integrator tester's:
# such a receiver was paused, its deliveries kept waiting to their horizons); a receiver that is
# gone misses round after round, its retries apart
SILENT_SPAN_SECONDS = 2 * SEND_TIMEOUT_SECONDS
PROBE_SECONDS = SEND_TIMEOUT_SECONDS + 5.0  # a probe holds the others off this long while it tries
SQS_LONGEST_DELAY_SECONDS = 900.0  # what SQS can delay a message (a wait past it takes more hops)


@dataclass(frozen=True)
class Silence:
    """A webhook's receiver did not answer `missed` tries in a row, the first missed at `since`, the
    latest at `last`, and none answered since; once `silent`, its tries wait until `until`."""

    since: datetime
    until: datetime
    missed: int = 1
    last: datetime | None = None  # None: at `since` (a silence written before it was kept)

    @property
    def silent(self) -> bool:
        if self.missed < SILENT_AFTER:
            return False
        # written before `last` was kept: silent as it was then (three misses were enough)
        return self.last is None or (self.last - self.since).total_seconds() >= SILENT_SPAN_SECONDS


def silenced(current: Silence | None, at: datetime, schedule: RetrySchedule) -> Silence:
    """After a try at `at` got no answer: one more missed, and a wait as long as the silence so far,
    at least two first retries' waits (60 s deployed) and at most the schedule's longest, within
    one SQS delay (900 s deployed; `make run`'s schedule is seconds, and so is this)."""
    since = current.since if current is not None else at
    most = min(SQS_LONGEST_DELAY_SECONDS, schedule.max_seconds)
    wait = min(most, max(2 * schedule.base_seconds, (at - since).total_seconds()))
    last = max(at, current.last) if current is not None and current.last is not None else at  # never back
    return Silence(since, at + timedelta(seconds=wait), (current.missed if current else 0) + 1, last)


@dataclass(frozen=True)
class Gate:
    """What a try does about its receiver's silence: send (after writing `probe`, when it is the
    try that finds out whether the receiver is back), or wait `wait_seconds` and come back."""

    send: bool
    probe: Silence | None = None
    wait_seconds: float = 0.0


def gate(
    silence: Silence | None,
    delivery: Delivery,
    now: datetime,
    schedule: RetrySchedule,
    rng: Callable[[float, float], float] = random.uniform,
) -> Gate:
    """A receiver not silent is sent to. A silent one's tries wait until the silence's end, spread
    over a first retry's wait (30 s deployed) so they do not come back at once; the first back
    after it is the probe, which holds the others off for PROBE_SECONDS. A delivery at its horizon
    is sent whatever the silence: its last try is its own (SPEC 6: retried for 24 hours, then
    failed), never a wait past it."""
    if silence is None or not silence.silent:
        return Gate(send=True)
    horizon = delivery.horizon_in(schedule)
    if now >= horizon:
        return Gate(send=True)
    if now < silence.until:
        wait = (silence.until - now).total_seconds() + rng(0.0, schedule.base_seconds)
        if wait > SQS_LONGEST_DELAY_SECONDS:  # back before its end, its spread kept, to wait the rest
            wait = SQS_LONGEST_DELAY_SECONDS - rng(0.0, schedule.base_seconds)
        return Gate(send=False, wait_seconds=min(wait, (horizon - now).total_seconds()))
    probe = replace(silence, until=now + timedelta(seconds=PROBE_SECONDS))
    return Gate(send=True, probe=probe)


def probe_taken(
    delivery: Delivery,
    now: datetime,
    schedule: RetrySchedule,
    rng: Callable[[float, float], float] = random.uniform,
) -> Gate:
    """Another try became the probe first (its write won), or the claim could not be written: this
    one comes back after a while (a probe still out then holds it off again, until its end), at
    its horizon at the latest, for its last try."""
    wait = min(PROBE_SECONDS, 2 * schedule.base_seconds) + rng(0.0, schedule.base_seconds)
    return Gate(send=False, wait_seconds=min(wait, (delivery.horizon_in(schedule) - now).total_seconds()))


def after_answer(
    silence: Silence | None, answer_code: int | None, at: datetime, schedule: RetrySchedule
) -> Silence | None:
    """The receiver's silence once a try at `at` got `answer_code`: any answer (an error too: it
    answered) ends it, the misses before it too; none adds one."""
    return silenced(silence, at, schedule) if answer_code is None else None


# --- a slow receiver -------------------------------------------------------------------------------
# A receiver that answers, however slowly, is not silent, and each of its tries holds a run of the
# shared delivery function for as long as it takes (a run lasts as long as its slowest record): one
# program's receivers answering in 9 seconds, sent a burst, took every run while other programs'
# deliveries waited behind them. Once a try has taken SLOW_TRY_SECONDS (answered or not), its
# webhook is slow (`Slowness`), until no try has been slow for SLOW_MEMORY_SECONDS; a slow webhook's
# tries go one at a time per program: each first takes the program's one slow try
# (`WebhooksPort.take_slow_try`, held until `slow_try_until` at most and given back after the
# post), and a try that finds it taken waits without trying (`slow_try_wait`). A fast receiver's
# tries are not counted at all.
# A receiver is expected to answer within a few seconds and do its work after: a try under this
# holds a run at most this long, however many a program sends (a tester's receiver answering in
# 4.9 s when this was 5 held as many runs as a burst had tries, each for 4.9 s)
SLOW_TRY_SECONDS = 3.0
# the slow try is held this long at most: the whole try (its name resolved, its post) and its
# recording; a run that stops mid-try leaves it, and the next takes it once this has passed
SLOW_TRY_HOLD_SECONDS = SEND_TIMEOUT_SECONDS + 5.0
# a slow receiver stays slow this long after its latest slow try, however fast the tries between:
# ended by one fast answer, a receiver that answers one try fast and the next ones slowly (on
# purpose, or as it chokes) had every waiting try of its burst go side by side again, each round
SLOW_MEMORY_SECONDS = 600.0


@dataclass(frozen=True)
class Slowness:
    """A webhook's receiver took SLOW_TRY_SECONDS or more at a try ending at `since`, and at its
    latest slow try, ending at `last`."""

    since: datetime
    last: datetime


def paced(slow: Slowness | None, took_seconds: float, at: datetime) -> Slowness | None:
    """The receiver's slowness once a try ending at `at` took `took_seconds`: slow from its first
    slow try on, until no try has been slow for SLOW_MEMORY_SECONDS (a fast try then ends it)."""
    if took_seconds >= SLOW_TRY_SECONDS:
        return Slowness(slow.since, max(slow.last, at)) if slow is not None else Slowness(at, at)
    if slow is not None and (at - slow.last).total_seconds() < SLOW_MEMORY_SECONDS:
        return slow
    return None


def slow_try_until(now: datetime) -> datetime:
    """Until when a try beginning `now` holds its program's slow try (if it is not given back)."""
    return now + timedelta(seconds=SLOW_TRY_HOLD_SECONDS)


STOPPED_SLOW = "its receiver was slow and sent one try at a time until this delivery's retries ended"


# the longest a slow receiver's try waits between looks at its program's slow try, typically (and a
# hundredth of the schedule's horizon at most: seconds under `make run`): a backlog of N waiting
# tries comes back about N / (its wait) a second, each two reads, a refused write and a message;
# the longer the wait, the longer the slot may sit free while few wait (a tester's 30 deliveries to
# a 4.9 s receiver, at up to 300 s under `make run`'s 300 s horizon: 10 s a delivery, gaps of 75 s)
SLOW_WAIT_MOST_SECONDS = 120.0


def slow_try_wait(
    delivery: Delivery,
    now: datetime,
    schedule: RetrySchedule,
    waited: int = 0,
    rng: Callable[[float, float], float] = random.uniform,
) -> float | None:
    """A slow webhook's try that found its program's slow try taken, `waited` times before this in
    a row: the seconds it waits before it looks again (about a try's longest at first, doubling at
    each turn it missed up to SLOW_WAIT_MOST_SECONDS or a hundredth of the schedule's horizon,
    spread so that a backlog does not come back at once: a fixed wait had ten thousand waiting
    tries come back a thousand a second, more than the shared function takes), or None once its
    turn has not come by its horizon and the
    schedule's longest wait after it (15 minutes deployed, seconds under `make run`): it stops
    (`STOPPED_SLOW`). Sent side by side at their horizon instead, a burst's backlog, all made at
    once, went out at once a day later (a tester's: seven tries at once to a receiver that had had
    one at a time for 300 s)."""
    grace = min(SQS_LONGEST_DELAY_SECONDS, schedule.max_seconds)
    left = (delivery.horizon_in(schedule) - now).total_seconds() + grace
    if left <= 0:
        return None
    most = min(SLOW_WAIT_MOST_SECONDS, schedule.horizon_seconds / 100)
    typical = min(most, SEND_TIMEOUT_SECONDS * 2 ** min(waited, 16))
    return min(rng(typical / 2, 3 * typical / 2), SQS_LONGEST_DELAY_SECONDS, left)


def retried_by_hand(delivery: Delivery, at: datetime, schedule: RetrySchedule) -> Delivery:
    """`POST .../retry`: sends it once again now (a failed or delivered one too), with a new
    horizon, so a receiver back after a day gets what it missed."""
    return replace(
        delivery,
        status="pending",
        next_attempt_at=at,
        horizon=at + timedelta(seconds=schedule.horizon_seconds),
        stopped=None,
    )


# --- a webhook changed while its deliveries were pending -----------------------------------------
# A change applies to the deliveries still pending, as a new URL or secret does: a notification no
# longer subscribed to is not sent, and a disabled webhook sends nothing while it is disabled. Its
# pending deliveries wait untried meanwhile (disabling is undone by enabling: what was pending is
# then sent, each within its own horizon); a delivery whose horizon comes while it is disabled fails,
# saying so. No delivery is made for what happens while it is disabled (`Webhook.wants`).
STOPPED_DISABLED = "the webhook was disabled until this delivery's retries ended"


def no_longer_subscribed(webhook: Webhook, delivery: Delivery) -> str | None:
    """Why `delivery` is not sent to `webhook` as it is now (it no longer subscribes to its
    notification), or None."""
    if delivery.type in webhook.events:
        return None
    return f"the webhook no longer subscribes to {delivery.type}"


# why a pending delivery's next try waits past its `next_attempt_at` (`held_back`), in `attempt`'s order
HeldBack = Literal["no_longer_subscribed", "webhook_disabled", "receiver_silent", "receiver_slow"]


def held_back(webhook: Webhook, delivery: Delivery) -> HeldBack | None:
    """Why a pending delivery is not tried at its `next_attempt_at`, as its webhook stands now: no
    longer subscribed to its notification (it fails at its next try), disabled (its tries wait
    until it is enabled, or fail at their horizon: `paused_wait`), its receiver silent (one try
    finds out whether it is back: `gate`) or slow (the program's slow receivers take one try at a
    time: `slow_try_wait`); None when nothing holds it back (or it is settled). Read from the
    webhook, never stored: a waiting try writes nothing."""
    if delivery.status != "pending":
        return None
    if no_longer_subscribed(webhook, delivery) is not None:
        return "no_longer_subscribed"
    if not webhook.enabled:
        return "webhook_disabled"
    if webhook.silence is not None and webhook.silence.silent:
        return "receiver_silent"
    return "receiver_slow" if webhook.slow is not None else None


def paused_wait(
    delivery: Delivery,
    now: datetime,
    schedule: RetrySchedule,
    rng: Callable[[float, float], float] = random.uniform,
) -> float | None:
    """A try of a disabled webhook's delivery: the seconds it waits before it looks again (the
    schedule's longest wait between tries, at most what SQS can delay a message, less up to a first
    retry's wait, so that a backlog paused at once does not come back at once; never past its
    horizon), or None at its horizon: it stops (`STOPPED_DISABLED`)."""
    left = (delivery.horizon_in(schedule) - now).total_seconds()
    if left <= 0:
        return None
    longest = min(schedule.max_seconds, SQS_LONGEST_DELAY_SECONDS)
    return min(longest - rng(0.0, min(schedule.base_seconds, longest / 2)), left)


def stopped_as(delivery: Delivery, why: str) -> Delivery:
    """The delivery failed without a try: no more are made (`why` is shown with it)."""
    return replace(delivery, status="failed", next_attempt_at=None, stopped=why)


# --- which URLs may be called (SSRF) --------------------------------------------------------------
Resolver = Callable[[str, int], list[str]]  # host, port -> every address it resolves to


class UrlRefused(ValueError):
    """A webhook URL that may not be called; the message says why, in words."""


@dataclass(frozen=True)
class Target:
    """A URL checked for sending: where to connect (the addresses just checked, so a DNS answer
    that changes between the check and the connection cannot redirect it) and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def check_url(url: str, resolve: Resolver, *, allow_loopback_http: bool = False) -> Target:
    """`https://` whose every resolved address is public; locally also `http://127.0.0.1`.
    Raises UrlRefused."""
    if len(url) > 2048:
        raise UrlRefused("the URL is longer than 2048 characters")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F or ord(c) > 0x7E for c in url):
        # what no request line can carry: a blank, a line break (a header smuggled in), a control
        # or a non-ASCII character (percent-encode it, and write a host in its xn-- form)
        raise UrlRefused("the URL has a blank, control or non-ASCII character: percent-encode it")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused(f"not a URL: {exc}") from None
    if port == 0:
        raise UrlRefused("port 0 is not a port a server listens on")
    host = parts.hostname or ""
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("a URL with credentials in it is not allowed")
    if not host:
        raise UrlRefused("the URL has no host")
    if parts.fragment:
        raise UrlRefused("a URL with a fragment is not allowed")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if parts.scheme == "http" and allow_loopback_http and host == "127.0.0.1":
        return Target("http", host, port or 80, path, ("127.0.0.1",))
    if parts.scheme != "https":
        raise UrlRefused("only https:// URLs are allowed")
    port = port or 443
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError):  # no answer, or a name no DNS label can be (`a..b`, 64 letters)
        addresses = []
    if not addresses or not all(is_public(address) for address in addresses):
        raise UrlRefused(_not_public(host))
    return Target("https", host, port, path, tuple(addresses))


def _not_public(host: str) -> str:
    """Why a host is refused, never naming what it resolves to, nor whether it resolves at all: an
    admin could otherwise map the deployment's private names (a DNS oracle)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return f"the host {host} does not resolve to public addresses only"
    return f"{host} is not a public address"  # what the URL itself says


def is_public(address: str) -> bool:
    """A globally routable unicast address: never private, loopback, link-local (the metadata
    service), shared, reserved, multicast or unspecified. An IPv6 address that carries an IPv4 one
    (mapped, translated, NAT64's well-known prefix, 6to4) is judged as that IPv4 address, since a
    NAT64 gateway (an AWS NAT gateway in an IPv6 subnet, for one) or a 6to4 relay takes it there;
    the deprecated IPv4-compatible form and NAT64's local-use prefix are never public."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in network for network in _NEVER_PUBLIC_V6):
            return False
        carried = _carried_ipv4(ip)
        if carried is None:  # IPv6 itself: global unicast is 2000::/3, whatever else is `is_global`
            return ip in _GLOBAL_UNICAST_V6 and ip.is_global and not ip.is_site_local
        ip = carried
    # `is_global` of Python before 3.11.10 (CVE-2024-4032) takes 192.0.0.0/24 for global
    return ip.is_global and not ip.is_multicast and not ip.is_reserved and ip not in _PROTOCOL_V4


# IPv6's global unicast space (RFC 4291): the rest is reserved by the IETF, or site- or link-local
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
# IETF protocol assignments (RFC 6890): never a web server
_PROTOCOL_V4 = ipaddress.IPv4Network("192.0.0.0/24")


# IPv6 prefixes whose last 32 bits are an IPv4 address a gateway delivers to: NAT64's well-known
# prefix (RFC 6052) and the IPv4-translated form (RFC 2765); ::ffff:0:0/96, mapped, is Python's own
_CARRYING_V6 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("::ffff:0:0:0/96"))
# IPv4-compatible addresses (deprecated by RFC 4291, `::a.b.c.d`, with `::` and `::1`), NAT64's
# local-use prefix (RFC 8215) and the documentation prefix of RFC 9637 (newer than Python 3.11's
# table): no public service answers there
_NEVER_PUBLIC_V6 = (
    ipaddress.IPv6Network("::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    ipaddress.IPv6Network("3fff::/20"),
)


def _carried_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in network for network in _CARRYING_V6):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None
