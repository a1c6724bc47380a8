"""README's IAM policy for fraudctl's credentials is what fraudctl's commands call: each DynamoDB
action on the table or index it names, each KMS action, and nothing more (a transaction is checked
as its Put and Delete, no IAM action of its own; an index is granted by its own ARN)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from botocore.client import BaseClient
from click.testing import CliRunner

from fraudctl.cli import JOBS, cli
from tests.iam_check import dynamodb_needs
from tests.integration.test_loyalty_campaigns import legacy_campaign

README = Path(__file__).resolve().parents[2] / "README.md"
TABLE = "arn:aws:dynamodb:<region>:<account>:table/<TableName>"


def _policy() -> dict[str, Any]:
    found = re.search(r"<!-- fraudctl-policy[^>]*-->\s*```json\n(.*?)```", README.read_text(), re.DOTALL)
    assert found, "README: no fraudctl policy"
    return json.loads(found.group(1))


def _granted(policy: dict[str, Any], services: tuple[str, ...]) -> set[tuple[str, str]]:
    """(action, what) for each statement's actions of `services`: `table`, `index/<name>`, `key`."""
    granted = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        resources = (
            [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
        )
        for action in actions:
            if action.split(":")[0] not in services:
                continue
            for resource in resources:
                what = "key" if resource == "<ProgramSecretsKeyArn>" else resource.removeprefix(TABLE)
                granted.add((action, what.removeprefix("/") or "table"))
    return granted


def test_readmes_policy_for_fraudctl_grants_what_its_commands_call(aws, monkeypatch: pytest.MonkeyPatch):
    called: set[tuple[str, str]] = set()
    send = BaseClient._make_api_call

    def traced(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        service = client.meta.service_model.service_name
        if service == "dynamodb":
            called.update((action, resource) for action, resource, _ in dynamodb_needs(operation, params))
        else:
            called.add((f"{service}:{operation}", "key" if service == "kms" else "?"))
        return send(client, operation, params)

    monkeypatch.setenv("FRAUDCTL_TARGET", "aws")  # the table of this environment (moto, in process)
    monkeypatch.setenv("FRAUD_API_URL", "https://fraud.example.com")  # no flush: its own statement
    monkeypatch.setattr(BaseClient, "_make_api_call", traced)

    def fraudctl(*args: str) -> str:
        ran = CliRunner().invoke(cli, [*args, "--json"])
        assert ran.exit_code == 0, ran.output
        return ran.output.splitlines()[-1]

    program = json.loads(fraudctl("create-program", "--name", "Traced", "--signing-secret", "s" * 20))
    program_id = program["program_id"]
    key = json.loads(fraudctl("create-key", "--program", program_id, "--role", "admin", "--actor", "a"))
    fraudctl("create-key", "--role", "security", "--actor", "platform")
    fraudctl("revoke-key", key["key_id"])
    fraudctl("set-signing-secret", "--program", program_id)
    fraudctl("remove-signing-secret", "--program", program_id)
    fraudctl("cases", "--program", program_id)
    fraudctl("programs")
    fraudctl("backfill-hold-order")
    before = set(called)
    legacy_campaign(aws, program_id, "older")  # a campaign saved before the list: one to list
    called.clear()  # the campaign's own write is this test's, not fraudctl's
    fraudctl("backfill-campaign-list")
    assert ("dynamodb:DeleteItem", "table") in called  # the entry's transaction, so written
    for args in (
        ("create-program", "--name", "Again", "--signing-secret", "s" * 20),
        ("set-signing-secret", "--program", program_id),
        ("cases", "--program", program_id, "--view", "resolved"),
        ("backfill-hold-order", "--program", program_id),
    ):
        fraudctl(*args)

    policy = _policy()
    assert before | called == _granted(policy, ("dynamodb", "kms"))
    others = _granted(policy, ("apigateway", "lambda"))
    assert {action for action, _ in others} == {"apigateway:DELETE", "lambda:InvokeFunction"}


def test_readmes_policy_lets_fraudctl_run_invoke_its_jobs_functions_alone(
    aws, monkeypatch: pytest.MonkeyPatch
):
    # a reviewer found `function:<stackName>-*`: every API function and the authorizer too, where
    # `fraudctl run` invokes its jobs' functions only. The policy names exactly those it invokes.
    invoked: set[str] = set()
    send = BaseClient._make_api_call

    def traced(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if operation == "Invoke":
            invoked.add(params["FunctionName"])
        return send(client, operation, params)  # moto has no such function: the run fails, as meant

    stack = "stackName"  # README's <stackName>, as FRAUD_STACK_NAME tells fraudctl a stack's name
    monkeypatch.setenv("FRAUDCTL_TARGET", "aws")
    monkeypatch.setenv("FRAUD_STACK_NAME", stack)
    monkeypatch.delenv("FRAUD_FUNCTION_PREFIX", raising=False)
    monkeypatch.setattr(BaseClient, "_make_api_call", traced)
    for job in JOBS:
        CliRunner().invoke(cli, ["run", job, "--json"])

    (run,) = [s for s in _policy()["Statement"] if s["Sid"] == "RunAJobNow"]
    assert run["Action"] == "lambda:InvokeFunction"
    resources = [run["Resource"]] if isinstance(run["Resource"], str) else run["Resource"]
    functions = "arn:aws:lambda:<region>:<account>:function:"
    assert all(resource.startswith(functions) for resource in resources)
    named = {resource.removeprefix(functions).replace("<stackName>", stack) for resource in resources}
    assert len(invoked) == len(JOBS)
    assert named == invoked
