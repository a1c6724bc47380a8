"""Helpers of the loyalty tests (no tests here): a client for the real loyalty handler, a clock the
tests set, the bus read back through an SQS queue, a recorder of DynamoDB calls, and a lighter moto
transaction rollback."""

from __future__ import annotations

import copy
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from functions.shared import runtime
from functions.shared.clock import FixedClock
from tests.support import EVENTS, Answer, call, proxy_event

NOW = datetime(2026, 11, 4, 12, 0, tzinfo=UTC)  # a Wednesday


def loyalty_sample(name: str, **changes: Any) -> dict[str, Any]:
    body = json.loads((EVENTS / f"loyalty_{name}.json").read_text())
    body.update(changes)
    return copy.deepcopy(body)


class Loyalty:
    """The loyalty API of one program, through the real handler (as Lambda runs it)."""

    def __init__(self, keys: dict[str, str]) -> None:
        self.keys = keys

    def request(self, method: str, path: str, body: Any = None, role: str = "fraud") -> Answer:
        answer = call("loyalty", proxy_event(method, path, body, self.keys.get(role, role)))
        if path == "/v1/loyalty/earn":
            run_queued_workflows()  # what the workflow queue's consumer does within a second
        return answer

    def earn(self, customer: str, points: int, role: str = "integration", **extra: Any) -> Answer:
        body = {
            "id": extra.pop("id", f"earn-{uuid.uuid4().hex[:12]}"),
            "customer_id": customer,
            "points": points,
        }
        body.update({"kind": "purchase", **extra})
        return self.request("POST", "/v1/loyalty/earn", body, role)

    def bonus(self, customer: str, points: int, campaign: str, **extra: Any) -> Answer:
        return self.earn(customer, points, kind="campaign_bonus", campaign_id=campaign, **extra)

    def spend(self, customer: str, points: int, role: str = "integration", **extra: Any) -> Answer:
        body = {
            "id": extra.pop("id", f"spend-{uuid.uuid4().hex[:12]}"),
            "customer_id": customer,
            "points": points,
        }
        body.update(extra)
        return self.request("POST", "/v1/loyalty/spend", body, role)

    def customer(self, customer: str, role: str = "fraud") -> Answer:
        return self.request("GET", f"/v1/loyalty/customers/{customer}", None, role)

    def status(self, customer: str, change: str, body: Any = None, role: str = "fraud") -> Answer:
        return self.request("POST", f"/v1/loyalty/customers/{customer}/{change}", body, role)

    def campaign(self, campaign: str, settings: Any = None, role: str = "fraud") -> Answer:
        if settings is None:
            return self.request("GET", f"/v1/loyalty/campaigns/{campaign}", None, role)
        return self.request("PUT", f"/v1/loyalty/campaigns/{campaign}", settings, role)

    def workflow(self, workflow: str, settings: Any = None, role: str = "fraud") -> Answer:
        if settings is None:
            return self.request("GET", f"/v1/loyalty/workflows/{workflow}", None, role)
        return self.request("PUT", f"/v1/loyalty/workflows/{workflow}", settings, role)


def workflow_settings(
    aggregation: str = "earned",
    date_range: str = "today",
    threshold: int = 100,
    customer: str = "current",
    actions: list[dict[str, Any]] | None = None,
    kind: str | None = None,
) -> dict[str, Any]:
    trigger: dict[str, Any] = {"event": "points.earned"}
    if kind:
        trigger["kind"] = kind
    return {
        "trigger": trigger,
        "filter": {
            "aggregation": aggregation,
            "date_range": date_range,
            "customer": customer,
            "threshold": threshold,
        },
        "actions": actions
        or [{"type": "communication", "event": "warning", "payload": {"template": "terms"}}],
        "enabled": True,
    }


def campaign_settings(
    behavior: str, total: int = 1000, per_customer: int = 10**9, **extra: Any
) -> dict[str, Any]:
    return {"total_cap": total, "per_customer_cap": per_customer, "limit_behavior": behavior, **extra}


@pytest.fixture(name="clock")
def clock_fixture(aws, monkeypatch) -> FixedClock:
    """The functions' clock, standing still at NOW until a test moves it."""
    fixed = FixedClock(NOW)
    monkeypatch.setattr(runtime.dependencies(), "clock", fixed)
    return fixed


class Bus:
    """What reached the notification bus, read through a rule that copies it to a queue."""

    def __init__(self, bus_name: str) -> None:
        self._sqs = boto3.client("sqs", region_name="us-east-1")
        events = boto3.client("events", region_name="us-east-1")
        self._url = self._sqs.create_queue(QueueName=f"bus-copy-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(
            Name="copy-all", EventBusName=bus_name, EventPattern=json.dumps({"source": ["fraud-management"]})
        )
        events.put_targets(Rule="copy-all", EventBusName=bus_name, Targets=[{"Id": "queue", "Arn": arn}])
        self.seen: list[tuple[str, dict[str, Any]]] = []

    def events(self, detail_type: str | None = None) -> list[dict[str, Any]]:
        while True:
            messages = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                break
            for message in messages:
                body = json.loads(message["Body"])
                self.seen.append((body["detail-type"], body["detail"]))
                self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])
        return [detail for kind, detail in self.seen if detail_type in (None, kind)]


@pytest.fixture(name="bus")
def bus_fixture(aws) -> Bus:
    return Bus(aws.resources.event_bus_name)


class DynamoCalls:
    """Every DynamoDB call any boto3/pynamodb client makes while in use: (operation, parameters,
    items the call read, seconds it took)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any], int, float]] = []

    def __enter__(self) -> DynamoCalls:
        from botocore.client import BaseClient

        self._original = original = BaseClient._make_api_call
        calls = self.calls

        def recording(client: Any, operation: str, params: dict[str, Any]) -> Any:
            started = time.perf_counter()
            answer = original(client, operation, params)
            if client.meta.service_model.service_name == "dynamodb":
                read = answer.get("ScannedCount", len(answer.get("Responses", [])) or int("Item" in answer))
                calls.append((operation, params, read, time.perf_counter() - started))
            return answer

        BaseClient._make_api_call = recording  # type: ignore[method-assign]
        return self

    def __exit__(self, *_: Any) -> None:
        from botocore.client import BaseClient

        BaseClient._make_api_call = self._original  # type: ignore[method-assign]

    def named(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params, _, _ in self.calls if name == operation]

    @property
    def operations(self) -> list[str]:
        return [name for name, _, _, _ in self.calls]


def run_queued_workflows() -> int:
    """Hands what waits on the workflow queue to the real runner, as its event source mapping does
    (the local system's poller); returns how many messages it ran."""
    import os

    from local_system.poller import WORKFLOW_RUNNER_HANDLER, poll_once

    sqs = boto3.client("sqs", region_name="us-east-1")
    url = os.environ["LOYALTY_WORKFLOW_QUEUE_URL"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    ran = 0
    while done := poll_once(sqs, url, arn, wait_seconds=0, handler=WORKFLOW_RUNNER_HANDLER):
        ran += done
    return ran
