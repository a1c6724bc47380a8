"""Rewards, holds and the 15-minute hold sweep (SPEC 3.2, 4; the seed's "What happens to rewards?"
and FAQ), through the real handlers on moto."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from functions.hold_sweep.service import sweep
from functions.shared import runtime
from functions.shared.changes import carry_out
from functions.shared.domain import rewards
from functions.shared.domain.model import Reward
from functions.shared.domain.rewards import hold_steps
from functions.shared.domain.writes import PutReward, Step, StepRefused
from functions.shared.messaging import InMemoryPublisher
from local_system.scheduler import scheduled_event
from tests.integration.scoring_support import drain, purchase, send, signup, status
from tests.support import call, invoke_raw, proxy_event, sample


def api_reward(
    reward_id, partner_id, amount="25.00", currency="USD", at="2026-11-03T10:00:00Z", customer_id=None
):
    event = sample("reward.created", id=f"api-{reward_id}", occurred_at=at)
    event["reward"].update(id=reward_id, partner_id=partner_id, amount=amount, currency=currency)
    if customer_id:
        event["reward"]["customer_id"] = customer_id
    else:
        event["reward"].pop("customer_id")
    return event


def stray_rewards(aws, tenant, partner_id, count, amount="10.00", first_minute=0, ids=None):
    """Rewards of a flagged partner that escaped the hold at arrival: written by a scoring run
    that read the partner just before the flag landed (what the sweep is for)."""
    from datetime import UTC, datetime
    from decimal import Decimal

    for n in range(count):
        reward = Reward(
            program_id=tenant.program_id,
            reward_id=ids[n] if ids else f"r{n}",
            partner_id=partner_id,
            amount=Decimal(amount),
            currency="USD",
            status="new",
            created_at=datetime(2026, 11, 2, 13, first_minute + n, tzinfo=UTC),
            source="api",
        )
        aws.repository.apply(Step([PutReward(reward)]))


def flag_partner(aws, tenant, partner_id="p2", at="2026-11-02T12:00:00Z"):
    """Flags `partner_id` at `at` (a duplicate sign-up of p1's address) and returns the case id."""
    send(tenant, signup("p1", email="twin@example.com", at="2026-11-01T09:00:00Z"))
    drain(aws)
    event = send(tenant, signup(partner_id, email="twin@example.com", device="fp-twin", at=at))
    drain(aws)
    case_id = status(tenant, event["id"])["case_id"]
    assert case_id
    return case_id


def reward_status(aws, tenant, reward_id):
    return aws.repository.get_reward(tenant.program_id, reward_id).status


def rewards_api(tenant, role="fraud", **query):
    return call("cases", proxy_event("GET", "/v1/rewards", None, tenant.keys[role], query=query))


def override(tenant, reward_id, role="fraud", body=None):
    return call(
        "cases",
        proxy_event(
            "POST", f"/v1/rewards/{reward_id}/override", body or {"status": "approved"}, tenant.keys[role]
        ),
    )


class TestSeedFaq:
    def test_api_rewards_created_after_a_flag_are_held_at_once(self, aws, tenant):
        case_id = flag_partner(aws, tenant)
        send(tenant, api_reward("r-after", "p2", at="2026-11-02T12:30:00Z"))
        drain(aws)

        assert reward_status(aws, tenant, "r-after") == "on_hold"  # held as it arrives
        case = aws.repository.get_case(tenant.program_id, case_id)
        assert (case.held_count, case.hold_micros) == (1, {"USD": 25_000_000})

    def test_rewards_that_raced_the_flag_are_held_by_the_next_sweep(self, aws, tenant):
        case_id = flag_partner(aws, tenant)
        stray_rewards(aws, tenant, "p2", 1, amount="25.00")
        assert reward_status(aws, tenant, "r0") == "new"

        report = sweep(runtime.dependencies())

        assert reward_status(aws, tenant, "r0") == "on_hold"
        assert report.held == 1
        case = aws.repository.get_case(tenant.program_id, case_id)
        assert (case.held_count, case.hold_micros) == (1, {"USD": 25_000_000})

    def test_rewards_created_before_the_flag_are_untouched(self, aws, tenant):
        send(tenant, signup("p1", email="twin@example.com", at="2026-11-01T09:00:00Z"))
        send(tenant, signup("p2", email="solo@example.com", device="fp-solo", at="2026-11-01T10:00:00Z"))
        drain(aws)
        send(tenant, api_reward("r-before", "p2", at="2026-11-02T11:00:00Z"))
        send(tenant, purchase("c1", "p2", reward="40.00", at="2026-11-02T11:30:00Z"))
        drain(aws)
        # p2 changes e-mail to p1's at 12:00: flagged from then on
        update = sample(
            "account.updated", id="p2-email", occurred_at="2026-11-02T12:00:00Z", activity="email_change"
        )
        update["partner"] = {"id": "p2", "email": "twin@example.com"}
        send(tenant, update)
        drain(aws)
        assert status(tenant, "p2-email")["decision"]["action"] == "flag"
        late_sale = send(tenant, purchase("c2", "p2", reward="15.00", at="2026-11-02T13:00:00Z"))
        drain(aws)
        sweep(runtime.dependencies())

        rewards = {r["id"]: r["status"] for r in rewards_api(tenant, partner_id="p2").body["items"]}
        assert rewards["r-before"] == "new"
        assert [s for i, s in rewards.items() if i.startswith("r-c1")] == ["pending"]
        assert rewards[late_sale["reward"]["id"]] == "on_hold"  # a transaction after the flag: at once

    def test_a_transaction_reward_after_the_flag_is_held_at_once_without_a_sweep(self, aws, tenant):
        case_id = flag_partner(aws, tenant)
        sale = send(tenant, purchase("c1", "p2", reward="12.34", currency="EUR", at="2026-11-02T13:00:00Z"))
        drain(aws)

        assert reward_status(aws, tenant, sale["reward"]["id"]) == "on_hold"
        assert aws.repository.get_case(tenant.program_id, case_id).hold_micros == {"EUR": 12_340_000}

    def test_a_manual_override_sticks(self, aws, tenant):
        case_id = flag_partner(aws, tenant)
        send(tenant, api_reward("r1", "p2", at="2026-11-02T12:30:00Z"))
        drain(aws)
        sweep(runtime.dependencies())

        answer = override(tenant, "r1")
        sweep(runtime.dependencies())
        sweep(runtime.dependencies())

        assert answer.status == 200 and answer.body["status"] == "approved" and answer.body["overridden"]
        assert reward_status(aws, tenant, "r1") == "approved"
        case = aws.repository.get_case(tenant.program_id, case_id)
        assert (case.held_count, case.hold_micros.get("USD", 0)) == (0, 0)
        trail = [entry for _, entry in aws.repository.case_audit(tenant.program_id, case_id)]
        assert [(e.action, e.actor) for e in trail if e.action == "reward_overridden"] == [
            ("reward_overridden", "Program A fraud")
        ]


class TestCustomerFlags:
    def test_every_reward_tied_to_a_flagged_customer_is_held(self, aws, tenant):
        send(tenant, signup("p1", email="ada@example.com"))
        send(tenant, signup("p2"))
        drain(aws)
        send(tenant, purchase("c1", "p2", reward="10.00", at="2026-11-03T09:00:00Z", email="c1@example.org"))
        send(tenant, api_reward("r-c1-api", "p2", at="2026-11-03T09:30:00Z", customer_id="c1"))
        drain(aws)
        # c1 now buys through p1 with p1's own e-mail: a self-referral flags the customer
        flagged = send(
            tenant, purchase("c1", "p1", reward="5.00", email="ada@example.com", at="2026-11-03T10:00:00Z")
        )
        drain(aws)
        case_id = status(tenant, flagged["id"])["case_id"]
        sweep(runtime.dependencies())

        held = rewards_api(tenant, customer_id="c1", status="on_hold").body["items"]
        assert len(held) == 3  # the earlier sale, the API reward, and the flagged sale's own reward
        assert {r["case_id"] for r in held} == {case_id}
        case = aws.repository.get_case(tenant.program_id, case_id)
        assert case.subject_type == "customer" and case.hold_micros == {"USD": 40_000_000}


class LambdaKilled(BaseException):
    """A Lambda past its timeout: the runtime stops the process, so no `except` of the code runs."""


class TestSweepSafety:
    def _setup(self, aws, tenant, rewards=6):
        case_id = flag_partner(aws, tenant)
        stray_rewards(aws, tenant, "p2", rewards)
        return case_id

    def test_a_sweep_interrupted_half_way_is_finished_by_the_next(self, aws, tenant, monkeypatch):
        case_id = self._setup(aws, tenant)
        deps = runtime.dependencies()
        monkeypatch.setattr(rewards, "HOLD_STEP_ROOM", 2)  # three steps of two holds
        real = type(deps.repository).apply
        calls = []

        def crash_after_the_first(self, step):
            calls.append(step)
            if len(calls) == 2:
                raise LambdaKilled("the Lambda timed out")
            return real(self, step)

        monkeypatch.setattr(type(deps.repository), "apply", crash_after_the_first)
        with pytest.raises(LambdaKilled):
            sweep(deps)
        monkeypatch.setattr(type(deps.repository), "apply", real)
        assert sum(reward_status(aws, tenant, f"r{n}") == "on_hold" for n in range(6)) == 2

        report = sweep(deps)

        assert report.held == 4
        assert all(reward_status(aws, tenant, f"r{n}") == "on_hold" for n in range(6))
        case = aws.repository.get_case(tenant.program_id, case_id)
        assert (case.held_count, case.hold_micros) == (6, {"USD": 60_000_000})

    def test_two_sweeps_at_once_hold_each_reward_once(self, aws, tenant):
        case_id = self._setup(aws, tenant, rewards=8)
        deps = runtime.dependencies()

        with ThreadPoolExecutor(max_workers=3) as pool:
            reports = list(pool.map(lambda _: sweep(deps), range(3)))

        assert sum(r.held for r in reports) == 8
        case = aws.repository.get_case(tenant.program_id, case_id)
        assert (case.held_count, case.hold_micros) == (8, {"USD": 80_000_000})

    def test_a_reward_overridden_while_a_sweep_runs_stays_approved(self, aws, tenant):
        """Sweep A reads r-late while new; sweep B holds it; a teammate approves it by hand; then
        sweep A, still working from its read, tries to hold it: the conditional write refuses."""
        case_id = self._setup(aws, tenant, rewards=3)
        deps = runtime.dependencies()
        sweep(deps)
        override(tenant, "r1")
        real_rewards = deps.repository.subject_rewards
        stray_rewards(aws, tenant, "p2", 1, first_minute=30, ids=["r-late"])
        stale = real_rewards(tenant.program_id, "partner", "p2")  # what a sweep read: r-late still new
        sweep(deps)
        override(tenant, "r-late")
        # a second sweep still holding the stale read tries to hold r-late again: refused
        late = [r for r in stale if r.reward_id == "r-late"]
        with pytest.raises(StepRefused):
            carry_out(
                deps.repository,
                hold_steps(
                    (tenant.program_id, case_id), ("partner", "p2"), late, "sweep", deps.clock.now(), "x"
                ),
                deps.publisher,
            )

        assert reward_status(aws, tenant, "r-late") == "approved"
        assert reward_status(aws, tenant, "r1") == "approved"
        case = aws.repository.get_case(tenant.program_id, case_id)
        assert (case.held_count, case.hold_micros) == (2, {"USD": 20_000_000})

    def test_the_sweep_runs_from_its_schedule_event_and_publishes_rewards_held(
        self, aws, tenant, monkeypatch
    ):
        self._setup(aws, tenant, rewards=2)
        publisher = InMemoryPublisher()
        monkeypatch.setattr(runtime.dependencies(), "publisher", publisher)

        answer = invoke_raw("hold_sweep", scheduled_event("hold-sweep"))

        assert answer["held"] == 2
        [(kind, detail)] = [p for p in publisher.published if p[0] == "RewardsHeld"]
        assert detail["count"] == 2 and detail["amounts"] == [{"currency": "USD", "amount": "20.00"}]
        assert detail["subject"] == {"type": "partner", "id": "p2"}


class TestRewardsApi:
    def test_overriding_a_reward_not_on_hold_is_409_and_changes_nothing(self, aws, tenant):
        send(tenant, signup("p1"))
        send(tenant, api_reward("r1", "p1"))
        drain(aws)

        answer = override(tenant, "r1")

        assert answer.status == 409 and "only a reward on hold" in answer.body["detail"]
        assert reward_status(aws, tenant, "r1") == "new"

    def test_override_validates_its_body_and_roles(self, aws, tenant, other_tenant):
        case_id = flag_partner(aws, tenant)
        send(tenant, api_reward("r1", "p2", at="2026-11-02T12:30:00Z"))
        drain(aws)
        sweep(runtime.dependencies())

        assert override(tenant, "r1", body={"status": "paid"}).status == 422
        assert override(tenant, "r1", role="viewer").status == 403
        assert override(tenant, "r1", role="integration").status == 403
        assert (
            call(
                "cases",
                proxy_event(
                    "POST", "/v1/rewards/r1/override", {"status": "approved"}, other_tenant.keys["admin"]
                ),
            ).status
            == 404
        )
        assert reward_status(aws, tenant, "r1") == "on_hold"
        assert override(tenant, "r1", role="admin").status == 200
        assert aws.repository.get_case(tenant.program_id, case_id).held_count == 0

    def test_listing_pages_and_filters(self, aws, tenant):
        send(tenant, signup("p1"))
        for n in range(5):
            send(tenant, api_reward(f"r{n}", "p1", at=f"2026-11-03T10:0{n}:00Z"))
        drain(aws)

        first = rewards_api(tenant, partner_id="p1", limit="2").body
        second = rewards_api(tenant, partner_id="p1", limit="2", cursor=first["next_cursor"]).body
        third = rewards_api(tenant, partner_id="p1", limit="2", cursor=second["next_cursor"]).body

        assert [r["id"] for r in first["items"] + second["items"] + third["items"]] == [
            f"r{n}"
            for n in reversed(range(5))  # newest first, as the program's listing
        ]
        assert third["next_cursor"] is None
        assert rewards_api(tenant, partner_id="p1", status="on_hold").body["items"] == []
        assert rewards_api(tenant, partner_id="p1", status="frozen").status == 422
        everything = rewards_api(tenant, limit="3").body  # no filter: the program's, newest first
        assert [r["id"] for r in everything["items"]] == ["r4", "r3", "r2"]
        rest = rewards_api(tenant, limit="3", cursor=everything["next_cursor"]).body
        assert [r["id"] for r in rest["items"]] == ["r1", "r0"] and rest["next_cursor"] is None
        # a cursor is bound to its query: another filter's cursor is refused, not misread
        assert rewards_api(tenant, status="new", cursor=everything["next_cursor"]).status == 422
        assert rewards_api(tenant, partner_id="p1", cursor="garbage").status == 422
        assert first["items"][0]["amount"] == "25.00"


def test_summary_figures_against_a_hand_computed_fixture(aws, tenant):
    # Given two flagged partners with rewards in two currencies, one case disputed
    send(tenant, signup("p1", email="a@example.com"))
    send(tenant, signup("p3", email="b@example.com"))
    drain(aws)
    first = send(tenant, signup("p2", email="a@example.com", device="fp-x", at="2026-11-02T12:00:00Z"))
    second = send(tenant, signup("p4", email="b@example.com", device="fp-y", at="2026-11-02T12:00:00Z"))
    drain(aws)
    for n, (partner, amount, currency) in enumerate(
        [("p2", "10.50", "USD"), ("p2", "4.25", "EUR"), ("p4", "100.00", "USD"), ("p4", "0.75", "USD")]
    ):
        send(
            tenant, api_reward(f"r{n}", partner, amount=amount, currency=currency, at="2026-11-02T13:00:00Z")
        )
    drain(aws)
    sweep(runtime.dependencies())
    disputed = status(tenant, second["id"])["case_id"]
    assert (
        call(
            "disputes",
            proxy_event("POST", f"/v1/cases/{disputed}/dispute", {"reason": "known"}, tenant.keys["admin"]),
        ).status
        == 200
    )

    summary = call("cases", proxy_event("GET", "/v1/summary", None, tenant.keys["fraud"])).body
    assert len(summary.pop("flags_per_day")) == 30  # days: see test_cases_views

    # Then: 1 open, 1 disputed; 4 held rewards; USD 10.50 + 100.00 + 0.75 = 111.25; EUR 4.25
    assert summary == {
        "open_cases": 1,
        "disputed_cases": 1,
        "held_rewards": {
            "count": 4,
            "amounts": [{"currency": "EUR", "amount": "4.25"}, {"currency": "USD", "amount": "111.25"}],
        },
    }
    assert status(tenant, first["id"])["case_id"] != disputed


def test_a_subject_the_sweep_cannot_hold_for_is_reported_and_alarmed(aws, tenant, capsys, caplog):
    """A flagged partner whose case item is gone (deleted by hand): its strays cannot be held under
    it. The sweep goes on with the others, and says so in its report, its log and the metric an
    alarm watches (a subject failing every run would otherwise wait unseen)."""
    import json
    import os

    import boto3

    from functions.hold_sweep.service import SUBJECTS_FAILED_METRIC
    from functions.shared.storage import keys
    from local_system.lambda_runtime import invoke

    case_id = flag_partner(aws, tenant)
    stray_rewards(aws, tenant, "p2", 2)
    boto3.client("dynamodb").delete_item(
        TableName=os.environ["TABLE_NAME"],
        Key={"pk": {"S": keys.case_pk(tenant.program_id, case_id)}, "sk": {"S": keys.CASE_SK}},
    )

    report = invoke("functions.hold_sweep.handler.lambda_handler", scheduled_event("hold-sweep"))

    assert (report["held"], [f["subject"] for f in report["failed"]]) == (0, ["partner:p2"])
    assert "hold sweep skipped a subject" in caplog.text
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [m[SUBJECTS_FAILED_METRIC] for m in emitted if SUBJECTS_FAILED_METRIC in m] == [[1.0]]
    assert {reward_status(aws, tenant, f"r{n}") for n in range(2)} == {"new"}
