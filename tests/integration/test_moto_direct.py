"""The functions' calls handed to moto's response layer without the wire (`local_system.moto_direct`)
answer exactly what the wire answers: the same histories of writes (conditions refused, transactions
cancelled with their reasons, old items returned on a refused condition) and queries give the same
answers, errors in full (code, message, modeled fields) and the same items; SQS and EventBridge too,
their errors included. And the direct path is the one taken: nothing is sent."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import boto3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from local_system.moto_direct import answer_in_process
from tests.integration.moto_histories import (
    PKS,
    TABLE,
    create_table,
    final_reads,
    full_answer,
    queue_and_bus_answers,
    writes,
)
from tests.moto_in_process import over_the_wire


class Session:
    """A boto3 session on moto's mock, answered directly or over the (emulated) wire, counting sends."""

    def __init__(self, direct: bool) -> None:
        self.session = boto3.session.Session(region_name="us-east-1")
        self.sent = 0
        if direct:
            self.session.events.register("before-call", answer_in_process)
        self.session.events.register("before-send", self._count)

    def _count(self, **_: Any) -> None:
        self.sent += 1

    def client(self, name: str) -> Any:
        return self.session.client(name)


def _way(direct: bool) -> contextlib.AbstractContextManager[None]:
    """The suite answers every call directly (`tests.moto_in_process`): the wire, for the control."""
    return contextlib.nullcontext() if direct else over_the_wire()


def _replay(history: list[tuple[str, dict[str, Any]]], direct: bool) -> tuple[list[Any], list[Any], int]:
    with mock_aws(), _way(direct):
        session = Session(direct)
        client = session.client("dynamodb")
        create_table(client)
        session.sent = 0
        answers = [full_answer(lambda: getattr(client, op)(**request)) for op, request in history]  # noqa: B023
        reads, items = final_reads(client)
        return answers + reads, items, session.sent


@settings(
    max_examples=30,  # hypothesis explores anew on every run; the suite stays under its time
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(history=st.lists(writes, min_size=1, max_size=20))
def test_dynamodb_answers_directly_what_it_answers_over_the_wire(fake_credentials, history):
    # Given the same writes and queries, When moto answers them directly and over the emulated wire,
    # Then every answer (errors in full) and every stored item are the same, and nothing was sent
    direct_answers, direct_items, direct_sent = _replay(history, direct=True)
    wire_answers, wire_items, wire_sent = _replay(history, direct=False)
    assert direct_answers == wire_answers
    assert direct_items == wire_items
    assert direct_sent == 0
    assert wire_sent > 0


def _dynamodb_refusals(direct: bool) -> tuple[list[Any], int]:
    with mock_aws(), _way(direct):
        session = Session(direct)
        client = session.client("dynamodb")
        create_table(client)
        key = {"pk": {"S": PKS[0]}, "sk": {"S": "1"}}
        client.put_item(TableName=TABLE, Item={**key, "v": {"N": "1"}})
        session.sent = 0
        refused = "attribute_not_exists(pk)"
        calls: list[Callable[[], Any]] = [
            lambda: client.put_item(
                TableName=TABLE,
                Item={**key, "v": {"N": "2"}},
                ConditionExpression=refused,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            ),
            lambda: client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "new"}, "sk": {"S": "1"}}}},
                    {
                        "Update": {
                            "TableName": TABLE,
                            "Key": key,
                            "UpdateExpression": "SET v = :v",
                            "ConditionExpression": refused,
                            "ExpressionAttributeValues": {":v": {"N": "3"}},
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                ]
            ),
            lambda: client.update_item(TableName=TABLE, Key=key, UpdateExpression="SET v = v +"),
            lambda: client.get_item(TableName="no-such-table", Key=key),
            lambda: client.get_item(TableName=TABLE, Key={"pk": {"S": "a"}}),
            lambda: client.update_item(
                TableName=TABLE,
                Key=key,
                UpdateExpression="ADD v :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="ALL_NEW",
            ),
        ]
        return [full_answer(call) for call in calls], session.sent


def test_dynamodb_refusals_carry_the_same_modeled_fields(fake_credentials):
    direct, direct_sent = _dynamodb_refusals(direct=True)
    wire, wire_sent = _dynamodb_refusals(direct=False)
    assert direct == wire
    assert direct_sent == 0 and wire_sent > 0
    assert direct[0][1] == "ConditionalCheckFailedException" and "Item" in direct[0][3]
    assert direct[1][1] == "TransactionCanceledException"
    reasons = direct[1][3]["CancellationReasons"]
    assert [reason["Code"] for reason in reasons] == ["None", "ConditionalCheckFailed"]
    assert direct[5][1]["Attributes"]["v"] == {"N": "2"}


def _queue_and_bus(direct: bool) -> tuple[list[Any], int]:
    with mock_aws(), _way(direct):
        session = Session(direct)
        sqs, events = session.client("sqs"), session.client("events")
        url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "5"})["QueueUrl"]
        events.create_event_bus(Name="bus")
        session.sent = 0
        answers = queue_and_bus_answers(sqs, events, url)
        return answers, session.sent


def test_queue_and_bus_answer_directly_what_they_answer_over_the_wire(fake_credentials):
    direct, direct_sent = _queue_and_bus(direct=True)
    wire, wire_sent = _queue_and_bus(direct=False)
    assert direct == wire
    assert direct_sent == 0 and wire_sent > 0
    assert direct[2] == ["one", "two"]
    assert direct[4][1] == "QueueDoesNotExist"
    assert direct[5][0] == "error" and direct[7][0] == "error"
