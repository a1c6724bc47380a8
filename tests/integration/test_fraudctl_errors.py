"""The installed `fraudctl` when its configuration cannot work: one line on stderr saying what is
wrong, a usage error (2) for a setting it can check itself, 1 for what AWS refused, and never a
traceback or a claim about the data it could not read (a table that did not answer is not a
program that exists)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

FRAUDCTL = str(Path(sys.executable).with_name("fraudctl"))
BASE = {
    "PATH": "/usr/bin:/bin",
    "FRAUDCTL_TARGET": "local",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:1",  # nothing listens there: refused at once
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_REGION": "us-east-1",
    "AWS_MAX_ATTEMPTS": "1",
    "TABLE_NAME": "fraud-management",
}


def _fraudctl(*args: str, **env: str | None) -> subprocess.CompletedProcess[str]:
    merged = {k: v for k, v in {**BASE, **env}.items() if v is not None}
    return subprocess.run(
        [FRAUDCTL, *args], env=merged, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"FRAUDCTL_TARGET": "bogus"}, "FRAUDCTL_TARGET is `local` or `aws`, not 'bogus'"),
        ({"AWS_ENDPOINT_URL": "notaurl"}, "AWS_ENDPOINT_URL is an http(s) address"),
        ({"FRAUD_API_URL": "127.0.0.1:8080"}, "FRAUD_API_URL is an http(s) address"),
        ({"FRAUD_STACK_NAME": "fraud staging"}, "FRAUD_STACK_NAME is a stack's name"),
        # the deployed stack, with the local system's endpoint left in the shell (an operator
        # tester's: the program went to the local table), or with no table named
        (
            {"FRAUDCTL_TARGET": "aws", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566"},
            "unset AWS_ENDPOINT_URL to reach the deployed stack",
        ),
        (
            {"FRAUDCTL_TARGET": "aws", "AWS_ENDPOINT_URL": None, "TABLE_NAME": None},
            "TABLE_NAME is needed with FRAUDCTL_TARGET=aws",
        ),
    ],
    ids=["target", "endpoint", "api-url", "stack-name", "aws-with-local-endpoint", "aws-without-table"],
)
def test_a_setting_fraudctl_can_check_is_a_usage_error_naming_it(env: dict[str, str], says: str):
    ran = _fraudctl("create-program", "--name", "z", **env)

    assert ran.returncode == 2, ran
    assert says in ran.stderr and "Traceback" not in ran.stderr


def test_a_table_that_does_not_answer_is_said_so_not_taken_for_a_program_that_exists():
    ran = _fraudctl("create-program", "--name", "z")

    assert ran.returncode == 1, ran
    assert "error: creating program prg-" in ran.stderr and "the table did not answer" in ran.stderr
    assert "exists" not in ran.stderr and "Traceback" not in ran.stderr
    read = _fraudctl("cases", "--program", "demo")  # an item named as a person names it, not by its key
    assert "error: reading program demo failed: the table did not answer" in read.stderr, read.stderr
    # and where it looked: a shell without the lines `make run` prints is a newcomer's first mistake
    assert "at AWS_ENDPOINT_URL http://127.0.0.1:1: is the local system running?" in read.stderr


@pytest.mark.parametrize("job", ["hold-sweep", "outbox-relay"])
def test_a_job_run_against_a_table_that_does_not_answer_says_so_once(job: str):
    """A newcomer tester's: the hold sweep logged a warning for each of its sixteen shards, raw JSON
    on the terminal, then failed naming the last shard; the relay logged an error line."""
    ran = _fraudctl("run", job, "--json")

    assert ran.returncode == 1 and ran.stdout == "", ran
    assert ran.stderr.splitlines() == [
        "error: the table fraud-management did not answer (at AWS_ENDPOINT_URL http://127.0.0.1:1: "
        "is the local system running? `make run` starts it and prints what to export)"
    ], ran.stderr


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (
            ("create-program", "--name", "z"),
            {"TABLE_NAME": ""},
            # and why (the forty-ninth session's operator: the variable was named, not what it lacked)
            "error: configuration: invalid function configuration: TABLE_NAME (table_name): "
            "string should have at least 3 characters",
        ),
        (
            ("run", "hold-sweep"),
            {
                "FRAUDCTL_TARGET": "aws",
                "AWS_REGION": None,
                "AWS_DEFAULT_REGION": None,
                "HOME": "/nonexistent",
            },
            "error: AWS: You must specify a region",
        ),
    ],
    ids=["no-table-name", "no-region"],
)
def test_a_configuration_aws_cannot_work_with_is_one_line_not_a_traceback(
    args: tuple[str, ...], env: dict[str, str | None], says: str
):
    ran = _fraudctl(*args, **env)

    assert ran.returncode == 1, ran
    assert says in ran.stderr and "Traceback" not in ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1, ran.stderr


def test_run_against_a_stack_invokes_its_job_once_in_the_region_given():
    """`fraudctl run` with the environment README gives for a deployed stack (AWS_REGION, not
    AWS_DEFAULT_REGION) reached no region; and botocore's retries invoked a job again when Lambda
    answered slowly or failed, so one `run` started the dispute cycle three times."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    paths: list[str] = []

    class FailingLambda(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            paths.append(self.path)
            body = b'{"Type": "Service", "message": "the service failed (test)"}'
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("x-amzn-ErrorType", "ServiceException")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), FailingLambda)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        ran = _fraudctl(
            "run",
            "dispute-cycle",
            FRAUDCTL_TARGET="aws",
            AWS_ENDPOINT_URL=f"http://127.0.0.1:{server.server_port}",
            AWS_REGION="eu-west-1",
            AWS_MAX_ATTEMPTS=None,  # botocore's own retries, as an operator's shell has them
        )
    finally:
        server.shutdown()

    assert ran.returncode == 1, ran
    assert "region" not in ran.stderr and "Traceback" not in ran.stderr, ran.stderr
    assert paths == ["/2015-03-31/functions/fraud-management-dispute-cycle/invocations"]  # once


def test_no_credentials_are_said_so_not_taken_for_a_table_that_did_not_answer():
    ran = _fraudctl(
        "create-program",
        "--name",
        "z",
        FRAUDCTL_TARGET="aws",
        AWS_ENDPOINT_URL=None,
        AWS_ACCESS_KEY_ID=None,
        AWS_SECRET_ACCESS_KEY=None,
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
        AWS_CONFIG_FILE="/nonexistent",
        AWS_EC2_METADATA_DISABLED="true",
    )

    assert ran.returncode == 1, ran
    assert "no AWS credentials found" in ran.stderr and "did not answer" not in ran.stderr, ran.stderr
