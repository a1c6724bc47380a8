"""moto's request layer with its repeated work taken out (`local_system.moto_requests`) answers
exactly what moto answers doing all of it: every DynamoDB operation the functions use, SQS and
EventBridge, through boto3 on the local system's direct path, give the same answers and the same
errors in full (modeled fields, status, headers, request ids under a seeded moto); the compiled
walk of a request's JSON gives what moto's walk gives for any JSON, well-formed or not; and the
work taken out is not done."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.core.parse import JSONParser, RequestParser
from moto.core.utils import get_service_model
from moto.moto_api._internal import mock_random
from moto.moto_api._internal.moto_random import MotoRandom
from werkzeug.test import EnvironBuilder

from local_system.moto_direct import answer_in_process
from local_system.moto_overhead import moto_own_work
from tests.integration.moto_histories import PKS, TABLE, create_table, writes


def _client(name: str) -> Any:
    """A client answered as the local system answers the functions: moto's response layer, directly."""
    session = boto3.session.Session(region_name="us-east-1")
    session.events.register("before-call", answer_in_process)
    return session.client(name)


def full_answer(call: Callable[[], Any]) -> Any:
    """Everything a call answers (its error in full), but the clock's `date` header."""
    try:
        answer = call()
    except ClientError as error:
        answer = {"error": type(error).__name__, **error.response}
    metadata = answer.get("ResponseMetadata", {})
    metadata.get("HTTPHeaders", {}).pop("date", None)
    return answer


# --- every DynamoDB operation the functions use, both ways ----------------------------------------
def _dynamodb_calls(client: Any) -> list[Any]:
    key = {"pk": {"S": PKS[0]}, "sk": {"S": "1"}}
    other = {"pk": {"S": PKS[1]}, "sk": {"S": "2"}}
    blob_item = {
        **other,
        "g1pk": {"S": "x"},
        "g1sk": {"S": "m"},
        "b": {"B": b"\x00\xffbinary"},
        "bs": {"BS": [b"a", b"\x01"]},
        "m": {"M": {"l": {"L": [{"N": "1.50"}, {"BOOL": True}, {"NULL": True}, {"SS": ["y", "z"]}]}}},
        "ns": {"NS": ["1", "2.5"]},
        "text": {"S": 'quote " <RequestId>kept</RequestId> & Action=DeleteTable'},
    }
    refused = "attribute_not_exists(pk)"
    calls: list[Callable[[], Any]] = [
        lambda: client.put_item(TableName=TABLE, Item={**key, "v": {"N": "1"}}),
        lambda: client.put_item(TableName=TABLE, Item=blob_item, ReturnConsumedCapacity="TOTAL"),
        lambda: client.put_item(
            TableName=TABLE,
            Item={**key, "v": {"N": "2"}},
            ConditionExpression=refused,
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        ),
        lambda: client.get_item(
            TableName=TABLE, Key=other, ConsistentRead=True, ReturnConsumedCapacity="INDEXES"
        ),
        lambda: client.get_item(
            TableName=TABLE, Key=key, ProjectionExpression="#v", ExpressionAttributeNames={"#v": "v"}
        ),
        lambda: client.get_item(TableName=TABLE, Key=key, ReturnConsumedCapacity="SOME"),
        lambda: client.get_item(TableName="no-such-table", Key=key),
        lambda: client.get_item(TableName=TABLE, Key={"pk": {"S": "a"}}),
        lambda: client.update_item(
            TableName=TABLE,
            Key=key,
            UpdateExpression="SET #a = if_not_exists(#a, :z) + :one ADD tags :t",
            ExpressionAttributeNames={"#a": "n"},
            ExpressionAttributeValues={":z": {"N": "0"}, ":one": {"N": "1"}, ":t": {"SS": ["p", "q"]}},
            ReturnValues="ALL_NEW",
            ReturnConsumedCapacity="TOTAL",
        ),
        lambda: client.update_item(TableName=TABLE, Key=key, UpdateExpression="SET v = v +"),
        lambda: client.update_item(
            TableName=TABLE,
            Key=key,
            UpdateExpression="SET v = :v",
            ConditionExpression=refused,
            ExpressionAttributeValues={":v": {"N": "9"}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        ),
        lambda: client.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": PKS[0]}},
            ConsistentRead=True,
            Limit=1,
            ReturnConsumedCapacity="TOTAL",
        ),
        lambda: client.query(
            TableName=TABLE,
            IndexName="gs1",
            KeyConditionExpression="g1pk = :p AND begins_with(g1sk, :s)",
            ExpressionAttributeValues={":p": {"S": "x"}, ":s": {"S": "m"}},
            ScanIndexForward=False,
            ReturnConsumedCapacity="INDEXES",
        ),
        lambda: client.query(TableName=TABLE, KeyConditionExpression="pk = :pk"),
        lambda: client.batch_get_item(
            RequestItems={
                TABLE: {"Keys": [key, other, {"pk": {"S": "c"}, "sk": {"S": "b"}}], "ConsistentRead": True}
            },
            ReturnConsumedCapacity="TOTAL",
        ),
        lambda: client.batch_get_item(RequestItems={TABLE: {"Keys": [key, key]}}),
        lambda: client.batch_write_item(
            RequestItems={
                TABLE: [
                    {"PutRequest": {"Item": {"pk": {"S": "c"}, "sk": {"S": "a"}, "b": {"B": b"zz"}}}},
                    {"DeleteRequest": {"Key": other}},
                ]
            },
            ReturnConsumedCapacity="TOTAL",
        ),
        lambda: client.put_item(TableName=TABLE, Item=blob_item),
        lambda: client.transact_get_items(
            TransactItems=[
                {"Get": {"TableName": TABLE, "Key": key}},
                {"Get": {"TableName": TABLE, "Key": other}},
            ],
            ReturnConsumedCapacity="TOTAL",
        ),
        lambda: client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "c"}, "sk": {"S": "ab"}}}},
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": other,
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": key,
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ],
            ReturnConsumedCapacity="TOTAL",
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
        lambda: client.transact_write_items(
            TransactItems=[
                {"Delete": {"TableName": TABLE, "Key": key}},
                {"Delete": {"TableName": TABLE, "Key": key}},
            ]
        ),
        lambda: client.delete_item(
            TableName=TABLE,
            Key={"pk": {"S": "c"}, "sk": {"S": "a"}},
            ReturnValues="ALL_OLD",
            ReturnConsumedCapacity="TOTAL",
        ),
        lambda: client.delete_item(
            TableName=TABLE,
            Key=key,
            ConditionExpression="v = :nine",
            ExpressionAttributeValues={":nine": {"N": "9"}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        ),
        lambda: client.scan(TableName=TABLE, ConsistentRead=True),
    ]
    return [full_answer(call) for call in calls]


def _dynamodb(seed: int) -> list[Any]:
    with mock_aws():
        client = _client("dynamodb")
        create_table(client)
        mock_random.seed(seed)
        return _dynamodb_calls(client)


def test_every_dynamodb_operation_answers_what_moto_answers_doing_all_its_work(fake_credentials):
    # Given the operations the functions use (and their refusals), When they run with the shortcuts
    # and with moto doing all of its own work, from the same seed, Then every answer is the same,
    # to the request ids, headers and modeled error fields
    fast = _dynamodb(seed=5)
    with moto_own_work():
        by_moto = _dynamodb(seed=5)
    assert fast == by_moto
    codes = [answer.get("Error", {}).get("Code") for answer in fast]
    assert codes.count("ConditionalCheckFailedException") == 3
    assert "TransactionCanceledException" in codes and "ResourceNotFoundException" in codes
    assert codes.count("ValidationException") >= 4
    cancelled = fast[codes.index("TransactionCanceledException")]
    assert [reason["Code"] for reason in cancelled["CancellationReasons"]] == [
        "None",
        "ConditionalCheckFailed",
    ]
    assert fast[3]["Item"]["b"] == {"B": b"\x00\xffbinary"} and fast[3]["ConsumedCapacity"]["Table"]
    # moto puts its request id inside any `<RequestId>` of a body, even an item's text: kept so
    request_id = fast[3]["ResponseMetadata"]["RequestId"]
    assert fast[3]["Item"]["text"]["S"] == f'quote " <RequestId>{request_id}</RequestId> & Action=DeleteTable'
    assert all(len(answer["ResponseMetadata"]["RequestId"]) == 52 for answer in fast)


@settings(
    max_examples=20,  # hypothesis explores anew on every run; the suite stays under its time
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(history=st.lists(writes, min_size=1, max_size=15))
def test_histories_of_writes_answer_what_moto_answers(fake_credentials, history):
    def replay() -> list[Any]:
        with mock_aws():
            client = _client("dynamodb")
            create_table(client)
            mock_random.seed(11)
            answers = [full_answer(lambda: getattr(client, op)(**request)) for op, request in history]  # noqa: B023
            answers.append(full_answer(lambda: client.scan(TableName=TABLE, ConsistentRead=True)))
            return answers

    fast = replay()
    with moto_own_work():
        assert replay() == fast


def _queue_and_bus(seed: int) -> list[Any]:
    with mock_aws():
        sqs, events = _client("sqs"), _client("events")
        url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "5"})["QueueUrl"]
        events.create_event_bus(Name="bus")
        mock_random.seed(seed)
        answers = [
            full_answer(lambda: sqs.send_message(QueueUrl=url, MessageBody="one")),
            full_answer(
                lambda: sqs.send_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": "a", "MessageBody": "two"},
                        {"Id": "b", "MessageBody": "three", "DelaySeconds": 0},
                    ],
                )
            ),
            full_answer(lambda: sqs.send_message(QueueUrl=url, MessageBody="")),
        ]
        received = full_answer(lambda: sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10))
        answers.append(received)
        handles = [message["ReceiptHandle"] for message in received.get("Messages", [])]
        entries = [{"Id": str(n), "ReceiptHandle": handle} for n, handle in enumerate(handles)]
        answers.append(
            full_answer(
                lambda: sqs.delete_message_batch(
                    QueueUrl=url, Entries=[*entries, {"Id": "x", "ReceiptHandle": "forged"}]
                )
            )
        )
        answers.append(full_answer(lambda: sqs.get_queue_url(QueueName="no-such-queue")))
        entry = {
            "EventBusName": "bus",
            "Source": "s",
            "DetailType": "d",
            "Detail": '{"a": [1, "<RequestId>"]}',
        }
        answers.append(
            full_answer(lambda: events.put_events(Entries=[entry, {**entry, "Detail": "not json"}]))
        )
        answers.append(full_answer(lambda: events.describe_event_bus(Name="no-such-bus")))
        return answers


def test_queue_and_bus_answer_what_moto_answers(fake_credentials):
    fast = _queue_and_bus(seed=3)
    with moto_own_work():
        assert _queue_and_bus(seed=3) == fast
    assert len(fast[3]["Messages"]) == 4  # moto takes an empty body too
    assert fast[4]["Failed"][0]["Id"] == "x" and len(fast[4]["Successful"]) == 4
    assert fast[5]["error"] == "QueueDoesNotExist"


# --- the walk of a request's JSON, for any JSON ---------------------------------------------------
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=4)
)
_blobs = st.binary(max_size=6).map(lambda raw: base64.b64encode(raw).decode()) | st.text(max_size=5)
_times = st.sampled_from(("2026-01-02T03:04:05Z", "2026-01-02T03:04:05.123+02:00", "1767322800", "tomorrow"))
_kept: dict[tuple[int, str, int], Any] = {}


def _json_for(shape: Any, depth: int = 0) -> Any:
    """JSON shaped like `shape` most of the time, and anything else sometimes (unknown members,
    nulls, wrong types, strings where numbers go, bad base64)."""
    key = (id(shape._shape_resolver), shape.name, depth)
    if key in _kept:
        return _kept[key]
    kind = shape.type_name
    if depth > 4:
        found: Any = _scalars
    elif kind == "structure":
        members = list(shape.members.items())[:12]
        found = st.fixed_dictionaries(
            {},
            optional={
                **{name: _json_for(member, depth + 1) for name, member in members},
                "Unknown": _scalars,
            },
        )
        found = found | _scalars if depth else found
    elif kind == "list":
        found = st.lists(_json_for(shape.member, depth + 1), max_size=3) | _scalars
    elif kind == "map":
        found = st.dictionaries(st.text(max_size=3), _json_for(shape.value, depth + 1), max_size=3) | _scalars
    elif kind == "blob":
        found = _blobs | _scalars
    elif kind == "timestamp":
        found = _times | st.integers(0, 2**31)
    elif kind in ("integer", "long"):
        found = st.integers(-(2**40), 2**40) | st.text("0123456789", min_size=1, max_size=3) | _scalars
    else:
        found = _scalars
    _kept[key] = found
    return found


_OPERATIONS = [
    ("dynamodb", name)
    for name in (
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
        "RestoreTableToPointInTime",
    )
] + [("sqs", "SendMessageBatch"), ("sqs", "ReceiveMessage"), ("events", "PutEvents")]


@st.composite
def _requests(draw: Any) -> tuple[Any, bytes]:
    service, operation = draw(st.sampled_from(_OPERATIONS))
    model = get_service_model(service).operation_model(operation)
    body = draw(_json_for(model.input_shape))
    text = draw(st.sampled_from(("json", "json", "json", "null", "garbage", "empty")))
    raw = {"json": json.dumps(body), "null": "null", "garbage": "{not json", "empty": ""}[text]
    return model, raw.encode()


def _parsed(model: Any, body: bytes) -> str:
    request = {"method": "POST", "values": {}, "headers": {}, "body": body, "url_path": "/", "url_params": {}}
    try:
        return repr(JSONParser(model, map_type=dict).parse(request))  # repr: keys in their order
    except Exception as error:  # noqa: BLE001 (the same failure both ways)
        return f"raised {type(error).__name__}: {error}"


@settings(max_examples=300, deadline=None)
@given(request=_requests())
def test_a_request_s_json_is_read_as_moto_reads_it(request):
    # Given any JSON body for an operation's input (well-formed, or not), When the compiled walk
    # and moto's walk read it, Then they give the same value, members in the same order, or fail alike
    model, body = request
    fast = _parsed(model, body)
    with moto_own_work():
        assert _parsed(model, body) == fast


# --- the work taken out is not done ---------------------------------------------------------------
def _counting(
    monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, counts: dict[str, int], only: str = ""
) -> None:
    method = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        if only in str(args[0]):
            counts[name] = counts.get(name, 0) + 1
        return method(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)


def test_the_walk_the_scan_and_the_choices_are_not_done(fake_credentials, monkeypatch):
    counts: dict[str, int] = {}
    _counting(monkeypatch, RequestParser, "_parse_shape", counts)  # moto's walk of the request
    _counting(monkeypatch, MotoRandom, "choice", counts)  # a draw per character of the request id
    _counting(monkeypatch, re, "sub", counts, only="RequestId")  # the request id put into an XML body
    _counting(monkeypatch, EnvironBuilder, "__init__", counts)  # werkzeug's test request builder

    def transaction() -> dict[str, int]:
        counts.clear()
        with mock_aws():
            client = _client("dynamodb")
            create_table(client)
            counts.clear()
            client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": TABLE,
                            "Key": {"pk": {"S": pk}, "sk": {"S": "1"}},
                            "UpdateExpression": "SET v = :v",
                            "ExpressionAttributeValues": {":v": {"N": "1"}},
                        }
                    }
                    for pk in PKS
                ]
            )
        return dict(counts)

    assert transaction() == {}
    with moto_own_work():
        by_moto = transaction()
    assert by_moto["_parse_shape"] > 20 and by_moto["choice"] == 52 and by_moto["sub"] == 1
    assert by_moto["__init__"] == 1


def test_request_ids_are_drawn_as_moto_draws_them():
    # the same characters from the same seed, and the same state after: every id drawn later
    # (messages, receipts) is the same too
    for length, digits, lower in ((52, True, False), (20, False, False), (8, True, True), (0, True, False)):
        ours, theirs = MotoRandom(42), MotoRandom(42)
        drawn = [ours.get_random_string(length, digits, lower) for _ in range(200)]
        with moto_own_work():
            assert drawn == [theirs.get_random_string(length, digits, lower) for _ in range(200)]
        assert ours.getstate() == theirs.getstate()


# --- the request object ---------------------------------------------------------------------------
_header_names = st.sampled_from(
    (
        "Content-Type",
        "content-type",
        "X-Amz-Target",
        "User-Agent",
        "Content-Length",
        "Transfer-Encoding",
        "X-Amz-Meta-My_Key",  # kept under its own spelling by moto
        "X-A",
        "X_A",  # the same WSGI key as X-A: werkzeug joins them
        "Host",
        "Authorization",
    )
)
_header_values = (
    st.text(max_size=6) | st.binary(max_size=4) | st.integers(0, 9) | st.sampled_from(("a\nb", "a\rb"))
)


def _built(method: str, url: str, headers: dict[str, Any], body: Any) -> Any:
    from moto.core.request import Request

    try:
        request = Request.from_primitives(method, url, headers, body)
    except Exception as error:  # noqa: BLE001 (the same failure both ways)
        return f"raised {type(error).__name__}: {error}"
    environ = dict(request.environ)
    stream = environ.pop("wsgi.input")
    assert environ.pop("werkzeug.request") is request
    try:  # what werkzeug derives from the environ (and caches)
        derived: Any = (request.host, request.root_url, request.url, request.raw_url)
    except Exception as error:  # noqa: BLE001 (the same failure both ways)
        derived = f"raised {type(error).__name__}: {error}"
    return list(environ.items()), stream.getvalue(), request.data, list(request.headers.items()), derived


@settings(max_examples=300, deadline=None)
@given(
    method=st.sampled_from(("POST", "GET")),
    url=st.sampled_from(
        (
            "https://dynamodb.us-east-1.amazonaws.com/",
            "https://sqs.us-east-1.amazonaws.com/",
            "https://sqs.us-east-1.amazonaws.com/123456789012/q?Action=x",
            "http://localhost:5000/a%2Fb",
        )
    ),
    names=st.lists(_header_names, max_size=5, unique=True),
    first=st.data(),
    body=st.binary(max_size=8) | st.none() | st.just("text"),
)
def test_a_request_is_built_as_moto_builds_it(method, url, names, first, body):
    # Given a request of a kind built once before (its template), When it is built again with its own
    # header values and body, Then it is what moto builds: the same environ, keys in the same order,
    # the same body, headers and URL, or the same refusal
    primer = {name: first.draw(_header_values) for name in names}
    headers = {name: first.draw(_header_values) for name in names}
    _built(method, url, primer, b"primer")
    fast = _built(method, url, headers, body)
    with moto_own_work():
        assert _built(method, url, headers, body) == fast


# --- the answer's JSON, for any answer of plain dicts ---------------------------------------------
_answer_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=4)
    | st.binary(max_size=3)
    | st.just({})
    | st.just([])
)
_answer_kept: dict[tuple[int, str, int], Any] = {}


def _answer_for(shape: Any, depth: int = 0) -> Any:
    """Values shaped like an answer of `shape` (members under their own names, their snake_case
    names, both, or not at all), and other things sometimes (nulls, wrong types, timestamps)."""
    from botocore import xform_name

    key = (id(shape._shape_resolver), shape.name, depth)
    if key in _answer_kept:
        return _answer_kept[key]
    kind = shape.type_name
    if depth > 4:
        found: Any = _answer_scalars
    elif kind == "structure":
        members = list(shape.members.items())[:12]
        optional = {name: _answer_for(member, depth + 1) for name, member in members}
        optional.update({xform_name(name): _answer_for(member, depth + 1) for name, member in members[:4]})
        found = st.fixed_dictionaries({}, optional={**optional, "Unknown": _answer_scalars})
        found = found | _answer_scalars if depth else found
    elif kind == "list":
        found = st.lists(_answer_for(shape.member, depth + 1), max_size=3) | _answer_scalars
    elif kind == "map":
        found = (
            st.dictionaries(st.text(max_size=2), _answer_for(shape.value, depth + 1), max_size=3)
            | _answer_scalars
        )
    elif kind == "timestamp":
        found = st.datetimes() | _answer_scalars
    else:
        found = _answer_scalars
    _answer_kept[key] = found
    return found


_ANSWERS = [
    ("dynamodb", name)
    for name in (
        "GetItem",
        "PutItem",
        "UpdateItem",
        "Query",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
        "DescribeTable",
    )
] + [("sqs", "ReceiveMessage"), ("sqs", "SendMessageBatch"), ("events", "PutEvents")]


@st.composite
def _answers(draw: Any) -> tuple[Any, Any]:
    service, operation = draw(st.sampled_from(_ANSWERS))
    model = get_service_model(service).operation_model(operation)
    return model, draw(_answer_for(model.output_shape))


def _serialized(model: Any, result: Any) -> Any:
    from moto.core.serialize import JSONSerializer, XFormedAttributePicker

    try:
        return JSONSerializer(model, value_picker=XFormedAttributePicker()).serialize(result)
    except Exception as error:  # noqa: BLE001 (the same failure both ways)
        return f"raised {type(error).__name__}: {error}"


@settings(max_examples=300, deadline=None)
@given(answer=_answers())
def test_an_answer_is_serialized_as_moto_serializes_it(answer):
    # Given any answer of an operation the functions call (members under any of their spellings,
    # nulls, wrong types, timestamps), When the compiled walk and moto serialize it, Then the same
    # body (the same text: members in the same order), headers and status, or the same failure
    model, result = answer
    fast = _serialized(model, result)
    with moto_own_work():
        assert _serialized(model, result) == fast


def test_moto_s_serializer_walk_is_not_done_for_plain_answers(fake_credentials, monkeypatch):
    from moto.core.serialize import ResponseSerializer

    counts: dict[str, int] = {}
    _counting(monkeypatch, ResponseSerializer, "_serialize", counts)

    def read() -> int:
        with mock_aws():
            client = _client("dynamodb")
            create_table(client)
            key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
            client.put_item(TableName=TABLE, Item={**key, "m": {"M": {"l": {"L": [{"N": "1"}]}}}})
            counts.clear()
            answer = client.get_item(TableName=TABLE, Key=key, ReturnConsumedCapacity="TOTAL")
            assert answer["Item"]["m"] == {"M": {"l": {"L": [{"N": "1"}]}}}
            return counts.get("_serialize", 0)

    assert read() == 0
    with moto_own_work():
        assert read() > 10


def test_a_host_werkzeug_does_not_trust_is_refused_as_moto_refuses_it(monkeypatch):
    # Given a kind of request built (and its host kept) while every host was trusted, When hosts
    # become restricted, Then the next request's host is judged anew: refused, both ways
    from moto.core.request import Request

    url, headers = "https://dynamodb.us-east-1.amazonaws.com/", {"Content-Type": "application/x-amz-json-1.0"}
    _built("POST", url, headers, b"{}")
    monkeypatch.setattr(Request, "trusted_hosts", ["elsewhere.example"])
    fast = _built("POST", url, headers, b'{"a": 1}')
    with moto_own_work():
        assert _built("POST", url, headers, b'{"a": 1}') == fast
    assert fast[4].startswith("raised SecurityError")
