"""`fraudctl create-program --name` and `create-key --actor` through the real entry point (click's
runner, against the table of this environment): a name refused says why, as the API's problem says
it for the same value: blank is "must not be blank", not a list of every rule the name breaks."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from fraudctl.cli import cli
from tests.conftest import Tenant
from tests.support import call, proxy_event


def _run(*args: str):  # noqa: ANN202
    return CliRunner().invoke(cli, list(args))


REFUSED = pytest.mark.parametrize(
    ("value", "says"),
    [
        ("", "must not be blank"),
        ("   ", "must not be blank"),
        ("\u200b\u00a0", "contains U+200B, a zero-width character"),
        ("Ada\x1b[2J", "contains U+001B, a control character"),
        ("gpj\u202eexe", "contains U+202E, a mark that reorders the text around it"),
        ("x" * 201, "String should have at most 200 characters"),
        # an operator tester's: each was taken, and shown as written (`Acme\u2060Partners` in /v1/me)
        ("Acme\u2060Partners", "contains U+2060, a zero-width character"),
        ("Acme\u00adPartners", "contains U+00AD, a zero-width character"),
        ("Acme\u061cPartners", "contains U+061C, a mark that reorders the text around it"),
    ],
    ids=[
        "empty",
        "blanks",
        "zero-width",
        "control",
        "reordering",
        "long",
        "joiner",
        "soft-hyphen",
        "letter-mark",
    ],
)


@REFUSED
def test_a_refused_name_or_actor_says_why(aws, monkeypatch, value: str, says: str):
    monkeypatch.setenv("FRAUDCTL_TARGET", "aws")  # the table of this environment (moto, in process)
    program = _run("create-program", "--name", "Named", "--json")
    assert program.exit_code == 0, program.output
    program_id = json.loads(program.output)["program_id"]

    # When an operator names a program, or a key's actor, with it
    named = _run("create-program", "--name", value)
    acted = _run("create-key", "--program", program_id, "--role", "fraud", "--actor", value)

    # Then each is refused with the reason, and nothing else
    assert named.exit_code == 1 and named.stderr.startswith(f"error: name: {says}"), named.stderr
    assert acted.exit_code == 1 and acted.stderr.startswith(f"error: actor: {says}"), acted.stderr
    if value.strip() == "":
        assert "control" not in named.stderr + acted.stderr  # blank is blank, not a rule it keeps


@REFUSED
def test_the_api_refuses_the_same_actor_for_the_same_reason(aws, monkeypatch, tenant: Tenant, value, says):
    monkeypatch.setenv("FRAUDCTL_TARGET", "aws")
    acted = _run("create-key", "--program", tenant.program_id, "--role", "fraud", "--actor", value)

    body = {"role": "fraud", "actor": value}
    answer = call("keys", proxy_event("POST", "/v1/keys", body, tenant.keys["admin"]))

    assert answer.status == 422, answer
    said = acted.stderr.strip().removeprefix("error: actor: ")
    assert answer.body["errors"] == [{"field": "actor", "message": said}]
    assert answer.body["errors"][0]["message"].startswith(says)
