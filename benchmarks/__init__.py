"""Benchmarks for `make bench`: one module per suite, each with a `run()`."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

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


@contextlib.contextmanager
def moto_system() -> Iterator[Any]:
    """A fresh moto account in process with the stack's resources (`local_system.provision`), the
    functions' environment pointing at them, and their dependencies built anew; yields the
    resources. moto's transactions back up only their items, as the local system runs them."""
    moto_environment()
    import boto3
    from moto import mock_aws

    from functions.shared import runtime
    from local_system.moto_atomic import make_moto_dynamodb_atomic
    from local_system.provision import provision

    make_moto_dynamodb_atomic()
    with mock_aws():
        runtime.forget_dependencies()
        resources = provision(lambda name: boto3.client(name, region_name="us-east-1"))
        os.environ.update(resources.environment())
        try:
            yield resources
        finally:
            runtime.forget_dependencies()
