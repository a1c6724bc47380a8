"""The seed's two workflows, as written, through the real loyalty handler against moto, with what
reaches the notification bus (SPEC 8, seed 001); and the workflow resource itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.test_loyalty_support import (  # noqa: F401 (fixtures)
    NOW,
    DynamoCalls,
    Loyalty,
    bus_fixture,
    campaign_settings,
    clock_fixture,
    loyalty_sample,
    run_queued_workflows,
    workflow_settings,
)
from tests.support import call, proxy_event


@pytest.fixture
def loyalty(tenant, clock) -> Loyalty:
    return Loyalty(tenant.keys)


def test_week_to_date_earnings_above_the_threshold_send_one_warning(loyalty, clock, bus):
    # Given the seed's first workflow: on "point add", if the current customer's week-to-date
    # earnings pass the threshold, trigger the marketing communication with its payload
    settings = loyalty_sample("workflow_weekly_warning")
    assert loyalty.workflow("weekly-warning", settings).status == 200

    loyalty.earn("m1", 3000)  # Wednesday
    clock.advance(days=1)
    loyalty.earn("m1", 2000)  # 5000: at the threshold, nothing yet
    assert bus.events("LoyaltyCommunication") == []
    loyalty.earn("m1", 1)  # 5001: above
    loyalty.earn("m1", 700)  # still above: the warning is not sent again
    loyalty.earn("m2", 4000)  # another customer, below

    sent = bus.events("LoyaltyCommunication")
    assert len(sent) == 1
    assert {k: sent[0][k] for k in ("customer_id", "workflow_id", "event", "payload")} == {
        "customer_id": "m1",
        "workflow_id": "weekly-warning",
        "event": "loyalty.terms_warning",
        "payload": {"template": "points-terms", "channel": "email"},
    }
    history = loyalty.customer("m1").body["history"]
    assert history == [
        {
            "at": "2026-11-05T12:00:00Z",
            "action": "communication",
            "by": "workflow:weekly-warning",
            "event": "loyalty.terms_warning",
            "payload": {"template": "points-terms", "channel": "email"},
        }
    ]
    assert loyalty.customer("m1").body["status"] == "active"  # a warning only

    clock.advance(days=4)  # Monday: a new week re-arms it
    loyalty.earn("m1", 5001)
    assert [e["customer_id"] for e in bus.events("LoyaltyCommunication")] == ["m1", "m1"]


def test_todays_campaign_bonus_over_3000_suspends_every_such_customer(loyalty, clock, bus):
    loyalty.campaign("double-points-november", campaign_settings("soft", total=10**6, per_customer=10**6))
    # one customer crossed 3000 bonus points today before the workflow existed
    loyalty.bonus("early-farmer", 3200, "double-points-november")
    loyalty.bonus("yesterdays-farmer", 5000, "double-points-november", occurred_at="2026-11-03T12:00:00Z")
    loyalty.bonus("honest", 3000, "double-points-november")
    loyalty.earn("big-spender", 9000)  # earned a lot, but not through bonuses

    # Given the seed's second workflow: on a campaign bonus, every customer (the audience) whose
    # bonus points today are over 3000 is suspended
    settings = loyalty_sample("workflow_bonus_audience")
    assert loyalty.workflow("bonus-farming", settings).body["filter"]["customer"] == "all"
    loyalty.earn("any-purchase", 10)  # not a campaign bonus: does not trigger it
    assert bus.events("CustomerSuspended") == []

    loyalty.bonus("late-farmer", 3001, "double-points-november")

    suspended = sorted(e["customer_id"] for e in bus.events("CustomerSuspended"))
    assert suspended == ["early-farmer", "late-farmer"]
    for customer, status in [
        ("early-farmer", "suspended"),
        ("late-farmer", "suspended"),
        ("yesterdays-farmer", "active"),
        ("honest", "active"),
        ("big-spender", "active"),
    ]:
        assert loyalty.customer(customer).body["status"] == status, customer
    farmer = loyalty.customer("early-farmer").body
    assert [(h["action"], h["by"]) for h in farmer["history"]] == [("suspended", "workflow:bonus-farming")]
    # suspended customers still earn, cannot spend; nobody is suspended twice
    assert loyalty.bonus("early-farmer", 10, "double-points-november").status == 200
    assert loyalty.spend("early-farmer", 10).status == 409
    assert len(bus.events("CustomerSuspended")) == 2


@pytest.mark.parametrize("workflow_id", ["[g!095EjQMSCVw(KNs", "bonus.farming", "farm]ing[0]"])
def test_an_audience_workflow_runs_whatever_characters_its_id_holds(loyalty, clock, bus, workflow_id):
    # an id with `[`, `]` or `.` (identifiers allow them) could not be named in the audience query's
    # filter: every run of that workflow failed, and with it every workflow of the same earn (CI met
    # one a contract test had made, and a plain workflow of another test never ran)
    loyalty.campaign("c", campaign_settings("soft", total=10**6, per_customer=10**6))
    loyalty.bonus("early-farmer", 3200, "c")
    assert loyalty.workflow(workflow_id, loyalty_sample("workflow_bonus_audience")).status == 200

    loyalty.bonus("late-farmer", 3001, "c")

    assert sorted(e["customer_id"] for e in bus.events("CustomerSuspended")) == [
        "early-farmer",
        "late-farmer",
    ]
    loyalty.bonus("late-farmer", 10, "c")  # run again: each had it once
    assert len(bus.events("CustomerSuspended")) == 2


def test_an_audience_workflow_is_read_through_the_index_not_a_scan(loyalty, aws, clock):
    """The audience query reads only customers above the threshold: count what DynamoDB reads."""
    loyalty.campaign("c", campaign_settings("soft", total=10**6, per_customer=10**6))
    for n in range(30):
        loyalty.bonus(f"small-{n}", 10, "c")
    loyalty.bonus("big", 4000, "c")
    loyalty.workflow("audience", loyalty_sample("workflow_bonus_audience"))
    with DynamoCalls() as dynamodb:
        loyalty.bonus("small-0", 1, "c")

    assert "Scan" not in dynamodb.operations
    index_queries = [p for p in dynamodb.named("Query") if p.get("IndexName") == "loyalty_bonus"]
    assert len(index_queries) == 8  # one per shard of today's bonus partition
    read = sum(n for _, p, n, _ in dynamodb.calls if p.get("IndexName") == "loyalty_bonus")
    assert read == 1  # only "big" is above 3000; the 30 small ones are never read
    assert loyalty.customer("big").body["status"] == "suspended"


def test_workflows_are_put_read_listed_and_deleted(loyalty, other_tenant):
    settings = loyalty_sample("workflow_weekly_warning")

    put = loyalty.workflow("w1", settings)
    loyalty.workflow("w0", workflow_settings(kind="campaign_bonus", actions=[{"type": "block"}]))
    again = loyalty.workflow("w1", {**settings, "enabled": False})

    assert put.status == 200
    assert {k: put.body[k] for k in ("id", "trigger", "filter", "actions", "enabled")} == {
        "id": "w1",
        **settings,
    }
    assert again.body["enabled"] is False
    listed = loyalty.request("GET", "/v1/loyalty/workflows").body["items"]
    assert [(w["id"], w["enabled"]) for w in listed] == [("w0", True), ("w1", False)]
    assert listed[0]["trigger"] == {"event": "points.earned", "kind": "campaign_bonus"}
    assert listed[0]["actions"] == [{"type": "block"}]
    got = loyalty.workflow("w1").body
    body = {k: got[k] for k in ("trigger", "filter", "actions", "enabled")}
    assert loyalty.workflow("w1", body).status == 200  # what GET answers can be PUT back as is
    assert loyalty.request("DELETE", "/v1/loyalty/workflows/w1").status == 204
    assert loyalty.workflow("w1").status == 404
    assert loyalty.request("DELETE", "/v1/loyalty/workflows/w1").status == 404
    assert Loyalty(other_tenant.keys).request("GET", "/v1/loyalty/workflows").body == {"items": []}


BAD_WORKFLOWS = {
    "trigger-event": (lambda w: w["trigger"].update(event="points.spent"), "trigger.event"),
    "trigger-kind": (lambda w: w["trigger"].update(kind="refund"), "trigger.kind"),
    "aggregation": (lambda w: w["filter"].update(aggregation="balance"), "filter.aggregation"),
    "date-range": (lambda w: w["filter"].update(date_range="last_90_days"), "filter.date_range"),
    "customer": (lambda w: w["filter"].update(customer="some"), "filter.customer"),
    "threshold": (lambda w: w["filter"].update(threshold=-1), "filter.threshold"),
    "threshold-text": (lambda w: w["filter"].update(threshold="3000"), "filter.threshold"),
    "no-actions": (lambda w: w.update(actions=[]), "actions"),
    "action-type": (lambda w: w["actions"].append({"type": "unsuspend"}), "actions.1"),
    "communication-event": (lambda w: w["actions"][0].pop("event"), "actions.0.event"),
    "suspend-extra": (lambda w: w["actions"].append({"type": "suspend", "event": "x"}), "actions.1.event"),
    "enabled": (lambda w: w.pop("enabled"), "enabled"),
    "unknown": (lambda w: w.update(name="x"), "name"),
}


def test_a_bad_workflow_is_422_naming_the_field_and_changes_nothing(loyalty):
    for case, (change, field) in BAD_WORKFLOWS.items():
        settings = loyalty_sample("workflow_weekly_warning")
        change(settings)

        answer = loyalty.workflow("w1", settings)

        assert answer.status == 422, (case, answer)
        fields = [e["field"] for e in answer.body["errors"]]
        assert any(f == field or f.startswith(field + ".") for f in fields), (case, fields)
    assert loyalty.workflow("w1").status == 404


def test_workflows_of_a_program_see_only_its_customers(loyalty, other_tenant, clock, bus):
    other = Loyalty(other_tenant.keys)
    other.earn("m1", 9999)  # the other program's customer with the same id
    loyalty.workflow("audience", workflow_settings(threshold=5000, customer="all"))

    loyalty.earn("m2", 1)

    assert bus.events("LoyaltyCommunication") == []
    assert other.customer("m1").body["history"] == []
    clock.advance(days=1)
    assert NOW + timedelta(days=1) == clock.now()


@pytest.mark.parametrize("date_range", ["lifetime", "month_to_date", "last_7_days"])
def test_a_workflow_given_new_actions_runs_them_for_whoever_had_only_the_old_ones(
    loyalty, clock, bus, date_range
):
    # SPEC 8: the actions run for a customer above the threshold who has not had them yet; the
    # markers were kept by workflow id, so new actions never ran for whoever had had the old ones
    warn = [{"type": "communication", "event": "warning", "payload": {"template": "terms"}}]

    def save_then_earn(threshold: int, actions: list[dict]) -> None:
        saved = loyalty.workflow(
            "wf", workflow_settings(date_range=date_range, threshold=threshold, actions=actions)
        )
        assert saved.status == 200, saved
        clock.advance(seconds=1)
        loyalty.earn("m1", 10)

    save_then_earn(1000, warn)
    loyalty.earn("m1", 2000)
    assert len(bus.events("LoyaltyCommunication")) == 1
    # the same actions, a new threshold: whoever had them does not get them again
    save_then_earn(1500, warn)
    assert len(bus.events("LoyaltyCommunication")) == 1
    # other actions: they run
    save_then_earn(1500, [{"type": "suspend"}])
    assert loyalty.customer("m1").body["status"] == "suspended"
    assert len(bus.events("CustomerSuspended")) == 1
    # deleted, and made again with the first actions: a new workflow, run for whoever is above
    assert loyalty.request("DELETE", "/v1/loyalty/workflows/wf").status == 204
    save_then_earn(1000, warn)
    assert len(bus.events("LoyaltyCommunication")) == 2


@pytest.mark.parametrize(
    ("date_range", "now", "dated"),
    [
        ("today", datetime(2026, 11, 4, 23, 57, tzinfo=UTC), "2026-11-05T00:01:00Z"),
        ("month_to_date", datetime(2026, 11, 30, 23, 57, tzinfo=UTC), "2026-12-01T00:01:00Z"),
        ("last_7_days", datetime(2026, 11, 4, 23, 57, tzinfo=UTC), "2026-11-05T00:01:00Z"),
        ("today", datetime(2026, 11, 5, 0, 2, tzinfo=UTC), "2026-11-04T23:58:00Z"),  # back-dated
    ],
)
def test_an_earn_is_judged_in_the_periods_it_counts_in_not_only_the_day_it_arrives(
    loyalty, clock, date_range, now, dated
):
    # Given a workflow that suspends past 3,000 points, and an earn of 5,000 dated across a period's
    # end from its arrival (SPEC 3.1 takes up to 5 minutes ahead; SPEC 8 counts by occurred_at)
    settings = workflow_settings(threshold=3000, date_range=date_range, actions=[{"type": "suspend"}])
    assert loyalty.workflow("farming", settings).status == 200
    clock.advance(seconds=(now - clock.now()).total_seconds())

    # When it is earned and spent at once
    assert loyalty.earn("fraudster", 5000, occurred_at=dated).status == 200
    cashed = loyalty.spend("fraudster", 5000)

    # Then the spend is refused: the run judged the earn's own periods, and suspended the customer
    assert cashed.status == 409, cashed.body
    assert loyalty.customer("fraudster").body["status"] == "suspended"
    assert loyalty.customer("fraudster").body["balance"] == 5000


@pytest.mark.parametrize("one_batch", [True, False])  # False: a batch each, as before
def test_runs_of_two_days_in_one_batch_each_sweep_their_own_days_audience(loyalty, clock, one_batch):
    # Given a workflow suspending every customer whose points earned today pass 3,000, on any bonus
    settings = workflow_settings(
        threshold=3000, customer="all", kind="campaign_bonus", actions=[{"type": "suspend"}]
    )
    assert loyalty.workflow("farming", settings).status == 200
    assert loyalty.campaign("c", campaign_settings("soft", total=10**9, per_customer=10**9)).status == 200
    clock.advance(hours=11, minutes=59, seconds=50)  # Wednesday 23:59:50

    def earn_only(body: dict) -> None:
        answer = call("loyalty", proxy_event("POST", "/v1/loyalty/earn", body, loyalty.keys["integration"]))
        assert answer.status == 200, answer.body

    # When Y passes 3,000 on Wednesday and A's bonus matches; X passes on Thursday and B's matches,
    # the two matching runs reaching the runner in one batch
    earn_only({"id": "y", "customer_id": "Y", "points": 5000, "kind": "purchase"})
    earn_only({"id": "a", "customer_id": "A", "points": 10, "kind": "campaign_bonus", "campaign_id": "c"})
    if not one_batch:
        assert run_queued_workflows() == 1
    clock.advance(seconds=20)  # Thursday 00:00:10
    earn_only({"id": "x", "customer_id": "X", "points": 5000, "kind": "purchase"})
    earn_only({"id": "b", "customer_id": "B", "points": 10, "kind": "campaign_bonus", "campaign_id": "c"})
    assert run_queued_workflows() == (2 if one_batch else 1)

    # Then each run swept its own day: both are suspended, neither spends
    statuses = {c: loyalty.customer(c).body["status"] for c in ("X", "Y")}
    assert statuses == {"X": "suspended", "Y": "suspended"}, statuses
    assert {c: loyalty.spend(c, 5000).status for c in ("X", "Y")} == {"X": 409, "Y": 409}


def test_a_back_dated_earn_does_not_suspend_customers_for_a_closed_period(loyalty, clock):
    # Given Z, who earned 5,000 points in June (a late import, before any workflow existed) and
    # nothing since; now (November) a workflow suspends whoever passes 3,000 this month
    assert loyalty.earn("Z", 5000, occurred_at="2026-06-10T10:00:00Z").status == 200
    settings = workflow_settings(
        threshold=3000, date_range="month_to_date", customer="all", actions=[{"type": "suspend"}]
    )
    assert loyalty.workflow("farming", settings).status == 200

    # When another customer's earn of 10 points, back-dated to June, arrives
    assert loyalty.earn("Y", 10, occurred_at="2026-06-20T10:00:00Z").status == 200

    # Then no one is above 3,000 this month: June's audience is not swept (SPEC 8: as of now)
    assert loyalty.customer("Z").body["status"] == "active"
    assert loyalty.spend("Z", 5000).status == 200  # and nothing holds Z's spends


def test_workflows_past_the_room_a_program_keeps_them_in_are_refused_with_why_not_a_500(loyalty):
    # Given workflows as large as the API lets one be: 10 actions of 20 texts of 256 characters
    payload = {f"k{n:02d}": "x" * 256 for n in range(20)}
    fat = workflow_settings(
        actions=[{"type": "communication", "event": f"e{n}", "payload": payload} for n in range(10)]
    )

    # When a program saves them one after the other
    answers = [loyalty.workflow(f"fat-{n}", fat) for n in range(10)]

    # Then those that fit are saved, and the first that does not is a 409 that says why (it was a
    # 500 at the eighth: the item that keeps them passed DynamoDB's 400 KB)
    statuses = [a.status for a in answers]
    assert statuses == [200] * 5 + [409] * 5, statuses
    assert "workflows take at most 300 KB together" in answers[5].body["detail"]
    listed = loyalty.request("GET", "/v1/loyalty/workflows").body["items"]
    assert sorted(w["id"] for w in listed) == [f"fat-{n}" for n in range(5)]
