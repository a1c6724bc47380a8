"""The local system's queue poller, when a round fails (the queue unavailable): its log line names
the handler and the queue it polls (it named only the last function the shared logger had run, a
faults tester's find), and it keeps polling."""

from __future__ import annotations

import time

from local_system.poller import SCORE_HANDLER, QueuePoller


class _Unavailable:
    def __init__(self) -> None:
        self.rounds = 0

    def get_queue_attributes(self, **_: object) -> dict:
        return {"Attributes": {"QueueArn": "arn:aws:sqs:us-east-1:000000000000:scoring"}}

    def receive_message(self, **_: object) -> dict:
        self.rounds += 1
        raise ConnectionError("the queue did not answer (test)")


def _polled_until(rounds: int, pause: float) -> tuple[_Unavailable, QueuePoller]:
    """A poller of a queue that never answers, stopped once it has tried `rounds` rounds."""
    sqs = _Unavailable()
    poller = QueuePoller(sqs, "http://127.0.0.1:9/000000000000/scoring")
    poller.start()
    deadline = time.monotonic() + 10
    while sqs.rounds < rounds and time.monotonic() < deadline:
        time.sleep(pause)
    poller.stop()
    poller.join(5)
    return sqs, poller


def test_a_failed_round_names_its_handler_and_queue_and_polling_goes_on(caplog):
    sqs, _ = _polled_until(2, pause=0.1)

    assert sqs.rounds >= 2  # a round failed, the next came
    failed = [r for r in caplog.records if r.getMessage() == "local poller round failed"]
    assert failed, "no log line"
    assert failed[0].handler == SCORE_HANDLER  # type: ignore[attr-defined]
    assert failed[0].queue_url.endswith("/scoring")  # type: ignore[attr-defined]


def test_a_round_failing_as_the_system_stops_is_not_logged(caplog, monkeypatch):
    """A load tester's: a SIGTERM to the whole system stopped the AWS stand-in before the pollers,
    whose last rounds each logged an ERROR with a traceback."""
    from local_system import poller as module

    monkeypatch.setattr(module, "QUIET_SECONDS", 30.0)  # the stop comes well within it
    sqs, poller = _polled_until(1, pause=0.01)  # stopped while its failed round waits to say so

    assert sqs.rounds == 1 and not poller.is_alive()
    assert not [r for r in caplog.records if r.getMessage() == "local poller round failed"]
