"""The local DynamoDB engine (`local_system.dynamodb.Engine`) through its wire entry point: what
DynamoDB checks before it reads anything is checked even when nothing is read, and a key condition
names its keys in either order."""

from __future__ import annotations

import json
from typing import Any

from local_system.dynamodb import Engine


def _call(engine: Engine, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    status, _, answer = engine.answer(f"DynamoDB_20120810.{operation}", json.dumps(body).encode())
    return status, json.loads(answer)


def _engine() -> Engine:
    engine = Engine()
    status, _ = _call(
        engine,
        "CreateTable",
        {
            "TableName": "things",
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
        },
    )
    assert status == 200
    for sort in ("a", "b"):
        assert (
            _call(engine, "PutItem", {"TableName": "things", "Item": {"pk": {"S": "p"}, "sk": {"S": sort}}})[
                0
            ]
            == 200
        )
    return engine


def test_a_key_condition_names_the_partition_key_first_or_second():
    engine = _engine()
    for text in ("pk = :p AND sk = :s", "sk = :s AND pk = :p"):
        status, answer = _call(
            engine,
            "Query",
            {
                "TableName": "things",
                "KeyConditionExpression": text,
                "ExpressionAttributeValues": {":p": {"S": "p"}, ":s": {"S": "b"}},
            },
        )
        assert status == 200, answer
        assert answer["Items"] == [{"pk": {"S": "p"}, "sk": {"S": "b"}}]


def test_a_filter_refused_for_its_operand_is_refused_on_an_empty_partition_too():
    engine = _engine()
    for partition in ("p", "nobody"):
        status, answer = _call(
            engine,
            "Query",
            {
                "TableName": "things",
                "KeyConditionExpression": "pk = :p",
                "FilterExpression": "begins_with(sk, :n)",
                "ExpressionAttributeValues": {":p": {"S": partition}, ":n": {"BOOL": True}},
            },
        )
        assert status == 400
        assert answer["__type"].endswith("#ValidationException")
        assert answer["message"].startswith("Invalid FilterExpression"), answer["message"]


def test_an_update_refused_for_its_paths_is_refused_before_the_item_is_read():
    engine = _engine()
    for sort in ("a", "missing"):
        status, answer = _call(
            engine,
            "UpdateItem",
            {
                "TableName": "things",
                "Key": {"pk": {"S": "p"}, "sk": {"S": sort}},
                "UpdateExpression": "SET m.a = :v, m = :v",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": {":v": {"N": "1"}},
            },
        )
        assert status == 400  # not the condition's failure on the missing item: the paths overlap
        assert answer["__type"].endswith("#ValidationException"), answer
    assert len(engine.tables["things"].stored) == 2


def test_a_body_that_is_not_a_json_object_is_a_serialization_error_and_changes_nothing():
    engine = _engine()
    for body in (b"{", b"[]", b"[" * 100_000 + b"]" * 100_000, b'"text"'):
        status, _, answer = engine.answer("DynamoDB_20120810.PutItem", body)
        assert status == 400
        assert json.loads(answer)["__type"].endswith("#SerializationException")
    status, _, answer = engine.answer("DynamoDB_20120810.CreateBackup", b"{}")
    assert status == 400 and json.loads(answer)["__type"].endswith("#UnknownOperationException")
    assert len(engine.tables["things"].stored) == 2
