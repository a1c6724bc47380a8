"""Creates the AWS resources the functions use, from the same definitions as the code and the CDK
stack: the table (from `functions.shared.storage.schema`), the scoring queue with its dead-letter
queue, and the notification bus. Used by the local system and by the integration tests (moto)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from functions.shared.config import MAX_RECEIVES  # deliveries before the dead-letter queue
from functions.shared.sealing import PROGRAM_SECRETS_KEY_ALIAS
from functions.shared.storage import schema

TABLE_NAME = "fraud-management"
QUEUE_NAME = "fraud-scoring"
DEAD_LETTER_QUEUE_NAME = "fraud-scoring-dlq"
EVENT_BUS_NAME = "fraud-management"
WORKFLOW_QUEUE_NAME = "fraud-loyalty-workflows"
WORKFLOW_DEAD_LETTER_QUEUE_NAME = "fraud-loyalty-workflows-dlq"


@dataclass(frozen=True)
class Resources:
    table_name: str
    queue_url: str
    dead_letter_queue_url: str
    event_bus_name: str
    workflow_queue_url: str = ""
    workflow_dead_letter_queue_url: str = ""

    def environment(self) -> dict[str, str]:
        """The function environment that points at these resources."""
        return {
            "TABLE_NAME": self.table_name,
            "SCORING_QUEUE_URL": self.queue_url,
            "EVENT_BUS_NAME": self.event_bus_name,
            "LOYALTY_WORKFLOW_QUEUE_URL": self.workflow_queue_url,
        }


def table_definition(table_name: str) -> dict[str, Any]:
    attributes = schema.key_attributes()
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind} for name, kind in attributes.items()
        ],
        "KeySchema": [
            {"AttributeName": schema.PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": schema.SORT_KEY, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in schema.INDEXES
        ],
    }


def provision(
    client: Callable[[str], Any], *, visibility_timeout: int = 30, table_name: str = TABLE_NAME
) -> Resources:
    """Creates every resource (fresh names expected) and returns where they are. `client(name)`
    gives a boto3 client of a service, pointed where the resources go."""
    dynamodb = client("dynamodb")
    dynamodb.create_table(**table_definition(table_name))
    dynamodb.get_waiter("table_exists").wait(TableName=table_name)
    dynamodb.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": schema.TTL_ATTRIBUTE},
    )
    sqs = client("sqs")
    dlq_url = sqs.create_queue(QueueName=DEAD_LETTER_QUEUE_NAME)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName=QUEUE_NAME,
        Attributes={
            "VisibilityTimeout": str(visibility_timeout),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}
            ),
        },
    )["QueueUrl"]
    client("events").create_event_bus(Name=EVENT_BUS_NAME)
    # the key programs' signing secrets are sealed with, by the alias the code names it with
    kms = client("kms")
    key_id = kms.create_key(Description="programs' request-signing secrets (local)")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=PROGRAM_SECRETS_KEY_ALIAS, TargetKeyId=key_id)
    workflow_dlq_url, workflow_queue_url = _queue_with_dead_letters(
        sqs, WORKFLOW_QUEUE_NAME, WORKFLOW_DEAD_LETTER_QUEUE_NAME, visibility_timeout
    )
    return Resources(table_name, queue_url, dlq_url, EVENT_BUS_NAME, workflow_queue_url, workflow_dlq_url)


def _queue_with_dead_letters(
    sqs: Any, name: str, dead_letter_name: str, visibility_timeout: int
) -> tuple[str, str]:
    dlq_url = sqs.create_queue(QueueName=dead_letter_name)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(visibility_timeout),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}
            ),
        },
    )["QueueUrl"]
    return dlq_url, url
