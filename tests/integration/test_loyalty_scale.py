"""Loyalty at 3,000 events/s (issue 14), through the real handlers against moto: workflows run
behind the workflow queue and nothing recorded is lost on the way; the earn is one read and one
transaction and does not read the workflows item each time; per-customer campaign counters live
under the customer's key."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import Any

import boto3
import pytest

from functions.loyalty import caps, runs, workflow_cache, workflows
from functions.shared import relays, runtime
from functions.shared.config import MAX_RECEIVES
from functions.shared.errors import StorageRefused, StorageUnavailable
from functions.shared.storage import keys_loyalty
from functions.shared.storage.port_loyalty import CustomerChange, Workflow, WorkflowAction
from local_system.lambda_runtime import invoke
from local_system.scheduler import scheduled_event
from tests.integration.test_loyalty_support import (  # noqa: F401 (fixtures)
    DynamoCalls,
    Loyalty,
    bus_fixture,
    campaign_settings,
    clock_fixture,
    run_queued_workflows,
    workflow_settings,
)
from tests.support import call, proxy_event

SUSPEND_OVER_100 = workflow_settings(threshold=100, actions=[{"type": "suspend"}])


@pytest.fixture
def loyalty(tenant, clock) -> Loyalty:
    return Loyalty(tenant.keys)


def earn_only(loyalty: Loyalty, customer: str, points: int, **extra):
    """An earn through the handler, with nothing consuming the workflow queue afterwards."""
    body = {"id": extra.pop("id", f"e-{customer}-{points}"), "customer_id": customer, "points": points}
    body.update({"kind": "purchase", **extra})
    return call("loyalty", proxy_event("POST", "/v1/loyalty/earn", body, loyalty.keys["integration"]))


def queued_runs() -> list[dict]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    messages = sqs.receive_message(
        QueueUrl=os.environ["LOYALTY_WORKFLOW_QUEUE_URL"], MaxNumberOfMessages=10, VisibilityTimeout=0
    ).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_the_earn_answers_before_its_workflows_run_and_the_queue_runs_them(loyalty, tenant, aws):
    assert loyalty.workflow("big", SUSPEND_OVER_100).status == 200

    answer = earn_only(loyalty, "m1", 150)

    assert answer.status == 200 and answer.body["balance"] == 150
    assert loyalty.customer("m1").body["status"] == "active"  # not yet: behind the queue
    (message,) = queued_runs()
    assert {k: message[k] for k in ("program_id", "customer_id", "kind", "workflows")} == {
        "program_id": tenant.program_id,
        "customer_id": "m1",
        "kind": "purchase",
        "workflows": ["big"],  # what the earn matched: a runner whose kept list lacks it reads it again
    }
    assert aws.repository.workflow_runs_due(tenant.program_id, runs_far_ahead(aws), 10)  # recorded

    assert run_queued_workflows() == 1

    assert loyalty.customer("m1").body["status"] == "suspended"
    assert aws.repository.workflow_runs_due(tenant.program_id, runs_far_ahead(aws), 10) == []


def runs_far_ahead(aws):
    return runtime.dependencies().clock.now() + timedelta(days=1)


def test_an_earn_that_matches_no_workflow_sends_nothing_and_records_nothing(loyalty, tenant, aws):
    loyalty.workflow("bonus-only", workflow_settings(kind="campaign_bonus"))

    assert earn_only(loyalty, "m1", 500).status == 200

    assert queued_runs() == []
    assert aws.repository.workflow_runs_due(tenant.program_id, runs_far_ahead(aws), 10) == []


def test_a_queue_that_refuses_the_send_loses_no_workflow_run(loyalty, tenant, aws, clock, monkeypatch):
    loyalty.workflow("big", SUSPEND_OVER_100)

    class DownQueue:
        def send(self, run, sent_at):
            raise StorageUnavailable("workflow queue unavailable (test)")

    deps = runtime.dependencies()
    working = deps.workflow_queue
    monkeypatch.setattr(deps, "workflow_queue", DownQueue())
    answer = earn_only(loyalty, "m1", 150)  # committed, then the send fails
    monkeypatch.setattr(deps, "workflow_queue", working)

    assert answer.status == 200  # the earn's answer does not depend on its workflows
    assert queued_runs() == []
    assert runs.relay_due_runs(deps) == 0  # too young: it may still be on its way
    clock.advance(seconds=runs.WORKFLOW_RELAY.after.total_seconds() + 1)
    relay = "functions.loyalty.workflow_relay.lambda_handler"  # the scheduled function, every minute
    assert invoke(relay, scheduled_event("loyalty-workflow-relay")) == {"relayed": 1}
    run_queued_workflows()
    assert loyalty.customer("m1").body["status"] == "suspended"
    assert runs.relay_due_runs(deps) == 0  # taken out once it ran


def test_a_redelivered_or_relayed_run_runs_the_actions_once(loyalty, tenant, aws, clock, bus):
    loyalty.workflow("warn", workflow_settings(threshold=100))
    earn_only(loyalty, "m1", 150)
    (message,) = queued_runs()
    deps = runtime.dependencies()

    for _ in range(3):  # the queue's message, a redelivery, a relayed copy
        runs.take_message(deps, json.dumps(message), receive_count=1)

    history = loyalty.customer("m1").body["history"]
    assert [h["action"] for h in history] == ["communication"]
    assert len(bus.events("LoyaltyCommunication")) == 1


@pytest.mark.parametrize(
    ("error", "days_later", "kept"),
    [
        (
            StorageUnavailable("throttled (test)"),
            0,
            True,
        ),  # the relay sends it again: never lost to a throttle
        (StorageUnavailable("throttled (test)"), 1, False),  # tried for a day: given up
        # the deployment's configuration (a grant rolled out late): kept until an operator mends it
        (StorageRefused("access to the table is denied (test)"), 0, True),
        (StorageRefused("access to the table is denied (test)"), 1, False),  # not mended in a day
        (ValueError("a fault of this code (test)"), 0, False),  # would fail every time
    ],
    ids=["throttled", "throttled-for-a-day", "refused", "refused-for-a-day", "fault"],
)
def test_a_run_that_keeps_failing_leaves_the_due_runs_on_its_last_delivery_unless_a_retry_can_pass(
    loyalty, tenant, aws, clock, monkeypatch, error, days_later, kept
):
    loyalty.workflow("warn", workflow_settings(threshold=100))
    earn_only(loyalty, "m1", 150)
    (message,) = queued_runs()
    deps = runtime.dependencies()
    far = runs_far_ahead(aws)

    def failing(*_args, **_kwargs):
        raise error

    monkeypatch.setattr(runs.workflows, "run_due", failing)
    with pytest.raises(type(error)):
        runs.take_message(deps, json.dumps(message), receive_count=1)
    assert deps.repository.workflow_runs_due(tenant.program_id, far, 10)  # still due: it comes back
    clock.advance(days=days_later)
    with pytest.raises(type(error)):  # its last delivery: on to the dead-letter queue
        runs.take_message(deps, json.dumps(message), receive_count=MAX_RECEIVES)
    assert bool(deps.repository.workflow_runs_due(tenant.program_id, far, 10)) is kept


def one_run_of_two_workflows(loyalty: Any, first: str, second: str) -> dict[str, Any]:
    """Two workflows over 100 points, and the one queued run an earn over it leaves."""
    loyalty.workflow(first, SUSPEND_OVER_100)
    loyalty.workflow(second, SUSPEND_OVER_100)
    earn_only(loyalty, "m1", 150)
    (message,) = queued_runs()
    return message


@pytest.mark.parametrize(
    "error", [StorageUnavailable("throttled"), ValueError("a fault of one workflow's run")]
)
def test_a_workflow_that_fails_does_not_hold_back_the_others_of_its_run(
    loyalty, tenant, aws, clock, monkeypatch, error
):
    # one workflow whose every run failed (CI met one whose id its query could not spell) held
    # back the actions of every other workflow of the same earn, for as long as it failed
    message = one_run_of_two_workflows(loyalty, "a-broken", "b-sound")
    deps = runtime.dependencies()
    evaluate = runs.workflows.evaluate

    def broken_first(deps_, program, workflow, customer_id, today):
        if workflow.workflow_id == "a-broken":
            raise error
        return evaluate(deps_, program, workflow, customer_id, today)

    monkeypatch.setattr(runs.workflows, "evaluate", broken_first)
    with pytest.raises(type(error)):  # the run still fails, and comes back for the broken one
        runs.take_message(deps, json.dumps(message), receive_count=1)

    customer = loyalty.customer("m1").body
    assert customer["status"] == "suspended"
    assert [h["by"] for h in customer["history"]] == ["workflow:b-sound"]


@pytest.mark.parametrize("stored", [StorageUnavailable("throttled (test)"), StorageRefused("denied (test)")])
def test_a_fault_of_one_workflow_does_not_give_up_a_run_another_must_retry(
    loyalty, tenant, aws, clock, monkeypatch, stored
):
    # the run raised its first failure: a fault of the first workflow gave the whole run up at its
    # last delivery, and the second, only throttled, never ran its actions for that earn
    message = one_run_of_two_workflows(loyalty, "a-broken", "b-throttled")
    deps = runtime.dependencies()
    far = runs_far_ahead(aws)

    def failing(deps_, program, workflow, customer_id, today):
        raise ValueError("a fault (test)") if workflow.workflow_id == "a-broken" else stored

    monkeypatch.setattr(runs.workflows, "evaluate", failing)
    with pytest.raises(type(stored)):
        runs.take_message(deps, json.dumps(message), receive_count=MAX_RECEIVES)
    assert deps.repository.workflow_runs_due(tenant.program_id, far, 10)  # still due: it comes back


def test_a_malformed_run_message_runs_nothing(loyalty, tenant, aws, clock):
    loyalty.workflow("big", SUSPEND_OVER_100)
    earn_only(loyalty, "m1", 150)
    (message,) = queued_runs()
    deps = runtime.dependencies()

    for bad in ({**message, "kind": "refund"}, {**message, "at": "yesterday"}, {"program_id": "p"}):
        with pytest.raises(ValueError):  # pydantic's ValidationError: fails to the dead-letter queue
            runs.take_message(deps, json.dumps(bad), receive_count=1)

    assert loyalty.customer("m1").body["status"] == "active"


def test_the_earn_is_one_read_and_one_transaction_and_reads_workflows_once_per_cache_window(
    loyalty, tenant, aws, clock
):
    loyalty.campaign("c", campaign_settings("dynamic", total=10**6, per_customer=10**6))
    loyalty.workflow("bonus", workflow_settings(kind="campaign_bonus", threshold=10**6))
    earn_only(loyalty, "m1", 5, id="warm", kind="campaign_bonus", campaign_id="c")  # the customer exists

    with DynamoCalls() as dynamodb:
        for n in range(3):
            earn_only(loyalty, "m1", 5, id=f"b{n}", kind="campaign_bonus", campaign_id="c")
    workflows_read = [p for p in dynamodb.named("GetItem") if "WORKFLOWS" in p["Key"]["pk"]["S"]]
    snapshots = dynamodb.named("TransactGetItems")
    writes = dynamodb.named("TransactWriteItems")

    assert len(snapshots) == 3 and len(writes) == 3  # one read, one transaction each
    assert not [g for s in snapshots for g in s["TransactItems"] if "WORKFLOWS" in g["Get"]["Key"]["pk"]["S"]]
    assert workflows_read == []  # cached: read by the earn before, not again within the window
    clock.advance(seconds=workflow_cache.CACHE_SECONDS + 1)
    with DynamoCalls() as dynamodb:
        earn_only(loyalty, "m1", 5, id="later", kind="campaign_bonus", campaign_id="c")
    assert len([p for p in dynamodb.named("GetItem") if "WORKFLOWS" in p["Key"]["pk"]["S"]]) == 1


def test_a_workflow_changed_in_another_environment_applies_within_the_cache_window(
    loyalty, tenant, aws, clock
):
    earn_only(loyalty, "m1", 1, id="first")  # this environment has read "no workflows"
    deps = runtime.dependencies()
    # another Lambda environment saves a workflow: this one's cache does not hear of it
    deps.repository.put_workflow(
        Workflow(
            tenant.program_id,
            "w",
            None,
            "earned",
            "today",
            "current",
            100,
            (WorkflowAction("suspend"),),
            True,
            clock.now(),
        ),
        workflows.admit("w"),
    )

    earn_only(loyalty, "m1", 200, id="within")
    assert queued_runs() == []  # within the window: not matched yet
    clock.advance(seconds=workflow_cache.CACHE_SECONDS + 1)
    earn_only(loyalty, "m1", 1, id="after")
    run_queued_workflows()

    assert loyalty.customer("m1").body["status"] == "suspended"


def test_per_customer_campaign_counters_live_under_the_customer_not_the_campaign(loyalty, tenant, aws):
    loyalty.campaign("c", campaign_settings("hard", total=1000, per_customer=25))
    for customer in ("a", "b"):
        assert loyalty.bonus(customer, 20, "c").body["granted"] == 20
    assert loyalty.bonus("a", 6, "c").body == {
        "granted": 0,
        "requested": 6,
        "balance": 20,
        "limited_by": "customer",
    }

    table = boto3.resource("dynamodb", region_name="us-east-1").Table(aws.resources.table_name)
    under_campaign = [
        table.query(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": keys_loyalty.campaign_shard_pk(tenant.program_id, "c", j)},
        )["Items"]
        for j in range(caps.CAMPAIGN_SHARDS)
    ]
    counter = table.get_item(
        Key={
            "pk": keys_loyalty.customer_pk(tenant.program_id, "a"),
            "sk": keys_loyalty.campaign_counter_sk("c"),
        }
    )["Item"]

    # the campaign's keys hold its total's shards alone (a customer's counts on the customer's shard)
    assert [[item["sk"] for item in items] for items in under_campaign] == [["SHARD"]] * caps.CAMPAIGN_SHARDS
    for customer in ("a", "b"):
        assert int(under_campaign[caps.shard_of(customer)][0]["used"]) >= 20
    assert sum(int(items[0]["used"]) for items in under_campaign) == 40
    assert int(counter["granted"]) == 20
    campaign = loyalty.campaign("c").body
    assert (campaign["granted_total"], campaign["customers"]) == (40, 2)


def test_an_audience_is_swept_once_for_a_whole_batch_of_runs(loyalty, tenant, aws, clock):
    loyalty.campaign("c", campaign_settings("soft", total=10**6, per_customer=10**6))
    loyalty.bonus("big", 4000, "c")  # above the threshold before the workflow exists
    audience = workflow_settings(
        aggregation="bonus",
        threshold=3000,
        customer="all",
        kind="campaign_bonus",
        actions=[{"type": "suspend"}],
    )
    assert loyalty.workflow("farming", audience).status == 200
    for n in range(5):
        earn_only(loyalty, f"small-{n}", 10, kind="campaign_bonus", campaign_id="c")

    with DynamoCalls() as dynamodb:
        assert run_queued_workflows() == 5  # one batch, as the event source mapping hands it over

    sweeps = [p for p in dynamodb.named("Query") if p.get("IndexName") == "loyalty_bonus"]
    assert len(sweeps) == 8  # one sweep (a query per shard) for the five runs, not five
    assert loyalty.customer("big").body["status"] == "suspended"
    assert {loyalty.customer(f"small-{n}").body["status"] for n in range(5)} == {"active"}


class CountingQueue:
    """A workflow queue that counts the runs it is sent and says how many messages wait in it."""

    def __init__(self, waiting: int) -> None:
        self.sent, self.waiting_now = 0, waiting

    def send(self, run, sent_at) -> None:
        self.sent += 1

    def waiting(self) -> int:
        return self.waiting_now


def test_a_run_still_due_is_relayed_once_per_copys_life_in_the_queue(
    loyalty, tenant, aws, clock, monkeypatch
):
    # the relay (every minute) sent a due run at every run while the copies before were still queued:
    # fifteen at once for a run a throttled store kept failing, kept now for a day
    loyalty.workflow("warn", workflow_settings(threshold=100))
    earn_only(loyalty, "m1", 150)
    deps = runtime.dependencies()

    queue = CountingQueue(waiting=0)  # the copies sent were all received: none waits behind another
    monkeypatch.setattr(deps, "workflow_queue", queue)
    for _ in range(45):  # the relay's runs over 45 minutes, with the run never done
        clock.advance(minutes=1)
        runs.relay_due_runs(deps)

    assert queue.sent == 3  # once per 15 minutes (5 deliveries x 180 s), not 45 times


def test_a_due_run_waits_while_the_workflow_queue_is_behind_and_is_sent_once_it_caught_up(
    loyalty, tenant, aws, clock, monkeypatch
):
    # a copy not received yet stays in its queue for days: sent again each quarter hour while the
    # queue was behind, it queued behind its own copies
    loyalty.workflow("warn", workflow_settings(threshold=100))
    earn_only(loyalty, "m1", 150)
    deps = runtime.dependencies()

    queue = CountingQueue(waiting=relays.QUEUE_BEHIND)
    monkeypatch.setattr(deps, "workflow_queue", queue)
    for _ in range(45):  # three quarters of an hour behind
        clock.advance(minutes=1)
        runs.relay_due_runs(deps)
    assert queue.sent == 0

    queue.waiting_now = relays.QUEUE_BEHIND - 1  # caught up
    for _ in range(15):  # a copy's life in the queue: sent once in it
        clock.advance(minutes=1)
        runs.relay_due_runs(deps)
    assert queue.sent == 1


# --- spends wait for the run of an earn that may suspend (SPEC 8: workflows run asynchronously) --
def held_for_its_run(answer: Any) -> bool:
    """A spend held until the run of an earn that may suspend the customer: a 409 of its own type
    that says so and when to come back, told apart from SPEC 3.4's (the suspended, the blocked, a low
    balance), which stand; not a 503 (no dependency is down: the operators' 5xx alarm stays quiet)."""
    assert answer.status == 409, answer
    assert (answer.body["type"], answer.body["title"]) == ("/problems/decision-pending", "Decision pending")
    assert answer.headers["retry-after"] == str(workflows.SPEND_RETRY_SECONDS), answer.headers
    assert "still deciding" in answer.body["detail"], answer.body
    return True


def test_points_earned_past_a_suspending_workflow_are_not_spent_before_it_runs(loyalty, tenant, aws):
    # Given a workflow that suspends past 100 points a day, and an earn past it whose run is queued
    assert loyalty.workflow("big", SUSPEND_OVER_100).status == 200
    assert earn_only(loyalty, "m1", 150).status == 200

    # When the customer spends at once, before the workflow queue is consumed
    spent = loyalty.spend("m1", 150)

    # Then the spend waits (a 409 to retry, with Retry-After: nothing spent), and once the run has
    # suspended them it is refused
    assert held_for_its_run(spent)
    assert loyalty.customer("m1").body["balance"] == 150
    assert run_queued_workflows() == 1
    assert loyalty.customer("m1").body["status"] == "suspended"
    refused = loyalty.spend("m1", 150)
    assert refused.status == 409 and "suspended" in refused.body["detail"]
    assert refused.body["type"] == "/problems/conflict" and "retry-after" not in refused.headers  # stands


def test_an_earn_that_leaves_the_customer_below_every_suspending_threshold_holds_no_spend(
    loyalty, tenant, aws
):
    # an honest customer at checkout: SPEC 3.4's 409s are for the suspended, the blocked and a low
    # balance; a customer their earn's run cannot suspend spends at once
    assert loyalty.workflow("big", SUSPEND_OVER_100).status == 200
    assert earn_only(loyalty, "m1", 60).status == 200  # today's 60: at most 100

    spent = loyalty.spend("m1", 10)  # its run still queued

    assert spent.status == 200 and spent.body["balance"] == 50
    assert earn_only(loyalty, "m1", 50, id="e-m1-second").status == 200  # 110 today: past it
    assert held_for_its_run(loyalty.spend("m1", 10))


@pytest.mark.parametrize("date_range", ["today", "lifetime", "last_7_days"])
def test_an_earn_past_a_workflow_that_already_ran_in_its_period_holds_no_spend(
    loyalty, tenant, aws, clock, date_range
):
    """A loyalty tester's: a customer the workflow suspended, reviewed and let go by the fraud team,
    had every spend held after each earn for the rest of the period (for good under `lifetime`),
    though the workflow would not run again before the next one: a checkout that earns, then
    redeems, was refused every time."""
    # Given a workflow that suspends past 100, which suspended m1, let go after review
    suspend = workflow_settings(threshold=100, date_range=date_range, actions=[{"type": "suspend"}])
    assert loyalty.workflow("big", suspend).status == 200
    assert earn_only(loyalty, "m1", 150).status == 200
    assert run_queued_workflows() == 1
    assert loyalty.status("m1", "unsuspend", {"note": "reviewed, genuine"}).status == 200

    # When m1 earns at checkout and redeems at once, the earn's run still queued
    clock.advance(minutes=5)
    assert earn_only(loyalty, "m1", 10, id="e-checkout").status == 200
    spent = loyalty.spend("m1", 20)

    # Then the spend passes, and the run changes nothing
    assert spent.status == 200, spent.body
    run_queued_workflows()
    assert loyalty.customer("m1").body["status"] == "active"


def test_a_lifetime_or_rolling_window_is_judged_by_the_lifetime_the_earn_knows(loyalty, tenant, aws):
    week = workflow_settings(threshold=100, date_range="last_7_days", actions=[{"type": "block"}])
    assert loyalty.workflow("weekly", week).status == 200
    assert earn_only(loyalty, "m1", 60).status == 200
    assert loyalty.spend("m1", 10).status == 200  # 60 in all: the window holds no more
    assert earn_only(loyalty, "m1", 60, id="e-m1-second").status == 200
    assert held_for_its_run(loyalty.spend("m1", 10))  # 120 in all: the window may hold more than 100
    assert run_queued_workflows() == 2
    assert loyalty.customer("m1").body["status"] == "blocked"


def test_an_earn_matching_only_workflows_that_do_not_suspend_holds_no_spend(loyalty, tenant, aws):
    tell = workflow_settings(threshold=10, actions=[{"type": "communication", "event": "big_spender"}])
    assert loyalty.workflow("tell", tell).status == 200
    assert earn_only(loyalty, "m1", 60).status == 200

    assert loyalty.spend("m1", 10).status == 200  # its run still queued


def test_a_run_that_never_comes_holds_the_spends_for_spend_wait_only(loyalty, tenant, aws, clock):
    # the workflow queue down, the run in its dead-letter queue (alarmed): the customer is not
    # refused spending for good
    assert loyalty.workflow("big", SUSPEND_OVER_100).status == 200
    assert earn_only(loyalty, "m1", 150).status == 200
    clock.advance(seconds=workflows.SPEND_WAIT.total_seconds() - 1)
    assert held_for_its_run(loyalty.spend("m1", 10))
    clock.advance(seconds=2)
    assert loyalty.spend("m1", 10).status == 200


def test_a_run_that_finds_its_customer_too_busy_comes_back_rather_than_giving_up(
    loyalty, tenant, aws, clock, monkeypatch
):
    # Given an earn past a suspending workflow, and each write of its run finding the customer
    # changed by someone else meanwhile (an earn, a spend, a change by hand)
    assert loyalty.workflow("big", SUSPEND_OVER_100).status == 200
    assert earn_only(loyalty, "m1", 150).status == 200
    repository = runtime.dependencies().repository
    write = repository.change_loyalty_customer
    monkeypatch.setattr(workflows, "backoff", lambda attempt: None)

    def changed_first(change):  # another writer's change of the customer lands first, every time
        current = repository.get_loyalty_customer(tenant.program_id, "m1")
        assert write(CustomerChange(current.version, current))
        return write(change)

    monkeypatch.setattr(repository, "change_loyalty_customer", changed_first)
    assert run_queued_workflows() == 0  # the run failed: its message comes back

    # Then it is still due (it was given up and taken off before), the spend still waits, and the
    # next try suspends the customer (here the relay's copy: the message waits out its visibility)
    assert aws.repository.workflow_runs_due(tenant.program_id, runs_far_ahead(aws), 10)
    assert held_for_its_run(loyalty.spend("m1", 150))
    monkeypatch.setattr(repository, "change_loyalty_customer", write)
    clock.advance(seconds=runs.WORKFLOW_RELAY.after.total_seconds() + 1)
    assert invoke(
        "functions.loyalty.workflow_relay.lambda_handler", scheduled_event("loyalty-workflow-relay")
    )
    run_queued_workflows()
    assert loyalty.customer("m1").body["status"] == "suspended"


@pytest.mark.parametrize("earn_id", ["order[1]", "order]1", "[1]"])
def test_an_earn_id_with_brackets_has_its_run_done_and_its_spend_wait_lifted(
    loyalty, clock, aws, tenant, earn_id
):
    # Given an earn whose id holds brackets (SPEC 3.1 allows them) past a suspending workflow
    assert loyalty.workflow("big", SUSPEND_OVER_100).status == 200
    assert earn_only(loyalty, "m1", 150, id=earn_id).status == 200

    # When its run suspends the customer, and the fraud team lifts the suspension after review
    run_queued_workflows()
    assert loyalty.customer("m1").body["status"] == "suspended"
    assert loyalty.status("m1", "unsuspend", {"note": "reviewed, genuine"}).status == 200
    clock.advance(seconds=30)

    # Then the run is done (out of the due runs), and the customer spends: no wait is left over
    assert aws.repository.workflow_runs_due(tenant.program_id, clock.now() + timedelta(days=1), 10) == []
    spent = loyalty.spend("m1", 10)
    assert spent.status == 200, spent.body


def crossed_then_let_go(loyalty: Loyalty, clock: Any, days: int) -> None:
    """m1 crossed a 7-day window over 1000 that suspends, was let go by the fraud team, and `days`
    have passed since."""
    rolling = workflow_settings(date_range="last_7_days", threshold=1000, actions=[{"type": "suspend"}])
    assert loyalty.workflow("rolling", rolling).status == 200
    assert loyalty.earn("m1", 1001).status == 200
    assert loyalty.status("m1", "unsuspend").status == 200
    clock.advance(days=days)


@pytest.mark.parametrize("path", ["queue", "relay"])
def test_an_earn_dated_back_into_a_rolling_window_it_crosses_again_runs_its_actions(
    loyalty, tenant, aws, clock, monkeypatch, path
):
    # Given a customer who crossed a 7-day window, was suspended and let go by the fraud team, and
    # whose window is empty twelve days later
    crossed_then_let_go(loyalty, clock, days=12)
    assert loyalty.customer("m1").body["aggregates"]["earned"]["last_7_days"] == 0

    # When 5,000 points dated six days back arrive (a late import, or a fraudster's choice), their
    # run coming from the queue's message, or from the due run the relay reads when the send failed
    dated = (clock.now() - timedelta(days=6)).isoformat()
    deps = runtime.dependencies()
    if path == "relay":

        class DownQueue:
            def send(self, run, sent_at):
                raise StorageUnavailable("workflow queue unavailable (test)")

        working = deps.workflow_queue
        monkeypatch.setattr(deps, "workflow_queue", DownQueue())
        assert earn_only(loyalty, "m1", 5000, occurred_at=dated).status == 200
        monkeypatch.setattr(deps, "workflow_queue", working)
        clock.advance(seconds=runs.WORKFLOW_RELAY.after.total_seconds() + 1)
        relay = "functions.loyalty.workflow_relay.lambda_handler"
        assert invoke(relay, scheduled_event("loyalty-workflow-relay")) == {"relayed": 1}
    else:
        assert earn_only(loyalty, "m1", 5000, occurred_at=dated).status == 200
    run_queued_workflows()

    # Then the window crossed again from 0: suspended, and the points are not spent
    customer = loyalty.customer("m1").body
    assert customer["aggregates"]["earned"]["last_7_days"] == 5000
    assert customer["status"] == "suspended", customer["history"]
    assert loyalty.spend("m1", 5000).status == 409


@pytest.mark.parametrize("how_many", [2, 5])
def test_earns_dated_back_together_before_their_runs_still_run_a_rolling_windows_actions(
    loyalty, tenant, aws, clock, how_many
):
    """A nightly import of earns dated back, all recorded before their runs (the queue's way): each
    run counted the others as if they had been there when the days began, found no dip, and the
    customer spent them unsuspended (a reviewer's find)."""
    crossed_then_let_go(loyalty, clock, days=12)
    assert loyalty.customer("m1").body["aggregates"]["earned"]["last_7_days"] == 0

    for n in range(how_many):  # dated back into every window since the dip, each above it alone
        dated = (clock.now() - timedelta(days=6, minutes=n)).isoformat()
        assert earn_only(loyalty, "m1", 1001, id=f"import-{n}", occurred_at=dated).status == 200
    run_queued_workflows()

    customer = loyalty.customer("m1").body
    assert customer["aggregates"]["earned"]["last_7_days"] == 1001 * how_many
    assert customer["status"] == "suspended", customer["history"]
    assert loyalty.spend("m1", 1001 * how_many).status == 409


def test_an_earn_dated_back_into_a_window_above_all_along_runs_nothing_again(loyalty, tenant, aws, clock):
    """The late points set apart are only those that truly came later: a window above every day
    since its crossing, before and after an earn dated back, is not re-armed by it."""
    warn = workflow_settings(date_range="last_7_days", threshold=100)
    assert loyalty.workflow("warn", warn).status == 200
    for _ in range(10):  # 60 a day: above from the second day on, every day
        assert loyalty.earn("m1", 60).status == 200
        clock.advance(days=1)
    assert (
        earn_only(loyalty, "m1", 5, occurred_at=(clock.now() - timedelta(days=3)).isoformat()).status == 200
    )
    run_queued_workflows()

    history = loyalty.customer("m1").body["history"]
    assert [h["action"] for h in history] == ["communication"], history


def test_a_dip_at_the_start_of_the_day_an_earn_dated_back_arrives_runs_the_actions_again(
    loyalty, tenant, aws, clock
):
    """Day 0's points leave at the start of day 7, when an earn dated day 3 has not arrived yet: the
    window dipped then, on the day it arrived itself (the boundary of `periods.at_start`, a
    reviewer's case)."""
    crossed_then_let_go(loyalty, clock, days=7)

    dated = (clock.now() - timedelta(days=4)).isoformat()
    assert earn_only(loyalty, "m1", 1001, id="late", occurred_at=dated).status == 200
    run_queued_workflows()

    customer = loyalty.customer("m1").body
    assert customer["aggregates"]["earned"]["last_7_days"] == 1001
    assert customer["status"] == "suspended", customer["history"]
