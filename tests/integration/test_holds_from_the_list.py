"""A flag holds its subject's rewards from the list kept on the subject's item, without querying the
index (issue 15), through the real handlers on moto: rewards that arrived before their partner
existed, more rewards than the list keeps, and a list that names a reward no longer holdable."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import botocore.client
import pytest

from functions.score import service
from functions.shared import runtime
from functions.shared.domain.holdables import LISTED_MOST, listed_id, micros
from functions.shared.domain.writes import MoveReward, Step
from functions.shared.messaging import scoring_message
from tests.integration.scoring_support import drain, purchase, send, signup, status
from tests.support import sample


@pytest.fixture
def calls(monkeypatch):
    """Every DynamoDB operation the functions call, by name."""
    real = botocore.client.BaseClient._make_api_call
    state = SimpleNamespace(names=[], scoring=[])

    def recording(self, operation, params):
        if self.meta.service_model.service_name == "dynamodb":
            state.names.append(operation)
        return real(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return state


def api_reward(reward_id: str, partner_id: str, at: str) -> dict:
    event = sample("reward.created", id=f"api-{reward_id}", occurred_at=at)
    event["reward"].update(id=reward_id, partner_id=partner_id, amount="25.00", currency="USD")
    event["reward"].pop("customer_id")
    return event


def flagged_signup(aws, tenant, calls, partner_id: str = "p2") -> dict:
    """p1 signs up first; `partner_id` signs up at noon with p1's address: flagged."""
    send(tenant, signup("p1", email="twin@example.com", at="2026-11-01T09:00:00Z"))
    drain(aws)
    event = send(
        tenant, signup(partner_id, email="twin@example.com", device="fp-twin", at="2026-11-02T12:00:00Z")
    )
    calls.names.clear()
    drain(aws)
    calls.scoring = list(calls.names)  # the score function's, not the test's reads after it
    answer = status(tenant, event["id"])
    assert answer["decision"]["action"] == "flag", answer
    return answer


def rewards_of(aws, tenant, partner_id: str) -> dict[str, str]:
    return {
        r.reward_id: r.status
        for r in aws.repository.subject_rewards(tenant.program_id, "partner", partner_id)
    }


def test_a_reward_that_arrived_before_its_partner_existed_is_held_by_the_partners_first_flag(
    aws, tenant, calls
):
    # Given a purchase referred by p2, scored (late sign-up) before p2's sign-up arrives
    early = send(tenant, purchase("c1", "p2", at="2026-11-02T12:30:00Z"))
    drain(aws)
    assert status(tenant, early["id"])["decision"]["action"] == "allow"

    # When p2's sign-up (at noon) flags it
    answer = flagged_signup(aws, tenant, calls)

    # Then the purchase's reward, created after the flag, is on hold at once, found on p2's item
    assert set(rewards_of(aws, tenant, "p2").values()) == {"on_hold"}
    assert "Query" not in calls.scoring
    assert answer["case_id"]


def test_more_rewards_than_the_list_keeps_are_all_held_through_the_index(aws, tenant, calls):
    # Given more rewards than the list keeps, created after p2's flag time but scored before it
    for n in range(LISTED_MOST + 3):
        send(tenant, api_reward(f"r-{n}", "p2", f"2026-11-02T12:{10 + n:02d}:00Z"))
    drain(aws)

    flagged_signup(aws, tenant, calls)

    held = rewards_of(aws, tenant, "p2")
    assert len(held) == LISTED_MOST + 3 and set(held.values()) == {"on_hold"}
    assert "Query" in calls.scoring  # the bounded fallback: the list could not tell


def test_a_listed_reward_no_longer_holdable_sends_the_flag_to_the_index_and_the_list_is_written_anew(
    aws, tenant, calls
):
    # Given two rewards listed on p2's item, one of which something else moved meanwhile
    send(tenant, api_reward("r-moved", "p2", "2026-11-02T12:10:00Z"))
    send(tenant, api_reward("r-kept", "p2", "2026-11-02T12:11:00Z"))
    drain(aws)
    aws.repository.apply(Step([MoveReward(tenant.program_id, "r-moved", expect="new", status="approved")]))

    # When p2 is flagged
    answer = flagged_signup(aws, tenant, calls)

    # Then its transaction was refused once, the index asked, the holdable one held, the other left
    assert rewards_of(aws, tenant, "p2") == {"r-moved": "approved", "r-kept": "on_hold"}
    assert calls.scoring.count("Query") == 1
    assert answer["case_id"]
    snapshot = aws.repository.scoring_snapshot(tenant.program_id, ("partner", "p2"), None, [], [], [])
    assert {listed_id(e) for e in snapshot.holdables.entries} == set()  # neither is holdable now


def test_concurrent_arrivals_on_one_partner_never_lose_an_entry(aws, tenant):
    # Given a dozen purchases referred by p2, scored at once by four workers
    events = [
        send(tenant, purchase(f"c{n}", "p2", ip=f"81.2.{70 + n}.9", at=f"2026-11-02T12:{10 + n:02d}:00Z"))
        for n in range(LISTED_MOST + 4)
    ]
    deps = runtime.dependencies()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(
            pool.map(
                lambda e: service.take_message(deps, scoring_message(tenant.program_id, e["id"])), events
            )
        )

    # Then every holdable reward is listed on p2's item or under its mark: none can be missed
    snapshot = aws.repository.scoring_snapshot(tenant.program_id, ("partner", "p2"), None, [], [], [])
    listed = {listed_id(e) for e in snapshot.holdables.entries}
    mark = max(snapshot.holdables.unlisted, default=-1)
    rewards = aws.repository.subject_rewards(tenant.program_id, "partner", "p2")
    assert len(rewards) == LISTED_MOST + 4 and {r.status for r in rewards} == {"pending"}
    assert all(r.reward_id in listed or micros(r.created_at) <= mark for r in rewards)
    assert len(listed) <= LISTED_MOST + 4 and mark >= 0  # bounded: the oldest went under the mark
