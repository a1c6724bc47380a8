"""The AWS stand-in behaves as DynamoDB does where the code relies on it: a cancelled transaction
leaves every item as it was, and conditional writes are atomic under threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.exceptions import ClientError


def test_a_cancelled_transaction_leaves_every_item_as_it_was(aws):
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = aws.resources.table_name
    client.put_item(TableName=table, Item={"pk": {"S": "A"}, "sk": {"S": "X"}, "n": {"N": "1"}})

    with pytest.raises(ClientError) as caught:
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": "A"}, "sk": {"S": "X"}},
                        "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
                {"Put": {"TableName": table, "Item": {"pk": {"S": "B"}, "sk": {"S": "X"}}}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": {"S": "C"}, "sk": {"S": "X"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )

    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert client.get_item(TableName=table, Key={"pk": {"S": "A"}, "sk": {"S": "X"}})["Item"]["n"] == {
        "N": "1"
    }
    assert "Item" not in client.get_item(TableName=table, Key={"pk": {"S": "B"}, "sk": {"S": "X"}})


def test_conditional_puts_under_threads_have_one_winner(aws):
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = aws.resources.table_name

    def put(n):
        try:
            client.put_item(
                TableName=table,
                Item={"pk": {"S": "same"}, "sk": {"S": "X"}, "writer": {"N": str(n)}},
                ConditionExpression="attribute_not_exists(pk)",
            )
            return True
        except ClientError:
            return False

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sum(pool.map(put, range(24))) == 1
