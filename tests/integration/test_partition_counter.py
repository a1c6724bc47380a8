"""The partitions bench's meter (`benchmarks/partitions.py`) counts index writes as DynamoDB bills
them: an entry whose sort key moves is a delete and a put, in the same index partition too; a
write refused by its condition is billed on the table, and writes no index entry (a loyalty load
tester found both miscounted: the period partitions read half their load)."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from benchmarks.partitions import PartitionCounter

PARTITION = "P#prg-meter#OUTBOX#3"


def test_an_index_entry_moved_within_its_partition_is_two_writes_and_a_refused_write_none(aws):
    table = aws.settings.table_name
    client = boto3.client("dynamodb", region_name="us-east-1")
    key = {"pk": {"S": "P#prg-meter#EVENT#e1"}, "sk": {"S": "EVENT"}}
    entry = f"outbox:{PARTITION}"
    with PartitionCounter() as counter:
        client.put_item(TableName=table, Item={**key, "outbox_pk": {"S": PARTITION}, "outbox_sk": {"S": "a"}})
        put = counter.writes[entry]
        client.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET outbox_sk = :b",
            ExpressionAttributeValues={":b": {"S": "b"}},
        )
        moved = counter.writes[entry] - put
        with pytest.raises(ClientError):
            client.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="SET outbox_sk = :c",
                ConditionExpression="outbox_sk = :a",
                ExpressionAttributeValues={":a": {"S": "a"}, ":c": {"S": "c"}},
            )
        refused = counter.writes[entry] - put - moved
        base = counter.writes["P#prg-meter#EVENT#e1"]
    assert (put, moved, refused) == (1, 2, 0)
    assert base == 3  # the refused write is billed on the table all the same
