"""Replays labelled traffic through the system's API and reads back every decision.

Three ways to reach the same API, one driver:

- `http`: the local system (`python -m local_system`, as `make run` starts it) in a subprocess,
  over real HTTP on free ports; extra programs and keys are created against its moto endpoint with
  `functions.shared.tenancy`, as fraudctl does. The queue is drained by its own poller.
- `moto`: the same WSGI app the local system serves (`local_system.http_adapter.LocalApiGateway`:
  the route table, API Gateway proxy events, the real handlers), called in process, with moto's
  DynamoDB, SQS and EventBridge in process; the scoring queue is drained by the local poller.
- `memory`: the same app and handlers over the in-memory storage fake (the same port contract,
  tested against both): thousands of events in a minute, for the full evaluation.

Events go in time order; before a removal every event sent so far is scored (a removal needs the
case the flag opened)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evaluation.generator import EventStep, RemoveStep, Traffic

ROOT = Path(__file__).resolve().parent.parent
BATCH = 10  # the event source mapping's batch size
QUIET_ENV = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "POWERTOOLS_METRICS_NAMESPACE": "FraudEvaluation",
}


@dataclass
class ProgramAccess:
    program_id: str
    integration_key: str
    admin_key: str


@dataclass
class Outcome:
    """What the system answered for one event of the traffic."""

    step: EventStep
    status: str
    decision: dict[str, Any] | None
    case_id: str | None

    @property
    def flagged(self) -> bool:
        return bool(self.decision) and self.decision.get("action") == "flag"

    @property
    def caught(self) -> bool:
        """What recall counts: the event flags, or it is a reward whose partner is under a case
        already, which holds it (a taken-over account's second bonus, a day after the first flagged
        it: stopped, though nothing new in it flags)."""
        held = self.step.body.get("type") == "reward.created" and self.case_id is not None
        return self.flagged or held

    @property
    def codes(self) -> list[str]:
        return [r["code"] for r in (self.decision or {}).get("reasons", [])]


@dataclass
class Replay:
    outcomes: list[Outcome]
    removals: list[tuple[RemoveStep, str]]  # each removal and what happened ("removed" or why not)
    seconds: float
    backend: str


class Api:
    """The HTTP API as a caller sees it: method, path, key, JSON body -> (status, JSON)."""

    def __init__(self, call: Callable[[str, str, str, Any], tuple[int, Any]]) -> None:
        self.call = call

    def post_event(self, key: str, body: dict[str, Any]) -> int:
        return self.call("POST", "/v1/events", key, body)[0]

    def event(self, key: str, event_id: str) -> dict[str, Any]:
        status, answer = self.call("GET", f"/v1/events/{event_id}", key, None)
        if status != 200:
            raise RuntimeError(f"GET /v1/events/{event_id} answered {status}: {answer}")
        return answer

    def remove(self, key: str, case_id: str, block_reapply: bool) -> tuple[int, Any]:
        return self.call("POST", f"/v1/cases/{case_id}/remove", key, {"block_reapply": block_reapply})


class System:
    """One running system: its API, how to create a program with keys, how to let scoring catch up."""

    name = "system"
    api: Api

    def create_program(self, name: str) -> ProgramAccess:
        raise NotImplementedError

    def drain(self) -> None:
        """Returns once every event accepted so far has been taken off the queue and scored."""
        raise NotImplementedError


def _programs(repository: Any, names: list[str]) -> dict[str, ProgramAccess]:
    from functions.shared import tenancy
    from functions.shared.clock import SystemClock

    clock = SystemClock()
    found = {}
    for name in names:
        program = tenancy.create_program(repository, clock, f"Evaluation {name}", program_id=f"eval-{name}")
        _, integration = tenancy.create_key(
            repository, clock, program.program_id, "integration", "evaluation"
        )
        _, admin = tenancy.create_key(repository, clock, program.program_id, "admin", "Evaluation admin")
        found[name] = ProgramAccess(program.program_id, integration, admin)
    return found


def _wsgi_api() -> Api:
    from werkzeug.test import Client

    from local_system.http_adapter import LocalApiGateway

    client = Client(LocalApiGateway())

    def call(method: str, path: str, key: str, body: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {key}"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body)
        response = client.open(path, method=method, headers=headers, data=data)
        text = response.get_data(as_text=True)
        return response.status_code, json.loads(text) if text else None

    return Api(call)


class MemorySystem(System):
    name = "memory"

    def __init__(self) -> None:
        from functions.shared import runtime
        from functions.shared.clock import SystemClock
        from functions.shared.config import Settings
        from functions.shared.storage.memory import InMemoryRepository

        os.environ.update(QUIET_ENV)
        os.environ["TABLE_NAME"] = "evaluation-in-memory"
        for name in ("SCORING_QUEUE_URL", "AWS_ENDPOINT_URL"):
            os.environ.pop(name, None)
        self.queue = _ListQueue()
        self.published: list[tuple[str, dict[str, Any]]] = []
        self.repository = InMemoryRepository()
        runtime.forget_dependencies()
        # the handlers find their collaborators here, as a Lambda finds its warm ones
        runtime._built[Settings.from_env()] = runtime.Dependencies(
            repository=self.repository,
            publisher=_Collector(self.published),
            clock=SystemClock(),
            queue=self.queue,
        )
        self.api = _wsgi_api()

    def create_program(self, name: str) -> ProgramAccess:
        return _programs(self.repository, [name])[name]

    def drain(self) -> None:
        from local_system.lambda_runtime import invoke
        from local_system.poller import SCORE_HANDLER, sqs_event

        while self.queue.messages:
            batch, self.queue.messages = self.queue.messages[:BATCH], self.queue.messages[BATCH:]
            records = [
                {
                    "MessageId": str(n),
                    "ReceiptHandle": str(n),
                    "Body": body,
                    "Attributes": {"ApproximateReceiveCount": "1"},
                }
                for n, body in enumerate(batch)
            ]
            answer = invoke(
                SCORE_HANDLER, sqs_event(records, "arn:aws:sqs:us-east-1:000000000000:evaluation")
            )
            failed = [item["itemIdentifier"] for item in (answer or {}).get("batchItemFailures", [])]
            if failed:
                raise RuntimeError(f"scoring failed for {len(failed)} messages of a batch")

    def close(self) -> None:
        from functions.shared import runtime

        runtime.forget_dependencies()


class _ListQueue:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def send(self, program_id: str, event_id: str) -> None:
        from functions.shared.messaging import scoring_message

        self.messages.append(scoring_message(program_id, event_id))

    def send_many(self, events: list[tuple[str, str]]) -> None:  # a removal's reviews (`linked_removal`)
        for program_id, event_id in events:
            self.send(program_id, event_id)


class _Collector:
    def __init__(self, published: list[tuple[str, dict[str, Any]]]) -> None:
        self.published = published

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        self.published.append((detail_type, detail))


class MotoSystem(System):
    name = "moto"

    def __init__(self) -> None:
        os.environ.update(QUIET_ENV)
        for name, value in {
            "AWS_ACCESS_KEY_ID": "evaluation",
            "AWS_SECRET_ACCESS_KEY": "evaluation",  # moto accepts anything; never real ones
            "AWS_SESSION_TOKEN": "evaluation",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            os.environ[name] = value
        os.environ.pop("AWS_ENDPOINT_URL", None)
        import boto3
        from moto import mock_aws

        from functions.shared import runtime
        from functions.shared.config import Settings
        from local_system.moto_atomic import make_moto_dynamodb_atomic
        from local_system.provision import provision

        make_moto_dynamodb_atomic()
        self.mock = mock_aws()
        self.mock.start()
        runtime.forget_dependencies()
        resources = provision(lambda name: boto3.client(name, region_name="us-east-1"))
        os.environ.update(resources.environment())
        self.resources = resources
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        self.queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=resources.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self.repository = runtime.build_repository(Settings.from_env())
        self.api = _wsgi_api()

    def create_program(self, name: str) -> ProgramAccess:
        return _programs(self.repository, [name])[name]

    def drain(self) -> None:
        from local_system.poller import poll_once

        while poll_once(self.sqs, self.resources.queue_url, self.queue_arn, batch_size=BATCH, wait_seconds=0):
            pass

    def close(self) -> None:
        from functions.shared import runtime

        runtime.forget_dependencies()
        self.mock.stop()


class HttpSystem(System):
    """The local system as `make run` starts it, in a subprocess, over HTTP on free ports."""

    name = "http"
    START_TIMEOUT = 90

    def __init__(self, score_consumers: int | None = 1) -> None:
        """`score_consumers`: 1 (the evaluation) scores in arrival order, so a replay decides the
        same every time; None leaves `make run`'s default (several at once, as deployed)."""
        import requests

        api_port, aws_port = _free_port(), _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(QUIET_ENV, PYTHONUNBUFFERED="1", LOCAL_VISIBILITY_TIMEOUT="30")
        self.process = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "local_system",
                "--port",
                str(api_port),
                "--aws-port",
                str(aws_port),
                *([] if score_consumers is None else ["--score-consumers", str(score_consumers)]),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output: list[str] = []
        text = self._read_banner()
        keys = dict(re.findall(r"^\s+(\w+)\s+key: (\S+)$", text, re.MULTILINE))
        if "admin" not in keys:
            self.close()
            raise RuntimeError(f"the local system did not start:\n{text}")
        self.api_url, self.aws_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{aws_port}"
        self.session = requests.Session()
        self.api = Api(self._call)
        self.pending: list[tuple[str, str]] = []  # (key, event id) accepted, not yet seen scored

    def _read_banner(self) -> str:
        assert self.process.stdout is not None
        deadline = time.monotonic() + self.START_TIMEOUT
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.output.append(line)
            if line.startswith("Ctrl-C stops it"):
                break
        stream = self.process.stdout
        threading.Thread(target=lambda: self.output.extend(iter(stream.readline, "")), daemon=True).start()
        return "".join(self.output)

    def _call(self, method: str, path: str, key: str, body: Any) -> tuple[int, Any]:
        response = self.session.request(
            method, self.api_url + path, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=60
        )
        if method == "POST" and path == "/v1/events" and response.status_code == 202:
            self.pending.append((key, body["id"]))
        return response.status_code, response.json() if response.content else None

    def create_program(self, name: str) -> ProgramAccess:
        from functions.shared.config import Settings
        from functions.shared.runtime import build_repository

        settings = Settings(table_name="fraud-management", endpoint_url=self.aws_url, region="us-east-1")
        with _aws_environment():
            return _programs(build_repository(settings), [name])[name]

    def drain(self) -> None:
        deadline = time.monotonic() + 600
        while self.pending:
            key, event_id = self.pending[0]
            if self.api.event(key, event_id)["status"] != "queued":
                self.pending.pop(0)
                continue
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(self.pending)} events still queued after ten minutes")
            time.sleep(0.05)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(2)  # Ctrl-C, as a person stops `make run`
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


@contextmanager
def _aws_environment() -> Iterator[None]:
    """Credentials moto accepts, for the operator-side writes fraudctl would make."""
    saved = {
        k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    }
    os.environ.update(
        dict.fromkeys(("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"), "local")
    )
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


BACKENDS: dict[str, Callable[[], System]] = {"memory": MemorySystem, "moto": MotoSystem, "http": HttpSystem}


@dataclass
class Progress:
    total: int
    show: bool
    done: int = 0
    started: float = field(default_factory=time.monotonic)

    def tick(self, n: int = 1) -> None:
        self.done += n
        if self.show and (self.done % 500 == 0 or self.done == self.total):
            rate = self.done / max(time.monotonic() - self.started, 1e-9)
            print(f"  {self.done}/{self.total} steps, {rate:.0f}/s", file=sys.stderr, flush=True)


def replay(traffic: Traffic, backend: str = "memory", show_progress: bool = False) -> Replay:
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):  # the handlers' metric lines
        system = BACKENDS[backend]()
        try:
            return run(system, traffic, show_progress)
        finally:
            system.close()  # type: ignore[attr-defined]


def run(system: System, traffic: Traffic, show_progress: bool = False) -> Replay:
    started = time.monotonic()
    access = {name: system.create_program(name) for name in traffic.programs}
    progress = Progress(len(traffic.steps), show_progress)
    removals: list[tuple[RemoveStep, str]] = []
    since_drain = 0
    for step in traffic.steps:
        if isinstance(step, RemoveStep):
            system.drain()
            since_drain = 0
            removals.append((step, _remove(system.api, access[step.program], step)))
        else:
            status = system.api.post_event(access[step.program].integration_key, step.body)
            if status != 202:
                raise RuntimeError(f"POST /v1/events answered {status} for {step.body['id']}")
            since_drain += 1
            if since_drain >= BATCH:
                system.drain()
                since_drain = 0
        progress.tick()
    system.drain()
    outcomes = []
    for step in traffic.events:
        answer = system.api.event(access[step.program].integration_key, step.body["id"])
        outcomes.append(Outcome(step, answer["status"], answer.get("decision"), answer.get("case_id")))
    return Replay(outcomes, removals, time.monotonic() - started, system.name)


def _remove(api: Api, access: ProgramAccess, step: RemoveStep) -> str:
    case_id = api.event(access.integration_key, step.event_id).get("case_id")
    if not case_id:
        return "not flagged: nothing to remove"
    status, answer = api.remove(access.admin_key, case_id, step.block_reapply)
    if status == 200:
        return "removed"
    return f"remove answered {status}: {(answer or {}).get('detail')}"


def now() -> datetime:
    return datetime.now(UTC)
