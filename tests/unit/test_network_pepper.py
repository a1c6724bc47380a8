"""The network pepper (SPEC 5.3): NETWORK_PEPPER wins; else the deployed secret, read once per process;
else, locally, the public constant. A deployed function never falls back to the public pepper."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from functions.shared.config import ConfigurationError
from functions.shared.domain import identity
from functions.shared.errors import StorageRefused, StorageUnavailable

REGION = "eu-west-1"


@pytest.fixture
def secretsmanager(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """An in-process fake Secrets Manager (moto; no network), and a process with no pepper read yet."""
    for name in ("NETWORK_PEPPER", "NETWORK_PEPPER_SECRET_ARN", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    identity._pepper_from_secret.cache_clear()
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)
    identity._pepper_from_secret.cache_clear()


def _secret(client, value: str) -> str:
    return client.create_secret(Name="fraud-management/network-pepper", SecretString=value)["ARN"]


def test_locally_the_public_constant(secretsmanager) -> None:
    assert identity.network_pepper() == identity.LOCAL_PEPPER.encode()


def test_deployed_the_secret_is_read_once_per_process(secretsmanager, monkeypatch) -> None:
    arn = _secret(secretsmanager, "s3cr3t-pepper")
    monkeypatch.setenv("NETWORK_PEPPER_SECRET_ARN", arn)

    assert identity.network_pepper() == b"s3cr3t-pepper"
    # Given the secret changes afterwards, this process keeps the value it read (no second read)
    secretsmanager.put_secret_value(SecretId=arn, SecretString="rotated")
    assert identity.network_pepper() == b"s3cr3t-pepper"


def test_the_environment_variable_wins_over_the_secret(secretsmanager, monkeypatch) -> None:
    monkeypatch.setenv("NETWORK_PEPPER_SECRET_ARN", _secret(secretsmanager, "from-the-secret"))
    monkeypatch.setenv("NETWORK_PEPPER", "from-the-environment")

    assert identity.network_pepper() == b"from-the-environment"


def test_an_unreadable_secret_raises_and_never_falls_back(secretsmanager, monkeypatch) -> None:
    missing = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:no-such-pepper-AbCdEf"
    monkeypatch.setenv("NETWORK_PEPPER_SECRET_ARN", missing)

    # the deployment's to mend (an API answers 500; queued work stays due meanwhile)
    with pytest.raises(StorageRefused, match="no-such-pepper"):
        identity.network_pepper()
    # the failure is not cached: once the secret can be read, the next invocation gets it
    arn = _secret(secretsmanager, "late-pepper")
    monkeypatch.setenv("NETWORK_PEPPER_SECRET_ARN", arn)
    assert identity.network_pepper() == b"late-pepper"


def test_a_deployed_function_given_no_secret_refuses_rather_than_use_the_public_one(
    secretsmanager, monkeypatch
) -> None:
    """A function of the stack that its environment gives neither NETWORK_PEPPER nor the secret's ARN
    (a grant left out of a refactor): it hashed every network key with the public constant."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "fraud-management-score")

    with pytest.raises(ConfigurationError, match="NETWORK_PEPPER_SECRET_ARN"):
        identity.network_pepper()


@pytest.mark.parametrize("code", ["ThrottlingException", "InternalServiceError"])
def test_a_secret_store_busy_for_a_moment_is_a_dependency_unavailable(
    secretsmanager, monkeypatch, code
) -> None:
    """A cloud-faults tester's find: Secrets Manager throttling a cold start's read was a
    ConfigurationError, which gave an event on its last delivery up as failed for good and made an
    API answer 500; a retry gets past it (503, the event left due), and the next read succeeds."""
    from botocore.stub import Stubber

    arn = _secret(secretsmanager, "pepper")
    monkeypatch.setenv("NETWORK_PEPPER_SECRET_ARN", arn)
    real_client = boto3.client
    stubbed = []

    def client(service, *args, **kwargs):
        made = real_client(service, *args, **kwargs)
        if not stubbed:
            stubber = Stubber(made)
            stubber.add_client_error("get_secret_value", service_error_code=code, http_status_code=400)
            stubber.activate()
            stubbed.append(stubber)
        return made

    monkeypatch.setattr(boto3, "client", client)
    with pytest.raises(StorageUnavailable, match=code):
        identity.network_pepper()
    assert identity.network_pepper() == b"pepper"  # not cached: the next read gets it
