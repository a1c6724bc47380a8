"""A program's request-signing secrets are never in the table in clear: sealed with the programs'
KMS key, bound to their program (a sealed copy moved onto another program's item does not open),
opened only when a signature is checked (reading a program to serve a request makes no KMS call),
and a program written in clear before sealing is read as it is and sealed when next saved."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from functions.shared import tenancy
from functions.shared.clock import FixedClock
from functions.shared.errors import StorageRefused, StorageUnavailable
from functions.shared.sealing import KmsSealer
from functions.shared.storage import keys
from tests.conftest import Aws, Tenant, make_tenant
from tests.integration.scoring_support import signup
from tests.support import call, proxy_event

CLOCK = FixedClock(datetime(2026, 11, 1, tzinfo=UTC))
SECRET = "a-long-random-signing-secret"


def _item(aws: Aws, program_id: str) -> dict[str, Any]:
    raw = boto3.client("dynamodb", region_name="us-east-1")
    key = {"pk": {"S": keys.program_item_pk(program_id)}, "sk": {"S": keys.PROGRAM_SK}}
    return raw.get_item(TableName=aws.settings.table_name, Key=key)["Item"]


@pytest.fixture
def kms_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    seal, open_ = KmsSealer.seal, KmsSealer.open
    monkeypatch.setattr(KmsSealer, "seal", lambda self, *a: calls.append("encrypt") or seal(self, *a))
    monkeypatch.setattr(KmsSealer, "open", lambda self, *a: calls.append("decrypt") or open_(self, *a))
    return calls


def test_a_programs_secrets_are_sealed_in_the_table(aws: Aws) -> None:
    program = tenancy.create_program(aws.repository, CLOCK, "Sealed", signing_secret=SECRET)
    tenancy.set_signing_secret(aws.repository, CLOCK, program.program_id, "a-newer-random-signing-secret")

    stored = json.dumps(_item(aws, program.program_id))
    assert SECRET not in stored and "a-newer-random-signing-secret" not in stored
    assert "sealed_signing_secrets" in stored
    read = aws.repository.get_program(program.program_id)
    assert (read.signing_secret, read.previous_signing_secret) == ("a-newer-random-signing-secret", SECRET)


def test_a_sealed_secret_moved_to_another_program_does_not_open(aws: Aws) -> None:
    first = tenancy.create_program(aws.repository, CLOCK, "First", signing_secret=SECRET)
    other = tenancy.create_program(
        aws.repository, CLOCK, "Other", signing_secret="another-long-signing-secret"
    )
    sealed = _item(aws, first.program_id)["sealed_signing_secrets"]
    raw = boto3.client("dynamodb", region_name="us-east-1")
    raw.update_item(
        TableName=aws.settings.table_name,
        Key={"pk": {"S": keys.program_item_pk(other.program_id)}, "sk": {"S": keys.PROGRAM_SK}},
        UpdateExpression="SET sealed_signing_secrets = :s",
        ExpressionAttributeValues={":s": sealed},
    )
    with pytest.raises(StorageRefused, match="InvalidCiphertextException"):  # no retry passes: not a 503
        aws.repository.get_program(other.program_id).accepted_secrets(CLOCK.now())


def test_only_checking_a_signature_opens_the_secrets(aws: Aws, kms_calls: list[str]) -> None:
    signed: Tenant = make_tenant(aws.repository, "Signing", signing_secret=SECRET)
    assert kms_calls == ["encrypt"]
    kms_calls.clear()

    listed = call(
        "cases", proxy_event("GET", "/v1/cases", None, signed.keys["fraud"], query={"view": "active"})
    )
    assert listed.status == 200 and kms_calls == []  # its program read, its secrets not opened
    unsigned = call(
        "ingest", proxy_event("POST", "/v1/events", signup("p-unsigned"), signed.keys["integration"])
    )
    assert unsigned.status == 401 and kms_calls == ["decrypt"]


def test_a_program_written_in_clear_is_read_and_sealed_when_next_saved(aws: Aws) -> None:
    program = tenancy.create_program(aws.repository, CLOCK, "Legacy")
    raw = boto3.client("dynamodb", region_name="us-east-1")
    key = {"pk": {"S": keys.program_item_pk(program.program_id)}, "sk": {"S": keys.PROGRAM_SK}}
    raw.update_item(
        TableName=aws.settings.table_name,
        Key=key,
        UpdateExpression="SET signing_secret = :s",
        ExpressionAttributeValues={":s": {"S": SECRET}},
    )
    assert aws.repository.get_program(program.program_id).accepted_secrets(CLOCK.now()) == (SECRET,)

    tenancy.set_signing_secret(aws.repository, CLOCK, program.program_id, "a-newer-random-signing-secret")

    stored = json.dumps(_item(aws, program.program_id))
    assert SECRET not in stored and "signing_secret" not in json.loads(stored)
    read = aws.repository.get_program(program.program_id)
    assert read.accepted_secrets(CLOCK.now()) == ("a-newer-random-signing-secret", SECRET)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ThrottlingException", StorageUnavailable),  # busy: a retry passes (503)
        ("KMSInternalException", StorageUnavailable),
        ("AccessDeniedException", StorageRefused),  # no grant: no retry passes (500, logged)
        ("IncorrectKeyException", StorageRefused),
        ("DisabledException", StorageRefused),
    ],
)
def test_what_the_key_service_answers_is_retryable_only_when_a_retry_can_pass(
    code: str, expected: type[Exception]
) -> None:
    class Refusing:
        def decrypt(self, **_: Any) -> Any:
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, "Decrypt")

    with pytest.raises(expected, match=code):
        KmsSealer(Refusing(), "alias/any").open("c2VhbGVk", {"purpose": "x"})
