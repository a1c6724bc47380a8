"""Benchmarks for `make bench`: one module per suite, each with a `run()`."""

from __future__ import annotations

import os

MOTO_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",  # noqa: S105 (moto accepts anything; never real ones)
    "AWS_SESSION_TOKEN": "bench",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


def moto_environment() -> None:
    """The process environment for benchmarks against moto in process: fake credentials, no endpoint
    (moto intercepts), quiet Powertools."""
    os.environ.update(MOTO_ENVIRONMENT)
    os.environ.pop("AWS_ENDPOINT_URL", None)
