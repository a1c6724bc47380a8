"""Replaying events through the HTTP API, in lanes, with a progress bar.

A replay sends through `lanes` senders at once (a thread and a connection each), as integrations
send from many servers: one sender waits for each answer (~13 ms on a busy local system), so one
alone can never offer more than about 70 events/s. Every event of one subject (the partner or the
loyalty customer it is about; else the event itself) goes through the same lane, in the order
given, and a lane sends its next event only once the last one is answered: a subject's events
arrive in their order (a partner's partnership before its transactions), as one sender would send
them. Events of different subjects may arrive in another order than the file's."""

from __future__ import annotations

import codecs
import hashlib
import json
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from rich.console import Console
from rich.progress import Progress

from functions.shared.auth import sign
from functions.shared.event_subjects import PARTNER_FIELDS, named

DEFAULT_LANES = 1  # the file's order: the same decisions every run (with one scoring consumer)
TIMEOUT_SECONDS = 30
ERRORS_SHOWN = 50
NO_ANSWER = "no answer"  # the status counted when a request got no HTTP answer at all
# README: 429 and 503 are safe to send again with the same body: each line is, after the answer's
# Retry-After (at most a minute), up to RETRIES times before it counts as not accepted
RETRYABLE = frozenset({429, 503})
RETRIES = 8
RETRY_AFTER_MOST_SECONDS = 60.0
# answers every other line would get too when one key sends them all (`replay_file`): it stops there
REFUSED_KEY = frozenset({401, 403})
# requests in a row with no answer at all, or an answer of the API's own failing (5xx, a 503 still
# there after its retries), after which the API is taken to have gone away: the replay stops rather
# than report every line left so (a persistent 503 took 8 s a line: 70 hours for 31,000 lines)
SILENCE_LIMIT = 10
# answers about the address, not the line: a route the API does not have (`FRAUD_API_URL` ending in
# `/v1`, a stage's `/prod` twice), a method it does not take there. Every line gets the same.
WRONG_ADDRESS = frozenset({404, 405})


def subject_of(body: bytes) -> str:
    """Whose event a request body is: `partner:<id>` (where each event type names its partner:
    `event_subjects.PARTNER_FIELDS`), `customer:<id>` (a loyalty body: no type, a `customer_id`),
    else `event:<id>`, else (no JSON object, or no id) the body itself, which then goes to a lane of
    its own choosing."""
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, nested past the parser: the API answers 400
        event = None
    if isinstance(event, dict):
        kind = event.get("type")
        if isinstance(partner := named(PARTNER_FIELDS, kind, event), str) and partner:
            return f"partner:{partner}"
        if kind is None and isinstance(customer := event.get("customer_id"), str) and customer:
            return f"customer:{customer}"
        if isinstance(event_id := event.get("id"), str) and event_id:
            return f"event:{event_id}"
    return "body:" + body.decode("utf-8", "replace")


EVENTS_PATH = "/v1/events"


def path_of(body: bytes) -> str:
    """Where a line goes: a loyalty body (no `type`, a `customer_id`) to the earn route when it
    names its `kind` (an earn always does) and to the spend route when not (a spend never does);
    anything else to `/v1/events`, which answers what it is not. A field sent as null is absent
    (SPEC 3.1), as `subject_of` reads it: `"kind": null` is a spend's."""
    return route_of(body)[0]


def route_of(body: bytes) -> tuple[str, bytes]:
    """Where a line goes (`path_of`) and what is sent there: a loyalty line without the fields it
    sent as null to tell its route (`"kind": null`, `"type": null`: absent, SPEC 3.1), which the
    earn and spend routes do not take (an unknown field is 422); any other line as it is. The line
    is parsed once."""
    repeated = False

    def pairs(members: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal repeated
        kept = dict(members)
        repeated = repeated or len(kept) < len(members)
        return kept

    try:
        event = json.loads(body, object_pairs_hook=pairs, parse_int=_Number, parse_float=_Number)
    except (ValueError, RecursionError):
        return EVENTS_PATH, body
    if not (isinstance(event, dict) and event.get("type") is None and "customer_id" in event):
        return EVENTS_PATH, body
    path = "/v1/loyalty/earn" if event.get("kind") is not None else "/v1/loyalty/spend"
    # a line naming a key twice is sent as it is, for the API to refuse (400): written again, it
    # would carry the key's last value alone, and be applied
    if not repeated and any(event.get(name, "") is None for name in ("kind", "type")):
        kept = {
            name: value for name, value in event.items() if not (name in ("kind", "type") and value is None)
        }
        return path, _written(kept).encode()
    return path, body


class _Number(str):
    """A number of a line as it was written (`12.50`, a 22-digit amount): written back the same,
    never through a float."""


def _written(value: Any) -> str:
    """`value` as JSON, its numbers as the line wrote them."""
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{json.dumps(name)}: {_written(member)}" for name, member in value.items()) + "}"
        )
    if isinstance(value, list):
        return "[" + ", ".join(_written(member) for member in value) + "]"
    if isinstance(value, _Number):
        return str.__str__(value)
    return json.dumps(value)


def lane_of(subject: str, lanes: int) -> int:
    """The subject's lane: the same in every run and process (Python's hash() of a str is salted
    per process)."""
    digest = hashlib.blake2b(subject.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % lanes


@dataclass(frozen=True)
class _Outgoing:
    position: int  # from 1, in the order given
    key: str
    body: bytes
    path: str = EVENTS_PATH


@dataclass
class _Lane:
    events: list[_Outgoing]
    statuses: Counter[str]
    errors: list[dict[str, Any]]


def _detail(answer: requests.Response) -> Any:
    if not answer.content:
        return answer.reason
    try:
        document = answer.json()
    except ValueError:  # a proxy's HTML page, say
        return answer.reason or answer.text[:200]
    detail = document.get("detail") if isinstance(document, dict) else None
    return detail if detail is not None else answer.reason  # `{"Message": ...}`: a proxy's, say


def _retry_after(answer: requests.Response, attempt: int) -> float:
    given = answer.headers.get("Retry-After", "")
    seconds = float(given) if given.isdigit() else 2.0**attempt
    return min(seconds, RETRY_AFTER_MOST_SECONDS)


def _post(
    session: requests.Session,
    url: str,
    event: _Outgoing,
    signing_secret: str | None,
    stop: threading.Event,
    waiting: Callable[[int, float], None] = lambda status, seconds: None,
) -> tuple[str, dict[str, Any] | None]:
    """`waiting(status, seconds)`: told before each wait of a 429's or a 503's Retry-After."""
    headers = {"Authorization": f"Bearer {event.key}", "Content-Type": "application/json"}
    for attempt in range(RETRIES + 1):
        if signing_secret:
            headers["X-Signature"] = sign(signing_secret, int(time.time()), event.body)
        try:
            answer = session.post(url, data=event.body, headers=headers, timeout=TIMEOUT_SECONDS)
        except requests.RequestException as failure:
            # maybe accepted before the answer was lost: replaying the event again is safe (same id,
            # same body, same answer)
            detail = type(failure).__name__
            if isinstance(failure, (requests.ConnectionError, requests.Timeout)):  # others may quote the key
                detail += f": {_why(failure)[:300]}"
            return NO_ANSWER, {"line": event.position, "status": None, "detail": detail}
        if answer.status_code not in RETRYABLE or attempt == RETRIES:
            break
        pause = _retry_after(answer, attempt)
        waiting(answer.status_code, pause)
        if stop.wait(pause):
            break  # interrupted while waiting: the line counts with the answer it had
    if answer.status_code >= 400:
        return str(answer.status_code), {
            "line": event.position,
            "status": answer.status_code,
            "detail": _detail(answer),
        }
    return str(answer.status_code), None


def _why(failure: BaseException) -> str:
    """What a connection's failure says where it says why: the innermost error that names the host
    (urllib3's `Failed to establish a new connection: [Errno 111] Connection refused`, `Failed to
    resolve ...`). The outer ones quote it whole after their own words, and a cut kept only those."""
    said, error = str(failure), failure
    while True:
        inner = next((a for a in error.args if isinstance(a, BaseException)), None)
        inner = inner or getattr(error, "reason", None) or error.__cause__
        if not isinstance(inner, BaseException) or isinstance(inner, OSError):
            return said
        said, error = str(inner), inner


def send_events(
    api_url: str,
    events: Iterable[tuple[str, dict[str, Any] | bytes]],
    lanes: int = DEFAULT_LANES,
    signing_secret: str | None = None,
    session_factory: Callable[[], requests.Session] = requests.Session,
    show_progress: bool = False,
    one_key: bool = False,
) -> dict[str, Any]:
    """POSTs each (API key, body) to its route (`path_of`) through `lanes` senders, each subject's events in
    their order. The report: how many were sent, the count per status, how many failed, and the
    first failures by position (`line`, from 1)."""
    if lanes < 1:
        raise ValueError("lanes: at least 1")
    encoded = [(key, body if isinstance(body, bytes) else json.dumps(body).encode()) for key, body in events]
    outgoing = []
    for position, (key, body) in enumerate(encoded, start=1):
        path, sent = route_of(body)
        outgoing.append(_Outgoing(position, key, sent, path))
    routed: list[list[_Outgoing]] = [[] for _ in range(lanes)]
    for event in outgoing:
        routed[lane_of(subject_of(event.body), lanes)].append(event)
    busy = [_Lane(events, Counter(), []) for events in routed if events]
    stop = threading.Event()
    crashes: list[BaseException] = []
    stopped: list[str] = []  # why the replay stopped before the end: an answer every line would get
    answered = threading.Event()  # some request got an HTTP answer: the API is there
    silence = [0]  # requests in a row that got no answer (any lane's answer ends the run of them)
    silence_lock = threading.Lock()
    interrupted = False
    retried = [0]  # requests sent again after a 429's or a 503's Retry-After

    # on stderr: stdout is the report's (`fraudctl replay ... > report.txt` kept a progress line)
    with Progress(console=Console(stderr=True), disable=not show_progress, transient=False) as progress:
        task = progress.add_task("replaying", total=len(outgoing))

        def waiting(status: int, seconds: float) -> None:
            # said while it waits (an operator's: a replay under the rate limit stood still for a
            # minute, saying nothing), and counted in the report
            with silence_lock:
                retried[0] += 1
            said = f"replaying (waiting {seconds:.0f} s: the API answered {status})"
            progress.update(task, description=said)

        def send(lane: _Lane, finished: threading.Event) -> None:
            try:
                with session_factory() as session:
                    for event in lane.events:
                        if stop.is_set():
                            return
                        status, error = _post(
                            session, api_url + event.path, event, signing_secret, stop, waiting
                        )
                        progress.update(task, description="replaying")
                        lane.statuses[status] += 1
                        if error is not None:
                            lane.errors.append(error)
                        progress.advance(task)
                        with silence_lock:
                            silence[0] = silence[0] + 1 if _the_apis_failing(status) else 0
                            silent = silence[0]
                        if status != NO_ANSWER:
                            answered.set()
                        if reason := _futile(status, error, answered.is_set(), silent, api_url, one_key):
                            stopped.append(reason)
                            stop.set()
                            return
            except BaseException as crash:  # reraised by the caller's thread, after the others stop
                crashes.append(crash)
                stop.set()
            finally:
                finished.set()

        # each lane says when it is done: a join that Ctrl-C interrupts may not wait again (CPython
        # loses the thread's state lock), and the report must count the request each had in flight
        done = [threading.Event() for _ in busy]
        for lane, finished in zip(busy, done, strict=True):
            threading.Thread(target=send, args=(lane, finished), daemon=True).start()
        try:
            for finished in done:
                while not finished.wait(0.2):  # a short wait, so Ctrl-C reaches this thread
                    pass
        except KeyboardInterrupt:
            # from here a Ctrl-C only hurries the stop: raised wherever it landed (this message
            # printing, the wait already over, the progress bar closing, the report printing) it
            # ended fraudctl with click's "Aborted!", exit 1 and no report. Once the wait is over it
            # is ignored (the process exits soon after, its report printed, 130; even while Python
            # shuts down, which puts a handler of Python's back to the default one, not an ignored
            # signal)
            now = threading.Event()
            signal.signal(signal.SIGINT, lambda *_: now.set())
            stop.set()  # each lane ends after its request in flight
            print(  # a request in flight may wait its whole TIMEOUT_SECONDS: say so, and how not to
                f"stopping after the requests in flight (each answered within {TIMEOUT_SECONDS} s);"
                " Ctrl-C again to stop now",
                file=sys.stderr,
                flush=True,
            )
            for finished in done:
                while not finished.wait(0.05) and not now.is_set():
                    pass
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            interrupted = True
    if crashes:
        raise crashes[0]
    statuses: Counter[str] = Counter()
    errors: list[dict[str, Any]] = []
    for lane in busy:
        statuses.update(lane.statuses)
        errors.extend(lane.errors)
    errors.sort(key=lambda error: error["line"])
    return {
        "lines": len(outgoing),
        "sent": sum(statuses.values()),
        "statuses": dict(statuses),
        "failed": len(errors),
        "errors": errors[:ERRORS_SHOWN],
        "stopped": stopped[0] if stopped else None,
        "interrupted": interrupted,
        "retried": retried[0],
    }


def _futile(
    status: str, error: dict[str, Any] | None, answered: bool, silent: int, api_url: str, one_key: bool
) -> str | None:
    """Why the rest cannot be accepted either, if this answer says so: the key refused, when one
    key sends every line (the API's own words: a missing signature is a 401 too), an API that
    answered nothing yet, one that stopped answering or failed (`SILENCE_LIMIT` requests in a row),
    or an address that is not the API's (`WRONG_ADDRESS`: no such route)."""
    detail = str(error["detail"]) if error else ""
    if one_key and status.isdigit() and int(status) in REFUSED_KEY:
        if detail in ("Forbidden", "Unauthorized"):  # a status line's words alone: maybe not the API's
            # a CloudFront or proxy page (the console's address without the API's path) says no more
            where = f"is FRAUD_API_URL {api_url} the API's?"
            return f"{status} {detail} (every line is sent with the same key; {where})"
        hint = (
            " (send --signing-secret: the program requires signed requests)"
            if "requires a signed request" in detail
            else ""
        )
        return f"{status} {detail} (every line is sent with the same key){hint}"
    if status == NO_ANSWER and not answered:
        return f"FRAUD_API_URL {api_url} does not answer ({detail})"
    if status == NO_ANSWER and silent >= SILENCE_LIMIT:
        return f"FRAUD_API_URL {api_url} stopped answering ({silent} requests in a row: {detail})"
    if silent >= SILENCE_LIMIT:
        return f"the API at FRAUD_API_URL {api_url} failed {silent} requests in a row ({status} {detail})"
    if _wrong_address(status, detail):
        return f"{status} {detail}: FRAUD_API_URL {api_url} is not the API's address (make run prints it)"
    return None


def _wrong_address(status: str, detail: Any) -> bool:
    """A 405, or a 404 saying the route is not there (`no route ...` from the functions and `make
    run`, `no such route` from API Gateway), not that something the line names is not found."""
    if not status.isdigit() or int(status) not in WRONG_ADDRESS:
        return False
    return int(status) == 405 or str(detail).startswith(("no route", "no such route"))


def _the_apis_failing(status: str) -> bool:
    """An answer that says nothing of the line sent: none at all, or the API's own failure."""
    return status == NO_ANSWER or (status.isdigit() and int(status) >= 500)


# Byte order marks and the encodings they name, the longest first (UTF-32 LE's begins with UTF-16 LE's).
_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


UTF8_MARK = codecs.BOM_UTF8
GZIP_MAGIC = b"\x1f\x8b"


def _read(file: Path) -> bytes:
    """The file's bytes; `-`: standard input's (`zcat events.jsonl.gz | fraudctl replay -`)."""
    return sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()


def _unpacked(data: bytes) -> bytes:
    """A gzip file's lines (`events.jsonl.gz`, as exports are kept), not its compressed bytes sent
    as lines: each a 400, thousands of them for a file of some megabytes."""
    if not data.startswith(GZIP_MAGIC):
        return data
    import gzip

    try:
        return gzip.decompress(data)
    except (OSError, EOFError) as error:
        raise ValueError(f"the file is gzip but cannot be read: {error}") from None


def _as_utf8(data: bytes) -> bytes:
    """A file's bytes as UTF-8, what the API takes: a file that starts with a byte order mark is read
    in the encoding it names, without the mark (Windows tools write one: Notepad's UTF-8, PowerShell
    5's `>` and `Out-File` UTF-16), which is no part of the first event. Anything else is sent as it
    is (a line that is not UTF-8 gets the API's 400)."""
    for mark, encoding in _MARKS:
        if data.startswith(mark):
            try:
                return data.decode(encoding).encode("utf-8")
            except UnicodeDecodeError:
                return data
    return data


def occurred_at(body: bytes) -> datetime | None:
    """An event's own time (`occurred_at`, as UTC), None for a line without one it can read."""
    try:
        event = json.loads(body)
        at = datetime.fromisoformat(event["occurred_at"].upper().replace("Z", "+00:00"))
    except (ValueError, RecursionError, TypeError, KeyError, AttributeError):
        return None
    return at.astimezone(UTC) if at.tzinfo else None


def out_of_time_order(times: Iterable[datetime | None]) -> int:
    """How many events come after one the file has that occurred later (`occurred_at` of each)."""
    latest, behind = None, 0
    for at in filter(None, times):
        if latest is not None and at < latest:
            behind += 1
        else:
            latest = at
    return behind


def replay_file(
    api_url: str,
    file: Path,
    key: str,
    signing_secret: str | None,
    show_progress: bool = True,
    lanes: int = DEFAULT_LANES,
    in_time_order: bool = False,
) -> dict[str, Any]:
    """Sends each non-blank line of a JSON-lines file as it is (a line that is not JSON gets the
    API's 400, reported like any failure); errors name the file's line numbers. `in_time_order`:
    the lines sorted by their `occurred_at` first (a line without one after the rest, in the file's
    order: a loyalty line without one is dated when it is received), as history is to be sent: an
    old event is judged against what the events received before it linked, and a household's first
    member, sent after the others, was flagged as of its own sign-up months back. The report counts
    the events the file has after a later one (`out_of_time_order`, after sorting: 0)."""
    read = enumerate(_as_utf8(_unpacked(_read(file))).splitlines(), start=1)
    lines = [
        (number, text)
        for number, line in read
        if (text := line.removeprefix(UTF8_MARK).strip())  # files joined by `cat`: each its own mark
    ]
    times = {number: occurred_at(body) for number, body in lines}  # each line parsed once for it
    if in_time_order:  # an undated loyalty line is dated when received (SPEC 3.4): after history
        last = datetime.max.replace(tzinfo=UTC)
        lines.sort(key=lambda numbered: times[numbered[0]] or last)  # stable: ties keep their order
    report = send_events(
        api_url,
        [(key, body) for _, body in lines],
        lanes,
        signing_secret,
        show_progress=show_progress,
        one_key=True,
    )
    for error in report["errors"]:
        error["line"] = lines[error["line"] - 1][0]
    report["out_of_time_order"] = out_of_time_order(times[number] for number, _ in lines)
    return report
