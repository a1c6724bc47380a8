"""The monthly dispute cycle past a case it cannot write (SPEC 7: a cycle reports a case that fails
and goes on), through its handler on moto: a write DynamoDB refuses as malformed is one case's
fault, never the month's; and a prolific partner's approval fits what DynamoDB and the bus take."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import botocore.client
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from functions.shared.domain.disputes import NOTICE_REWARD_IDS
from functions.shared.domain.model import Case, Reason, Reward, Subject
from functions.shared.domain.writes import MAX_STEP_ITEMS, PutCase, PutReward, Step, WriteProfile
from tests.integration import test_disputes
from tests.integration.scoring_support import drain
from tests.integration.test_disputes import (
    VERDICT_AT,
    buy,
    case_of,
    dispute,
    flag_partner,
    published,
    run_scheduled_cycle,
    set_clock,
    verdict,
)

env = test_disputes.env  # the same fixture: a program, its keys, a bus, a clock
REAL = botocore.client.BaseClient._make_api_call


@pytest.fixture(autouse=True)
def _real_calls(monkeypatch: Any) -> None:
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", REAL)


def test_a_case_whose_write_is_refused_as_malformed_is_reported_and_the_others_resolved(
    env, monkeypatch, caplog
):
    # Given two declined disputes, the first taken first, and DynamoDB refusing the first's last step
    first = flag_partner(env, "p-big")
    buy(env, "c-big", "p-big", "2026-11-04T09:00:00Z", "30.00")
    second = flag_partner(env, "p-next", day=5)
    buy(env, "c-next", "p-next", "2026-11-06T09:00:00Z", "20.00")
    drain(env.aws)
    assert dispute(env, first).status == 200
    env.clock.advance(seconds=60)
    assert dispute(env, second).status == 200
    set_clock(env.clock, VERDICT_AT)
    assert verdict(env, first, "decline").status == 200
    assert verdict(env, second, "decline").status == 200

    def refusing(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "TransactWriteItems" and first in str(params) and "DisputeResolved" in str(params):
            error = {
                "Code": "ValidationException",
                "Message": "Item size has exceeded the maximum allowed size",
            }
            raise ClientError({"Error": error}, operation)
        return REAL(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refusing)

    # When the monthly cycle runs
    report = run_scheduled_cycle(env)

    # Then the second is resolved, the first reported failed (alarmed) and left disputed for a rerun
    assert report["totals"] == {"approved": 0, "declined": 1, "withdrawn": 0, "waiting": 0, "failed": 1}
    assert case_of(env.tenant, second)["status"] == "declined"
    assert case_of(env.tenant, first)["status"] == "disputed"
    assert "dispute cycle failed on a case" in caplog.text

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", REAL)
    again = run_scheduled_cycle(env)  # mended: the run by hand finishes it
    assert again["totals"]["declined"] == 1 and case_of(env.tenant, first)["status"] == "declined"


def test_a_prolific_partners_approval_resolves_with_a_bounded_notification(env):
    # Given a partner with 3,300 rewards held, each id 128 characters (the longest SPEC 3.1 allows):
    # every id in the DisputeResolved would be 430 KB, past the outbox item's 400 KB and the bus's 256
    held = 3300
    program, store = env.tenant.program_id, env.deps.repository
    flagged = datetime(2026, 11, 2, 9, tzinfo=UTC)
    case = Case(
        program, "case-big", "partner", "p-big", "Busy Reseller", [Reason("velocity", "x")], "open",
        flagged, "e0", hold_micros={"USD": 2_500_000 * held}, held_count=held,
    )  # fmt: skip
    partner = Subject(
        program, "partner", "p-big", "Busy Reseller", status="flagged", flagged_at=flagged,
        active_case_id="case-big", flag_case_id="case-big",
    )  # fmt: skip
    store.apply(Step([PutCase(case), WriteProfile(partner, expect_version=0)]))
    ids = [f"r{n:06}-" + "x" * 120 for n in range(held)]
    rewards = [
        PutReward(
            Reward(
                program,
                reward_id,
                "p-big",
                Decimal("2.50"),
                "USD",
                "on_hold",
                flagged + timedelta(minutes=n + 1),
                "api",
                case_id="case-big",
            )  # fmt: skip
        )
        for n, reward_id in enumerate(ids)
    ]
    for start in range(0, len(rewards), MAX_STEP_ITEMS):
        store.apply(Step(rewards[start : start + MAX_STEP_ITEMS]))
    assert dispute(env, "case-big").status == 200
    set_clock(env.clock, VERDICT_AT)
    assert verdict(env, "case-big", "approve").status == 200

    # When the cycle applies the approval
    report = run_scheduled_cycle(env)

    # Then the case is approved, and its notification names how many moved and the first ids
    assert report["totals"]["approved"] == 1 and case_of(env.tenant, "case-big")["status"] == "approved"
    (event,) = published(env, "DisputeResolved")
    assert (event["reward_count"], event["rewards"]) == (held, sorted(ids)[:NOTICE_REWARD_IDS])


@pytest.mark.parametrize("outcome", ["approve", "decline"])
def test_a_verdict_whose_last_write_committed_and_lost_its_answer_is_reported_applied(
    env, monkeypatch, outcome
):
    """A disputes tester's: the case's last step committed, its answer lost (a timeout after the
    commit); the run reported it failed (an alarm to chase) and the next one, finding it resolved,
    counted it nowhere. The cycle now reads the case back, as an override does."""
    case_id = flag_partner(env, "p-lost")
    buy(env, "c-lost", "p-lost", "2026-11-04T09:00:00Z", "30.00")
    drain(env.aws)
    assert dispute(env, case_id).status == 200
    set_clock(env.clock, VERDICT_AT)
    assert verdict(env, case_id, outcome).status == 200
    lost: list[str] = []

    def answer_lost(client: Any, operation: str, params: dict[str, Any]) -> Any:
        answer = REAL(client, operation, params)
        if operation == "TransactWriteItems" and "DisputeResolved" in str(params) and not lost:
            lost.append(operation)
            raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")
        return answer

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", answer_lost)

    report = run_scheduled_cycle(env)

    resolved = "approved" if outcome == "approve" else "declined"
    assert lost, "the last step was never written"
    assert report["totals"][resolved] == 1 and report["totals"]["failed"] == 0, report["totals"]
    assert case_of(env.tenant, case_id)["status"] == resolved
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", REAL)
    assert run_scheduled_cycle(env)["totals"][resolved] == 0  # applied once, counted once
