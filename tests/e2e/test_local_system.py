"""The local system over real HTTP, and fraudctl through its real entry point."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import AUTHORIZER_CACHE_SECONDS_E2E, started_local_system
from tests.support import sample

pytestmark = pytest.mark.e2e
FRAUDCTL = str(Path(sys.executable).with_name("fraudctl"))


def fraudctl(system, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FRAUDCTL, *args], env=system.env(), capture_output=True, text=True, timeout=60)


def test_an_event_posted_over_http_is_accepted_and_readable(local_system):
    integration = local_system.session("integration")
    event = sample("partnership.created", id=f"e2e-{time.time_ns()}")

    posted = integration.post(f"{local_system.api_url}/v1/events", json=event, timeout=10)
    read = integration.get(f"{local_system.api_url}/v1/events/{event['id']}", timeout=10)

    assert posted.status_code == 202
    assert posted.json() == {"event_id": event["id"], "status": "queued"}
    assert read.status_code == 200
    assert read.json()["type"] == "partnership.created"


def test_errors_are_problem_documents_over_http(local_system):
    answer = requests.post(f"{local_system.api_url}/v1/events", json={}, timeout=10)

    assert answer.status_code == 401
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.headers["WWW-Authenticate"] == "Bearer"  # how to authenticate (RFC 9110 11.6.1)
    assert answer.json()["status"] == 401


def test_a_body_shorter_than_its_content_length_is_a_problem_document_over_http(local_system):
    # a security tester's: the local gateway answered an HTML 500 and logged a traceback
    import socket
    from urllib.parse import urlsplit

    where = urlsplit(local_system.api_url)
    key = local_system.keys["integration"]
    head = (
        f"POST /v1/events HTTP/1.1\r\nHost: {where.netloc}\r\nAuthorization: Bearer {key}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection((where.hostname, where.port), timeout=10) as connection:
        connection.sendall(head.encode() + b'{"id": "evt-short"}')  # whole JSON, and short of it
        connection.shutdown(socket.SHUT_WR)  # the rest never comes
        answer = b"".join(iter(lambda: connection.recv(65536), b""))

    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == b"400", answer[:300]
    assert b"application/problem+json" in rest.partition(b"\r\n\r\n")[0].lower()


@pytest.mark.parametrize("query", ["q=Ada%C3", "status=%FF", "q=%E2%82"])
def test_a_query_that_is_not_utf8_is_refused_as_documented_over_http(local_system, query):
    """Werkzeug kept a percent-escape that is not UTF-8 as its literal text: `q=Ada%C3` searched
    for `Ada%C3` (200, nothing found) and `status=%FF` was an unknown status (422), where every
    operation documents a 400."""
    fraud = local_system.session("fraud")
    path = "/v1/rewards" if query.startswith("status") else "/v1/cases"

    answer = fraud.get(f"{local_system.api_url}{path}?{query}", timeout=10)

    assert answer.status_code == 400, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert "UTF-8" in answer.json()["detail"]
    # a query in UTF-8, escaped or sent as it is, still reads as the text it is
    for search in ("q=%C5%81ukasz", "q=Łukasz"):
        assert fraud.get(f"{local_system.api_url}/v1/cases?{search}", timeout=10).status_code == 200


def test_openapi_document_is_public(local_system):
    answer = requests.get(f"{local_system.api_url}/v1/openapi.json", timeout=10)

    assert answer.status_code == 200
    assert "/v1/events" in answer.json()["paths"]


def test_fraudctl_creates_a_program_and_keys_that_work_then_revokes_one(local_system):
    created = fraudctl(local_system, "create-program", "--name", "Acme partners", "--json")
    assert created.returncode == 0, created.stderr
    program_id = json.loads(created.stdout)["program_id"]

    made = fraudctl(
        local_system,
        "create-key",
        "--program",
        program_id,
        "--role",
        "integration",
        "--actor",
        "Acme CI",
        "--json",
    )
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)
    headers = {"Authorization": f"Bearer {key['key']}"}
    event = sample("reward.created", id=f"acme-{time.time_ns()}")
    assert (
        requests.post(
            f"{local_system.api_url}/v1/events", json=event, headers=headers, timeout=10
        ).status_code
        == 202
    )

    # named by the whole key, as a leak shows it (it was "not found"): the secret is not echoed
    revoked = fraudctl(local_system, "revoke-key", key["key"], "--json")
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(revoked.stdout)["key_id"] == key["key_id"]
    assert key["key"] not in revoked.stdout + revoked.stderr
    # fraudctl writes the table: the edge's cached answer for the key expires within its lifetime
    deadline = time.monotonic() + AUTHORIZER_CACHE_SECONDS_E2E + 3
    while True:
        again = requests.get(f"{local_system.api_url}/v1/events/{event['id']}", headers=headers, timeout=10)
        if again.status_code == 401 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert again.status_code == 401


def test_fraudctl_refuses_a_key_for_an_unknown_program(local_system):
    made = fraudctl(
        local_system, "create-key", "--program", "prg-nope", "--role", "admin", "--actor", "X", "--json"
    )

    assert made.returncode == 1
    assert "not found" in made.stderr


def test_fraudctl_replays_a_file_of_events(local_system, tmp_path):
    events = [sample("reward.created", id=f"replay-{i}-{time.time_ns()}") for i in range(5)]
    events.append({"id": "broken", "type": "reward.created"})
    file = tmp_path / "events.jsonl"
    file.write_text("\n".join(json.dumps(e) for e in events) + "\n")

    replayed = fraudctl(
        local_system, "replay", str(file), "--key", local_system.keys["integration"], "--json"
    )

    report = json.loads(replayed.stdout)
    assert report["statuses"] == {"202": 5, "422": 1}
    assert report["errors"][0]["line"] == 6
    assert replayed.returncode == 1


def test_fraudctl_replays_partners_events_through_lanes(local_system, tmp_path):
    # Given five partners' sign-ups, each followed by two of its transactions, interleaved
    stamp = time.time_ns()
    events = []
    for round_number in range(3):
        for i in range(5):
            partner = f"lanes-{stamp}-p{i}"
            if round_number == 0:
                event = sample("partnership.created", id=f"lanes-{stamp}-{i}-signup")
                event["partner"]["id"] = partner
            else:
                event = sample(
                    "transaction.created", id=f"lanes-{stamp}-{i}-t{round_number}", partner_id=partner
                )
                event["transaction"]["id"] = f"lanes-{stamp}-{i}-t{round_number}"
                event["reward"]["id"] = f"lanes-{stamp}-{i}-r{round_number}"
            events.append(event)
    file = tmp_path / "partners.jsonl"
    file.write_text("\n".join(json.dumps(e) for e in events) + "\n")

    # When they are replayed through four lanes
    replayed = fraudctl(
        local_system, "replay", str(file), "--key", local_system.keys["integration"], "--lanes", "4", "--json"
    )

    # Then every one is accepted once and can be read back
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout) == {
        "lines": 15,
        "sent": 15,
        "statuses": {"202": 15},
        "failed": 0,
        "errors": [],
        "stopped": None,
        "interrupted": False,
        "out_of_time_order": 0,
        "retried": 0,
    }
    integration = local_system.session("integration")
    for event in events:
        read = integration.get(f"{local_system.api_url}/v1/events/{event['id']}", timeout=10)
        assert read.status_code == 200 and read.json()["type"] == event["type"]


def test_fraudctl_replays_loyalty_earns_and_spends_to_their_routes(local_system, tmp_path):
    # a loyalty line went to /v1/events, where it is no event: 422, and no way to replay points
    customer = f"replay-member-{time.time_ns()}"
    lines = [
        {"id": f"{customer}-e1", "customer_id": customer, "points": 50, "kind": "purchase"},
        {"id": f"{customer}-s1", "customer_id": customer, "points": 20},
        {"id": f"{customer}-e2", "customer_id": customer, "points": 5, "kind": "other"},
        {"id": f"{customer}-s2", "customer_id": customer, "points": 500},  # more than the balance
    ]
    file = tmp_path / "points.jsonl"
    file.write_text("\n".join(json.dumps(line) for line in lines) + "\n")

    replayed = fraudctl(
        local_system, "replay", str(file), "--key", local_system.keys["integration"], "--json"
    )

    report = json.loads(replayed.stdout)
    assert report["statuses"] == {"200": 3, "409": 1}, report
    assert [e["line"] for e in report["errors"]] == [4]
    fraud = local_system.session("fraud")
    read = fraud.get(f"{local_system.api_url}/v1/loyalty/customers/{customer}", timeout=10)
    assert read.status_code == 200 and read.json()["balance"] == 35


def test_fraudctl_is_installed_where_the_readme_says():
    assert shutil.which(FRAUDCTL) or Path(FRAUDCTL).exists()


def test_fraudctl_runs_as_a_module_too():
    # `python -m fraudctl`, the form a shell without the venv's bin on its PATH reaches for
    answer = subprocess.run(
        [sys.executable, "-m", "fraudctl", "--help"], capture_output=True, text=True, timeout=60, check=False
    )

    assert answer.returncode == 0, answer.stderr
    assert "create-program" in answer.stdout


def _wait_for(predicate, timeout=60.0):  # a loaded machine scores slowly; the state decides
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_from_post_events_to_a_case_over_http(local_system):
    """The whole path on the local system: ingest, queue, poller, score function, case API."""
    integration, fraud = local_system.session("integration"), local_system.session("fraud")
    stamp = time.time_ns()
    first = sample("partnership.created", id=f"e2e-a-{stamp}")
    first["partner"].update(id=f"pa-{stamp}", email=f"twin-{stamp}@example.com", name=f"Twin A {stamp}")
    second = sample("partnership.created", id=f"e2e-b-{stamp}")
    second["partner"].update(id=f"pb-{stamp}", email=f"Twin-{stamp}@example.com", name=f"Twin B {stamp}")
    second["session"]["device_fingerprint"] = f"fp-{stamp}"
    for event in (first, second):
        assert (
            integration.post(f"{local_system.api_url}/v1/events", json=event, timeout=10).status_code == 202
        )

    def scored():
        body = integration.get(f"{local_system.api_url}/v1/events/{second['id']}", timeout=10).json()
        return body if body["status"] == "scored" else None

    decision = _wait_for(scored)
    assert decision["decision"]["action"] == "flag"
    cases = fraud.get(f"{local_system.api_url}/v1/cases", params={"q": f"twin b {stamp}"}, timeout=10).json()
    assert [c["id"] for c in cases["items"]] == [decision["case_id"]]
    drawer = fraud.get(f"{local_system.api_url}/v1/cases/{decision['case_id']}", timeout=10).json()
    assert drawer["partner"]["id"] == f"pb-{stamp}"
    assert {r["code"] for r in drawer["reasons"]} >= {"email_duplicate"}

    listed = fraudctl(local_system, "cases", "--program", local_system.program_id, "--json")
    assert listed.returncode == 0, listed.stderr
    assert decision["case_id"] in {c["id"] for c in json.loads(listed.stdout)["cases"]}


def test_fraudctl_runs_the_hold_sweep_and_the_dispute_cycle_now(local_system):
    for job in ("hold-sweep", "dispute-cycle"):
        ran = fraudctl(local_system, "run", job, "--json")
        assert ran.returncode == 0, ran.stderr
        report = json.loads(ran.stdout)
        assert ("held" in report) if job == "hold-sweep" else ("totals" in report)


def test_a_synchronous_decision_over_http(local_system):
    """`?wait=decision` on the local system: the answer carries the decision; the poller that gets
    the same event from the queue finds it scored."""
    integration = local_system.session("integration")
    stamp = time.time_ns()
    first = sample("partnership.created", id=f"e2e-sync-a-{stamp}")
    first["partner"].update(id=f"psa-{stamp}", email=f"sync-{stamp}@example.com")
    second = sample("partnership.created", id=f"e2e-sync-b-{stamp}")
    second["partner"].update(id=f"psb-{stamp}", email=f"Sync-{stamp}@example.com")
    url = f"{local_system.api_url}/v1/events"

    answers = [
        integration.post(url, params={"wait": "decision", "timeout_ms": "10000"}, json=e, timeout=30)
        for e in (first, second)
    ]

    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert answers[0].json()["status"] == "scored"  # its decision depends on what the session sent before
    flagged = answers[1].json()
    assert flagged["status"] == "scored" and flagged["decision"]["action"] == "flag" and flagged["case_id"]
    time.sleep(1)  # the poller takes the queued reference meanwhile: it changes nothing
    read = integration.get(f"{url}/{second['id']}", timeout=10)
    assert read.json() == flagged


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _running(pid: int) -> bool:
    """Whether a process runs (one that ended may stay a zombie until its parent or init reaps it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _gone_within(pids: list[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(_running(pid) for pid in pids):
            return True
        time.sleep(0.2)
    return False


def test_the_local_system_runs_as_three_processes_that_stop_together():
    import os
    import signal

    from tests.e2e.conftest import started_local_system

    # Given the local system (the API's process, moto's and the workers'), serving
    with started_local_system() as system:
        children = _children(system.pid)
        commands = sorted(Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")[2] for child in children)
        assert commands == [b"local_system.aws_process", b"local_system.workers"]
        stand_in = next(
            c for c in children if b"local_system.aws_process" in Path(f"/proc/{c}/cmdline").read_bytes()
        )
        arguments = Path(f"/proc/{stand_in}/cmdline").read_bytes().decode().split("\0")
        socket_directory = Path(arguments[arguments.index("--socket") + 1]).parent
        assert socket_directory.is_dir()
        integration = system.session("integration")
        event = sample("partnership.created", id=f"e2e-three-{time.time_ns()}")
        assert integration.post(f"{system.api_url}/v1/events", json=event, timeout=10).status_code == 202
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # scored by the workers' process, through moto's
            status = integration.get(f"{system.api_url}/v1/events/{event['id']}", timeout=10).json()["status"]
            if status == "scored":
                break
            time.sleep(0.2)
        assert status == "scored"
        # When its main process is killed without a chance to stop them
        os.kill(system.pid, signal.SIGKILL)
        # Then moto's process and the workers' stop by themselves: no port or socket outlives it,
        # nor the socket's directory (each kill left one behind in /tmp)
        assert _gone_within(children, 15), [c for c in children if _running(c)]
        assert not socket_directory.exists()


def test_ctrl_c_stops_every_process_of_the_local_system():
    import os
    import signal

    from tests.e2e.conftest import started_local_system

    with started_local_system() as system:
        children = _children(system.pid)
        os.kill(system.pid, signal.SIGINT)  # what Ctrl-C sends
        assert _gone_within([system.pid, *children], 20)
    assert "Stopped." in "".join(system.output)


@pytest.mark.parametrize("count", ["0", "-1", "two"])
def test_a_score_consumer_count_below_one_is_refused_before_anything_starts(count):
    started = subprocess.run(
        [sys.executable, "-m", "local_system", "--port", "1", "--score-consumers", count],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 2
    assert "--score-consumers" in started.stderr
    assert "Ctrl-C" not in started.stdout  # nothing was started


@pytest.mark.parametrize(
    "variable", ["LOCAL_DISPUTE_CYCLE_SECONDS", "LOCAL_HOLD_SWEEP_SECONDS", "LOCAL_RELAY_SECONDS"]
)
@pytest.mark.parametrize("seconds", ["0", "-5", "nan", " ", "inf", "1e-300"])
def test_a_schedule_interval_not_above_zero_is_refused_before_anything_starts(variable, seconds):
    # 0 ran the schedule back to back, inf ended its thread, a blank variable ended in a traceback
    environment = {**os.environ, variable: seconds}
    started = subprocess.run(
        [sys.executable, "-m", "local_system", "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
    )
    assert started.returncode == 2, started.stderr
    option = "--" + variable.removeprefix("LOCAL_").lower().replace("_", "-")
    assert option in started.stderr and "Traceback" not in started.stderr
    assert "Ctrl-C" not in started.stdout  # nothing was started


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_a_child_process_that_dies_stops_the_whole_system_and_says_which():
    # the workers killed, the API went on answering 202 to events nothing would ever score
    with started_local_system() as system:
        workers = [
            child
            for child in _children(system.pid)
            if "local_system.workers" in Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace")
        ]
        assert len(workers) == 1, workers
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and Path(f"/proc/{system.pid}").exists():
            status = Path(f"/proc/{system.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            if status == "Z":  # exited, not yet reaped by the fixture
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the local system kept running without its workers")
        said = "".join(system.output)
    assert "local system: stopped unexpectedly: " in said and "workers (exit -9)" in said, said[-2000:]


def _started_with_a_port_taken(taken_port: str) -> subprocess.CompletedProcess[str]:
    """`python -m local_system` with the port of `taken_port` (`--port` or `--aws-port`) held by
    another program, the other one free."""
    import socket

    with socket.socket() as taken, socket.socket() as free:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        free.bind(("127.0.0.1", 0))
        ports = {"--port": free.getsockname()[1], "--aws-port": free.getsockname()[1]}
        free.close()
        ports[taken_port] = taken.getsockname()[1]
        started = subprocess.run(
            [sys.executable, "-m", "local_system", *(f"{k}={v}" for k, v in ports.items())],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert started.returncode == 1, started
    assert "Traceback" not in started.stderr + started.stdout, started.stderr
    assert "Ctrl-C" not in started.stdout  # nothing was started
    return started


def test_an_aws_port_in_use_is_said_in_a_line_not_a_traceback():
    started = _started_with_a_port_taken("--aws-port")

    assert "--aws-port" in started.stderr
    assert "LOCAL_AWS_PORT=4567 make run" in started.stderr  # how `make run` picks another


def test_an_api_port_in_use_says_how_to_give_another():
    # an operator's: werkzeug's own line said to "start the server with a different port", and
    # nothing said how (`make run` passes no flag; LOCAL_API_PORT is what it reads)
    started = _started_with_a_port_taken("--port")

    assert "LOCAL_API_PORT=8081 make run" in started.stderr
