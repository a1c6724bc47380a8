"""The HTTP client of deliveries against real sockets on 127.0.0.1: the answer code, no redirect
followed, the whole exchange cut at the timeout (a receiver dripping its answer too), at most a few
KiB of the answer read, a refused connection is no answer, the Host header of an IPv6 address."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from functions.shared.domain.webhooks import Target
from functions.webhooks import outside
from functions.webhooks.outside import PinnedHttpSender, host_header


def serve(reply: Callable[[socket.socket], None]) -> Iterator[int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]

    def run() -> None:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            conn.recv(65536)
            with contextlib.suppress(OSError):
                reply(conn)

    threading.Thread(target=run, daemon=True).start()
    yield port
    server.close()


def target(port: int) -> Target:
    return Target("http", "127.0.0.1", port, "/hook", ("127.0.0.1",))


@pytest.fixture
def redirecting() -> Iterator[int]:
    yield from serve(
        lambda c: c.sendall(
            b"HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/\r\nContent-Length: 0\r\n\r\n"
        )
    )


@pytest.fixture
def dripping() -> Iterator[int]:
    def drip(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        for _ in range(50):
            conn.sendall(b"X-Slow: 1\r\n")
            time.sleep(0.1)

    yield from serve(drip)


@pytest.fixture
def huge() -> Iterator[int]:
    yield from serve(
        lambda c: c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n" + b"x" * 1_000_000)
    )


def test_a_redirect_is_an_answer_not_followed(redirecting: int):
    assert PinnedHttpSender().post(target(redirecting), b"{}", {}, within=2).status == 302


def test_the_whole_exchange_is_cut_at_the_timeout(dripping: int):
    started = time.monotonic()
    answer = PinnedHttpSender().post(target(dripping), b"{}", {}, within=0.5)
    assert answer.status is None
    assert time.monotonic() - started < 2  # not 0.5 s per header line


@pytest.fixture(scope="module")
def tls_authority() -> Any:
    import trustme

    return trustme.CA()


def tls_listener(authority: Any) -> tuple[ssl.SSLContext, ssl.SSLContext, socket.socket]:
    """A listening socket on loopback, the TLS context it serves with (a certificate for 127.0.0.1
    from `authority`) and a client's context trusting it."""
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("127.0.0.1").configure_cert(server_tls)
    client_tls = ssl.create_default_context()
    authority.configure_trust(client_tls)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    return server_tls, client_tls, server


def test_the_whole_exchange_over_tls_is_cut_at_the_timeout(tls_authority: Any):
    """A webhooks tester's: over https (the only scheme deployed) the deadline shut down the socket
    TLS had taken over, which cut nothing, and a receiver dripping its answer held a try 76 s, past
    the delivery function's 60 s timeout. (A dripped handshake is bounded by the socket's timeout:
    Python's TLS handshake keeps one deadline for its whole.)"""
    server_tls, client_tls, server = tls_listener(tls_authority)
    port = server.getsockname()[1]

    def run() -> None:
        with contextlib.suppress(OSError):
            conn, _ = server.accept()
            with conn, server_tls.wrap_socket(conn, server_side=True) as tls:
                tls.recv(65536)
                tls.sendall(b"HTTP/1.1 200 OK\r\n")
                for _ in range(50):  # a header line a tenth of a second: 5 s
                    tls.sendall(b"X-Slow: 1\r\n")
                    time.sleep(0.1)

    threading.Thread(target=run, daemon=True).start()
    try:
        started = time.monotonic()
        answer = PinnedHttpSender(client_tls).post(
            Target("https", "127.0.0.1", port, "/hook", ("127.0.0.1",)), b"{}", {}, within=0.5
        )
        assert (answer.status, answer.error) == (None, "timeout")
        assert time.monotonic() - started < 2  # not 0.25 s per read, reset by each line
    finally:
        server.close()


@pytest.fixture
def answering_late() -> Iterator[int]:
    def late(conn: socket.socket) -> None:
        time.sleep(0.8)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    yield from serve(late)


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_an_answer_within_the_time_of_a_receiver_of_many_addresses_is_its_answer(
    scheme: str, answering_late: int, tls_authority: Any
):
    """A webhooks tester's: the socket kept the timeout of its connection, a share of the time
    (the time left over the addresses left, plus one), and TLS took it over with it: a receiver
    whose name has eight addresses (a load balancer's) answering 200 in 1.2 s of its 10 was no
    answer, retried for a day. Here the first of eight answers in 0.8 s of 2: its share was 0.22 s."""
    addresses = ("127.0.0.1",) + tuple(f"127.0.0.{n}" for n in range(2, 9))
    sender = PinnedHttpSender()
    port = answering_late
    if scheme == "https":  # the same late answer behind TLS
        port, sender = _tls_in_front_of(answering_late, tls_authority)
    answer = sender.post(Target(scheme, "127.0.0.1", port, "/hook", addresses), b"{}", {}, within=2)

    assert (answer.status, answer.error) == (200, None)


def _tls_in_front_of(port: int, authority: Any) -> tuple[int, PinnedHttpSender]:
    """A TLS listener passing one connection's bytes to `port` and back; the sender trusting it."""
    server_tls, client_tls, server = tls_listener(authority)

    def run() -> None:
        with contextlib.suppress(OSError):
            conn, _ = server.accept()
            with conn, server_tls.wrap_socket(conn, server_side=True) as tls:
                request = tls.recv(65536)
                with socket.create_connection(("127.0.0.1", port)) as inner:
                    inner.sendall(request)
                    tls.sendall(inner.recv(65536))
        server.close()

    threading.Thread(target=run, daemon=True).start()
    return server.getsockname()[1], PinnedHttpSender(client_tls)


def test_a_long_answer_is_not_read_on(huge: int):
    started = time.monotonic()
    assert PinnedHttpSender().post(target(huge), b"{}", {}, within=5).status == 200
    assert time.monotonic() - started < 2


def test_no_listener_is_no_answer():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    answer = PinnedHttpSender().post(target(port), b"{}", {}, within=1)
    assert (answer.status, answer.error) == (None, "ConnectionRefusedError")


def test_the_host_header_brackets_an_ipv6_address_and_names_a_port_only_when_not_the_schemes():
    def host(scheme: str, name: str, port: int) -> str:
        return host_header(Target(scheme, name, port, "/", ("2606:4700::1111",)))

    assert host("https", "2606:4700::1111", 9141) == "[2606:4700::1111]:9141"  # was `2606:4700::1111:9141`
    assert host("https", "2606:4700::1111", 443) == "[2606:4700::1111]"
    assert host("http", "::1", 80) == "[::1]"
    assert host("https", "hooks.example.com", 443) == "hooks.example.com"
    assert host("https", "hooks.example.com", 8443) == "hooks.example.com:8443"
    assert host("https", "93.184.215.14", 8443) == "93.184.215.14:8443"


def test_a_receiver_at_an_ipv6_address_gets_a_host_header_it_can_parse():
    got: list[bytes] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]

    def run() -> None:
        conn, _ = server.accept()
        with conn:
            got.append(conn.recv(65536))
            conn.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")

    threading.Thread(target=run, daemon=True).start()
    try:
        # the URL's host is an IPv6 address; the connection goes where the check pinned it
        ipv6 = Target("http", "::1", port, "/hook", ("127.0.0.1",))
        assert PinnedHttpSender().post(ipv6, b"{}", {}, within=2).status == 204
    finally:
        server.close()
    [request] = got
    assert f"\r\nHost: [::1]:{port}\r\n".encode() in request, request


def test_a_try_to_a_host_of_many_stalled_addresses_ends_within_its_time(monkeypatch: pytest.MonkeyPatch):
    """Each address had the whole timeout for its connection, then the exchange as much again: a
    host of three addresses, two dropping the handshake and one never answering, held one try 30 s
    (the function's timeout is sized for five 10-second tries)."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts, never answers
    connect = socket.create_connection

    def stalled(address: tuple[str, int], timeout: float) -> socket.socket:
        if address[0] != "127.0.0.1":
            time.sleep(timeout)  # a handshake dropped: no answer until the timeout
            raise TimeoutError("timed out")
        return connect(address, timeout=timeout)

    monkeypatch.setattr(socket, "create_connection", stalled)
    many = Target(
        "https", "hooks.example.com", silent.getsockname()[1], "/", ("192.0.2.1", "192.0.2.2", "127.0.0.1")
    )
    started = time.monotonic()
    try:
        answer = PinnedHttpSender().post(many, b"{}", {}, within=0.6)
    finally:
        silent.close()

    assert answer.status is None
    assert time.monotonic() - started < 1.0  # 0.6 s in all, not 0.6 s per address and exchange


def test_a_name_whose_resolution_hangs_is_no_address_within_its_time(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda *_, **__: time.sleep(5))
    started = time.monotonic()

    with pytest.raises(OSError, match="resolution"):
        outside.resolve("slow.example.com", 443, timeout=0.2)
    assert time.monotonic() - started < 1.0


def test_an_address_that_drops_the_handshake_leaves_time_for_the_next_one(monkeypatch: pytest.MonkeyPatch):
    """The first address was given the whole try's time: a receiver whose first address (the same at
    every try: they are sorted) drops the handshake was never reached at its live one, and every try
    of its deliveries failed for 24 hours."""
    live = socket.socket()
    live.bind(("127.0.0.1", 0))
    live.listen()
    port = live.getsockname()[1]

    def answer() -> None:
        conn, _ = live.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")

    threading.Thread(target=answer, daemon=True).start()
    connect = socket.create_connection

    def dropping_the_first(address: tuple[str, int], timeout: float) -> socket.socket:
        if address[0] != "127.0.0.1":
            time.sleep(timeout)
            raise TimeoutError("timed out")
        return connect(address, timeout=timeout)

    monkeypatch.setattr(socket, "create_connection", dropping_the_first)
    two = Target("http", "127.0.0.1", port, "/", ("10.0.0.1", "127.0.0.1"))
    try:
        reached = PinnedHttpSender().post(two, b"{}", {}, within=1.5)
    finally:
        live.close()

    assert reached.status == 204, reached
