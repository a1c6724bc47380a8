"""A deployed function whose environment lacks what it cannot do without fails, naming the variable,
instead of guessing (the cloud team's review): ingest without its scoring queue answered 202 and
left every event for a relay that had none either; a publisher without the stack's bus sent every
notification to the account's default bus, which no rule of the stack watches."""

from __future__ import annotations

import pytest

from functions.shared import runtime
from functions.shared.config import ConfigurationError, Settings
from functions.shared.errors import NotFound, StorageRefused
from functions.shared.messaging import EventBridgePublisher
from tests.support import proxy_event, sample


def test_ingest_without_its_scoring_queue_fails_naming_it_and_records_nothing(aws, tenant, monkeypatch):
    from functions.ingest.handler import lambda_handler
    from local_system.lambda_runtime import LocalContext

    event = sample("partnership.created")
    monkeypatch.delenv("SCORING_QUEUE_URL")
    runtime.forget_dependencies()

    with pytest.raises(ConfigurationError, match="SCORING_QUEUE_URL"):
        lambda_handler(
            proxy_event("POST", "/v1/events", event, tenant.keys["integration"]), LocalContext("ingest")
        )

    monkeypatch.setenv("SCORING_QUEUE_URL", aws.resources.queue_url)  # only it: the account's stay
    runtime.forget_dependencies()
    with pytest.raises(NotFound):
        aws.repository.get_event(tenant.program_id, event["id"])


def test_the_outbox_relay_without_its_scoring_queue_fails_naming_it(aws, monkeypatch):
    from functions.outbox_relay.handler import lambda_handler
    from local_system.lambda_runtime import LocalContext
    from local_system.scheduler import scheduled_event

    monkeypatch.delenv("SCORING_QUEUE_URL")
    runtime.forget_dependencies()

    with pytest.raises(ConfigurationError, match="SCORING_QUEUE_URL"):
        lambda_handler(scheduled_event("outbox-relay"), LocalContext("outbox-relay"))
    runtime.forget_dependencies()


def test_a_publisher_without_the_stacks_bus_refuses_and_calls_nothing():
    class Client:
        calls = 0

        def put_events(self, **_):
            Client.calls += 1
            return {"FailedEntryCount": 0}

    publisher = EventBridgePublisher(Client(), Settings.from_env({"TABLE_NAME": "fraud"}).event_bus_name)

    with pytest.raises(StorageRefused, match="EVENT_BUS_NAME"):
        publisher.publish("PartnerFlagged", {"case_id": "c1"})
    assert Client.calls == 0


def test_a_missing_or_wrong_setting_is_named_by_its_variable():
    with pytest.raises(ConfigurationError, match=r"TABLE_NAME \(table_name\)"):
        Settings.from_env({})
    with pytest.raises(ConfigurationError, match=r"TABLE_NAME \(table_name\)"):
        Settings.from_env({"TABLE_NAME": "ab"})  # too short to be a table's
