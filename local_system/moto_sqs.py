"""moto's SQS queue at the cost of the messages it hands out, not of the messages it holds.

moto keeps a queue's messages in one list, in the order they were sent. Each `ReceiveMessage`
builds the list of every visible message (the clock read twice per message) before taking the
first few; each delete by receipt handle walks every message, and every handle each message was
ever given, twice, and `ChangeMessageVisibility` walks them once. The local system's scoring
queue therefore got slower as its backlog grew: O(backlog) per message, O(n^2) per drain.

Here, with moto's own code for everything else:
- a receive walks the list lazily, in moto's order, and stops where moto's loop stops (the
  messages it returns, plus any in flight or delayed ahead of them); the loop is moto's, line for
  line: the re-check of visibility, pending messages and FIFO groups, the redrive to the
  dead-letter queue at `maxReceiveCount`, the copy per message, the retention check, long polling;
- every receipt handle moto generates is noted with its message (`Message.mark_received`), so a
  delete or a visibility change finds its message at once; the message's place in the queue is
  then found from the front, where received messages are. A delete replaces the list with one
  without the message, as moto does (whoever iterates the old list meanwhile sees it whole).
- a handle noted for no message (invalid, or received before this patch), or whose message is not
  in this queue (moved to the dead-letter queue, already deleted), goes to moto's own walk, which
  refuses it (or finds it) as moto does.

Receives, deletes and visibility changes through these paths hold one lock, so two threads never
hand out the same message (moto's own receive does not guard against that). `moto_own_work()`
(moto_overhead) turns all of it off: the tests compare both ways; `moto_queue_walks()` turns
only this off."""

from __future__ import annotations

import contextlib
import functools
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from local_system import moto_overhead

_INSTALLED = "__moto_sqs_fast__"
_fast = True
_lock = threading.RLock()
# Every receipt handle moto has generated, to the message it was given to; an entry goes with its
# message (deleted, purged): moto answers for a handle by its messages alone.
_handles: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()


@contextlib.contextmanager
def moto_queue_walks() -> Iterator[None]:
    """moto's own SQS walks meanwhile, with every other patch still on (what the benchmark compares)."""
    global _fast
    saved, _fast = _fast, False
    try:
        yield
    finally:
        _fast = saved


def _on() -> bool:
    return _fast and moto_overhead._shortcuts


def _ready(queue: Any) -> Iterator[Any]:
    """`queue.messages` (visible and not delayed, in the queue's order), one at a time."""
    for message in queue._messages:
        if message.visible and not message.delayed:
            yield message


def _position(queue: Any, receipt_handle: Any) -> tuple[Any, int] | None:
    """The message of the handle and its place in this queue, or None: moto's own walk answers."""
    if type(receipt_handle) is not str:
        return None  # a message never received has the handle None in moto's eyes
    message = _handles.get(receipt_handle)
    if message is None:
        return None
    try:
        return message, queue._messages.index(message)  # from the front, where received ones are
    except ValueError:
        return None


def _mark_received(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def mark_received(message: Any, visibility_timeout: int | None = None) -> None:
        method(message, visibility_timeout)
        _handles[message.receipt_handle] = message

    return mark_received


def _wait_for_messages(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wait_for_messages(queue: Any, timeout: int) -> None:
        if not _on():
            return method(queue, timeout)
        with queue._messages_lock:
            queue._messages_lock.wait_for(lambda: next(_ready(queue), None) is not None, timeout=timeout)
        return None

    return wait_for_messages


def _delete_message(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def delete_message(queue: Any, receipt_handle: str) -> None:
        if not _on():
            return method(queue, receipt_handle)
        if receipt_handle in queue.deleted_messages:
            return None  # moto: already deleted, deleting again is fine
        with _lock:
            found = _position(queue, receipt_handle)
            if found is None:
                return method(queue, receipt_handle)
            message, position = found
            queue.pending_messages.discard(message)
            queue.deleted_messages.update(message.all_receipt_handles)
            queue._messages = queue._messages[:position] + queue._messages[position + 1 :]
        return None

    return delete_message


def _change_message_visibility(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def change_message_visibility(
        backend: Any, queue_name: str, receipt_handle: str, visibility_timeout: int
    ) -> None:
        if not _on():
            return method(backend, queue_name, receipt_handle, visibility_timeout)
        from moto.sqs import models

        queue = backend.get_queue(queue_name)
        with _lock:
            found = _position(queue, receipt_handle)
            if found is None:
                return method(backend, queue_name, receipt_handle, visibility_timeout)
            message, _ = found
            # moto's body for the message it found
            visibility_timeout_msec = int(visibility_timeout) * 1000
            given_visibility_timeout = models.unix_time_millis() + visibility_timeout_msec
            if given_visibility_timeout - message.sent_timestamp > 43200 * 1000:
                raise models.InvalidParameterValue(
                    f"Value {visibility_timeout} for parameter VisibilityTimeout is invalid. Reason: Total "
                    "VisibilityTimeout for the message is beyond the limit [43200 seconds]"
                )
            message.change_visibility(visibility_timeout)
            if message.visible and message in queue.pending_messages:
                queue.pending_messages.remove(message)
        return None

    return change_message_visibility


def _receive_message(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def receive_message(
        backend: Any,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> list[Any]:
        if not _on():
            return method(
                backend, queue_name, count, wait_seconds_timeout, visibility_timeout, message_attribute_names
            )
        from copy import deepcopy

        from moto.sqs import models

        # moto's loop, line for line, with `queue.messages` walked lazily
        if message_attribute_names is None:
            message_attribute_names = []
        queue = backend.get_queue(queue_name)
        result: list[Any] = []
        previous_result_count = len(result)

        polling_end = models.unix_time() + wait_seconds_timeout
        with _lock:  # another thread's receive or delete changes the pending messages meanwhile
            currently_pending_groups = deepcopy(queue.pending_message_groups)

        while True:
            if result or (wait_seconds_timeout and models.unix_time() > polling_end):
                break

            messages_to_dlq: list[Any] = []
            with _lock:
                for message in _ready(queue):
                    if not message.visible:
                        continue

                    if message in queue.pending_messages:
                        queue.pending_messages.remove(message)
                        currently_pending_groups = deepcopy(queue.pending_message_groups)

                    if message.group_id and queue.fifo_queue and message.group_id in currently_pending_groups:
                        continue  # a previous receive still holds this group's messages

                    if (
                        queue.dead_letter_queue is not None
                        and queue.redrive_policy
                        and message.approximate_receive_count >= queue.redrive_policy["maxReceiveCount"]
                    ):
                        messages_to_dlq.append(message)
                        continue

                    queue.pending_messages.add(message)
                    message.mark_received(visibility_timeout=visibility_timeout)
                    message_copy = deepcopy(message)
                    models._filter_message_attributes(message_copy, message_attribute_names)
                    if not backend.is_message_valid_based_on_retention_period(queue_name, message):
                        break
                    result.append(message_copy)
                    if len(result) >= count:
                        break

                for message in messages_to_dlq:
                    queue._messages.remove(message)
                    queue.dead_letter_queue.add_message(message)

            if previous_result_count == len(result):
                if wait_seconds_timeout == 0:
                    break

                queue.wait_for_messages(1)
                continue

            previous_result_count = len(result)

        return result

    return receive_message


def make_moto_queues_fast() -> None:
    """Patches moto's SQS (once per process)."""
    from moto.sqs.models import Message, Queue, SQSBackend

    if getattr(SQSBackend.receive_message, _INSTALLED, False):
        return
    for owner, name, patch in (
        (Message, "mark_received", _mark_received),
        (Queue, "wait_for_messages", _wait_for_messages),
        (Queue, "delete_message", _delete_message),
        (SQSBackend, "change_message_visibility", _change_message_visibility),
        (SQSBackend, "receive_message", _receive_message),
    ):
        setattr(owner, name, patch(getattr(owner, name)))
    setattr(SQSBackend.receive_message, _INSTALLED, True)
