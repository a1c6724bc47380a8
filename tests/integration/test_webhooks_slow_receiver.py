"""A slow receiver is tried one try at a time per program (SPEC 6; `webhooks.paced`), through the
real delivery handler on moto and a real receiver over HTTP: once a try to a program's receiver took
SLOW_TRY_SECONDS, that program's tries to it go one at a time, the others waiting in the queue
without a try, while another program's delivery in the same batch goes out at once. Before, such a
receiver's tries each held a run of the delivery function every program shares for as long as it
took to answer."""

from __future__ import annotations

import json

from functions.shared.domain import webhooks
from functions.shared.storage.dynamodb_webhooks import DynamoWebhooks
from functions.webhooks.wiring import webhook_deps
from tests.integration import test_webhooks_batch_side_by_side as side_by_side
from tests.integration.test_webhooks_api import api
from tests.integration.test_webhooks_delivery import notify
from tests.integration.webhook_support import receiving

hooks = side_by_side.hooks  # the fixture


def test_a_slow_receiver_gets_one_try_at_a_time_and_another_programs_delivery_goes_at_once(
    aws, hooks, tenant, other_tenant, monkeypatch
):
    monkeypatch.setattr(webhooks, "SLOW_TRY_SECONDS", 0.5)  # 3 s deployed
    slow_receiving = receiving([200])
    slow = next(slow_receiving)
    slow.delay = 2.0  # long beside the batch's other tries taking their turn, however loaded the machine
    answer = api(
        tenant.keys["admin"], "PUT", "/v1/webhooks/slow", {"url": slow.url, "events": ["PartnerFlagged"]}
    )
    assert answer.status == 200, answer
    answering, good = side_by_side.answering_webhook(other_tenant)
    queue = side_by_side.WebhooksQueue(hooks)
    take, program = queue.take, side_by_side.program_of

    # one try that takes its 2 seconds: the receiver is slow from then on, and an admin sees it
    notify(aws, tenant.program_id, notification_id="a-0")
    assert take(queue.received(1)) == {"batchItemFailures": []}
    assert take(queue.received(1)) == {"batchItemFailures": []}
    assert len(slow.got) == 1
    shown = api(tenant.keys["admin"], "GET", "/v1/webhooks/slow").body
    assert shown["receiver_slow_since"] and shown["receiver_silent_since"] is None

    # four more of its deliveries and another program's, their first tries in one batch
    for n in range(1, 5):
        notify(aws, tenant.program_id, notification_id=f"a-{n}")
    notify(aws, other_tenant.program_id, notification_id="b-1")
    assert take(queue.received(5)) == {"batchItemFailures": []}  # the notifications
    tries = queue.received(5)

    assert take(tries) == {"batchItemFailures": []}

    assert len(slow.got) == 2  # one of the four went; the three others did not wait on it
    assert len(good.got) == 1 and good.got[0].at < slow.got[1].at + slow.delay  # not held behind it
    store = webhook_deps().store
    assert isinstance(store, DynamoWebhooks)
    mine = [json.loads(m["Body"]) for m in tries if program(m) == tenant.program_id]
    states = sorted(
        (stored.status, stored.tries)
        for stored in (store.get_delivery(tenant.program_id, "slow", m["delivery_id"]) for m in mine)
    )
    assert states == [("delivered", 1)] + [("pending", 0)] * 3  # untried, their tries on their way back
    # their tries back on the queue, each having waited once (seconds here: a hundredth of the
    # fixture's 60 s horizon)
    back = [json.loads(m["Body"]) for m in queue.received(3)]
    waiting = {m["delivery_id"] for m in mine} - {
        m["delivery_id"]
        for m in mine
        if store.get_delivery(tenant.program_id, "slow", m["delivery_id"]).tries
    }
    assert sorted(m["delivery_id"] for m in back) == sorted(waiting)
    assert {m.get("waited") for m in back} == {1}

    # the slow try was given back: the next try of the program takes it
    now = webhook_deps().clock.now()
    assert store.take_slow_try(tenant.program_id, now, webhooks.slow_try_until(now))
    answering.close()
    slow_receiving.close()
