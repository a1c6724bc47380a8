"""A receiver that does not answer is tried by one delivery at a time (SPEC 6; `webhooks.gate`),
through the real delivery handler on moto: once tries of a program's webhook got no answer, the
webhook's other tries wait in the queue without a try, and another program's delivery in the same
batch goes out at once. Tried delivery by delivery, each of them waited its full time on the
receiver, in the delivery function every program shares."""

from __future__ import annotations

import json

from functions.shared.domain import webhooks
from functions.shared.domain.webhooks import SILENT_AFTER
from functions.shared.storage.dynamodb_webhooks import DynamoWebhooks
from functions.webhooks import delivery
from functions.webhooks.wiring import webhook_deps
from tests.integration import test_webhooks_batch_side_by_side as side_by_side
from tests.integration.test_webhooks_api import api
from tests.integration.test_webhooks_delivery import notify

hooks, tarpit = side_by_side.hooks, side_by_side.tarpit  # fixtures


def test_a_silent_receiver_takes_its_tries_in_a_row_and_its_webhooks_other_tries_wait_without_one(
    aws, hooks, tenant, other_tenant, tarpit, monkeypatch
):
    monkeypatch.setattr(delivery, "SEND_TIMEOUT_SECONDS", 1.0)  # a try's time (10 s deployed)
    # misses over no time at all are silence here (deployed, over two tries' time: 20 s, which a
    # receiver that is gone reaches at its second round of retries)
    monkeypatch.setattr(webhooks, "SILENT_SPAN_SECONDS", 0.0)
    silent = api(
        tenant.keys["admin"], "PUT", "/v1/webhooks/silent", {"url": tarpit.url, "events": ["PartnerFlagged"]}
    )
    assert silent.status == 200, silent
    answering, good = side_by_side.answering_webhook(other_tenant)
    for n in range(SILENT_AFTER + 3):
        notify(aws, tenant.program_id, notification_id=f"a-{n}")
    notify(aws, other_tenant.program_id, notification_id="b-1")
    queue = side_by_side.WebhooksQueue(hooks)
    take, program = queue.take, side_by_side.program_of

    assert take(queue.received(SILENT_AFTER + 4)) == {"batchItemFailures": []}  # the notifications
    tries = queue.received(SILENT_AFTER + 4)  # the first try of each delivery
    first = [m for m in tries if program(m) == tenant.program_id][:SILENT_AFTER]
    # tries side by side in one batch, none answered in its time: each counts
    assert take(first) == {"batchItemFailures": []}
    assert len(tarpit.closed) == SILENT_AFTER

    answer = take([m for m in tries if m not in first])

    assert answer == {"batchItemFailures": []}
    assert len(tarpit.closed) == SILENT_AFTER  # none of the webhook's other tries called its receiver
    assert len(good.got) == 1  # the other program's delivery went out
    store = webhook_deps().store
    assert isinstance(store, DynamoWebhooks)
    waiting = [json.loads(m["Body"]) for m in tries if m not in first and program(m) == tenant.program_id]
    assert len(waiting) == 3
    for message in waiting:  # untried, their tries on their way back
        stored = store.get_delivery(tenant.program_id, "silent", message["delivery_id"])
        assert (stored.status, stored.tries) == ("pending", 0)
    assert queue.delayed() == 3 + SILENT_AFTER  # and the first tries' next ones
    silence = store.get_webhook(tenant.program_id, "silent").silence
    assert silence is not None and silence.silent
    assert api(tenant.keys["admin"], "GET", "/v1/webhooks/silent").body["receiver_silent_since"]
    assert store.get_webhook(other_tenant.program_id, "b").silence is None
    answering.close()
