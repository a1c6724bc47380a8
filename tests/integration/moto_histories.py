"""Random histories of DynamoDB writes for the tests of moto's stand-in patches (no tests here): a
small table with a string-keyed and a number-keyed index, and puts, updates (setting, changing and
removing index keys; valid and refused expressions), deletes, batch writes and transactions (some
cancelled by their conditions)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError
from hypothesis import strategies as st

TABLE = "key-order"
PKS = ("a", "b", "c")
SKS = ("1", "10", "2", "a", "ab", "abc", "b", "ba")
G1_PKS = ("x", "y")
G1_SKS = ("m", "ma", "mb", "n", "n")  # duplicates: ties are ordered by the table's keys
G2_PKS = ("p", "q")
NUMBERS = (-1, 0, 1, Decimal("2.5"), 10, 100)
INDEXES = {
    None: ("pk", "sk", "S"),
    "gs1": ("g1pk", "g1sk", "S"),
    "gs2": ("g2pk", "g2sk", "N"),
}


def create_table(client: Any) -> None:
    client.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": kind}
            for name, kind in (
                ("pk", "S"),
                ("sk", "S"),
                ("g1pk", "S"),
                ("g1sk", "S"),
                ("g2pk", "S"),
                ("g2sk", "N"),
            )
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gs1",
                "KeySchema": [
                    {"AttributeName": "g1pk", "KeyType": "HASH"},
                    {"AttributeName": "g1sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "gs2",
                "KeySchema": [
                    {"AttributeName": "g2pk", "KeyType": "HASH"},
                    {"AttributeName": "g2sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["v"]},
            },
        ],
    )


def full_answer(call: Callable[[], Any]) -> Any:
    """A call's answer without its request id, or its error: exception class, code, every field."""
    try:
        answer = call()
    except ClientError as error:
        response = dict(error.response)
        metadata = response.pop("ResponseMetadata", {})
        return ("error", type(error).__name__, metadata.get("HTTPStatusCode"), response)
    metadata = answer.pop("ResponseMetadata", {})
    return (metadata.get("HTTPStatusCode"), answer)


def final_reads(client: Any) -> tuple[list[Any], list[Any]]:
    """After a history: a page of each partition both ways (answers in full), and every item."""
    answers = []
    for pk in PKS:
        for forward in (True, False):
            query = {
                "TableName": TABLE,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": pk}},
                "ScanIndexForward": forward,
                "Limit": 2,
                "ConsistentRead": True,
            }
            answers.append(full_answer(lambda: client.query(**query)))  # noqa: B023 (called at once)
    items = client.scan(TableName=TABLE, ConsistentRead=True)["Items"]
    return answers, sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def queue_and_bus_answers(sqs: Any, events: Any, url: str) -> list[Any]:
    """Sends, receives and deletes on queue `url` and publishes on the bus named "bus", refusals
    included; the answers (the received bodies sorted)."""
    answers: list[Any] = []
    for body in ("one", "two"):
        answers.append(full_answer(lambda: sqs.send_message(QueueUrl=url, MessageBody=body))[0])  # noqa: B023
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    answers.append(sorted(message["Body"] for message in received["Messages"]))
    handle = received["Messages"][0]["ReceiptHandle"]
    answers.append(full_answer(lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)))
    answers.append(full_answer(lambda: sqs.get_queue_url(QueueName="no-such-queue")))
    answers.append(full_answer(lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle="forged")))
    entry = {"EventBusName": "bus", "Source": "s", "DetailType": "d", "Detail": "{}"}
    published = events.put_events(Entries=[entry])
    answers.append((published["FailedEntryCount"], len(published["Entries"])))
    answers.append(full_answer(lambda: events.describe_event_bus(Name="no-such-bus")))
    return answers


def value_of(value: Any) -> dict[str, str]:
    return {"S": value} if isinstance(value, str) else {"N": str(value)}


# --- what the random histories are made of ------------------------------------------------------
keys = st.fixed_dictionaries({"pk": st.sampled_from(PKS), "sk": st.sampled_from(SKS)})
items = st.builds(
    lambda key, g1, g2, v, pad: {
        **{k: value_of(x) for k, x in key.items()},
        **({"g1pk": value_of(g1[0]), "g1sk": value_of(g1[1])} if g1 else {}),
        **({"g2pk": value_of(g2[0]), "g2sk": value_of(g2[1])} if g2 else {}),
        **({"v": value_of(v)} if v is not None else {}),
        **({"pad": {"S": "z" * pad}} if pad else {}),
    },
    keys,
    st.none() | st.tuples(st.sampled_from(G1_PKS), st.sampled_from(G1_SKS)),
    st.none() | st.tuples(st.sampled_from(G2_PKS), st.sampled_from(NUMBERS)),
    st.none() | st.sampled_from(NUMBERS),
    st.sampled_from((0, 0, 0, 200_000)),  # a few large items: pages end by size too
)
conditions = st.sampled_from((None, "attribute_exists(pk)", "attribute_not_exists(pk)", "v > :zero"))
TEN, ONE = {"N": "10"}, {"N": "1"}
updates = st.sampled_from(
    (
        ("SET g1pk = :g1pk, g1sk = :g1sk", {":g1pk": {"S": "x"}, ":g1sk": {"S": "mb"}}, None),
        ("SET g1sk = :g1sk", {":g1sk": {"S": "a"}}, None),
        ("REMOVE g1pk", {}, None),
        ("REMOVE g1sk, v", {}, None),
        ("SET g2pk = :g2pk, g2sk = :g2sk", {":g2pk": {"S": "q"}, ":g2sk": {"N": "7"}}, None),
        ("SET g2sk = g2sk + :one", {":one": ONE}, None),  # fails on an item without g2sk
        ("SET v = :ten", {":ten": TEN}, None),
        ("SET #a = if_not_exists(#a, :ten) ADD #n :one", {":ten": TEN, ":one": ONE}, {"#a": "v", "#n": "n"}),
        ("ADD tags :tags", {":tags": {"SS": ["a", "b"]}}, None),
        ("DELETE tags :tag", {":tag": {"SS": ["a"]}}, None),
        ("ADD v :one", {":one": ONE}, None),
        # the same expression valid under some names and not others (a key attribute updated)
        ("SET #a = :ten", {":ten": TEN}, {"#a": "w"}),
        ("SET #a = :ten", {":ten": TEN}, {"#a": "pk"}),
        # expressions moto refuses: overlapping paths, two SET clauses, ADD of a string
        ("SET v = :ten REMOVE v", {":ten": TEN}, None),
        ("SET w = :ten SET n = :one", {":ten": TEN, ":one": ONE}, None),
        ("ADD n :s", {":s": {"S": "x"}}, None),
    )
)


def _put(item: dict[str, Any], condition: str | None) -> dict[str, Any]:
    put: dict[str, Any] = {"TableName": TABLE, "Item": item}
    return _conditioned(put, condition)


def _update(
    key: dict[str, Any], update: tuple[str, dict[str, Any], Any], condition: str | None
) -> dict[str, Any]:
    expression, values, names = update
    change: dict[str, Any] = {
        "TableName": TABLE,
        "Key": {k: value_of(v) for k, v in key.items()},
        "UpdateExpression": expression,
    }
    if values:
        change["ExpressionAttributeValues"] = dict(values)
    if names:
        change["ExpressionAttributeNames"] = dict(names)
    return _conditioned(change, condition)


def _delete(key: dict[str, Any], condition: str | None) -> dict[str, Any]:
    return _conditioned({"TableName": TABLE, "Key": {k: value_of(v) for k, v in key.items()}}, condition)


def _conditioned(request: dict[str, Any], condition: str | None) -> dict[str, Any]:
    if condition:
        request["ConditionExpression"] = condition
        if ":zero" in condition:
            request.setdefault("ExpressionAttributeValues", {})[":zero"] = {"N": "0"}
    return request


writes = st.one_of(
    st.builds(lambda item, c: ("put_item", _put(item, c)), items, conditions),
    st.builds(lambda key, u, c: ("update_item", _update(key, u, c)), keys, updates, conditions),
    st.builds(lambda key, c: ("delete_item", _delete(key, c)), keys, conditions),
    st.builds(
        lambda puts, deletes: (
            "batch_write_item",
            {
                "RequestItems": {
                    TABLE: [{"PutRequest": {"Item": item}} for item in puts]
                    + [
                        {"DeleteRequest": {"Key": {k: value_of(v) for k, v in key.items()}}}
                        for key in deletes
                    ]
                }
            },
        ),
        st.lists(items, min_size=1, max_size=4, unique_by=lambda i: (i["pk"]["S"], i["sk"]["S"])),
        st.lists(keys, max_size=2, unique_by=lambda k: (k["pk"], k["sk"])),
    ),
    st.builds(
        lambda parts: ("transact_write_items", {"TransactItems": parts}),
        st.lists(
            st.one_of(
                st.builds(lambda item, c: {"Put": _put(item, c)}, items, conditions),
                st.builds(lambda key, u, c: {"Update": _update(key, u, c)}, keys, updates, conditions),
                st.builds(lambda key, c: {"Delete": _delete(key, c)}, keys, conditions),
                st.builds(
                    lambda key, c: {"ConditionCheck": _delete(key, c or "attribute_exists(pk)")},
                    keys,
                    conditions,
                ),
            ),
            min_size=1,
            max_size=4,
            unique_by=lambda part: tuple(
                sorted(
                    (k, str(v))
                    for k, v in (
                        next(iter(part.values())).get("Key") or next(iter(part.values()))["Item"]
                    ).items()
                    if k in ("pk", "sk")
                )
            ),
        ),
    ),
)


def answer_of(call: Any) -> Any:
    """A call's answer without its metadata, or its error code and message."""
    try:
        answer = call()
    except ClientError as error:
        return ("error", error.response["Error"]["Code"], error.response["Error"].get("Message"))
    answer.pop("ResponseMetadata", None)
    return answer
