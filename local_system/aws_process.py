"""The local system's AWS stand-in in a process of its own, beside the functions' process.

With the stand-in and the functions in one interpreter, one core did all the work. Here the stand-in
has its own interpreter, so the two halves run on two cores: while it commits one event's
transaction, the API can take the next event.

- **This process** (`python -m local_system.aws_process`, started by `AwsProcess`) answers
  DynamoDB from the local engine (`local_system.dynamodb`: DynamoDB's API in memory, queries in key
  order, each expression compiled once; docs/design.md "A DynamoDB engine of our own") and every
  other service from moto's backends (with `moto_atomic.make_moto_dynamodb_atomic`'s SQS patches).
  It serves them twice: moto's own server on `--aws-port` for everything outside (fraudctl, the AWS
  CLI, the tests), its DynamoDB calls (by their `X-Amz-Target`) given to the engine, and a Unix
  socket for the functions' process.
- **The socket** carries serialized AWS requests, one answer per request: botocore in the functions'
  process validates and serializes a call as it would for AWS, a `before-call` handler
  (`route_calls_to`) sends the request (method, the service's AWS URL, headers, body); here a
  DynamoDB request goes to the engine and any other to moto's own dispatch for that URL
  (`moto_direct.moto_answers`, as its stubber would), and botocore parses the answer with the
  operation's shapes (`moto_direct.parsed_answer`). No signing, no HTTP, no URL search per call.
  JSON-protocol services only (DynamoDB, SQS, EventBridge, KMS); any other call goes to moto's server
  over HTTP (`AWS_ENDPOINT_URL`), never to AWS.
- **Who may connect:** the socket lives in a directory only this user can open, and each connection
  proves it holds a random key given to the two processes at start (the `multiprocessing`
  connection handshake, an HMAC challenge), so another local user cannot reach the backends that
  way. moto's server on loopback answers local tools only (`_LocalToolsOnly`): a web page the
  developer opened could otherwise send it anything and read its answers (moto approves every
  origin), so a request with an `Origin`, a preflight, or one naming a host other than its address
  is refused.
- Each connection (one per thread of the functions' process) is served by a thread here; the engine
  takes one request at a time (its lock), so each request, a transaction included, is atomic.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from local_system.children import (
    SWITCH_INTERVAL_SECONDS,
    Child,
    keep_long_lived_objects_out_of_full_collections,
    serve_until_stopped,
)

AUTHKEY_VARIABLE = "LOCAL_AWS_PROCESS_KEY"
SOCKET_VARIABLE = "LOCAL_AWS_PROCESS_SOCKET"
_JSON_SERVICES_HOST = "https://{prefix}.{region}.amazonaws.com/"


# --- the functions' side ------------------------------------------------------------------------
class AwsProcess:
    """The AWS stand-in's process, started and ready (its server listening, its socket open)."""

    def __init__(self, aws_port: int, start_timeout: float = 120.0) -> None:
        self.directory = tempfile.mkdtemp(prefix="fraud-aws-")  # mode 0700: this user only
        self.address = str(Path(self.directory) / "aws.sock")
        self.authkey = secrets.token_bytes(32)
        self.aws_port = aws_port
        try:
            self.child = Child(
                "local_system.aws_process",
                ["--aws-port", str(aws_port), "--socket", self.address],
                {AUTHKEY_VARIABLE: self.authkey.hex()},
                start_timeout,
            )
        except BaseException:
            shutil.rmtree(self.directory, ignore_errors=True)
            raise

    @property
    def process(self) -> Any:
        return self.child.process

    def environment(self) -> dict[str, str]:
        """What another of the local system's processes needs to reach the stand-in's socket."""
        return {SOCKET_VARIABLE: self.address, AUTHKEY_VARIABLE: self.authkey.hex()}

    def route_calls(self) -> None:
        route_calls_to(self.address, self.authkey)

    def close(self) -> None:
        self.child.close()
        shutil.rmtree(self.directory, ignore_errors=True)


class Channel:
    """Connections to the stand-in, each carrying one call at a time: a call takes an idle one (or
    opens one) and gives it back. Not one per thread: the API's server starts a thread per request,
    and a connection's handshake costs more than the call."""

    # what a deployed function's calls wait at most (API Gateway's 29 s): a stand-in that stopped
    # answering (frozen, not dead) held every request for ever, where AWS's would time out
    ANSWER_WITHIN_SECONDS = 30.0

    def __init__(self, address: str, authkey: bytes) -> None:
        self.address = address
        self.authkey = authkey
        self.idle: list[Any] = []
        self.lock = threading.Lock()

    def call(self, request: tuple[str, str, dict[str, str], bytes]) -> Any:
        with self.lock:
            connection = self.idle.pop() if self.idle else None
        try:
            if connection is None:
                connection = self._connect()
            connection.send(request)
            if not connection.poll(self.ANSWER_WITHIN_SECONDS):
                raise TimeoutError(f"no answer within {self.ANSWER_WITHIN_SECONDS} s")
            answer = connection.recv()
        except (EOFError, OSError) as error:
            if connection is not None:
                connection.close()  # half a call on it: never reused
            from botocore.exceptions import EndpointConnectionError

            # what botocore raises when an AWS endpoint cannot be reached: the functions already
            # treat it as the service being down
            raise EndpointConnectionError(endpoint_url=request[1], error=error) from error
        with self.lock:
            self.idle.append(connection)
        return answer

    def _connect(self) -> Any:
        """A new connection, within the time a call waits: its handshake needs the stand-in's answer
        too, and multiprocessing's Client has no timeout (a thread left waiting on a frozen stand-in
        ends when it answers again or goes away)."""
        from multiprocessing.connection import Client

        from functions.shared.waiting import within

        return within(
            self.ANSWER_WITHIN_SECONDS,
            lambda: Client(self.address, "AF_UNIX", authkey=self.authkey),
            "connection",
        )

    def answer(self, model: Any, params: dict[str, Any], context: Any = None, **_: Any) -> Any:
        """A `before-call` handler: the stand-in's answer to a JSON-protocol call, parsed as botocore
        parses AWS's; None for any other call (which then goes to the client's endpoint)."""
        from local_system.moto_direct import parsed_answer

        service_model = model.service_model
        if service_model.resolved_protocol != "json" or params.get("query_string"):
            return None
        region = (context or {}).get("client_region") or "us-east-1"
        url = _JSON_SERVICES_HOST.format(prefix=service_model.endpoint_prefix, region=region)
        answer = self.call((params["method"], url, dict(params["headers"]), params.get("body") or b""))
        if answer is None:  # no moto backend for it
            return None
        return parsed_answer(model, url, *answer)


_channel: Channel | None = None


def answer_from_process(**kwargs: Any) -> Any:
    """The `before-call` handler botocore's sessions get: the current channel's answer, if any."""
    channel = _channel
    return None if channel is None else channel.answer(**kwargs)


def route_calls_to(address: str, authkey: bytes) -> None:
    """Every botocore session created from now on answers JSON-protocol calls from the stand-in."""
    global _channel
    import botocore.handlers

    already = _channel is not None
    _channel = Channel(address, authkey)
    if not already:
        botocore.handlers.BUILTIN_HANDLERS.append(("before-call", answer_from_process))


def route_calls_from_environment() -> None:
    """In another of the local system's processes: route its calls to the stand-in named by
    `AwsProcess.environment()` (the key leaves the environment at once)."""
    route_calls_to(os.environ[SOCKET_VARIABLE], bytes.fromhex(os.environ.pop(AUTHKEY_VARIABLE)))


# --- the stand-in's side ------------------------------------------------------------------------
_DYNAMODB_TARGET = "DynamoDB_20120810."  # DynamoDB's operations (not DynamoDB Streams': "DynamoDBStreams_")


def _serve(connection: Any, dynamodb: Any) -> None:
    from local_system.moto_direct import moto_answers

    with connection:
        while True:
            try:
                method, url, headers, body = connection.recv()
            except (EOFError, OSError):
                return
            try:
                target = headers.get("X-Amz-Target", "")
                if target.startswith(_DYNAMODB_TARGET):
                    answer = dynamodb.answer(target, body)
                else:
                    answer = moto_answers(method, url, headers, body)
            except Exception as error:  # an answer moto could not give: a 500, as its server would
                answer = (500, {"Content-Type": "text/plain"}, f"{type(error).__name__}: {error}".encode())
            try:
                connection.send(answer)
            except OSError:  # the caller gave up on it (a call waits 30 s at most): its connection went
                return


class _DynamoDBFirst:
    """moto's server application with DynamoDB's calls (by their `X-Amz-Target`) answered by the
    local engine: fraudctl, the AWS CLI and the tests reach the same tables as the functions."""

    def __init__(self, moto_app: Any, dynamodb: Any) -> None:
        self.moto_app = moto_app
        self.dynamodb = dynamodb

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith(_DYNAMODB_TARGET):
            return self.moto_app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        status, headers, answer = self.dynamodb.answer(target, body)
        reason = "OK" if status == 200 else "Bad Request" if status == 400 else "Error"
        start_response(f"{status} {reason}", [*headers.items(), ("Content-Length", str(len(answer)))])
        return [answer]


class _LocalToolsOnly:
    """Refuses what a web page can send: moto's server approves any origin's preflight and lets any
    origin read its answers (`Access-Control-Allow-Origin`), so any page the developer opened could
    read SQS and KMS, put a forged notification on the bus or plant an admin key in the table.
    botocore (fraudctl, the AWS CLI, the functions, the tests) sends no `Origin` and names the
    server by its address; a browser sends an `Origin` on any POST and any cross-origin fetch(), a
    preflight before a call with AWS's headers, and the page's own host when its name was rebound
    to 127.0.0.1 (DNS rebinding). A 403 then, with no `Access-Control-*` header. (An image's or a
    link's GET carries none of these; unsigned, moto takes it for S3's, a read the page cannot see.)"""

    def __init__(self, app: Any, port: int) -> None:
        self.app = app
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
        self.refusal = (
            "The local AWS stand-in answers local tools, not web pages: a request with no Origin, "
            f"not OPTIONS, to Host 127.0.0.1:{port} or localhost:{port}.\n"
        ).encode()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if (
            "HTTP_ORIGIN" in environ
            or environ["REQUEST_METHOD"] == "OPTIONS"
            or environ.get("HTTP_HOST", "").lower() not in self.hosts
        ):
            headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(self.refusal)))]
            start_response("403 Forbidden", headers)
            return [self.refusal]
        return self.app(environ, start_response)


class _Server:
    """moto's threaded server (as `ThreadedMotoServer` runs it), its application `_DynamoDBFirst`
    behind `_LocalToolsOnly`."""

    def __init__(self, port: int, dynamodb: Any) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        app = _LocalToolsOnly(_DynamoDBFirst(DomainDispatcherApplication(create_backend_app), dynamodb), port)
        self.server = make_server("127.0.0.1", port, app, True, request_handler=MotoRequestHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local_system.aws_process", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--aws-port", type=int, required=True)
    parser.add_argument("--socket", required=True)
    args = parser.parse_args(argv)
    authkey = bytes.fromhex(os.environ.pop(AUTHKEY_VARIABLE))

    import logging

    from moto import mock_aws

    from local_system.dynamodb import Engine
    from local_system.moto_atomic import make_moto_dynamodb_atomic

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log drowns the console
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)  # calls wait for the lock while a transaction holds it
    make_moto_dynamodb_atomic()  # for its SQS patches (moto's DynamoDB is not used here)
    mock = mock_aws()
    mock.start()  # first: it starts from empty backends, which the server then shares
    dynamodb = Engine()
    server = _Server(args.aws_port, dynamodb)
    server.start()
    from multiprocessing.connection import Listener

    listener = Listener(args.socket, "AF_UNIX", authkey=authkey)
    stopping = threading.Event()

    def stop() -> None:
        stopping.set()
        listener.close()  # ends accept() below

    serve_until_stopped(stop)
    # the table's items are most of this process's objects, and live as long as it does
    keep_long_lived_objects_out_of_full_collections()
    try:
        while not stopping.is_set():
            try:
                connection = listener.accept()
            except OSError:
                break  # closed by stop()
            except Exception:  # noqa: S112 (a client that failed the handshake: refuse it, go on)
                continue
            threading.Thread(target=_serve, args=(connection, dynamodb), daemon=True).start()
    finally:
        server.stop()
        mock.stop()
        # its socket's directory, which the parent removes too unless it was killed outright
        shutil.rmtree(Path(args.socket).parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
