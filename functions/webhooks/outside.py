"""What the webhooks function reaches outside itself, each behind a small interface with its AWS
(or network) implementation: the webhooks queue scheduling tries, name resolution, and the HTTP
client that calls a receiver (the KMS sealer of secrets is `functions.shared.sealing`). AWS errors
become `StorageUnavailable` here."""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

from functions.shared.domain.webhooks import (
    ANSWER_BYTES_KEPT,
    RESOLVE_TIMEOUT_SECONDS,
    SEND_TIMEOUT_SECONDS,
    SQS_LONGEST_DELAY_SECONDS,
    Target,
)
from functions.shared.errors import StorageUnavailable
from functions.shared.messaging import tenant
from functions.shared.waiting import within


class TryQueue(Protocol):
    def schedule(self, message: dict[str, Any], delay_seconds: float) -> None: ...


def try_message(
    program_id: str, webhook_id: str, delivery_id: str, tries: int, waited: int = 0
) -> dict[str, Any]:
    """A scheduled try: references only (the payload stays in the table). `tries`: how many tries
    the delivery had when this one was scheduled, so a second copy of the message does nothing.
    `waited`: how many times in a row it found its program's slow try taken (`slow_try_wait`)."""
    message: dict[str, Any] = {
        "kind": "webhook_try",
        "program_id": program_id,
        "webhook_id": webhook_id,
        "delivery_id": delivery_id,
        "tries": tries,
    }
    if waited:
        message["waited"] = waited
    return message


class SqsTryQueue:
    """Tries wait on the webhooks queue: SQS delays a message up to 15 minutes, so a longer wait is
    several hops (the message carries no time; the delivery's `next_attempt_at` decides)."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client, self._url = client, queue_url

    def schedule(self, message: dict[str, Any], delay_seconds: float) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        # SQS delays are whole seconds: rounded up, so a try never arrives before its time
        delay = max(0, min(int(SQS_LONGEST_DELAY_SECONDS), math.ceil(delay_seconds)))
        try:
            self._client.send_message(
                QueueUrl=self._url,
                MessageBody=json.dumps(message),
                DelaySeconds=delay,
                **tenant(message["program_id"]),
            )
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"the webhooks queue did not answer: {type(exc).__name__}") from exc


def resolve(host: str, port: int, timeout: float = RESOLVE_TIMEOUT_SECONDS) -> list[str]:
    """Every address the host resolves to (IPv4 and IPv6), within `timeout` (OSError past it:
    getaddrinfo has no timeout of its own)."""
    found = within(
        timeout,
        lambda: socket.getaddrinfo(host, port, type=socket.SOCK_STREAM),
        "answer from the name's resolution",
    )
    return sorted({str(info[4][0]) for info in found})


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer in time, or no connection
    error: str | None = None


class Sender(Protocol):
    def post(self, target: Target, body: bytes, headers: dict[str, str], within: float) -> Answer: ...


class PinnedHttpSender:
    """POSTs to the addresses the URL check just approved (never resolving again), with TLS checked
    against the URL's host name; no redirect is followed (http.client follows none); the whole try
    (the addresses' connections, each given a share of the time left, then the exchange) within
    `within` seconds, so a batch of tries fits the function's timeout whatever the receiver's name
    resolves to; at most ANSWER_BYTES_KEPT of the answer is read."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self._tls = tls or ssl.create_default_context()  # the public CAs (a test's own, in tests)

    def post(
        self, target: Target, body: bytes, headers: dict[str, str], within: float = SEND_TIMEOUT_SECONDS
    ) -> Answer:
        ends = time.monotonic() + within
        last_error = "no address"
        for n, address in enumerate(target.addresses):
            if (left := ends - time.monotonic()) <= 0:
                return Answer(None, "timeout")  # a host of many addresses that drop the connection
            # a share of what is left: an address that drops the handshake leaves time for the next
            # ones (the same one comes first at every try) and for the exchange
            share = left / (len(target.addresses) - n + 1)
            try:
                sock = socket.create_connection((address, target.port), timeout=share)
            except OSError as exc:
                last_error = type(exc).__name__
                continue
            # the whole exchange within what is left, not each read: a receiver dripping its answer
            # a byte at a time is cut off when the time is up. The deadline cuts a handle of its own
            # on the connection: TLS takes `sock` over, detached, and a shutdown of that one cut
            # nothing (over https a drip ran 76 s, past the delivery function's 60 s)
            left = max(0.001, ends - time.monotonic())
            # the connection's share was for connecting: the exchange has what is left. TLS takes the
            # socket over with its timeout (not the connection's): left at the share, a receiver of
            # eight addresses answering 200 in 1.2 s was no answer, retried for a day
            sock.settimeout(left)
            expired = threading.Event()
            try:
                handle = sock.dup()
            except OSError as exc:  # out of descriptors: this address is no answer, as a refusal is
                sock.close()
                last_error = type(exc).__name__
                continue
            deadline = threading.Timer(left, _cut, (handle, expired))
            connection: http.client.HTTPConnection | None = None
            try:
                deadline.start()
                connection = _connection_over(sock, target, self._tls, left)
                connection.request(
                    "POST", target.path, body=body, headers={**headers, "Host": host_header(target)}
                )
                response = connection.getresponse()
                response.read(ANSWER_BYTES_KEPT)  # a receiver's long answer is not read on
                return Answer(None, "timeout") if expired.is_set() else Answer(response.status)
            except (OSError, http.client.HTTPException, ValueError) as exc:
                return Answer(None, "timeout" if expired.is_set() else type(exc).__name__)
            finally:
                deadline.cancel()
                if connection is not None:
                    connection.close()  # its socket: the TLS one over https
                sock.close()
                handle.close()
        return Answer(None, last_error)


def _cut(sock: socket.socket, expired: threading.Event) -> None:
    expired.set()
    with contextlib.suppress(OSError):  # closed already
        sock.shutdown(socket.SHUT_RDWR)


def host_header(target: Target) -> str:
    """`Host` as RFC 9110 writes it: an IPv6 address in brackets (`[::1]:9141`), the port only when
    it is not the scheme's own."""
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


def _connection_over(
    sock: socket.socket, target: Target, tls: ssl.SSLContext, timeout: float
) -> http.client.HTTPConnection:
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(target.host, target.port, timeout=timeout, context=tls)
        connection.sock = tls.wrap_socket(sock, server_hostname=target.host)
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
        connection.sock = sock
    return connection
