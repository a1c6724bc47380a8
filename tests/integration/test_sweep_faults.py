"""The hold sweep past one failing read or write (SPEC 4; a subject that fails is reported and
skipped, the sweep goes on with the others), through its handler on moto, the fault injected at
botocore: a shard's list that cannot be read, a subject whose write is refused as malformed."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import botocore.client
import pytest
from botocore.exceptions import ClientError

from functions.hold_sweep.service import SweepFailed
from functions.shared.domain.model import Reward
from functions.shared.domain.writes import PutReward, Step
from functions.shared.storage import keys
from functions.shared.storage.dynamodb_partners import flagged_shard
from local_system.lambda_runtime import invoke
from local_system.scheduler import scheduled_event
from tests.integration import test_disputes
from tests.integration.test_disputes import flag_partner, rewards_of, set_clock

env = test_disputes.env
REAL = botocore.client.BaseClient._make_api_call
SWEEP = "functions.hold_sweep.handler.lambda_handler"
PARTNERS = [f"p-sw{n}" for n in range(6)]  # enough to fall in more than one shard


@pytest.fixture(autouse=True)
def _real_calls(monkeypatch: Any) -> None:
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", REAL)


def _flagged_with_a_reward_to_hold(env) -> None:
    """Six flagged partners, each with a reward made through the API after its flag, still pending."""
    for n, partner_id in enumerate(PARTNERS):
        flag_partner(env, partner_id)
        reward = Reward(
            env.tenant.program_id, f"r-sw{n}", partner_id, Decimal("9.00"), "USD", "pending",
            datetime(2026, 11, 10, 9, tzinfo=UTC), "api",
        )  # fmt: skip
        env.deps.repository.apply(Step([PutReward(reward)]))
    set_clock(env.clock, datetime(2026, 11, 10, 9, 15, tzinfo=UTC))


def _statuses(env) -> dict[str, str]:
    return {p: rewards_of(env.tenant, partner_id=p)[f"r-sw{n}"] for n, p in enumerate(PARTNERS)}


def test_a_shard_whose_list_cannot_be_read_keeps_no_other_shard_unswept(env, monkeypatch):
    _flagged_with_a_reward_to_hold(env)
    shard_of = {p: flagged_shard(env.tenant.program_id, "partner", p) for p in PARTNERS}
    throttled = keys.flagged_pk(shard_of[PARTNERS[0]])

    def throttling(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "Query" and f"'{throttled}'" in str(params):  # FLAGGED#1, not FLAGGED#12
            error = {"Code": "ProvisionedThroughputExceededException", "Message": "injected"}
            raise ClientError({"Error": error}, operation)
        return REAL(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", throttling)

    report = invoke(SWEEP, scheduled_event("hold-sweep"))

    unread = {p for p in PARTNERS if shard_of[p] == shard_of[PARTNERS[0]]}
    assert len(unread) < len(PARTNERS)  # the partners fall in more than one shard
    assert {p for p, status in _statuses(env).items() if status == "pending"} == unread
    assert [f["subject"] for f in report["failed"]] == [f"flagged shard {shard_of[PARTNERS[0]]}"]
    assert report["held"] == len(PARTNERS) - len(unread)


def test_a_subject_whose_write_is_refused_as_malformed_keeps_no_other_unswept(env, monkeypatch, caplog):
    _flagged_with_a_reward_to_hold(env)
    bad = PARTNERS[0]

    def refusing(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "TransactWriteItems" and "r-sw0" in str(params):
            raise ClientError({"Error": {"Code": "ValidationException", "Message": "injected"}}, operation)
        return REAL(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refusing)

    report = invoke(SWEEP, scheduled_event("hold-sweep"))

    statuses = _statuses(env)
    assert statuses.pop(bad) == "pending" and set(statuses.values()) == {"on_hold"}
    assert [f["subject"] for f in report["failed"]] == [f"partner:{bad}"]
    assert "hold sweep skipped a subject" in caplog.text


def test_a_run_that_can_read_no_shard_fails(env, monkeypatch):
    _flagged_with_a_reward_to_hold(env)

    def denied(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "Query" and "FLAGGED#" in str(params):
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "injected"}}, operation)
        return REAL(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", denied)

    with pytest.raises(Exception, match="access to the table is denied"):
        invoke(SWEEP, scheduled_event("hold-sweep"))  # the deployment's fault: the function fails
    assert set(_statuses(env).values()) == {"pending"}


def test_a_fault_refusing_every_subject_fails_the_run(env, monkeypatch):
    _flagged_with_a_reward_to_hold(env)

    def refusing(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "TransactWriteItems" and "r-sw" in str(params):  # a deploy's malformed writes
            raise ClientError({"Error": {"Code": "ValidationException", "Message": "injected"}}, operation)
        return REAL(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refusing)

    with pytest.raises(SweepFailed, match=f"every one of {len(PARTNERS)} flagged subjects failed"):
        invoke(SWEEP, scheduled_event("hold-sweep"))  # the function fails: its error alarm, a retry
    assert set(_statuses(env).values()) == {"pending"}
