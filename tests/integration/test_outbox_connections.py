"""A synchronous decision reads every outbox shard side by side (`recently_queued`): each read
needs a connection of its own, and they are kept between requests. With pynamodb's default pool
of 10, 16 shards opened new connections (a TLS handshake each on AWS) and threw others away at
every decision (a reviewer's finding, thirty-first session). Over HTTP, as a Lambda talks to
DynamoDB: moto's server."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from functions.shared.storage import keys
from functions.shared.storage.dynamodb import DynamoRepository, build_models
from local_system.provision import provision


class Connections(logging.Handler):
    """What urllib3 says of its pools: connections opened, and connections thrown away."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.opened = self.discarded = 0

    def emit(self, record: logging.LogRecord) -> None:
        said = record.getMessage()
        self.opened += said.startswith("Starting new HTTP")
        self.discarded += "pool is full" in said


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_reading_every_outbox_shard_side_by_side_keeps_its_connections(monkeypatch: pytest.MonkeyPatch):
    from moto.server import ThreadedMotoServer

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    counted = Connections()
    log = logging.getLogger("urllib3.connectionpool")
    level = log.level
    try:
        made = provision(lambda name: boto3.client(name, endpoint_url=url, region_name="us-east-1"))
        repository = DynamoRepository(build_models(made.table_name, url, "us-east-1"), None)
        now = datetime.now(UTC)

        def decide() -> None:
            repository.recently_queued("prg-pool", now - timedelta(seconds=60), now, 13)

        log.addHandler(counted)
        log.setLevel(logging.DEBUG)
        for _ in range(8):
            decide()
    finally:
        log.removeHandler(counted)
        log.setLevel(level)
        server.stop()
    assert keys.OUTBOX_SHARDS > 10  # more than pynamodb's pool holds unless told
    # the pool fills up to as many connections as shards read at once, and keeps them
    assert counted.discarded == 0 and counted.opened <= keys.OUTBOX_SHARDS, (
        counted.opened,
        counted.discarded,
    )
