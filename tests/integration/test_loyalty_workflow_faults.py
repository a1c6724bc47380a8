"""A workflow run is not lost to a refusal its runner meets (credentials expiring, a grant being
rolled out): the run stays due, comes back, and its actions run once the store answers."""

from __future__ import annotations

import os
from typing import Any

import boto3
import botocore.client
import pytest
from botocore.exceptions import ClientError

from functions.loyalty.runs import relay_due_runs
from functions.shared import runtime
from tests.integration.test_loyalty_support import (  # noqa: F401 (fixtures)
    Loyalty,
    clock_fixture,
    run_queued_workflows,
    workflow_settings,
)
from tests.support import call, proxy_event

REAL = botocore.client.BaseClient._make_api_call


@pytest.fixture
def loyalty(tenant, clock) -> Loyalty:
    return Loyalty(tenant.keys)


@pytest.mark.parametrize("code", ["AccessDeniedException", "ExpiredTokenException"])
def test_a_runner_refused_once_leaves_its_run_due_and_it_runs_later(
    loyalty: Loyalty, clock: Any, monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    boto3.client("sqs", region_name="us-east-1").set_queue_attributes(
        QueueUrl=os.environ["LOYALTY_WORKFLOW_QUEUE_URL"], Attributes={"VisibilityTimeout": "0"}
    )
    assert (
        loyalty.workflow("w1", workflow_settings(threshold=100, actions=[{"type": "suspend"}])).status == 200
    )
    assert loyalty.earn("c1", 60).status == 200
    run_queued_workflows()
    over = {"id": "earn-over", "customer_id": "c1", "points": 60, "kind": "purchase"}
    answer = call("loyalty", proxy_event("POST", "/v1/loyalty/earn", over, loyalty.keys["integration"]))
    assert answer.status == 200  # over the threshold: its run waits on the workflow queue
    refused: list[str] = []

    def once(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb" and not refused:
            refused.append(operation)  # the runner's first call to the table
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, operation)
        return REAL(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", once)
    run_queued_workflows()
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", REAL)
    assert refused  # the refusal reached the runner

    clock.advance(minutes=5)
    relay_due_runs(runtime.dependencies())  # what a run left due comes back
    run_queued_workflows()
    assert loyalty.customer("c1").body["status"] == "suspended"
