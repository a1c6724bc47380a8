"""moto frees what its backends let go (`local_system.moto_memory`): the local system's scoring
queue carried every message it ever had in memory, through moto's list of every model instance (its
dashboard's), 2 KB a message. Its dashboard still lists what is alive."""

from __future__ import annotations

import gc

import boto3
import requests
from moto import mock_aws


def test_a_deleted_message_and_the_copies_handed_out_are_freed(fake_credentials):
    # Given a queue, When 50 messages are sent, received and deleted, Then no SQS message is left in
    # memory (moto made one per send and one per receive: 100 were kept, without the patch)
    from moto.sqs.models import Message

    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="waiting")
        for number in range(50):
            sqs.send_message(QueueUrl=url, MessageBody=f"m{number}")
            received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
            for message in received["Messages"]:
                if message["Body"] != "waiting":
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        gc.collect()
        alive = [message.body for message in Message.instances_tracked]
        # moto's dashboard still lists the live ones
        dashboard = requests.get("http://motoapi.amazonaws.com/moto-api/data.json", timeout=5).json()

    assert alive == ["waiting"]
    assert [message["body"] for message in dashboard["sqs"]["Message"]] == ["waiting"]
