"""A transaction whose answer is lost after its commit (a read timeout): botocore's retry sends the
same request again, with the client request token botocore gave it (`ClientRequestToken` is an
idempotency token in DynamoDB's model: botocore fills one in when the caller sends none). DynamoDB
answers the same request under a token it has had, within 10 minutes, as done, and writes it no
second time. The local DynamoDB engine (`make run`'s) did not: the retry was applied again, or
refused on its own condition, and the caller took a change it made for one refused (an override
answered 409 "only a reward on hold can be overridden"). It now honours a token as DynamoDB does.

The engine is reached through botocore's own send (`before-send`, under its retry handler), so the
retry and its token are botocore's, not the test's."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError
from moto.core.botocore_stubber import MockRawResponse

from local_system.dynamodb.engine import Engine
from tests.moto_in_process import over_the_wire

TABLE = "tokens"


class EngineOverTheWire:
    """A DynamoDB client whose requests botocore sends to `engine` (its retries included); `lose`:
    the answers to drop, by the number of the request (from 1), after the engine applied it."""

    def __init__(self, lose: tuple[int, ...] = ()) -> None:
        self.engine = Engine()
        self.sent: list[dict[str, Any]] = []
        session = boto3.session.Session(
            aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1"
        )
        self.client = session.client(
            "dynamodb",
            endpoint_url="https://dynamodb.us-east-1.amazonaws.com",
            config=Config(retries={"total_max_attempts": 3, "mode": "standard"}),
        )
        self.client.meta.events.register("before-send.dynamodb", self._send)
        self.lose = lose

    def _send(self, request: Any, **_: Any) -> AWSResponse:
        target = request.headers["X-Amz-Target"]
        target = target.decode() if isinstance(target, bytes) else target
        body = request.body if isinstance(request.body, bytes) else request.body.encode()
        status, headers, answer = self.engine.answer(target, body)
        if target.endswith("TransactWriteItems"):
            self.sent.append(json.loads(body))
            if len(self.sent) in self.lose:
                raise ReadTimeoutError(endpoint_url=request.url)  # applied; its answer never comes
        return AWSResponse(request.url, status, headers, MockRawResponse(answer))

    def table(self) -> EngineOverTheWire:
        self.client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        return self

    def count(self) -> int:
        item = self.client.get_item(TableName=TABLE, Key={"pk": {"S": "counter"}}).get("Item")
        return int(item["n"]["N"]) if item else 0


def add_one(token: str | None = None, *, once: bool = False) -> dict[str, Any]:
    """A transaction adding 1 to the counter; `once`: only where no transaction named "t1" did."""
    update: dict[str, Any] = {
        "TableName": TABLE,
        "Key": {"pk": {"S": "counter"}},
        "UpdateExpression": "ADD n :one, done_by :me",
        "ExpressionAttributeValues": {":one": {"N": "1"}, ":me": {"SS": ["t1"]}},
    }
    if once:
        update["ConditionExpression"] = "NOT contains(done_by, :t)"
        update["ExpressionAttributeValues"][":t"] = {"S": "t1"}
    request: dict[str, Any] = {"TransactItems": [{"Update": update}]}
    if token:
        request["ClientRequestToken"] = token
    return request


@pytest.fixture(autouse=True)
def wire():
    with over_the_wire():  # the suite's in-process moto must not answer these clients before botocore sends
        yield


def test_a_transaction_whose_answer_was_lost_is_retried_by_botocore_and_written_once():
    dynamodb = EngineOverTheWire(lose=(1,)).table()

    dynamodb.client.transact_write_items(**add_one(once=True))  # no error: the retry answered as done

    first, again = dynamodb.sent
    assert first == again and first["ClientRequestToken"]  # botocore's retry: the same, its token too
    assert dynamodb.count() == 1


def test_without_the_token_the_same_request_is_refused_on_its_own_condition():
    # the control, the engine asked directly: what the retry met before the engine kept tokens
    dynamodb = EngineOverTheWire().table()
    target, body = "DynamoDB_20120810.TransactWriteItems", json.dumps(add_one(once=True)).encode()

    assert dynamodb.engine.answer(target, body)[0] == 200
    status, _, answer = dynamodb.engine.answer(target, body)

    assert status == 400 and b"TransactionCanceledException" in answer
    assert dynamodb.count() == 1


def test_a_token_answers_for_its_request_for_ten_minutes_and_for_no_other():
    dynamodb = EngineOverTheWire().table()
    dynamodb.client.transact_write_items(**add_one("t-10"))
    dynamodb.client.transact_write_items(**add_one("t-10"))  # the same request: done, not again
    assert dynamodb.count() == 1

    other = add_one("t-10")
    other["TransactItems"][0]["Update"]["ExpressionAttributeValues"][":one"] = {"N": "5"}
    with pytest.raises(ClientError) as mismatch:
        dynamodb.client.transact_write_items(**other)
    assert mismatch.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert dynamodb.count() == 1

    started = dynamodb.engine.clock()
    dynamodb.engine.clock = lambda: started + 601  # past the window: a new request
    dynamodb.client.transact_write_items(**add_one("t-10"))
    assert dynamodb.count() == 2


def test_a_transaction_refused_leaves_its_token_free():
    # a token answers only for a transaction that was written: its retry, refused again, is decided
    dynamodb = EngineOverTheWire().table()
    dynamodb.client.transact_write_items(**add_one("first", once=True))

    for _ in range(2):
        with pytest.raises(ClientError) as refused:
            dynamodb.client.transact_write_items(**add_one("second", once=True))
        assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert dynamodb.count() == 1
