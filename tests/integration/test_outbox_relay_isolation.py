"""The outbox relay's two halves, and its programs, fail apart: the scoring queue refusing sends does
not keep a notification from a bus that is up (SPEC 6: delivered at least once), and one program's
refused send does not keep another program's accepted events off the queue. The run still fails
once all were tried (its alarm says what waits unsent)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import botocore.client
import pytest
from botocore.exceptions import ClientError

from functions.shared import runtime
from functions.shared.clock import FixedClock
from functions.shared.errors import StorageUnavailable
from tests.conftest import Aws, Tenant
from tests.integration.scoring_support import drain, send, signup
from tests.support import invoke_raw

REAL = botocore.client.BaseClient._make_api_call
SCHEDULED = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}


def _refusing(service: str, refused: Any = lambda params: True) -> Any:
    def call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        sending = service == "events" or operation.startswith("SendMessage")
        if client.meta.service_model.service_name == service and sending and refused(params):
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, operation)
        return REAL(client, operation, params)

    return call


def _later(minutes: int = 5) -> None:  # the relay's first run past what waits
    deps = runtime.dependencies()
    deps.clock = FixedClock(deps.clock.now() + timedelta(minutes=minutes))


def test_the_queue_down_keeps_no_notification_from_the_bus(
    aws: Aws, tenant: Tenant, monkeypatch: Any
) -> None:
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", _refusing("events"))
    send(tenant, signup("pa1", email="same@example.com", ip="81.2.73.10", at="2026-11-02T09:00:00Z"))
    send(tenant, signup("pa2", email="same@example.com", ip="81.2.73.11", at="2026-11-02T10:00:00Z"))
    drain(aws)
    repository = runtime.dependencies().repository
    assert repository.pending_notifications(tenant.program_id, 100)  # the flag's, the bus refused it

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", _refusing("sqs"))
    send(tenant, signup("pa3", ip="81.2.73.12"))  # accepted; its send refused: in the event outbox
    _later()
    with pytest.raises(StorageUnavailable, match="events of 1 program"):  # the run fails: its alarm
        invoke_raw("outbox_relay", SCHEDULED)
    assert repository.pending_notifications(tenant.program_id, 100) == []  # delivered all the same


def test_one_programs_refused_send_keeps_no_other_program_waiting(
    aws: Aws, tenant: Tenant, other_tenant: Tenant, monkeypatch: Any
) -> None:
    refused = _refusing("sqs")
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refused)
    order = [p.program_id for p in runtime.dependencies().repository.list_programs()]
    first, second = sorted((tenant, other_tenant), key=lambda t: order.index(t.program_id))  # the relay's
    send(first, signup("p-first"))
    send(second, signup("p-second"))
    only_first = _refusing("sqs", lambda params: first.program_id in str(params))
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", only_first)
    _later()
    with pytest.raises(StorageUnavailable, match=first.program_id):
        invoke_raw("outbox_relay", SCHEDULED)
    taken = [m["Body"] for m in aws.queued()]
    assert any(second.program_id in body for body in taken)
    assert not any(first.program_id in body for body in taken)


@pytest.fixture(autouse=True)
def _real_calls(monkeypatch: Any) -> None:
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", REAL)
