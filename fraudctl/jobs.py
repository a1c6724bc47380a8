"""Running a scheduled job now: in this process against the local system, or by invoking the
deployed function (FRAUDCTL_TARGET=aws) with the same Scheduled Event EventBridge sends."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import warnings
from typing import Any

from fraudctl.config import Target

LAMBDA_MAX_SECONDS = 900  # the longest any job may run (the dispute cycle's timeout)


def failures(report: dict[str, Any]) -> int:
    """What a job's report says failed and was left for its next run: the hold sweep's `failed`
    list, the dispute cycle's `totals.failed`."""
    failed = report.get("failed")
    count = len(failed) if isinstance(failed, list) else 0
    totals = report.get("totals")
    if isinstance(totals, dict) and isinstance(totals.get("failed"), int):
        count += totals["failed"]
    return count


def scheduled_event(job: str) -> dict[str, Any]:
    from local_system.scheduler import scheduled_event as event

    return event(f"fraudctl-{job}")


def _table_answers() -> None:
    """Before a job runs here: the table answers, or one error saying so (run against a table that
    does not answer, the hold sweep logged a warning for each shard it could not read, sixteen of
    them, and then failed naming the last)."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    from functions.shared.errors import StorageRefused, StorageUnavailable

    name, endpoint = os.environ["TABLE_NAME"], os.environ.get("AWS_ENDPOINT_URL", "")
    quick = Config(connect_timeout=2, read_timeout=10, retries={"total_max_attempts": 1})
    client = boto3.client("dynamodb", region_name=os.environ.get("AWS_REGION"), config=quick)
    try:
        client.describe_table(TableName=name)
    except ClientError as error:
        raise StorageRefused(f"table {name} at {endpoint}: {error.response['Error']['Code']}") from None
    except BotoCoreError:
        raise StorageUnavailable(f"the table {name} did not answer") from None


def run(target: Target, job: str, handler: str) -> dict[str, Any]:
    if target.local:
        os.environ.setdefault("EVENT_BUS_NAME", "fraud-management")
        os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        from local_system.provision import QUEUE_NAME, WORKFLOW_QUEUE_NAME

        queues = {
            "outbox-relay": ("SCORING_QUEUE_URL", QUEUE_NAME),
            "loyalty-workflow-relay": ("LOYALTY_WORKFLOW_QUEUE_URL", WORKFLOW_QUEUE_NAME),
        }
        if job in queues:  # the queue the job sends to, as the local system made it
            variable, name = queues[job]
            os.environ.setdefault(variable, f"{os.environ['AWS_ENDPOINT_URL']}/000000000000/{name}")
        from local_system.lambda_runtime import invoke

        _table_answers()
        # the function logs to stdout, as in Lambda; fraudctl's stdout is for its answer
        with contextlib.redirect_stdout(sys.stderr):
            return invoke(handler, scheduled_event(job), timeout_seconds=LAMBDA_MAX_SECONDS)
    import boto3
    from botocore.config import Config

    # the job's own time and more before giving up on its answer, and never sent twice: botocore's
    # 60-second read timeout and retries started a long run again, twice, then reported it failed
    once = Config(read_timeout=LAMBDA_MAX_SECONDS + 60, retries={"total_max_attempts": 1})
    # AWS_REGION as README exports it (boto3 reads only AWS_DEFAULT_REGION); neither: the profile's,
    # else botocore says a region is wanted, never a silent default
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None
    client = boto3.client("lambda", region_name=region, config=once)
    answer = client.invoke(
        FunctionName=f"{target.function_prefix}{job}", Payload=json.dumps(scheduled_event(job)).encode()
    )
    payload = json.loads(answer["Payload"].read() or b"{}")
    if answer.get("FunctionError"):
        raise SystemExit(f"{job} failed: {payload}")
    return payload
