"""The webhooks storage contract (`WebhooksPort`), run against the DynamoDB adapter (on moto, its
secrets sealed by moto's KMS) and the in-memory store: the same conditions hold in both."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from functions.shared.domain.webhooks import (
    WEBHOOKS_PER_PROGRAM,
    Delivery,
    RetiredSecret,
    RetrySchedule,
    Secrets,
    Silence,
    Slowness,
    Webhook,
    after_attempt,
    retried_by_hand,
    stopped_as,
)
from functions.shared.errors import Conflict, NotFound
from functions.shared.sealing import KmsSealer
from functions.shared.storage.dynamodb_webhooks import DynamoWebhooks, build_models
from functions.shared.storage.memory_webhooks import InMemoryWebhooks
from functions.shared.storage.port_webhooks import WebhooksPort
from tests.conftest import Aws

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SCHEDULE = RetrySchedule(1, 1, 60)


@pytest.fixture(params=["dynamodb", "memory"])
def store(request: pytest.FixtureRequest) -> WebhooksPort:
    if request.param == "memory":
        return InMemoryWebhooks()
    aws: Aws = request.getfixturevalue("aws")
    kms = boto3.client("kms", region_name="us-east-1")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    return DynamoWebhooks(build_models(aws.settings.table_name), KmsSealer(kms, key))


def webhook(
    program: str = "p", webhook_id: str = "wh", retired: tuple[RetiredSecret, ...] = (), **changes
) -> Webhook:
    secrets = Secrets.clear("whsec_a", retired)
    hook = Webhook(program, webhook_id, "https://93.184.215.14/h", ("PartnerFlagged",), True, T0, T0, secrets)
    return replace(hook, **changes)


def add(store: WebhooksPort, hook: Webhook) -> None:
    store.create_webhook(store.program_webhooks(hook.program_id).create(hook))


def delivery(delivery_id: str = "dlv_1", at: datetime = T0, webhook_id: str = "wh") -> Delivery:
    return Delivery(
        "p", webhook_id, delivery_id, f"n-{delivery_id}", "PartnerFlagged", at, '{"id":1}', next_attempt_at=at
    )


def test_webhooks_are_kept_per_program_with_their_secrets(store: WebhooksPort):
    retired = (
        RetiredSecret("whsec_old", T0 + timedelta(days=1)),
        RetiredSecret("whsec_older", T0 + timedelta(hours=1)),
    )
    add(store, webhook(retired=retired))
    add(store, webhook("q"))
    assert store.get_webhook("p", "wh").secrets_at(T0) == ["whsec_a", "whsec_old", "whsec_older"]
    assert store.get_webhook("p", "wh").retired == retired
    assert store.get_webhook("q", "wh").secrets_at(T0) == ["whsec_a"]
    assert [w.program_id for w in store.list_webhooks("p")] == ["p"]
    with pytest.raises(NotFound):
        store.get_webhook("p", "other")
    with pytest.raises(Conflict):
        add(store, webhook(url="https://93.184.215.14/second"))
    assert store.get_webhook("p", "wh").url == "https://93.184.215.14/h"


def test_a_webhook_is_replaced_only_as_it_was_read(store: WebhooksPort):
    add(store, webhook())
    later = T0 + timedelta(seconds=1)
    store.replace_webhook(webhook(url="https://93.184.215.14/v2", updated_at=later), T0)
    with pytest.raises(Conflict):  # written meanwhile: the read it was decided on is stale
        store.replace_webhook(webhook(url="https://93.184.215.14/v3", updated_at=later), T0)
    assert store.get_webhook("p", "wh").url == "https://93.184.215.14/v2"
    with pytest.raises(NotFound):
        store.replace_webhook(webhook("p", "gone"), T0)


def test_disabling_and_deleting(store: WebhooksPort):
    add(store, webhook())
    gone = store.get_webhook("p", "wh").gone(T0)
    assert store.disable_webhook(gone) is True
    assert store.disable_webhook(gone) is False
    disabled = store.get_webhook("p", "wh")
    assert (disabled.enabled, disabled.disabled_reason, disabled.secret) == (False, gone.reason, "whsec_a")
    assert disabled.updated_at == gone.at
    store.delete_webhook("p", "wh")
    with pytest.raises(NotFound):
        store.delete_webhook("p", "wh")
    assert store.disable_webhook(gone) is False


def test_a_stale_410_leaves_a_webhook_re_pointed_or_made_again_enabled(store: WebhooksPort):
    # Given a try that read the webhook, then got 410 from its receiver
    add(store, webhook())
    read = store.get_webhook("p", "wh")
    later = T0 + timedelta(seconds=1)
    # When an admin re-points it before the try disables it
    store.replace_webhook(replace(read, url="https://93.184.215.14/new", updated_at=later), T0)
    # Then the disabling changes nothing
    assert store.disable_webhook(read.gone(later)) is False
    assert store.get_webhook("p", "wh").enabled is True
    # nor when it was deleted and made again under its id
    store.delete_webhook("p", "wh")
    add(store, webhook(url="https://93.184.215.14/new", created_at=later, updated_at=later))
    assert store.disable_webhook(read.gone(later)) is False
    assert store.get_webhook("p", "wh").enabled is True
    # the try that reads it now disables it
    assert store.disable_webhook(store.get_webhook("p", "wh").gone(later)) is True


def test_two_creations_decided_on_one_reading_are_not_both_written(store: WebhooksPort):
    """Each creation is decided on the program's webhooks as read (the cap): a second one decided
    on the same reading would pass the cap unseen, so it is refused and decided again."""
    seen = store.program_webhooks("p")
    assert (seen.webhooks, seen.made) == ((), 0)
    store.create_webhook(seen.create(webhook(webhook_id="a")))
    with pytest.raises(Conflict):
        store.create_webhook(seen.create(webhook(webhook_id="b")))
    add(store, webhook(webhook_id="b"))  # decided again, on a fresh reading
    store.delete_webhook("p", "a")  # a deletion only makes room: a reading before it still holds
    seen = store.program_webhooks("p")
    assert ([w.webhook_id for w in seen.webhooks], seen.made) == (["b"], 2)
    assert store.program_webhooks("q").made == 0  # per program


def test_a_program_never_holds_more_webhooks_than_the_cap_however_many_are_made_at_once(
    store: WebhooksPort,
):
    def make(n: int) -> bool:
        for _ in range(WEBHOOKS_PER_PROGRAM + 10):  # decided again after each lost race
            try:
                add(store, webhook(webhook_id=f"wh-{n}"))
            except Conflict as refused:
                if "the most a program may have" in refused.detail:
                    return False
                continue
            return True
        raise AssertionError("never decided")

    with ThreadPoolExecutor(4) as pool:
        made = list(pool.map(make, range(WEBHOOKS_PER_PROGRAM + 6)))
    assert sum(made) == WEBHOOKS_PER_PROGRAM
    assert len(store.list_webhooks("p")) == WEBHOOKS_PER_PROGRAM


def test_a_receivers_silence_is_written_once_as_read_and_changes_nothing_else(store: WebhooksPort):
    add(store, webhook())
    read = store.get_webhook("p", "wh")
    silence = Silence(T0, T0 + timedelta(seconds=60))

    assert store.note_silence(read, silence)
    assert not store.note_silence(read, Silence(T0, T0 + timedelta(seconds=90)))  # not as read now
    spanned = Silence(T0, T0 + timedelta(seconds=120), 3, T0 + timedelta(seconds=25))  # kept whole
    assert store.note_silence(store.get_webhook("p", "wh"), spanned)
    assert store.get_webhook("p", "wh").silence == spanned and store.get_webhook("p", "wh").silence.silent
    assert store.note_silence(store.get_webhook("p", "wh"), silence)
    noted = store.get_webhook("p", "wh")
    assert noted.silence == silence and replace(noted, silence=None) == replace(read, secrets=noted.secrets)
    assert noted.secrets_at(T0) == ["whsec_a"]
    # two tries past the silence, on one reading: one of them is the probe
    probes = [Silence(T0, T0 + timedelta(seconds=75 + n)) for n in range(8)]
    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(lambda p: store.note_silence(noted, p), probes))
    assert won.count(True) == 1
    assert store.get_webhook("p", "wh").silence == probes[won.index(True)]
    cleared = store.get_webhook("p", "wh")
    assert store.note_silence(cleared, None) and store.get_webhook("p", "wh").silence is None
    # a webhook deleted, or deleted and made again, is not given the old receiver's silence
    store.delete_webhook("p", "wh")
    assert not store.note_silence(cleared, silence)
    with pytest.raises(NotFound):
        store.get_webhook("p", "wh")
    add(store, webhook(created_at=T0 + timedelta(hours=1), updated_at=T0 + timedelta(hours=1)))
    assert not store.note_silence(replace(cleared, silence=None), silence)
    assert store.get_webhook("p", "wh").silence is None


def test_a_silence_written_before_misses_were_counted_is_counted_and_ended(aws: Aws):
    """A review's: a silence written without `silent_missed` (read as one miss) was never matched by
    the condition on its count: no miss counted, no answer ended it, until a PUT."""
    kms = boto3.client("kms", region_name="us-east-1")
    models = build_models(aws.settings.table_name)
    store = DynamoWebhooks(models, KmsSealer(kms, kms.create_key()["KeyMetadata"]["KeyId"]))
    add(store, webhook())
    item = models.webhook.get(*_keys())
    item.update(
        actions=[
            models.webhook.silent_since.set(T0),
            models.webhook.silent_until.set(T0 + timedelta(seconds=60)),
        ]
    )
    read = store.get_webhook("p", "wh")
    assert read.silence == Silence(T0, T0 + timedelta(seconds=60), 1)

    assert store.note_silence(read, Silence(T0, T0 + timedelta(seconds=90), 2))  # a miss counted
    assert store.note_silence(store.get_webhook("p", "wh"), None)  # and an answer ends it
    assert store.get_webhook("p", "wh").silence is None


def test_a_receivers_pace_is_written_on_the_webhook_as_read_and_changes_nothing_else(store: WebhooksPort):
    add(store, webhook())
    read = store.get_webhook("p", "wh")
    slow = Slowness(T0 + timedelta(seconds=9), T0 + timedelta(seconds=9))

    assert store.note_pace(read, slow)
    assert not store.note_pace(read, Slowness(T0, T0))  # not as read now
    noted = store.get_webhook("p", "wh")
    assert noted.slow == slow
    assert replace(noted, slow=None) == replace(read, secrets=noted.secrets)  # nothing else
    assert store.list_webhooks("p")[0].slow == slow
    later = Slowness(slow.since, T0 + timedelta(seconds=30))
    assert store.note_pace(noted, later) and store.get_webhook("p", "wh").slow == later
    # two tries on one reading: one writes
    read_again = store.get_webhook("p", "wh")
    tries = [Slowness(slow.since, T0 + timedelta(seconds=40 + n)) for n in range(8)]
    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(lambda s: store.note_pace(read_again, s), tries))
    assert won.count(True) == 1 and store.get_webhook("p", "wh").slow == tries[won.index(True)]
    assert store.note_pace(store.get_webhook("p", "wh"), None) and store.get_webhook("p", "wh").slow is None
    # a webhook changed since the try read it (re-pointed: its receiver tried afresh) is left as is
    changed = replace(read, url="https://93.184.215.15/h", updated_at=T0 + timedelta(minutes=1))
    store.replace_webhook(changed, read.updated_at)
    assert not store.note_pace(read, slow)
    assert store.get_webhook("p", "wh").slow is None
    # and a webhook written whole keeps the pace it was written with (a rotation's)
    assert store.note_pace(store.get_webhook("p", "wh"), slow)
    kept = store.get_webhook("p", "wh")
    store.replace_webhook(replace(kept, updated_at=T0 + timedelta(minutes=2)), kept.updated_at)
    assert store.get_webhook("p", "wh").slow == slow
    store.delete_webhook("p", "wh")
    assert not store.note_pace(kept, None)


def test_a_programs_slow_try_is_held_by_one_try_at_a_time_until_given_back_or_its_end(store: WebhooksPort):
    until = T0 + timedelta(seconds=15)
    # tries of one program at once: one takes it
    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(lambda n: store.take_slow_try("p", T0, until + timedelta(seconds=n)), range(8)))
    assert won.count(True) == 1
    held = until + timedelta(seconds=won.index(True))
    assert not store.take_slow_try("p", T0 + timedelta(seconds=14), until)  # still held
    assert store.take_slow_try("q", T0, until)  # another program's is its own
    # given back only by its taker: a hold that ran out gives back nothing of the next one's
    store.give_back_slow_try("p", T0)
    assert not store.take_slow_try("p", T0 + timedelta(seconds=1), until)
    store.give_back_slow_try("p", held)
    assert store.take_slow_try("p", T0 + timedelta(seconds=1), until)
    # not given back (its run stopped), it is free again at its end
    later = held + timedelta(seconds=30)
    assert store.take_slow_try("p", until, later)
    store.give_back_slow_try("p", until)  # the one before, past its end: later's stays held
    assert not store.take_slow_try("p", until + timedelta(seconds=1), later)
    # nothing of the program's webhooks is touched
    add(store, webhook())
    assert [w.webhook_id for w in store.list_webhooks("p")] == ["wh"]
    assert store.program_webhooks("p").made == 1


def test_one_delivery_per_id_even_when_made_at_once(store: WebhooksPort):
    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda _: store.create_delivery(delivery()), range(4)))
    assert sum(created for _, created in outcomes) == 1
    assert {d.delivery_id for d, _ in outcomes} == {"dlv_1"}
    assert len(store.list_deliveries("p", "wh", 10)) == 1


def test_a_try_is_recorded_once(store: WebhooksPort):
    made, _ = store.create_delivery(delivery())
    first = after_attempt(made, 500, T0, SCHEDULE)
    store.save_delivery(first, made)
    with pytest.raises(Conflict):  # a second copy of the same try message
        store.save_delivery(after_attempt(made, 200, T0, SCHEDULE), made)
    stored = store.get_delivery("p", "wh", "dlv_1")
    assert [(a.number, a.answer_code) for a in stored.attempts] == [(1, 500)]
    assert (stored.status, stored.next_attempt_at) == ("pending", first.next_attempt_at)


def test_a_410_keeps_the_version_of_the_webhook_its_try_was_made_with(store: WebhooksPort):
    made, _ = store.create_delivery(delivery())
    gone = after_attempt(made, 410, T0, SCHEDULE, made_with=T0 - timedelta(minutes=3))
    store.save_delivery(gone, made)
    [attempt] = store.get_delivery("p", "wh", "dlv_1").attempts
    assert (attempt.outcome, attempt.webhook_version) == ("gone", T0 - timedelta(minutes=3))


def test_why_a_delivery_stopped_is_kept_until_it_is_sent_again_by_hand(store: WebhooksPort):
    made, _ = store.create_delivery(delivery())
    stopped = stopped_as(made, "the webhook no longer subscribes to PartnerFlagged")
    store.save_delivery(stopped, made)
    assert store.get_delivery("p", "wh", "dlv_1") == stopped
    again = retried_by_hand(stopped, T0, SCHEDULE)
    store.save_delivery(again, stopped)
    assert (store.get_delivery("p", "wh", "dlv_1").stopped, again.status) == (None, "pending")


def test_deliveries_are_listed_newest_first_per_webhook(store: WebhooksPort):
    for n in range(5):
        store.create_delivery(delivery(f"dlv_{n}", T0 + timedelta(minutes=n)))
    store.create_delivery(delivery("dlv_elsewhere", webhook_id="wh-2"))
    assert [d.delivery_id for d in store.list_deliveries("p", "wh", 3)] == ["dlv_4", "dlv_3", "dlv_2"]
    assert [d.delivery_id for d in store.list_deliveries("p", "wh-2", 10)] == ["dlv_elsewhere"]
    assert store.list_deliveries("q", "wh", 10) == []


def test_a_webhook_saved_with_one_previous_secret_before_there_could_be_several_is_read_with_it(aws: Aws):
    """Items written before `sealed_retired` carry `sealed_previous_secret` and its end."""
    kms = boto3.client("kms", region_name="us-east-1")
    sealer = KmsSealer(kms, kms.create_key()["KeyMetadata"]["KeyId"])
    models = build_models(aws.settings.table_name)
    store = DynamoWebhooks(models, sealer)
    add(store, webhook())
    context = {"program_id": "p", "webhook_id": "wh"}
    item = models.webhook.get(*_keys())
    item.update(
        actions=[
            models.webhook.sealed_previous_secret.set(sealer.seal("whsec_old", context)),
            models.webhook.previous_secret_until.set(T0 + timedelta(hours=3)),
        ]
    )
    read = store.get_webhook("p", "wh")
    assert read.secrets_at(T0) == ["whsec_a", "whsec_old"]
    assert read.secrets_at(T0 + timedelta(hours=3)) == ["whsec_a"]
    store.replace_webhook(read.rotated("whsec_b", T0 + timedelta(hours=1)), T0)  # kept on its next write
    assert store.get_webhook("p", "wh").secrets_at(T0 + timedelta(hours=2)) == [
        "whsec_b",
        "whsec_a",
        "whsec_old",
    ]


def _keys() -> tuple[str, str]:
    from functions.shared.storage import keys_webhooks

    return keys_webhooks.webhooks_pk("p"), keys_webhooks.webhook_sk("wh")
