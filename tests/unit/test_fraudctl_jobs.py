"""`fraudctl run` exits 1 when a job's report says something failed: a cron job or a script reads
the exit status, not the report's fields."""

from __future__ import annotations

import pytest

from fraudctl.jobs import failures


def test_what_a_report_says_failed_is_counted_whichever_job_wrote_it():
    sweep = {"subjects": 3, "held": 2, "failed": [{"subject": "partner/p1", "error": "throttled"}]}
    cycle = {"totals": {"approved": 1, "declined": 0, "withdrawn": 0, "waiting": 2, "failed": 2}}

    assert failures(sweep) == 1
    assert failures(cycle) == 2
    assert failures({**sweep, "failed": []}) == 0
    assert failures({"relayed": 5, "notifications": 0}) == 0  # the outbox relay fails by raising


def test_a_revocation_says_when_the_edge_cache_was_not_flushed_and_why(monkeypatch):
    # against the console's or a custom domain's address the flush was skipped without a word
    from fraudctl.cli import _flush_edge_cache
    from fraudctl.config import Target

    elsewhere = _flush_edge_cache(
        Target(local=False, api_url="https://fraud.example.com", function_prefix="x-")
    )
    assert "not flushed, FRAUD_API_URL is not the stack's ApiUrl" in elsewhere

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")  # nothing listens: the flush fails
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    api = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"
    failed = _flush_edge_cache(Target(local=False, api_url=api, function_prefix="x-"))
    assert "flushing the authorizer cache failed (EndpointConnectionError)" in failed


@pytest.mark.parametrize(
    "api_url",
    [
        "https://abc123.execute-api.us-east-1.amazonaws.com/prod/",
        # the ApiUrl of a stack in another partition: its AWS::URLSuffix (a reviewer's find: not flushed)
        "https://abc123.execute-api.cn-north-1.amazonaws.com.cn/prod/",
        "https://abc123.execute-api.eusc-de-east-1.amazonaws.eu/prod/",
    ],
)
def test_a_deployed_revocation_flushes_the_stage_again_once_no_check_begun_before_it_can_answer(
    aws, monkeypatch, api_url
):
    """An authorizer check that read the key before `fraudctl revoke-key` may answer after its first
    flush, and API Gateway keeps that answer for 60 s: fraudctl flushes again once the authorizer's
    timeout has passed, as `DELETE /v1/keys/{id}` does (one definition, `runtime`), and says so."""
    import time
    from datetime import UTC, datetime

    import boto3
    from botocore.awsrequest import AWSResponse
    from click.testing import CliRunner

    from fraudctl.cli import cli
    from functions.shared import tenancy
    from functions.shared.auth import AUTHORIZER_TIMEOUT_SECONDS
    from functions.shared.clock import FixedClock

    record, _ = tenancy.create_key(
        aws.repository, FixedClock(datetime(2026, 11, 1, tzinfo=UTC)), None, "security", "Leaked"
    )
    flushed: list[tuple[float, str]] = []

    def api_gateway_answers(params: dict[str, str], **_: object) -> tuple[AWSResponse, dict[str, str]]:
        flushed.append((time.monotonic(), f"{params['method']} {params['url_path']}"))  # sent, when
        return AWSResponse("https://apigateway", 202, {}, None), {}

    session = boto3.session.Session()
    session.events.register("before-call.api-gateway.FlushStageAuthorizersCache", api_gateway_answers)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
    monkeypatch.setenv("FRAUDCTL_TARGET", "aws")
    monkeypatch.setenv("FRAUD_API_URL", api_url)

    ran = CliRunner().invoke(cli, ["revoke-key", record.key_id])

    assert ran.exit_code == 0, ran.output
    stage = "DELETE /restapis/abc123/stages/prod/cache/authorizers"
    assert [request for _, request in flushed] == [stage, stage]
    assert flushed[1][0] - flushed[0][0] > AUTHORIZER_TIMEOUT_SECONDS
    assert f"and again {AUTHORIZER_TIMEOUT_SECONDS + 1} s later" in ran.output


def test_every_scheduled_job_can_be_run_now_by_its_schedules_name():
    """README: a scheduled run that failed (the schedules' dead-letter queue) is done again with
    `fraudctl run <job>`: every schedule of the stack is a job, running its function's handler, and
    invoked deployed by its function's name (`<stackName>-<job>`)."""
    from click.testing import CliRunner

    from fraudctl.cli import JOBS, cli
    from infra.constants import SCHEDULES, STACK_NAME

    assert {spec.name: spec.function.handler for spec in SCHEDULES} == JOBS
    for spec in SCHEDULES:
        assert spec.function.function_name(STACK_NAME) == f"{STACK_NAME}-{spec.name}"
    refused = CliRunner().invoke(cli, ["run", "no-such-job"])  # the usage error lists the jobs it takes
    assert all(spec.name in refused.output.replace("\n", "").replace(" ", "") for spec in SCHEDULES)


def test_the_campaign_backfill_says_how_many_times_it_reads_the_whole_table(aws, tenant, monkeypatch):
    """`--help` tells an operator the cost of `backfill-campaign-list` before running it on a
    deployed table: as many passes over the table (scans begun from its start) as it makes."""
    from botocore.client import BaseClient
    from click.testing import CliRunner

    from fraudctl.cli import cli

    passes: list[str] = []
    sent = BaseClient._make_api_call

    def counted(client: BaseClient, operation: str, params: dict) -> dict:
        if operation == "Scan" and "ExclusiveStartKey" not in params:
            passes.append(params["TableName"])
        return sent(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counted)
    monkeypatch.setenv("FRAUDCTL_TARGET", "aws")  # the table of this environment (moto, in process)
    ran = CliRunner().invoke(cli, ["backfill-campaign-list", "--program", tenant.program_id])
    assert ran.exit_code == 0, ran.output
    said = " ".join(CliRunner().invoke(cli, ["backfill-campaign-list", "--help"]).output.split())

    assert f"reads the whole table {({1: 'once', 2: 'twice'})[len(passes)]} per program" in said
