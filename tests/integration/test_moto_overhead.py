"""moto with its repeated work taken out (`local_system.moto_overhead`) answers exactly what moto
answers doing all of it: the same history of writes (updates of every shape, valid and refused;
transactions committed and cancelled) leaves the same answers and the same items; SQS hands out
the same messages."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from local_system.moto_overhead import moto_own_work
from tests.integration.moto_histories import TABLE, answer_of, create_table, writes


def _replay(history: list[tuple[str, dict[str, Any]]]) -> tuple[list[Any], list[Any]]:
    """Every answer of the history, then every item of the table, in a fresh moto."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client)
        answers = [answer_of(lambda: getattr(client, op)(**request)) for op, request in history]  # noqa: B023
        items = client.scan(TableName=TABLE, ConsistentRead=True)["Items"]
        return answers, sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


@settings(
    max_examples=40,  # hypothesis explores anew on every run; the suite stays under its time
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(history=st.lists(writes, min_size=1, max_size=25))
def test_writes_answer_and_store_what_moto_does_with_all_its_work(fake_credentials, history):
    # Given the same writes, When moto runs them with the shortcuts and doing all of its own work,
    # Then every answer (errors included) and every stored item are the same
    with_shortcuts = _replay(history)
    with moto_own_work():
        by_moto = _replay(history)
    assert with_shortcuts == by_moto


def test_a_refused_expression_is_refused_every_time_even_after_the_same_text_passed(fake_credentials):
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client)
        key = {"pk": {"S": "a"}, "sk": {"S": "1"}}

        def update(name: str) -> Any:
            return answer_of(
                lambda: client.update_item(
                    TableName=TABLE,
                    Key=key,
                    UpdateExpression="SET #a = :v",
                    ExpressionAttributeNames={"#a": name},
                    ExpressionAttributeValues={":v": {"S": "x"}},
                )
            )

        assert "error" not in update("w") and "error" not in update("w")
        refused = update("sk")  # the table's range key: the same text, refused under these names
        assert refused[0] == "error" and refused[1] == "ValidationException"
        assert update("sk") == refused


@pytest.mark.parametrize("fifo", [False, True])
def test_sqs_hands_out_the_same_messages(fake_credentials, fifo):
    def received(count: int) -> list[list[str]]:
        with mock_aws():
            sqs = boto3.client("sqs", region_name="us-east-1")
            attributes = {"MessageRetentionPeriod": "60"}
            if fifo:  # content-based deduplication drops the repeated bodies
                attributes.update(FifoQueue="true", ContentBasedDeduplication="true")
            name = "q.fifo" if fifo else "q"
            url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            for n in range(count):
                extra = {"MessageGroupId": "g"} if fifo else {}
                sqs.send_message(QueueUrl=url, MessageBody=f"m{n % 20}", **extra)
            batches = []
            while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                batches.append([m["Body"] for m in batch])
                sqs.delete_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)
                    ],
                )
            return batches

    fast = received(25)
    with moto_own_work():
        assert received(25) == fast
    assert sum(len(b) for b in fast) == (20 if fifo else 25)


def test_sqs_queue_attributes_asked_by_name_are_what_moto_answers(fake_credentials):
    def asked() -> list[Any]:
        with mock_aws():
            sqs = boto3.client("sqs", region_name="us-east-1")
            url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
            for n in range(7):
                sqs.send_message(QueueUrl=url, MessageBody=f"m{n}", DelaySeconds=60 if n == 6 else 0)
            sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)  # two in flight, one delayed
            counts = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
            answers = [
                sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names).get("Attributes")
                for names in (
                    counts,
                    ["ApproximateNumberOfMessagesDelayed", *counts, "VisibilityTimeout"],
                    ["FifoQueue"],  # a FIFO attribute of a standard queue: not in the answer
                    ["QueueArn", "QueueArn"],
                )
            ]
            answers.append(answer_of(lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Nope"])))
            return answers

    fast = asked()
    with moto_own_work():
        assert asked() == fast
    assert fast[0] == {"ApproximateNumberOfMessages": "4", "ApproximateNumberOfMessagesNotVisible": "2"}
    assert fast[1]["ApproximateNumberOfMessagesDelayed"] == "1"
    assert fast[4][0] == "error"


def test_conditions_of_the_same_text_are_judged_on_each_call_s_own_names_and_values(fake_credentials):
    # Given condition texts met again and again (their tokens kept), each time under other names and
    # values, some refused and some that do not parse; Then every answer is moto's, in full
    conditions = [
        ("#a = :v", {"#a": "v"}, {":v": {"N": "10"}}),
        ("#a = :v", {"#a": "v"}, {":v": {"N": "11"}}),
        ("#a = :v", {"#a": "w"}, {":v": {"N": "10"}}),
        ("#a = :v", {"#a": "v"}, {":v": {"S": "10"}}),
        ("#a = :v", {"#b": "v"}, {":v": {"N": "10"}}),  # an undefined name (moto raises KeyError)
        ("#a = :v", {"#a": "v"}, {":w": {"N": "10"}}),  # an undefined value (the same)
        (
            "attribute_exists(#a) AND (v BETWEEN :lo AND :hi OR NOT v IN (:lo, :hi))",
            {"#a": "pk"},
            {":lo": {"N": "1"}, ":hi": {"N": "20"}},
        ),
        (
            "attribute_exists(#a) AND (v BETWEEN :lo AND :hi OR NOT v IN (:lo, :hi))",
            {"#a": "w"},
            {":lo": {"N": "1"}, ":hi": {"N": "5"}},
        ),
        ("begins_with(#a, :p) OR size(#a) > :n", {"#a": "pk"}, {":p": {"S": "a"}, ":n": {"N": "3"}}),
        ("begins_with(#a, :p) OR size(#a) > :n", {"#a": "pk"}, {":p": {"S": "b"}, ":n": {"N": "0"}}),
        ("v >>= :v", None, {":v": {"N": "1"}}),  # does not parse
        ("v = :v &", None, {":v": {"N": "1"}}),  # does not lex
    ]

    def answer(call: Any) -> Any:
        try:
            return answer_of(call)
        except (KeyError, ValueError) as error:  # moto crashes on some refusals: the same crash
            return ("crash", repr(error))

    def judged() -> list[Any]:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            create_table(client)
            key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
            client.put_item(TableName=TABLE, Item={**key, "v": {"N": "10"}})
            answers = []
            for _ in range(2):
                for text, names, values in conditions:
                    extra = {"ExpressionAttributeNames": names} if names else {}
                    answers.append(
                        answer(
                            lambda: client.update_item(  # noqa: B023
                                TableName=TABLE,
                                Key=key,
                                UpdateExpression="SET n = :n0",
                                ConditionExpression=text,  # noqa: B023
                                ExpressionAttributeValues={**values, ":n0": {"N": "0"}},  # noqa: B023
                                ReturnValues="ALL_NEW",
                                **extra,  # noqa: B023
                            )
                        )
                    )
                    answers.append(
                        answer(
                            lambda: client.transact_write_items(
                                TransactItems=[
                                    {
                                        "ConditionCheck": {
                                            "TableName": TABLE,
                                            "Key": key,
                                            "ConditionExpression": text,  # noqa: B023
                                            "ExpressionAttributeValues": values,  # noqa: B023
                                            **extra,  # noqa: B023
                                        }
                                    }
                                ]
                            )
                        )
                    )
            return answers

    fast = judged()
    with moto_own_work():
        assert judged() == fast
    assert fast[:2] == fast[len(conditions) * 2 : len(conditions) * 2 + 2]  # the second round: the same
    assert "error" not in fast[0] and fast[2][0] == "error"  # v = 10 holds; v = 11 does not


def test_events_reach_their_targets_as_moto_sends_them(fake_credentials):
    # Given a rule whose targets take the event as moto shapes it (its default paths) and through an
    # input transformer (paths kept per text), When events with different details are put again
    # and again, Then each target gets what moto sends doing all of its own work
    import json
    from datetime import UTC, datetime

    def delivered() -> list[Any]:
        with mock_aws():
            events = boto3.client("events", region_name="us-east-1")
            sqs = boto3.client("sqs", region_name="us-east-1")
            urls = [sqs.create_queue(QueueName=name)["QueueUrl"] for name in ("plain", "shaped")]
            arns = [
                sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                for url in urls
            ]
            events.put_rule(Name="r", EventPattern=json.dumps({"source": ["s"]}))
            transformer = {
                "InputPathsMap": {"who": "$.detail.who", "n": "$.detail.n", "none": "$.detail.absent"},
                "InputTemplate": '{"who": "<who>", "n": <n>, "none": "<none>"}',
            }
            events.put_targets(
                Rule="r",
                Targets=[
                    {"Id": "plain", "Arn": arns[0]},
                    {"Id": "shaped", "Arn": arns[1], "InputTransformer": transformer},
                ],
            )
            for n in range(4):
                detail = {"who": f"w{n % 2}", "n": n, **({"absent": "here"} if n == 3 else {})}
                events.put_events(
                    Entries=[
                        {
                            "Source": "s",
                            "DetailType": f"t{n}",
                            "Detail": json.dumps(detail),
                            "Time": datetime(2026, 1, 1, n, tzinfo=UTC),
                        }
                    ]
                )
            bodies: list[Any] = []
            for url in urls:
                for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]:
                    if url == urls[0]:
                        body = json.loads(message["Body"])
                        body.pop("id", None)  # a new uuid per event
                        bodies.append(body)
                    else:
                        bodies.append(message["Body"])  # the template's text, as moto fills it in
            return bodies

    fast = delivered()
    with moto_own_work():
        assert delivered() == fast
    assert [b["detail"]["n"] for b in fast[:4]] == [0, 1, 2, 3]
    assert [json.loads(b)["who"] for b in fast[4:]] == ["w0", "w1", "w0", "w1"]


def test_items_near_the_size_limit_are_refused_as_moto_refuses_them(fake_credentials):
    # Given items grown to just under moto's item size limit, with text in and beyond ASCII and
    # sets of many members, When attributes are set and added one at a time across the limit,
    # Then every answer (refusals included) and every stored item is moto's
    def grown() -> tuple[list[Any], list[Any]]:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            create_table(client)
            answers = []
            for edge, length in (("q0", 89), ("q1", 90)):  # 405,000 bytes in all, then one more
                key = {"pk": {"S": edge}, "sk": {"S": "1"}}
                client.put_item(TableName=TABLE, Item={**key, "pad": {"S": "z" * 404_900}})
                answers.append(
                    answer_of(
                        lambda: client.update_item(  # noqa: B023
                            TableName=TABLE,
                            Key=key,  # noqa: B023
                            UpdateExpression="SET s = :s",
                            ExpressionAttributeValues={":s": {"S": "a" * length}},  # noqa: B023
                        )
                    )
                )
            for n, (pad, extra) in enumerate(
                [("z" * 404_900, "a"), ("é" * 202_400, "é"), ("😀" * 101_200, "b"), ("z" * 1_000, "c")]
            ):
                key = {"pk": {"S": f"p{n}"}, "sk": {"S": "1"}}
                answers.append(
                    answer_of(lambda: client.put_item(TableName=TABLE, Item={**key, "pad": {"S": pad}}))
                )  # noqa: B023
                for size in (10, 40, 60, 100, 400, 3_000):
                    members = [f"{extra}{i:05d}" for i in range(size // 6 or 1)]
                    for request in (
                        {
                            "UpdateExpression": "SET s = :s",
                            "ExpressionAttributeValues": {":s": {"S": extra * size}},
                        },
                        {
                            "UpdateExpression": "ADD tags :t",
                            "ExpressionAttributeValues": {":t": {"SS": members}},
                        },
                        {
                            "UpdateExpression": "ADD nums :n",
                            "ExpressionAttributeValues": {":n": {"NS": [str(size)]}},
                        },
                        {
                            "UpdateExpression": "SET b = :b",
                            "ExpressionAttributeValues": {":b": {"BS": [b"x" * size]}},
                        },
                    ):
                        answers.append(
                            answer_of(lambda: client.update_item(TableName=TABLE, Key=key, **request))  # noqa: B023
                        )
            items = client.scan(TableName=TABLE, ConsistentRead=True)["Items"]
            return answers, sorted(items, key=lambda i: i["pk"]["S"])

    fast = grown()
    with moto_own_work():
        assert grown() == fast
    refused = [a for a in fast[0] if isinstance(a, tuple) and a[0] == "error"]
    assert refused and all(a[1] == "ValidationException" for a in refused)
    assert len(refused) < len(fast[0]) - 10  # most writes, below the limit, went through
    assert "error" not in fast[0][0] and fast[0][1][0] == "error"  # at the limit: in; a byte more: out


def test_answers_holding_every_kind_of_attribute_are_what_moto_serializes(fake_credentials):
    # Given an item with an attribute of every type (nested in maps and lists too), When it is read
    # back by every read and returned by writes, Then each answer is the one moto gives doing all
    # of its own work (each attribute value's absent members looked up by their spellings, kept)
    item = {
        "pk": {"S": "a"},
        "sk": {"S": "1"},
        "s": {"S": "text é"},
        "n": {"N": "12.5"},
        "b": {"B": b"\x00\x01bytes"},
        "ss": {"SS": ["x", "y"]},
        "ns": {"NS": ["1", "2.5"]},
        "bs": {"BS": [b"p", b"q"]},
        "m": {"M": {"inner": {"L": [{"S": "deep"}, {"N": "3"}, {"NULL": True}]}, "flag": {"BOOL": False}}},
        "l": {"L": [{"M": {"k": {"S": "v"}}}, {"BS": [b"z"]}, {"BOOL": True}]},
        "nul": {"NULL": True},
    }
    key = {"pk": item["pk"], "sk": item["sk"]}

    def read() -> list[Any]:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            create_table(client)
            return [
                answer_of(lambda: client.put_item(TableName=TABLE, Item=item, ReturnValues="ALL_OLD")),
                answer_of(lambda: client.put_item(TableName=TABLE, Item=item, ReturnValues="ALL_OLD")),
                answer_of(lambda: client.get_item(TableName=TABLE, Key=key, ConsistentRead=True)),
                answer_of(
                    lambda: client.query(
                        TableName=TABLE,
                        KeyConditionExpression="pk = :p",
                        ExpressionAttributeValues={":p": {"S": "a"}},
                    )
                ),
                answer_of(lambda: client.scan(TableName=TABLE)),
                answer_of(lambda: client.batch_get_item(RequestItems={TABLE: {"Keys": [key]}})),
                answer_of(
                    lambda: client.transact_get_items(
                        TransactItems=[{"Get": {"TableName": TABLE, "Key": key}}]
                    )
                ),
                answer_of(
                    lambda: client.update_item(
                        TableName=TABLE,
                        Key=key,
                        UpdateExpression="SET n = n + :one REMOVE nul",
                        ExpressionAttributeValues={":one": {"N": "1"}},
                        ReturnValues="ALL_NEW",
                    )
                ),
                answer_of(
                    lambda: client.get_item(TableName=TABLE, Key=key, ProjectionExpression="m.inner, l[1]")
                ),
            ]

    fast = read()
    with moto_own_work():
        assert read() == fast
    assert fast[2]["Item"] == item and fast[1]["Attributes"] == item
