"""Test helpers for webhooks: the webhooks resources on moto, and a real HTTP receiver on
127.0.0.1 that answers as told and keeps what it got."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = 0.0  # time.monotonic() when it arrived


@dataclass
class Receiver:
    """Answers the n-th POST of each delivery with the n-th code of `answers` (then the last one),
    after `delay` seconds."""

    answers: list[int] = field(default_factory=lambda: [200])
    delay: float = 0.0
    got: list[Received] = field(default_factory=list)
    port: int = 0
    _server: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.got.append(Received(self.path, headers, body, time.monotonic()))
                # the n-th try of one delivery gets the n-th answer, whatever else arrives
                tries = [
                    g
                    for g in receiver.got
                    if g.headers.get("x-webhook-delivery") == headers.get("x-webhook-delivery")
                ]
                index = min(len(tries) - 1, len(receiver.answers) - 1)
                time.sleep(receiver.delay)
                self.send_response(receiver.answers[index])
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()


def receiving(answers: list[int] | None = None) -> Iterator[Receiver]:
    receiver = Receiver(answers or [200]).start()
    try:
        yield receiver
    finally:
        receiver.stop()


def signatures(header: str) -> tuple[int, list[str]]:
    parts = [p.split("=", 1) for p in header.split(",")]
    t = [int(v) for k, v in parts if k == "t"]
    assert len(t) == 1, header
    return t[0], [v for k, v in parts if k == "v1"]


def verifies(secret: str, header: str, body: bytes) -> bool:
    """What a receiver does: recompute the HMAC of "<t>.<body>" and compare in constant time."""
    t, given = signatures(header)
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, v) for v in given)
