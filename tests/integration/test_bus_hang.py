"""SPEC 6: a bus outage never stops an API answer, also when the bus is an endpoint that accepts
connections and never answers (botocore's defaults held one publish three minutes). The real loyalty
handler on moto, its bus client built as the functions build it (`runtime.boto3_client`), pointed at
such an endpoint; then the outbox relay, the bus back, delivers the notification."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from functions.outbox_relay.service import relay_all_notifications
from functions.shared import aws_calls, runtime
from functions.shared.messaging import EventBridgePublisher
from infra.constants import API_TIMEOUT_SECONDS
from tests.conftest import Aws, Tenant
from tests.integration.test_loyalty_support import Bus, Loyalty, bus_fixture, clock_fixture  # noqa: F401


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """An endpoint that takes every connection and never reads nor answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:  # closed at the end of the test
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()
    for conn in held:
        conn.close()


def test_a_bus_that_never_answers_leaves_the_answer_and_the_relay_delivers_later(
    aws: Aws, tenant: Tenant, clock, bus: Bus, silent_endpoint: str, monkeypatch: pytest.MonkeyPatch
):
    loyalty = Loyalty(tenant.keys)
    assert loyalty.earn("m1", 100).status == 200
    deps = runtime.dependencies()
    working = deps.publisher

    # Given a bus endpoint that accepts the connection and never answers, the client built as the
    # functions build theirs
    silent = runtime.boto3_client("events", aws.settings.model_copy(update={"endpoint_url": silent_endpoint}))
    monkeypatch.setattr(deps, "publisher", EventBridgePublisher(silent, aws.settings.event_bus_name))

    # When a customer is suspended (the real handler, in a thread the test can give up on)
    answer: dict[str, object] = {}

    def suspend() -> None:
        answer["status"] = loyalty.status("m1", "suspend").status

    started = time.monotonic()
    worker = threading.Thread(target=suspend, daemon=True)
    worker.start()
    worker.join(timeout=API_TIMEOUT_SECONDS)
    waited = time.monotonic() - started

    # Then the suspension is answered within the bus call's bound, well inside the API's 10 s,
    # and its notification waits in the outbox
    assert answer == {"status": 200}, f"no answer after {waited:.1f} s"
    assert waited < aws_calls.HANDED_ON.longest_seconds() + 1.0, f"the answer waited {waited:.1f} s"
    assert waited < API_TIMEOUT_SECONDS / 2
    assert bus.events("CustomerSuspended") == []
    waiting = aws.repository.pending_notifications(tenant.program_id, 10)
    assert [n.name for n in waiting] == ["CustomerSuspended"]

    # And when the bus is back, the relay delivers it and the outbox is empty
    deps.publisher = working
    assert relay_all_notifications(deps) == 1
    assert [d["customer_id"] for d in bus.events("CustomerSuspended")] == ["m1"]
    assert aws.repository.pending_notifications(tenant.program_id, 10) == []


def test_a_secrets_manager_that_never_answers_fails_the_pepper_read_inside_an_api_functions_timeout(
    silent_endpoint: str, monkeypatch: pytest.MonkeyPatch
):
    """A reviewer's find: the network pepper's client kept a Config of its own (4 tries of 3 s), so a
    cold start of the cases function (an API function, 10 s) outlasted its timeout when Secrets
    Manager accepted connections and never answered; it fails first, as a dependency unavailable
    (an API's 503, queued work left due)."""
    from functions.shared.domain import identity
    from functions.shared.errors import StorageUnavailable

    monkeypatch.setenv("AWS_ENDPOINT_URL", silent_endpoint)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    identity._pepper_from_secret.cache_clear()
    started = time.monotonic()
    with pytest.raises(StorageUnavailable):
        identity._pepper_from_secret("arn:aws:secretsmanager:us-east-1:000000000000:secret:pepper-AbCdEf")
    waited = time.monotonic() - started
    assert waited <= aws_calls.STORE.longest_seconds() + 0.5 and waited < API_TIMEOUT_SECONDS, waited
