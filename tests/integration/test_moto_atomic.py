"""moto made atomic (`local_system.moto_atomic`): an item a read answers with is a copy taken under
the lock, so a later write cannot change it; moto's own reads inside a transaction, which it uses
before the lock is let go, are not copied again."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import Item

from tests.integration.moto_histories import TABLE, create_table


@pytest.fixture
def dynamodb(fake_credentials: None) -> Any:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client)
        yield client


def _backend() -> Any:
    return dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]


def test_a_read_answers_with_the_item_as_it_was(dynamodb):
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    dynamodb.put_item(TableName=TABLE, Item={**key, "v": {"N": "1"}})
    answer = _backend().get_item(TABLE, key)
    dynamodb.update_item(
        TableName=TABLE, Key=key, UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"N": "2"}}
    )
    assert answer.attrs["v"].value == "1"  # the update did not reach into the answer
    assert _backend().get_item(TABLE, key).attrs["v"].value == "2"


def test_a_transaction_copies_each_item_once(dynamodb, monkeypatch):
    keys = [{"pk": {"S": "a"}, "sk": {"S": str(n)}} for n in range(5)]
    for key in keys:
        dynamodb.put_item(TableName=TABLE, Item={**key, "v": {"N": "1"}})
    copies = []
    original = Item.__deepcopy__

    def counted(item: Item, memo: Any) -> Any:
        copies.append(item)
        return original(item, memo)

    monkeypatch.setattr(Item, "__deepcopy__", counted)
    dynamodb.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": key,
                    "UpdateExpression": "SET v = :v",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeValues": {":v": {"N": "2"}},
                }
            }
            for key in keys
        ]
    )
    # the journal's copy of each item, which puts it back if the transaction fails; nothing else
    assert len(copies) == len(keys)
    assert all(_backend().get_item(TABLE, key).attrs["v"].value == "2" for key in keys)
