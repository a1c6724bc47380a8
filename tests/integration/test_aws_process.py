"""The AWS stand-in in a process of its own (`local_system.aws_process`), as `make run` runs it: the
functions' calls carried over its socket get exactly the answers they get in process (DynamoDB's from
the local engine: the same histories of writes and queries, errors in full, the same items; SQS and
EventBridge from moto); outside tools reach the same tables over HTTP; nothing goes over HTTP from the
functions; only a holder of the key can connect; web pages are refused; the stand-in going away is
an unreachable endpoint, not a hang; and the stand-in never outlives the process that started it."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import EndpointConnectionError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from local_system.aws_process import AwsProcess, Channel
from local_system.dynamodb import Engine
from local_system.dynamodb.in_process import route_dynamodb_to
from local_system.moto_direct import answer_in_process
from tests.integration.moto_histories import (
    TABLE,
    create_table,
    final_reads,
    full_answer,
    queue_and_bus_answers,
    writes,
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def stand_in() -> Iterator[AwsProcess]:
    process = AwsProcess(_free_port())
    try:
        yield process
    finally:
        process.close()


class Session:
    """A boto3 session answered by the stand-in's process (or by moto in this process), counting
    what botocore would have sent over HTTP."""

    def __init__(self, stand_in: AwsProcess | None) -> None:
        self.session = boto3.session.Session(region_name="us-east-1")
        self.sent = 0
        self.remote = stand_in is not None
        if stand_in is None:
            self.session.events.register("before-call", route_dynamodb_to(Engine()))
            self.session.events.register("before-call", answer_in_process)
        else:
            self.session.events.register("before-call", Channel(stand_in.address, stand_in.authkey).answer)
        self.session.events.register("before-send", self._count)

    def _count(self, **_: Any) -> None:
        self.sent += 1

    def client(self, name: str) -> Any:
        if not self.remote:
            return self.session.client(name)  # AWS's endpoints, which moto's mock answers
        # an endpoint nobody listens on: a call the stand-in did not answer would fail loudly
        return self.session.client(name, endpoint_url="http://127.0.0.1:9")


def _histories(session: Session, history: list[tuple[str, dict[str, Any]]]) -> tuple[list[Any], list[Any]]:
    client = session.client("dynamodb")
    create_table(client)
    try:
        answers = [full_answer(lambda: getattr(client, op)(**request)) for op, request in history]  # noqa: B023
        reads, items = final_reads(client)
        return answers + reads, items
    finally:
        client.delete_table(TableName=TABLE)


@settings(
    max_examples=20,  # hypothesis explores anew on every run; the suite stays under its time
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(history=st.lists(writes, min_size=1, max_size=20))
def test_dynamodb_answers_over_the_socket_what_the_engine_answers_in_process(
    stand_in, fake_credentials, history
):
    # Given the same writes and queries, When the stand-in's process answers them and an engine in
    # this process answers them, Then every answer (errors in full) and every item are the same, and
    # nothing went over HTTP
    remote = Session(stand_in)
    remote_answers, remote_items = _histories(remote, history)
    with mock_aws():
        local_answers, local_items = _histories(Session(None), history)
    assert remote_answers == local_answers
    assert remote_items == local_items
    assert remote.sent == 0


def _queue_and_bus(session: Session) -> list[Any]:
    sqs, events = session.client("sqs"), session.client("events")
    url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "5"})["QueueUrl"]
    events.create_event_bus(Name="bus")
    try:
        return [url, *queue_and_bus_answers(sqs, events, url)]
    finally:
        sqs.delete_queue(QueueUrl=url)
        events.delete_event_bus(Name="bus")


def test_queue_and_bus_answer_over_the_socket_what_moto_answers_in_process(stand_in, fake_credentials):
    remote = Session(stand_in)
    remote_answers = _queue_and_bus(remote)
    with mock_aws():
        local_answers = _queue_and_bus(Session(None))
    assert remote_answers == local_answers
    assert remote.sent == 0
    assert remote_answers[3] == ["one", "two"]
    assert remote_answers[5][1] == "QueueDoesNotExist"


def test_outside_tools_reach_the_tables_the_socket_wrote(stand_in, fake_credentials):
    # fraudctl and the AWS CLI call moto's server over HTTP: DynamoDB's calls there reach the engine
    inside = Session(stand_in).client("dynamodb")
    inside.create_table(
        TableName="seen-outside",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    try:
        inside.put_item(TableName="seen-outside", Item={"pk": {"S": "written inside"}})
        outside = boto3.client(
            "dynamodb", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{stand_in.aws_port}"
        )
        assert outside.get_item(TableName="seen-outside", Key={"pk": {"S": "written inside"}})["Item"] == {
            "pk": {"S": "written inside"}
        }
        outside.put_item(TableName="seen-outside", Item={"pk": {"S": "written outside"}})
        with pytest.raises(outside.exceptions.ConditionalCheckFailedException):
            outside.put_item(
                TableName="seen-outside",
                Item={"pk": {"S": "written outside"}},
                ConditionExpression="attribute_not_exists(pk)",
            )
        assert "Item" in inside.get_item(TableName="seen-outside", Key={"pk": {"S": "written outside"}})
    finally:
        inside.delete_table(TableName="seen-outside")


def test_outside_tools_see_what_the_socket_wrote(stand_in, fake_credentials):
    # the same backends serve moto's server (fraudctl, the AWS CLI, the tests) and the socket
    Session(stand_in).client("sqs").create_queue(QueueName="seen-outside")
    outside = boto3.client(
        "sqs", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{stand_in.aws_port}"
    )
    assert outside.get_queue_url(QueueName="seen-outside")["QueueUrl"].endswith("/seen-outside")


def test_only_a_holder_of_the_key_connects(stand_in):
    from multiprocessing import AuthenticationError
    from multiprocessing.connection import Client

    # the socket's directory is this user's alone
    assert stat.S_IMODE(os.stat(stand_in.directory).st_mode) == 0o700
    with pytest.raises(AuthenticationError):
        Client(stand_in.address, "AF_UNIX", authkey=b"not the key")
    # and the stand-in goes on serving those who hold it
    channel = Channel(stand_in.address, stand_in.authkey)
    assert channel.call(("POST", "https://nothing.example/", {}, b"")) is None  # no backend for it


_PAGE = "https://evil.example"


def _as_a_page_sends(stand_in: AwsProcess, target: str, body: dict[str, Any], **headers: str) -> Any:
    """A call as a web page's fetch() sends it (its Origin, unless `headers` say otherwise): a dummy
    signature naming the service is all moto's server asks for."""
    service = {"DynamoDB_20120810": "dynamodb", "AmazonSQS": "sqs", "AWSEvents": "events"}[
        target.split(".")[0]
    ]
    credential = f"x/20260101/us-east-1/{service}/aws4_request"
    return requests.post(
        f"http://127.0.0.1:{stand_in.aws_port}/",
        json=body,
        headers={
            "Origin": _PAGE,
            "Authorization": f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=00",
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": target,
            **headers,
        },
        timeout=10,
    )


def _refused(answer: Any) -> None:
    assert answer.status_code == 403, (answer.status_code, answer.text[:200])
    assert not [name for name in answer.headers if name.lower().startswith("access-control-")], answer.headers


def test_a_web_page_can_neither_read_nor_write_through_the_stand_in(stand_in, fake_credentials):
    """Any page the developer opened sent the stand-in what it liked, and read SQS's, KMS's and
    EventBridge's answers: moto's server approved every origin and preflight (a security tester's
    find: a forged PartnerFlagged put on the bus, an admin key planted in the table)."""
    outside = boto3.client(
        "dynamodb", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{stand_in.aws_port}"
    )
    outside.create_table(
        TableName="kept-from-pages",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    try:
        # a page's preflight is not approved: the browser sends nothing after it
        preflight = requests.options(
            f"http://127.0.0.1:{stand_in.aws_port}/",
            headers={
                "Origin": _PAGE,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type,x-amz-target",
            },
            timeout=10,
        )
        _refused(preflight)
        _refused(requests.options(f"http://127.0.0.1:{stand_in.aws_port}/", timeout=10))  # OPTIONS at all
        # nor are the calls themselves, DynamoDB's (the engine's) and the other services' (moto's)
        planted = {"TableName": "kept-from-pages", "Item": {"pk": {"S": "APIKEY#planted"}}}
        _refused(_as_a_page_sends(stand_in, "DynamoDB_20120810.PutItem", planted))
        _refused(_as_a_page_sends(stand_in, "AmazonSQS.ListQueues", {}))
        entry = {"Source": "fraud-management", "DetailType": "PartnerFlagged", "Detail": "{}"}
        _refused(_as_a_page_sends(stand_in, "AWSEvents.PutEvents", {"Entries": [entry]}))
        _refused(_as_a_page_sends(stand_in, "AmazonSQS.ListQueues", {}, Origin="null"))  # a sandboxed frame
        # a page whose own name was rebound to 127.0.0.1 (DNS rebinding) names its host, not ours
        rebound = {
            "Origin": f"http://evil.example:{stand_in.aws_port}",
            "Host": f"evil.example:{stand_in.aws_port}",
        }
        _refused(_as_a_page_sends(stand_in, "AmazonSQS.ListQueues", {}, **rebound))
        del rebound["Origin"]  # a same-origin GET carries none
        _refused(requests.get(f"http://127.0.0.1:{stand_in.aws_port}/", headers=rebound, timeout=10))
        # Then nothing was written, and the tools that name the stand-in by its address still reach it
        assert "Item" not in outside.get_item(
            TableName="kept-from-pages", Key={"pk": {"S": "APIKEY#planted"}}
        )
        for host in ("127.0.0.1", "localhost"):
            endpoint = f"http://{host}:{stand_in.aws_port}"
            sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=endpoint)
            assert sqs.list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200
            table = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint).describe_table(
                TableName="kept-from-pages"
            )
            assert table["Table"]["TableName"] == "kept-from-pages"
    finally:
        outside.delete_table(TableName="kept-from-pages")


def test_a_stand_in_gone_is_an_unreachable_endpoint(fake_credentials):
    process = AwsProcess(_free_port())
    session = boto3.session.Session(region_name="us-east-1")
    session.events.register("before-call", Channel(process.address, process.authkey).answer)
    client = session.client("dynamodb", endpoint_url="http://127.0.0.1:9")
    assert client.list_tables()["TableNames"] == []
    process.close()
    started = time.monotonic()
    with pytest.raises(EndpointConnectionError):
        client.list_tables()
    assert time.monotonic() - started < 5


def test_a_stand_in_that_stops_answering_is_an_unreachable_endpoint_not_a_hang(fake_credentials):
    """A stand-in frozen (not dead: its socket still takes the call) held every request of the local
    API for ever, where a deployed function's call times out (a faults tester's find)."""
    process = AwsProcess(_free_port())
    channel = Channel(process.address, process.authkey)
    channel.ANSWER_WITHIN_SECONDS = 0.5
    call = {"method": "POST", "headers": {"X-Amz-Target": "DynamoDB_20120810.ListTables"}, "body": b"{}"}
    assert channel.answer(_list_tables_model(), call) is not None  # a connection made, then idle
    os.kill(process.process.pid, signal.SIGSTOP)
    _until_stopped(process.process.pid)
    started = time.monotonic()
    try:
        with pytest.raises(EndpointConnectionError):  # on the idle connection: its answer never comes
            channel.answer(_list_tables_model(), call)
        with pytest.raises(EndpointConnectionError):  # on a new one: its handshake never ends
            channel.answer(_list_tables_model(), call)
    finally:
        os.kill(process.process.pid, signal.SIGCONT)
        process.close()
    assert time.monotonic() - started < 4


def _until_stopped(pid: int) -> None:
    """Once the kernel shows the process stopped (state `T`): a signal takes effect when the process
    is next scheduled, which on a loaded machine may be after the call meant to find it frozen (one
    CI run, load 12 on two cores, had that call answered)."""
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "T":
        assert time.monotonic() < deadline, "the stand-in did not stop"
        time.sleep(0.01)


def _list_tables_model() -> Any:
    client = boto3.session.Session(region_name="us-east-1").client(
        "dynamodb", endpoint_url="http://127.0.0.1:9"
    )
    return client.meta.service_model.operation_model("ListTables")


_PARENT = """
import sys, time
from local_system.aws_process import AwsProcess
process = AwsProcess(int(sys.argv[1]))
print(process.process.pid, flush=True)
time.sleep(600)
"""


def test_the_stand_in_never_outlives_its_parent():
    # Given a process that started a stand-in, When it is killed without a chance to stop it,
    # Then the stand-in stops by itself within seconds (moto's port and socket are freed)
    parent = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", _PARENT, str(_free_port())], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if not _running(child):
            return
        time.sleep(0.2)
    os.kill(child, signal.SIGKILL)
    pytest.fail("the stand-in outlived its parent")


def _running(pid: int) -> bool:
    """Whether the process runs: an ended orphan may stay a zombie until init reaps it."""
    try:
        with open(f"/proc/{pid}/stat") as status:
            return status.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False
