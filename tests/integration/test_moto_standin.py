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


def test_the_item_count_is_read_while_items_are_written(aws):
    # moto counts a table's items by walking it: a write from another thread in the middle of the
    # walk broke it (HTTP 500 from the local system's moto server) until describe took the lock
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = aws.resources.table_name

    def write(writer):
        for n in range(300):
            client.put_item(TableName=table, Item={"pk": {"S": f"w{writer}-{n}"}, "sk": {"S": "X"}})
        return True

    def count(_):
        return [client.describe_table(TableName=table)["Table"]["ItemCount"] for _ in range(150)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        writers = [pool.submit(write, w) for w in range(2)]
        counters = [pool.submit(count, c) for c in range(2)]
        assert all(w.result() for w in writers)
        assert all(c.result() for c in counters)


def test_an_item_read_while_another_thread_updates_it_is_whole(aws):
    # moto answers a read with the stored item itself and writes the answer after its lock is
    # released; an update from another thread changed it meanwhile ("dictionary changed size")
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = aws.resources.table_name
    key = {"pk": {"S": "busy"}, "sk": {"S": "X"}}
    client.put_item(TableName=table, Item=key)

    def update(n):
        for m in range(60):
            client.update_item(
                TableName=table,
                Key=key,
                UpdateExpression=f"SET a{n}_{m} = :v",
                ExpressionAttributeValues={":v": {"S": "x" * 50}},
            )
        return True

    def read(_):
        return all("Item" in client.get_item(TableName=table, Key=key) for _ in range(120))

    with ThreadPoolExecutor(max_workers=4) as pool:
        writers = [pool.submit(update, n) for n in range(2)]
        readers = [pool.submit(read, n) for n in range(2)]
        assert all(w.result() for w in writers)
        assert all(r.result() for r in readers)
