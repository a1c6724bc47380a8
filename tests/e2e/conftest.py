"""The local system, started as `make run` starts it, on free ports, for tests over real HTTP."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
AUTHORIZER_CACHE_SECONDS_E2E = 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LocalSystem:
    api_url: str
    aws_url: str
    keys: dict[str, str]
    program_id: str
    output: list[str]
    pid: int = 0  # the main process's (moto's and the workers' are its children)

    def env(self) -> dict[str, str]:
        """The environment `make run` tells fraudctl users to export."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ENDPOINT_URL=self.aws_url, TABLE_NAME="fraud-management", FRAUD_API_URL=self.api_url)
        return env

    def session(self, role: str) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.keys[role]}"
        return session


@pytest.fixture(scope="session")
def local_system() -> Iterator[LocalSystem]:
    with started_local_system() as system:
        yield system


@contextmanager
def started_local_system(**settings: str) -> Iterator[LocalSystem]:
    """`python -m local_system` on free ports, with environment `settings` on top (LOCAL_...)."""
    api_port, aws_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(LOCAL_HOLD_SWEEP_SECONDS="2", LOCAL_RELAY_SECONDS="2", PYTHONUNBUFFERED="1")
    # no cycle of its own in a session that spans the 1st at 00:00 UTC: the tests run it by hand
    env.update(LOCAL_DISPUTE_CYCLE_SECONDS=str(10 * 365 * 24 * 3600))
    # fraudctl revokes in the table, out of reach of the local edge's cache: a short lifetime here
    env.update(LOCAL_AUTHORIZER_CACHE_SECONDS=str(AUTHORIZER_CACHE_SECONDS_E2E), **settings)
    process = subprocess.Popen(
        [sys.executable, "-m", "local_system", "--port", str(api_port), "--aws-port", str(aws_port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line)
        if line.startswith("Ctrl-C stops it"):
            break
    # keep draining its output, or the process blocks once the pipe is full
    threading.Thread(target=lambda: output.extend(iter(process.stdout.readline, "")), daemon=True).start()
    text = "".join(output)
    keys = dict(re.findall(r"^\s+(\w+)\s+key: (\S+)$", text, re.MULTILINE))
    program = re.search(r"program: (\S+)", text)
    assert keys and program, f"the local system did not start:\n{text}"
    system = LocalSystem(
        f"http://127.0.0.1:{api_port}",
        f"http://127.0.0.1:{aws_port}",
        keys,
        program.group(1),
        output,
        process.pid,
    )
    try:
        yield system
    finally:
        process.send_signal(2)  # Ctrl-C
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        Path(ROOT / "tests" / "artifacts").mkdir(parents=True, exist_ok=True)
        (ROOT / "tests" / "artifacts" / "local_system.log").write_text("".join(output))
