"""`fraudctl replay --lanes N` through its real entry point (the click command in process, and the
installed script), against a small HTTP server on 127.0.0.1 that keeps what arrived in which order
and answers each request after a random delay: every event arrives exactly once, each subject's
events in the file's order, failures are reported with their line numbers."""

from __future__ import annotations

import codecs
import json
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fraudctl.cli import cli
from fraudctl.replay import DEFAULT_LANES, send_events
from functions.shared.auth import verify_signature

FRAUDCTL = str(Path(sys.executable).with_name("fraudctl"))


@dataclass
class Arrival:
    body: bytes
    headers: dict[str, str]


@dataclass
class Recorder:
    """POST /v1/events: keeps each body in the order of arrival, waits `min_delay` to `max_delay` seconds,
    then answers like the API: 400 to a body that is not JSON, 422 to an event whose id ends in
    `-refused`, a 502 HTML page to one ending in `-gateway`, 401 to one ending in `-revoked` (its
    key), 429 with `Retry-After: 0` to the first two tries of one ending in `-busy`, else 202."""

    max_delay: float = 0.0
    min_delay: float = 0.0
    arrivals: list[Arrival] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ids(self) -> list[str]:
        return [_id_of(a.body) for a in self.arrivals]

    def clear(self) -> None:
        with self.lock:
            self.arrivals.clear()
            self.most_in_flight = 0

    def _answer(self, body: bytes) -> tuple[int, str, bytes]:
        try:
            event = json.loads(body)
        except ValueError:
            return (
                400,
                "application/problem+json",
                json.dumps({"status": 400, "detail": "malformed JSON"}).encode(),
            )
        if event["id"].endswith("-refused"):
            detail = f"refused {event['id']}"
            return 422, "application/problem+json", json.dumps({"status": 422, "detail": detail}).encode()
        if event["id"].endswith("-gateway"):
            return 502, "text/html", b"<html><body>Bad gateway</body></html>"
        if event["id"].endswith("-revoked"):
            return 401, "application/problem+json", json.dumps({"status": 401, "detail": "revoked"}).encode()
        if event["id"].endswith("-busy") and self.ids().count(event["id"]) <= 2:
            return (
                429,
                "application/problem+json",
                json.dumps({"status": 429, "detail": "slow down"}).encode(),
            )
        return 202, "application/json", json.dumps({"event_id": event["id"], "status": "queued"}).encode()

    def start(self) -> Recorder:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the API: a lane's connection is reused
            disable_nagle_algorithm = True  # the body at once, not after the client's delayed ack

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with recorder.lock:
                    recorder.arrivals.append(Arrival(body, {k.lower(): v for k, v in self.headers.items()}))
                    recorder.in_flight += 1
                    recorder.most_in_flight = max(recorder.most_in_flight, recorder.in_flight)
                time.sleep(random.uniform(recorder.min_delay, recorder.max_delay))
                status, content_type, answer = recorder._answer(body)
                with recorder.lock:
                    recorder.in_flight -= 1
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _id_of(body: bytes) -> str:
    try:
        return json.loads(body)["id"]
    except ValueError:
        return body.decode()


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    server = Recorder(max_delay=0.003).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def fraudctl_env(recorder: Recorder) -> Iterator[dict[str, str]]:
    """fraudctl's environment, pointed at the recorder; what fraudctl sets by default is set here
    first, so nothing of it outlives the module."""
    env = {
        "FRAUDCTL_TARGET": "local",
        "FRAUD_API_URL": recorder.url,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": "us-east-1",
        "TABLE_NAME": "fraud-management",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        yield env


def replay(file: Path, *options: str) -> tuple[int, dict[str, Any], str]:
    """fraudctl's click command in this process: its exit code, its JSON report, its output."""
    result = CliRunner().invoke(cli, ["replay", str(file), "--key", "fmk_test", *options, "--json"])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    report = json.loads(result.stdout) if result.exit_code in (0, 1, 130) else {}
    return result.exit_code, report, result.output


# --- the files: events of partners and loyalty customers, interleaved -------------------------
PARTNER_TYPES = ["partnership.created", "account.updated", "transaction.created", "reward.created"]


def _body(kind: str, subject: str, event_id: str) -> dict[str, Any]:
    at = "2026-11-05T08:00:00Z"
    if kind == "partnership.created":
        partner = {"id": subject, "name": "A", "email": "a@example.com", "country": "GB"}
        return {
            "id": event_id,
            "type": kind,
            "occurred_at": at,
            "partner": partner,
            "session": {"ip": "1.2.3.4"},
        }
    if kind == "account.updated":
        session = {"ip": "1.2.3.4"}
        return {
            "id": event_id,
            "type": kind,
            "occurred_at": at,
            "partner": {"id": subject},
            "session": session,
            "activity": "login",
        }
    if kind == "transaction.created":
        transaction = {"id": f"t-{event_id}", "amount": "10.00", "currency": "EUR"}
        return {
            "id": event_id,
            "type": kind,
            "occurred_at": at,
            "transaction": transaction,
            "partner_id": subject,
            "customer": {"id": "c"},
        }
    if kind == "reward.created":
        reward = {"id": f"r-{event_id}", "partner_id": subject, "amount": "1.00", "currency": "EUR"}
        return {"id": event_id, "type": kind, "occurred_at": at, "reward": reward}
    # a loyalty earn: no type, the customer's id
    return {"id": event_id, "customer_id": subject, "points": 10, "kind": "purchase"}


@dataclass
class Line:
    text: str
    subject: str | None  # None: an event nobody's order depends on
    status: int


@st.composite
def files(draw: st.DrawFn) -> list[Line | None]:
    """Lines of a JSON-lines file (None: a blank line): many subjects, interleaved."""
    names = st.text(alphabet="ab:-π\u2028", min_size=1, max_size=3)
    partners = draw(st.lists(names, min_size=1, max_size=8, unique=True))
    customers = draw(st.lists(names, min_size=0, max_size=4, unique=True))
    count = draw(st.integers(min_value=1, max_value=45))
    lines: list[Line | None] = []
    for index in range(count):
        if draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans()):
            lines.append(None)
        outcome = draw(st.sampled_from(["", "", "", "", "", "-refused", "-gateway"]))
        event_id = f"e{index}{outcome}"
        shape = draw(st.sampled_from(["partner", "partner", "partner", "customer", "lone", "not json"]))
        status = {"": 202, "-refused": 422, "-gateway": 502}[outcome]
        if shape == "partner":
            partner = draw(st.sampled_from(partners))
            body = _body(draw(st.sampled_from(PARTNER_TYPES)), partner, event_id)
            lines.append(Line(json.dumps(body), f"partner:{partner}", status))
        elif shape == "customer" and customers:
            customer = draw(st.sampled_from(customers))
            lines.append(Line(json.dumps(_body("earn", customer, event_id)), f"customer:{customer}", status))
        elif shape == "not json":
            lines.append(Line(f"{{not json {index}", None, 400))
        else:
            lines.append(Line(json.dumps({"id": event_id, "type": "unknown.type"}), None, status))
    return lines


def _write(tmp: Path, lines: list[Line | None]) -> Path:
    file = tmp / f"events-{time.time_ns()}.jsonl"
    file.write_text("".join((line.text if line else "  ") + "\n" for line in lines))
    return file


def _arrivals_by_subject(lines: list[Line | None], arrived: list[str]) -> dict[str, list[str]]:
    subject_of_id = {_id_of(line.text.encode()): line.subject for line in lines if line and line.subject}
    by_subject: dict[str, list[str]] = {}
    for event_id in arrived:
        if event_id in subject_of_id:
            by_subject.setdefault(subject_of_id[event_id], []).append(event_id)
    return by_subject


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=files(), lanes=st.integers(min_value=1, max_value=6))
def test_each_subject_s_events_arrive_once_in_the_file_s_order_and_failures_name_their_lines(
    recorder: Recorder, fraudctl_env: dict[str, str], tmp_path: Path, lines: list[Line | None], lanes: int
):
    # Given a file of many subjects' events, interleaved, some refused, some not JSON, blank lines
    recorder.clear()
    file = _write(tmp_path, lines)

    # When it is replayed through `lanes` senders
    code, report, _ = replay(file, "--lanes", str(lanes))

    # Then every line arrived exactly once ...
    sent = [line for line in lines if line]
    assert Counter(a.body for a in recorder.arrivals) == Counter(line.text.encode() for line in sent)
    # ... each subject's events in the file's order (with one lane, everything in the file's order)
    arrived = recorder.ids()
    in_file = [_id_of(line.text.encode()) for line in sent]
    assert _arrivals_by_subject(lines, arrived) == _arrivals_by_subject(lines, in_file)
    if lanes == 1:
        assert arrived == in_file
    # ... and the report counts them and names each failure by its line in the file
    failures = [
        (number, line.status) for number, line in enumerate(lines, start=1) if line and line.status >= 400
    ]
    assert report["sent"] == len(sent)
    assert report["statuses"] == dict(Counter(str(line.status) for line in sent))
    assert report["failed"] == len(failures)
    assert [(e["line"], e["status"]) for e in report["errors"]] == failures
    assert code == (1 if failures else 0)


def test_a_refusal_s_detail_is_reported_from_its_problem_document_or_the_reason(
    recorder: Recorder, fraudctl_env: dict[str, str], tmp_path: Path
):
    lines = [
        Line(json.dumps(_body("reward.created", "p1", "x1-refused")), "partner:p1", 422),
        Line("not json at all", None, 400),
        Line(json.dumps(_body("reward.created", "p1", "x2-gateway")), "partner:p1", 502),
    ]

    code, report, _ = replay(_write(tmp_path, lines), "--lanes", "3")

    assert code == 1
    assert report["errors"] == [
        {"line": 1, "status": 422, "detail": "refused x1-refused"},
        {"line": 2, "status": 400, "detail": "malformed JSON"},
        {"line": 3, "status": 502, "detail": "Bad Gateway"},
    ]


def test_lanes_send_at_once_and_one_lane_sends_one_after_the_other(
    recorder: Recorder, fraudctl_env: dict[str, str], tmp_path: Path
):
    lines = [
        Line(json.dumps(_body("transaction.created", f"p{i}", f"c{i}")), f"partner:p{i}", 202)
        for i in range(40)
    ]
    file = _write(tmp_path, lines)
    recorder.max_delay, previous = 0.02, recorder.max_delay
    try:
        recorder.clear()
        assert replay(file, "--lanes", "1")[0] == 0
        one_lane = recorder.most_in_flight
        recorder.clear()
        assert replay(file)[0] == 0  # the default: one lane, the file's order
        default = recorder.most_in_flight
        recorder.clear()
        assert replay(file, "--lanes", "4")[0] == 0
        four_lanes = recorder.most_in_flight
    finally:
        recorder.max_delay = previous

    assert one_lane == 1 and DEFAULT_LANES == 1 and default == 1
    assert 1 < four_lanes <= 4


@pytest.mark.parametrize("given", ["option", "environment"])  # FRAUD_SIGNING_SECRET: not in `ps`
def test_every_request_is_signed_for_its_own_body(
    recorder: Recorder, fraudctl_env: dict[str, str], tmp_path: Path, monkeypatch, given
):
    lines = [
        Line(json.dumps(_body("reward.created", f"p{i % 3}", f"s{i}")), f"partner:p{i % 3}", 202)
        for i in range(12)
    ]
    recorder.clear()
    secret = ("--signing-secret", "whsec_1") if given == "option" else ()
    if given == "environment":
        monkeypatch.setenv("FRAUD_SIGNING_SECRET", "whsec_1")

    code, report, _ = replay(_write(tmp_path, lines), *secret, "--lanes", "3")

    assert code == 0 and report["statuses"] == {"202": 12}
    assert len(recorder.arrivals) == 12
    for arrival in recorder.arrivals:
        verify_signature("whsec_1", arrival.headers.get("x-signature"), arrival.body, datetime.now(UTC))
        assert arrival.headers["authorization"] == "Bearer fmk_test"


def test_a_line_of_json_with_a_line_separator_inside_a_string_is_sent_whole(
    recorder: Recorder, fraudctl_env: dict[str, str], tmp_path: Path
):
    body = _body("partnership.created", "p\u2028x", "u1")
    body["partner"]["name"] = "A\u2028B\x85C"  # JSON lets these through unescaped; they end no line
    file = tmp_path / "separators.jsonl"
    file.write_text(json.dumps(body, ensure_ascii=False) + "\n")
    recorder.clear()

    code, report, _ = replay(file)

    assert (code, report["statuses"]) == (0, {"202": 1})
    assert json.loads(recorder.arrivals[0].body) == body


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be", "utf-32"])
def test_a_file_with_a_byte_order_mark_is_read_in_the_encoding_it_names(
    recorder: Recorder, fraudctl_env: dict[str, str], tmp_path: Path, encoding: str
):
    """Windows writes one: Notepad's UTF-8 and PowerShell 5's `>` (UTF-16). Sent as bytes, the first
    line carried the mark and every line of a UTF-16 file was split mid-character: all refused."""
    bodies = [_body("partnership.created", f"p{i}", f"bom{i}") for i in range(3)]
    bodies[1]["partner"]["name"] = "Zoë Brontë 王伟"
    text = "\r\n".join(json.dumps(b, ensure_ascii=False) for b in bodies) + "\r\n"
    file = tmp_path / "windows.jsonl"
    mark = codecs.BOM_UTF16_BE if encoding == "utf-16-be" else b""
    file.write_bytes(mark + text.encode(encoding))
    recorder.clear()

    code, report, _ = replay(file)

    assert (code, report["statuses"]) == (0, {"202": 3})
    assert [json.loads(a.body) for a in recorder.arrivals] == bodies
    assert all(a.body.decode("utf-8").startswith("{") for a in recorder.arrivals)


def test_an_api_that_answers_nothing_stops_the_replay_at_once_with_one_error(
    fraudctl_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # it sent every line, to report each one's "no answer" (4,000 lines of them for a wrong address)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("FRAUD_API_URL", f"http://127.0.0.1:{port}")
    lines = [
        Line(json.dumps(_body("reward.created", f"p{i}", f"n{i}")), f"partner:p{i}", 0) for i in range(50)
    ]

    code, report, output = replay(_write(tmp_path, lines), "--lanes", "2")

    assert code == 1
    assert report["lines"] == 50 and 1 <= report["sent"] <= 2  # a lane's first try each, at most
    assert f"FRAUD_API_URL http://127.0.0.1:{port} does not answer" in report["stopped"]
    assert all(e["status"] is None and "ConnectionError" in e["detail"] for e in report["errors"])
    assert f"error: stopped after {report['sent']} of 50 lines" in output
    # and why, which urllib3 says at the end of its words (a cut at 200 characters lost it)
    assert "Connection refused" in report["stopped"], report["stopped"]


def test_a_refused_key_stops_the_replay_and_a_busy_api_is_waited_for(
    fraudctl_env: dict[str, str], recorder: Recorder, tmp_path: Path
):
    # every line goes with the one key: its refusal is every line's; a 429 is sent again after its
    # Retry-After (README: safe to retry with the same body), where it used to count as not accepted
    busy = [Line(json.dumps(_body("reward.created", "p1", f"b{i}-busy")), "partner:p1", 0) for i in range(2)]
    recorder.clear()
    code, report, _ = replay(_write(tmp_path, busy))
    assert (code, report["statuses"], report["failed"]) == (0, {"202": 2}, 0)
    assert Counter(recorder.ids()) == {"b0-busy": 3, "b1-busy": 3}
    assert report["retried"] == 4  # told in the report (an operator's: a wait said nothing)
    recorder.clear()  # busy again: each line's first two tries
    text = CliRunner().invoke(cli, ["replay", str(_write(tmp_path, busy)), "--key", "fmk_test"]).output
    assert "(4 requests sent again after a 429 or a 503)" in text, text

    recorder.clear()
    names = ["ok-1", "k-revoked", "ok-2", "ok-3"]
    refused = [Line(json.dumps(_body("reward.created", "p1", n)), "partner:p1", 0) for n in names]
    code, report, output = replay(_write(tmp_path, refused))
    assert code == 1 and recorder.ids() == ["ok-1", "k-revoked"]
    assert report["sent"] == 2 and report["stopped"] == "401 revoked (every line is sent with the same key)"


@pytest.mark.parametrize("presses", [1, 2, -2], ids=["ctrl-c", "ctrl-c twice", "ctrl-c twice, answers fast"])
def test_an_interrupted_replay_says_how_far_it_went_and_that_running_it_again_is_safe(
    fraudctl_env: dict[str, str],
    recorder: Recorder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    presses: int,
):
    # Ctrl-C printed "Aborted!" and nothing of what had been sent (the real entry point, interrupted);
    # pressed twice, while it waited for the request in flight, it still did
    # twice, answers fast (an operator tester's): the first press's wait was over before the second,
    # which then stopped fraudctl anywhere ("Aborted!", exit 1, no report)
    fast = presses < 0
    presses = abs(presses)
    lines = [Line(json.dumps(_body("reward.created", "p1", f"i-{n}")), "partner:p1", 0) for n in range(200)]
    monkeypatch.setattr(recorder, "max_delay", 0.02 if presses == 1 or fast else 0.6)
    monkeypatch.setattr(
        recorder, "min_delay", 0.0 if presses == 1 or fast else 0.5
    )  # twice: both in one wait
    recorder.clear()

    running = subprocess.Popen(
        [FRAUDCTL, "replay", str(_write(tmp_path, lines)), "--key", "fmk_test", "--json"],
        env={**fraudctl_env, "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # as a terminal's Ctrl-C finds it: a shell's background job (CI's, say) starts with SIGINT
        # ignored, and Python then never turns it into KeyboardInterrupt
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )
    deadline = time.monotonic() + 60
    while len(recorder.ids()) < 5 // presses and time.monotonic() < deadline:
        time.sleep(0.01)
    for _ in range(presses):
        running.send_signal(signal.SIGINT)
        time.sleep(0.05 if fast else 0.1)
    out, err = running.communicate(timeout=60)

    report = json.loads(out)
    assert running.returncode == 130, err
    assert report["interrupted"] is True and report["lines"] == 200
    assert 1 <= report["sent"] < 200
    if presses == 1:  # it waited for the request in flight, and counted it
        assert report["sent"] == len(recorder.ids())
    assert (
        f"interrupted after {report['sent']} of 200 lines" in err and "running the file again is safe" in err
    )
    # an operator's: a request in flight held the first Ctrl-C up to 30 s with nothing shown
    assert "stopping after the requests in flight" in err and "Ctrl-C again to stop now" in err


def test_send_events_sends_each_event_with_its_own_key(recorder: Recorder):
    events = [(f"fmk_program{i % 3}", _body("reward.created", f"p{i % 5}", f"k{i}")) for i in range(30)]
    events.append(("fmk_program0", b"{not json"))
    recorder.clear()

    report = send_events(recorder.url, events, lanes=3)

    assert report["sent"] == 31 and report["statuses"] == {"202": 30, "400": 1}
    assert report["errors"] == [{"line": 31, "status": 400, "detail": "malformed JSON"}]
    keys = {_id_of(a.body): a.headers["authorization"] for a in recorder.arrivals}
    assert keys == {
        _id_of(json.dumps(b).encode() if isinstance(b, dict) else b): f"Bearer {k}" for k, b in events
    }


@pytest.mark.parametrize("lanes", ["0", "-2"])
def test_the_installed_fraudctl_refuses_fewer_than_one_lane_and_sends_nothing(
    recorder: Recorder, fraudctl_env: dict[str, str], tmp_path: Path, lanes: str
):
    file = _write(tmp_path, [Line(json.dumps(_body("reward.created", "p", "z1")), "partner:p", 202)])
    recorder.clear()

    ran = subprocess.run(
        [FRAUDCTL, "replay", str(file), "--key", "fmk_test", "--lanes", lanes],
        env={**fraudctl_env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert ran.returncode == 2
    assert "--lanes" in ran.stderr and "1<=x<=64" in ran.stderr
    assert recorder.arrivals == []


def test_the_installed_fraudctl_replays_through_lanes(
    recorder: Recorder, fraudctl_env: dict[str, str], tmp_path: Path
):
    lines = [
        Line(json.dumps(_body("account.updated", f"p{i % 4}", f"i{i}")), f"partner:p{i % 4}", 202)
        for i in range(20)
    ]
    lines.append(Line(json.dumps(_body("account.updated", "p0", "i20-refused")), "partner:p0", 422))
    recorder.clear()

    ran = subprocess.run(
        [FRAUDCTL, "replay", str(_write(tmp_path, lines)), "--key", "fmk_test", "--lanes", "3"],
        env={**fraudctl_env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert ran.returncode == 1, ran.stderr
    assert "replayed 21 lines: 20 202, 1 422" in ran.stdout
    assert "line 21: 422 refused i20-refused" in ran.stdout  # which line, and what the API said
    assert _arrivals_by_subject(lines, recorder.ids()) == _arrivals_by_subject(
        lines, [_id_of(line.text.encode()) for line in lines]
    )


def test_a_key_that_cannot_be_a_header_is_reported_without_quoting_it(recorder: Recorder):
    recorder.clear()

    report = send_events(
        recorder.url, [("fmk_secret\nInjected: 1", _body("reward.created", "p", "h1"))], lanes=2
    )

    assert report["statuses"] == {"no answer": 1}
    assert report["errors"][0]["line"] == 1 and "InvalidHeader" in report["errors"][0]["detail"]
    assert "fmk_secret" not in json.dumps(report)
    assert recorder.arrivals == []


def test_the_refused_lines_are_listed_in_words_and_past_the_first_fifty_counted(
    recorder: Recorder, fraudctl_env: dict[str, str], tmp_path: Path
):
    lines = [
        Line(json.dumps(_body("reward.created", "p", f"z{n}-refused")), "partner:p", 422) for n in range(52)
    ]
    lines.insert(1, Line(json.dumps(_body("reward.created", "p", "ok")), "partner:p", 202))

    result = CliRunner().invoke(cli, ["replay", str(_write(tmp_path, lines)), "--key", "fmk_test"])

    assert result.exit_code == 1
    shown = [line for line in result.output.splitlines() if line.startswith("  line ")]
    assert shown[:2] == ["  line 1: 422 refused z0-refused", "  line 3: 422 refused z1-refused"]
    assert len(shown) == 50
    assert result.output.rstrip().endswith("and 2 more lines not accepted (the first 50 shown)")


def test_events_sent_with_their_own_keys_go_on_past_one_keys_refusal(recorder: Recorder):
    # one program's revoked key stops no other program's events (a replay of one file, one key, does)
    events = [
        ("fmk_a", _body("reward.created", "p1", "a-revoked")),
        ("fmk_b", _body("reward.created", "p2", "b-1")),
    ]
    recorder.clear()

    report = send_events(recorder.url, events, lanes=1)

    assert report["stopped"] is None and report["statuses"] == {"401": 1, "202": 1}


def test_an_api_that_goes_away_midway_stops_the_replay_not_every_line_reported(tmp_path: Path):
    # it went on through every line left, each reported `no answer` (1,920 of them in one run)
    from fraudctl.replay import SILENCE_LIMIT

    going = Recorder(max_delay=0.002).start()

    def stop_after_five() -> None:
        while len(going.ids()) < 5:
            time.sleep(0.005)
        going.stop()

    def one_request_a_connection() -> requests.Session:  # a kept-alive connection outlives the server
        session = requests.Session()
        session.headers["Connection"] = "close"
        return session

    threading.Thread(target=stop_after_five, daemon=True).start()
    events = [("fmk_a", _body("reward.created", "p1", f"g-{n}")) for n in range(500)]
    report = send_events(going.url, events, lanes=1, session_factory=one_request_a_connection)

    # it stopped at the tenth request in a row with no answer (one answered while the server was
    # closing may come between: the run starts again after it)
    last = report["errors"][-SILENCE_LIMIT:]
    assert report["statuses"]["202"] >= 5 and report["sent"] < 500, report
    assert [e["status"] for e in last] == [None] * SILENCE_LIMIT
    assert [e["line"] for e in last] == list(range(report["sent"] - SILENCE_LIMIT + 1, report["sent"] + 1))
    assert f"stopped answering ({SILENCE_LIMIT} requests in a row" in report["stopped"]


def test_an_api_failing_every_request_stops_the_replay_not_every_line_reported(recorder: Recorder):
    """An operator's: a 503 still there after its retries took 8 s a line and never stopped the replay
    (70 hours for 31,000 lines); the API's own failures in a row stop it as silence does."""
    from fraudctl.replay import SILENCE_LIMIT

    events = [("fmk_a", _body("reward.created", "p1", f"f-{n}-gateway")) for n in range(40)]
    events.insert(0, ("fmk_a", _body("reward.created", "p1", "f-first")))  # the API is there
    recorder.clear()

    report = send_events(recorder.url, events, lanes=1)

    assert report["sent"] == 1 + SILENCE_LIMIT and report["statuses"] == {"202": 1, "502": SILENCE_LIMIT}
    assert f"failed {SILENCE_LIMIT} requests in a row (502" in report["stopped"], report["stopped"]


def test_a_line_refused_among_failures_is_the_lines_own_and_starts_the_run_again(recorder: Recorder):
    from fraudctl.replay import SILENCE_LIMIT

    ids = [f"r-{n}-gateway" for n in range(SILENCE_LIMIT - 1)] + ["r-refused"]
    ids += [f"s-{n}-gateway" for n in range(SILENCE_LIMIT - 1)] + ["r-last"]
    recorder.clear()

    report = send_events(recorder.url, [("fmk_a", _body("reward.created", "p1", i)) for i in ids], lanes=1)

    assert report["stopped"] is None and report["sent"] == len(ids)


@pytest.mark.parametrize(
    ("path", "status"), [("/v1", "404"), ("/prod", "405")], ids=["v1 twice", "a method not taken"]
)
def test_an_address_that_is_not_the_apis_stops_the_replay_at_its_first_answer(
    tmp_path: Path, path: str, status: str
):
    """An operator's: FRAUD_API_URL ending in /v1 sent all 10,529 lines, each `404 no route POST
    /v1/v1/events`, before the replay ended."""
    answers = {"404": (404, "no route POST /v1/v1/events"), "405": (405, "method not allowed")}
    code, detail = answers[status]

    class Wrong(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.dumps({"status": code, "detail": detail}).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/problem+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Wrong)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}{path}"
        events = [("fmk_a", _body("reward.created", "p1", f"w-{n}")) for n in range(50)]
        report = send_events(url, events, lanes=1)
    finally:
        server.shutdown()

    assert report["sent"] == 1 and report["statuses"] == {status: 1}
    assert f"FRAUD_API_URL {url} is not the API's address" in report["stopped"], report["stopped"]


def test_a_403_page_that_may_not_be_the_apis_asks_about_the_address_too(recorder: Recorder):
    # a reviewer's: the console's CloudFront address without the API's path answers its own 403 page
    from fraudctl.replay import _futile

    page = {"line": 1, "status": 403, "detail": "Forbidden"}  # `_detail` of an HTML page: its reason
    assert f"is FRAUD_API_URL {recorder.url} the API's?" in (
        _futile("403", page, True, 0, recorder.url, True) or ""
    )
    refused = {**page, "detail": "this key's role may not send events"}
    assert "every line is sent with the same key" in (
        _futile("403", refused, True, 0, recorder.url, True) or ""
    )


def test_a_refusal_in_json_without_a_detail_is_told_by_its_status_line(recorder: Recorder):
    # a reviewer's: `{"Message": "Forbidden"}` (a function URL's, a load balancer's) raised TypeError
    from fraudctl.replay import _detail, _futile

    answer = requests.models.Response()
    answer.status_code, answer.reason, answer._content = 403, "Forbidden", b'{"Message": "Forbidden"}'
    detail = _detail(answer)
    assert detail == "Forbidden"
    stop = _futile("403", {"line": 1, "status": 403, "detail": detail}, True, 0, recorder.url, True)
    assert stop is not None and "is FRAUD_API_URL" in stop


def test_a_404_about_what_a_line_names_goes_on(recorder: Recorder):
    from fraudctl.replay import _futile

    error = {"line": 1, "status": 404, "detail": "customer m1 not found"}
    assert _futile("404", error, True, 0, recorder.url, True) is None
    assert _futile("404", {**error, "detail": "no such route"}, True, 0, recorder.url, True) is not None


def test_history_out_of_time_order_is_sent_sorted_with_in_time_order_and_noted_without(
    recorder: Recorder, fraudctl_env: dict[str, str], tmp_path: Path
):
    """A backfill sent partner by partner: a household's first member, sent after the others, was
    judged against the devices they linked later and flagged as of its own sign-up months back."""
    times = ["2026-09-07T10:00:00Z", "2026-05-04T10:00:00Z", "2026-07-06T10:00:00+02:00"]
    bodies = []
    for n, at in enumerate(times):
        body = _body("partnership.created", f"p{n}", f"history-{n}")
        body["occurred_at"] = at
        bodies.append(body)
    file = tmp_path / "history.jsonl"
    file.write_text("\n".join(json.dumps(b) for b in bodies) + "\n")
    runner = CliRunner()

    recorder.clear()
    as_is = runner.invoke(cli, ["replay", str(file), "--key", "fmk_test", "--json"])
    assert recorder.ids() == ["history-0", "history-1", "history-2"]
    assert json.loads(as_is.stdout)["out_of_time_order"] == 2
    assert "note: 2 events came after a later one" in as_is.stderr
    assert "--in-time-order" in as_is.stderr

    # a loyalty spend without a time is dated when received (SPEC 3.4): after the history, and after
    # the earn it follows in the file (sent first, the API refused it for a balance too low)
    earn = {"id": "earn-1", "customer_id": "c1", "kind": "purchase", "points": 10, "occurred_at": times[0]}
    spend = {"id": "spend-1", "customer_id": "c1", "points": 5}
    with file.open("a") as lines:
        lines.write(json.dumps(earn) + "\n" + json.dumps(spend) + "\n")
    recorder.clear()
    sorted_ = runner.invoke(cli, ["replay", str(file), "--key", "fmk_test", "--in-time-order", "--json"])
    assert sorted_.exit_code == 0, sorted_.output
    # May, July (08:00 UTC), September (the sign-up, then the earn, in the file's order), the spend
    assert recorder.ids() == ["history-1", "history-2", "history-0", "earn-1", "spend-1"]
    assert json.loads(sorted_.stdout)["out_of_time_order"] == 0
    assert "note:" not in sorted_.stderr


def test_a_file_of_blank_lines_says_it_holds_no_events(
    recorder: Recorder, fraudctl_env: dict[str, str], tmp_path: Path
):
    """A newcomer tester's: an empty file said `replayed 0 events: `, ending on its colon."""
    file = tmp_path / "blank.jsonl"
    file.write_text("\n\n  \n")
    recorder.clear()

    ran = subprocess.run(
        [FRAUDCTL, "replay", str(file), "--key", "fmk_test"],
        env={**fraudctl_env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert (ran.returncode, ran.stdout.strip()) == (0, "no events in the file"), ran
    assert recorder.ids() == []


def test_a_key_pasted_as_its_header_is_sent_as_the_key_and_one_broken_across_lines_is_refused(
    recorder: Recorder, fraudctl_env: dict[str, str], tmp_path: Path
):
    # an operator tester's: `--key "Bearer fmk_..."` (revoke-key takes it so) was sent as
    # `Bearer Bearer fmk_...`, a 401; a key broken across lines read as an API that does not answer
    recorder.clear()
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps(_body("reward.created", "p", "hdr-1")) + "\n")
    ran = CliRunner().invoke(
        cli, ["replay", str(events), "--key", "Authorization: Bearer fmk_test", "--json"]
    )
    assert ran.exit_code == 0, ran.output
    assert [a.headers["authorization"] for a in recorder.arrivals] == ["Bearer fmk_test"]

    broken = CliRunner().invoke(cli, ["replay", str(events), "--key", "fmk_te\nst", "--json"])
    assert broken.exit_code == 2 and "no blanks or line breaks inside" in broken.output, broken.output
    assert "fmk_te" not in broken.output  # a key is never echoed
    assert len(recorder.arrivals) == 1
