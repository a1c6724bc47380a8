"""moto's SQS with the local stand-in's patch (`local_system.moto_sqs`: receives that walk the queue
only as far as they hand out, deletes and visibility changes that find their message by its
receipt handle) answers exactly what moto answers: the same random histories of sends, receives,
deletes, visibility changes and time passing give the same answers and the same queue
attributes, through the same seeded identifiers; a delete with a large backlog does not walk it;
the redrive to the dead-letter queue is moto's."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.moto_api._internal import mock_random

from local_system.moto_overhead import moto_own_work
from tests.integration.moto_histories import answer_of

START = 1_700_000_000.0
NEVER_ISSUED = "q" * 185  # a receipt handle's shape, never generated


class _Clock:
    """moto's clock for SQS, set by the test: visibility, delays and receive counts depend on it."""

    def __init__(self) -> None:
        self.now = START

    def unix_time(self, *_: Any) -> float:
        return self.now

    def unix_time_millis(self, *_: Any) -> float:
        return self.now * 1000


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, fake_credentials: None) -> _Clock:
    import moto.core.utils
    import moto.sqs.models

    clock = _Clock()
    for module in (moto.sqs.models, moto.core.utils):  # moto_overhead's retention check reads the latter
        monkeypatch.setattr(module, "unix_time", clock.unix_time)
        monkeypatch.setattr(module, "unix_time_millis", clock.unix_time_millis)
    return clock


# Where a call about a receipt handle goes: the queue that handed the handle out, most often
where = st.sampled_from(["own", "own", "own", "q", "dlq"])
# The n-th latest receipt handle handed out (the latest ones most often: valid, stale after a new
# receive, or of a message deleted or moved), -1: not a handle, -2: a handle's shape never issued
handles = st.one_of(st.integers(min_value=-2, max_value=3), st.integers(min_value=0, max_value=40))


def _op(name: str, **arguments: Any) -> Any:
    return st.tuples(st.just(name), st.fixed_dictionaries(arguments))


sends = _op("send", body=st.integers(0, 5), delay=st.sampled_from([0, 0, 0, 3]), count=st.integers(1, 4))
receives = _op(
    "receive",
    queue=st.sampled_from(["q", "q", "dlq"]),
    max=st.integers(1, 10),
    visibility=st.sampled_from([None, 0, 0, 1, 4, 30]),
)
deletes = _op("delete", where=where, handle=handles)
delete_batches = _op("delete_batch", where=where, handles=st.lists(handles, min_size=1, max_size=4))
changes = _op("visibility", where=where, handle=handles, timeout=st.sampled_from([0, 1, 5, 43199, 43200]))
change_batches = _op(
    "visibility_batch",
    where=where,
    entries=st.lists(st.tuples(handles, st.sampled_from([0, 2, 50000])), min_size=1, max_size=3),
)
ticks = _op("tick", seconds=st.sampled_from([0.0005, 1, 1.5, 3, 5, 31]))
operations = st.one_of(
    *[sends] * 3,
    *[receives] * 4,
    *[deletes] * 2,
    *[delete_batches] * 2,
    *[changes] * 2,
    change_batches,
    *[ticks] * 2,
)


def _replay(
    clock: _Clock, history: list[tuple[str, dict[str, Any]]], fifo: bool, max_receives: int, backlog: int
) -> list[Any]:
    """Every answer of the history, each followed by both queues' attributes, in a fresh moto whose
    identifiers (message ids, receipt handles) come from the same seed."""
    clock.now = START
    mock_random.seed(20261202)
    suffix = ".fifo" if fifo else ""
    fifo_attributes = {"FifoQueue": "true"} if fifo else {}
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        dlq = sqs.create_queue(QueueName=f"dlq{suffix}", Attributes=fifo_attributes)["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)})
        main = sqs.create_queue(
            QueueName=f"q{suffix}",
            Attributes={"RedrivePolicy": redrive, "VisibilityTimeout": "2", **fifo_attributes},
        )["QueueUrl"]
        urls = {"q": main, "dlq": dlq}
        issued: list[tuple[str, str]] = []  # (the queue that handed it out, the receipt handle)
        sent = 0

        def handle(choice: int, where: str) -> tuple[str, str]:
            """The queue's URL to call and the receipt handle to send."""
            if choice == -2 or choice == -1 or not issued:
                return urls[
                    "q" if where == "own" else where
                ], NEVER_ISSUED if choice == -2 else "not-a-handle"
            own, receipt_handle = issued[-1 - choice % len(issued)]
            return urls[own if where == "own" else where], receipt_handle

        def step(op: str, args: dict[str, Any]) -> Any:
            nonlocal sent
            if op == "send":
                answers = []
                for n in range(args["count"]):
                    sent += 1
                    extra: dict[str, Any] = (
                        {"MessageGroupId": f"g{(args['body'] + n) % 2}", "MessageDeduplicationId": f"d{sent}"}
                        if fifo
                        else {"DelaySeconds": args["delay"]}
                    )
                    answers.append(
                        answer_of(
                            lambda: sqs.send_message(
                                QueueUrl=main, MessageBody=f"body {args['body']}", **extra
                            )
                        )  # noqa: B023
                    )
                return {"sent": answers}
            if op == "receive":
                request: dict[str, Any] = {
                    "QueueUrl": urls[args["queue"]],
                    "MaxNumberOfMessages": args["max"],
                    "WaitTimeSeconds": 0,
                    "AttributeNames": ["All"],
                }
                if args["visibility"] is not None:
                    request["VisibilityTimeout"] = args["visibility"]
                answer = sqs.receive_message(**request)
                issued.extend(
                    (args["queue"], message["ReceiptHandle"]) for message in answer.get("Messages", [])
                )
                return answer
            if op == "delete":
                url, receipt_handle = handle(args["handle"], args["where"])
                return sqs.delete_message(QueueUrl=url, ReceiptHandle=receipt_handle)
            if op == "delete_batch":  # the queue of the first handle; the others' may differ
                url = handle(args["handles"][0], args["where"])[0]
                entries = [
                    {"Id": str(i), "ReceiptHandle": handle(h, args["where"])[1]}
                    for i, h in enumerate(args["handles"])
                ]
                return sqs.delete_message_batch(QueueUrl=url, Entries=entries)
            if op == "visibility":
                url, receipt_handle = handle(args["handle"], args["where"])
                return sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=receipt_handle, VisibilityTimeout=args["timeout"]
                )
            if op == "visibility_batch":
                url = handle(args["entries"][0][0], args["where"])[0]
                entries = [
                    {"Id": str(i), "ReceiptHandle": handle(h, args["where"])[1], "VisibilityTimeout": timeout}
                    for i, (h, timeout) in enumerate(args["entries"])
                ]
                return sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)
            if op == "purge":
                return sqs.purge_queue(QueueUrl=urls[args["queue"]])
            clock.now += args["seconds"]
            return {}

        answers: list[Any] = [step("send", {"body": n, "delay": 0, "count": 1}) for n in range(backlog)]
        for op, args in history:
            answers.append(answer_of(lambda: step(op, args)))  # noqa: B023
            answers.append(
                [
                    sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
                    for url in (main, dlq)
                ]
            )
        # what is left, in moto's order: everything visible, then again once every timeout is over
        for _ in range(2):
            for url in (main, dlq):
                while batch := sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, AttributeNames=["All"]
                ).get("Messages", []):
                    answers.append(batch)
                    if len(answers) > 10_000:
                        raise AssertionError("the queue never drains")
            clock.now += 60
        return answers


@settings(
    max_examples=60,  # hypothesis explores anew on every run; the suite stays under its time
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    history=st.lists(operations, min_size=8, max_size=40),
    fifo=st.booleans(),
    max_receives=st.integers(1, 3),
    backlog=st.integers(0, 12),
)
def test_histories_answer_as_moto_answers(clock, history, fifo, max_receives, backlog):
    # Given the same history from the same seed, When moto runs it with the patch and with all of
    # its own walks, Then every answer (errors and batch failures included) and both queues'
    # attributes after every step are the same, and what is left drains in the same order
    patched = _replay(clock, history, fifo, max_receives, backlog)
    with moto_own_work():
        by_moto = _replay(clock, history, fifo, max_receives, backlog)
    assert patched == by_moto


def _counting(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts moto's per-message steps of a walk: the visibility check and the receipt handle check."""
    from moto.sqs.models import Message

    counts = {"visible": 0, "had_receipt_handle": 0}
    visible = Message.visible.fget  # type: ignore[attr-defined]
    had_receipt_handle = Message.had_receipt_handle

    def counted_visible(message: Any) -> bool:
        counts["visible"] += 1
        return visible(message)

    def counted_had_receipt_handle(message: Any, receipt_handle: str) -> bool:
        counts["had_receipt_handle"] += 1
        return had_receipt_handle(message, receipt_handle)

    monkeypatch.setattr(Message, "visible", property(counted_visible))
    monkeypatch.setattr(Message, "had_receipt_handle", counted_had_receipt_handle)
    return counts


@pytest.mark.parametrize("own_walks", [False, True])
def test_a_receive_and_a_delete_with_a_large_backlog_do_not_walk_the_queue(clock, monkeypatch, own_walks):
    # Given 10,000 messages in the queue, When ten are received and deleted, Then the patched moto
    # looks at about the ten it hands out; moto's own code (the control) looks at every message
    from moto.sqs.models import sqs_backends

    backlog = 10_000
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        backend = sqs_backends["123456789012"]["us-east-1"]
        for n in range(backlog):
            backend.send_message("q", f"message {n}")
        counts = _counting(monkeypatch)
        with moto_own_work() if own_walks else contextlib.nullcontext():
            received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)[
                "Messages"
            ]
            receive_counts = dict(counts)
            answer = sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)],
            )
            again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)[
                "Messages"
            ]
        deleted = counts["had_receipt_handle"] - receive_counts["had_receipt_handle"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

    assert [m["Body"] for m in received] == [f"message {n}" for n in range(10)]
    assert len(answer["Successful"]) == 10 and not answer.get("Failed")
    assert [m["Body"] for m in again] == [f"message {n}" for n in range(10, 20)]
    assert attributes["ApproximateNumberOfMessages"] == str(backlog - 20)
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "10"
    if own_walks:
        assert receive_counts["visible"] >= backlog and deleted >= backlog
    else:
        assert receive_counts["visible"] <= 30 and deleted == 0


def _dead_letters(clock: _Clock) -> list[Any]:
    """Three messages received with visibility 0 until their redrive, then read from the queue
    the dead letters went to: every answer, and both queues' counts after each receive."""
    mock_random.seed(14)
    clock.now = START
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
        main = sqs.create_queue(QueueName="q", Attributes={"RedrivePolicy": redrive})["QueueUrl"]
        for n in range(3):
            sqs.send_message(QueueUrl=main, MessageBody=f"m{n}")
        answers: list[Any] = []
        for url, visibility in [(main, 0), (main, 0), (main, 0), (main, 0), (dlq, 30), (dlq, 30)]:
            clock.now += 1
            answers.append(
                answer_of(
                    lambda: sqs.receive_message(  # noqa: B023
                        QueueUrl=url,  # noqa: B023
                        MaxNumberOfMessages=10,
                        VisibilityTimeout=visibility,  # noqa: B023
                        AttributeNames=["All"],
                    )
                )
            )
            answers.append(
                [
                    sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["ApproximateNumberOfMessages"])[
                        "Attributes"
                    ]
                    for u in (main, dlq)
                ]
            )
        return answers


def test_redrive_to_the_dead_letter_queue_is_motos(clock):
    # Given a queue whose messages go to a dead-letter queue after two receives, When its three
    # messages are received (visibility 0) until they go, Then the answers are moto's own: two
    # receives hand them out, the third moves them and hands out nothing, the dead-letter queue hands
    # them out with their receive counts
    patched = _dead_letters(clock)
    with moto_own_work():
        by_moto = _dead_letters(clock)
    assert patched == by_moto

    bodies = [sorted(m["Body"] for m in answer.get("Messages", [])) for answer in patched[0::2]]
    assert bodies == [["m0", "m1", "m2"], ["m0", "m1", "m2"], [], [], ["m0", "m1", "m2"], []]
    assert [m["Attributes"]["ApproximateReceiveCount"] for m in patched[8]["Messages"]] == ["3", "3", "3"]
    assert patched[5] == [{"ApproximateNumberOfMessages": "0"}, {"ApproximateNumberOfMessages": "3"}]


def _purged(clock: _Clock) -> list[Any]:
    mock_random.seed(15)
    clock.now = START
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        for n in range(3):
            sqs.send_message(QueueUrl=url, MessageBody=f"m{n}")
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
        sqs.purge_queue(QueueUrl=url)
        sqs.send_message(QueueUrl=url, MessageBody="after")
        return [
            answer_of(lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle=received[0]["ReceiptHandle"])),
            answer_of(
                lambda: sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=received[1]["ReceiptHandle"], VisibilityTimeout=5
                )
            ),
            answer_of(lambda: sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)),
        ]


def test_a_purged_queue_refuses_the_handles_of_its_messages_as_moto_does(clock):
    patched = _purged(clock)
    with moto_own_work():
        by_moto = _purged(clock)
    assert patched == by_moto
    assert patched[0][:2] == ("error", "ReceiptHandleIsInvalid")
    assert patched[1][:2] == ("error", "ReceiptHandleIsInvalid")
    assert [m["Body"] for m in patched[2]["Messages"]] == ["after"]


def test_threads_receiving_at_once_never_get_the_same_message(clock):
    # Given 600 messages, When four threads receive and delete until the queue is empty, Then each
    # message is handed out once (moto's own receive does not guard against handing one out twice)
    import sys
    import threading

    from moto.sqs.models import sqs_backends

    interval = sys.getswitchinterval()
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        backend = sqs_backends["123456789012"]["us-east-1"]
        for n in range(600):
            backend.send_message("q", f"message {n}")
        seen: list[list[str]] = [[], [], [], []]
        failures: list[BaseException] = []

        def drain(mine: list[str]) -> None:
            try:
                drain_into(mine)
            except BaseException as error:  # a thread's error would otherwise only be a warning
                failures.append(error)

        def drain_into(mine: list[str]) -> None:
            client = boto3.client("sqs", region_name="us-east-1")
            while batch := client.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30
            ).get("Messages", []):
                mine.extend(m["Body"] for m in batch)
                client.delete_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)
                    ],
                )

        threads = [threading.Thread(target=drain, args=(mine,)) for mine in seen]
        sys.setswitchinterval(1e-6)  # the threads take turns as often as the interpreter can
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
        finally:
            sys.setswitchinterval(interval)
        left = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

    assert failures == []
    assert sorted(sum(seen, [])) == sorted(f"message {n}" for n in range(600))
    assert left["ApproximateNumberOfMessages"] == "0" and left["ApproximateNumberOfMessagesNotVisible"] == "0"


@pytest.mark.parametrize("own_walks", [False, True])
def test_a_long_poll_waits_for_a_message_as_moto_does(fake_credentials, own_walks):
    # Given a queue whose one message is in flight, When a receive waits 1 s, Then it answers nothing
    # after about a second, without spinning; When a message is sent while a receive waits 5 s, Then
    # it is handed out when it arrives (moto's real clock here: a long poll ends by it)
    import threading
    import time

    with mock_aws(), moto_own_work() if own_walks else contextlib.nullcontext():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="in flight")
        assert len(sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)["Messages"]) == 1

        started, cpu = time.monotonic(), time.process_time()
        nothing = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
        waited, busy = time.monotonic() - started, time.process_time() - cpu

        later = threading.Timer(0.3, lambda: sqs.send_message(QueueUrl=url, MessageBody="later"))
        started = time.monotonic()
        later.start()
        arrived = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5).get("Messages", [])
        took = time.monotonic() - started
        later.join()

    assert nothing == [] and 0.9 <= waited < 4 and busy < 0.5  # it waited, it did not spin
    assert [m["Body"] for m in arrived] == ["later"] and took < 0.9  # at once, not at the next second
