"""Ports for what leaves a function: the scoring queue and the notification bus.

Each has a boto3 implementation and an in-memory one for tests. AWS errors become
`StorageUnavailable` here, nowhere else."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from functions.shared.documents import json_default
from functions.shared.errors import StorageRefused, StorageUnavailable

if TYPE_CHECKING:
    from functions.shared.storage.port_loyalty import WorkflowRun


class ScoringQueue(Protocol):
    def send(self, program_id: str, event_id: str) -> None: ...

    def send_many(self, events: list[tuple[str, str]]) -> None:
        """Every (program, event) reference, or StorageUnavailable naming what failed
        (`PartlyRefused` when the queue took the others)."""
        ...

    def waiting(self) -> int:
        """How many messages wait in the queue, not received yet (`queue_waiting`)."""
        ...


class EventPublisher(Protocol):
    def publish(self, detail_type: str, detail: dict[str, Any]) -> None: ...


def queue_waiting(client: Any, queue_url: str, what: str) -> int:
    """SQS's count of the messages a queue holds not received yet (approximate: it may lag by a
    minute), or StorageUnavailable."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = client.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
    except (BotoCoreError, ClientError) as exc:
        raise StorageUnavailable(f"{what} unavailable: {exc}") from exc
    return int(answer["Attributes"]["ApproximateNumberOfMessages"])


def tenant(program_id: str) -> dict[str, str]:
    """What marks a message as one program's on a shared queue: its message group. On a standard
    queue that is SQS's fair queueing (tenants by `MessageGroupId`): a program whose backlog or
    slow messages take more than its share of the consumers has its messages held back while
    other programs' are waiting, so one program's burst (a backfill, a wave of flags sending
    webhooks) does not delay every other program's scoring, deliveries and workflows. Order and
    delivery stay a standard queue's; a program id is a valid group id (`tenancy._PROGRAM_ID`)."""
    return {"MessageGroupId": program_id}


def scoring_message(program_id: str, event_id: str) -> str:
    """Only references travel on the queue: the event itself stays in the table."""
    return json.dumps({"program_id": program_id, "event_id": event_id})


class PartlyRefused(StorageUnavailable):
    """A batch the queue took but for `refused` of its messages: it answers, and a next batch may go."""

    def __init__(self, detail: str, refused: int) -> None:
        super().__init__(detail)
        self.refused = refused


class SqsScoringQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send(self, program_id: str, event_id: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.send_message(
                QueueUrl=self._url, MessageBody=scoring_message(program_id, event_id), **tenant(program_id)
            )
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"scoring queue unavailable: {exc}") from exc

    def send_many(self, events: list[tuple[str, str]]) -> None:
        from concurrent.futures import ThreadPoolExecutor

        batches = [events[i : i + 10] for i in range(0, len(events), 10)]  # SQS takes 10 a call
        with ThreadPoolExecutor(max_workers=8) as pool:
            failed = sum(pool.map(self._send_batch, batches))
        if failed:
            detail = f"scoring queue refused {failed} of {len(events)} messages"
            raise PartlyRefused(detail, failed) if failed < len(events) else StorageUnavailable(detail)

    def _send_batch(self, batch: list[tuple[str, str]]) -> int:
        from botocore.exceptions import BotoCoreError, ClientError

        entries = [
            {"Id": str(n), "MessageBody": scoring_message(program_id, event_id), **tenant(program_id)}
            for n, (program_id, event_id) in enumerate(batch)
        ]
        try:
            answer = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
        except (BotoCoreError, ClientError):
            return len(batch)
        return len(answer.get("Failed") or [])

    def waiting(self) -> int:
        return queue_waiting(self._client, self._url, "scoring queue")


class EventBridgePublisher:
    SOURCE = "fraud-management"

    def __init__(self, client: Any, bus_name: str | None) -> None:
        self._client = client
        self._bus = bus_name

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        if self._bus is None:  # the notification stays in the outbox until an operator sets it
            raise StorageRefused("EVENT_BUS_NAME is not set: no notification is published")
        entry = {
            "Source": self.SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(detail, default=json_default),
            "EventBusName": self._bus,
        }
        try:
            answer = self._client.put_events(Entries=[entry])
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"event bus unavailable: {exc}") from exc
        if answer.get("FailedEntryCount"):
            raise StorageUnavailable(f"event bus refused {detail_type}: {answer['Entries']}")


class RestingPublisher:
    """A scheduled job's publisher (the hold sweep, the dispute cycle): once the bus failed a call,
    it is not called again for `rest_seconds` (within the job's run: each run makes its own). Each
    call waits its bound on a bus that does not answer (`aws_calls.HANDED_ON`, 4 s), and a run
    making hundreds of changes during an outage spent its time waiting on the bus, a hundred times
    slower. The notifications stay in the outbox, written with their change, and the relay
    delivers them: a rest costs them minutes, never the notification."""

    def __init__(self, publisher: EventPublisher, rest_seconds: float = 30.0) -> None:
        self._publisher = publisher
        self._rest = rest_seconds
        self._resting_until = 0.0  # time.monotonic()'s: no call before it
        self._lock = threading.Lock()

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        with self._lock:
            if time.monotonic() < self._resting_until:
                raise StorageUnavailable(
                    "event bus failed a call moments ago: left in the outbox for the relay"
                )
        try:
            self._publisher.publish(detail_type, detail)
        except StorageUnavailable:
            with self._lock:
                self._resting_until = time.monotonic() + self._rest
            raise


class InMemoryQueue:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fail = fail
        self.backlog = 0  # messages not received yet, as `waiting` tells them (nothing takes `sent`)

    def waiting(self) -> int:
        if self.fail:
            raise StorageUnavailable("scoring queue unavailable (test)")
        return self.backlog

    def send(self, program_id: str, event_id: str) -> None:
        if self.fail:
            raise StorageUnavailable("scoring queue unavailable (test)")
        self.sent.append((program_id, event_id))

    def send_many(self, events: list[tuple[str, str]]) -> None:
        for program_id, event_id in events:
            self.send(program_id, event_id)


class InMemoryPublisher:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        self.published.append((detail_type, detail))


# --- loyalty workflow runs (SPEC 8: behind a queue, within seconds) -------------------------
class WorkflowQueue(Protocol):
    def send(self, run: WorkflowRun, sent_at: datetime) -> None:
        """The run, or StorageUnavailable."""
        ...

    def waiting(self) -> int:
        """How many messages wait in the queue, not received yet (`queue_waiting`)."""
        ...


def workflow_message(run: WorkflowRun, sent_at: datetime) -> str:
    """References only, as on the scoring queue: which earn, of whom, of what kind, when, when it
    was sent (after the earn's commit), and which workflows it matched."""
    return json.dumps(
        {
            "program_id": run.program_id,
            "action_id": run.action_id,
            "customer_id": run.customer_id,
            "kind": run.kind,
            "at": run.at.isoformat(),
            "sent_at": sent_at.isoformat(),
            "workflows": list(run.workflow_ids),
        }
        | ({"occurred_at": run.occurred_at.isoformat()} if run.occurred_at else {})
    )


class SqsWorkflowQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send(self, run: WorkflowRun, sent_at: datetime) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.send_message(
                QueueUrl=self._url, MessageBody=workflow_message(run, sent_at), **tenant(run.program_id)
            )
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"workflow queue unavailable: {exc}") from exc

    def waiting(self) -> int:
        return queue_waiting(self._client, self._url, "workflow queue")
