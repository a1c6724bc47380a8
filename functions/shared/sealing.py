"""Secrets sealed with a KMS key before they are stored: webhooks' signing secrets (bound to their
webhook) and programs' request-signing secrets (bound to their program), each by its encryption
context, so a sealed secret copied onto another item does not open there. The key service's errors
become domain errors here (`_key_error`: `StorageUnavailable` when a retry may pass, else
`StorageRefused`)."""

from __future__ import annotations

import base64
import re
from typing import Any, Protocol

from functions.shared.errors import DomainError, StorageRefused, StorageUnavailable

STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")  # CloudFormation's rule for a stack's name


def program_secrets_key_alias(stack_name: str) -> str:
    """The alias of the key that seals programs' request-signing secrets in the stack of that name
    (`ProgramSecretsKey`): fraudctl seals with it (`FRAUD_STACK_NAME`), the ingest function opens
    with the key's ARN."""
    return f"alias/{stack_name}/program-secrets"


# The default stack's alias: `make run` and the tests make that key on moto, fraudctl seals with it
# unless told another stack (`FRAUD_STACK_NAME`) or key (`PROGRAM_SECRETS_KMS_KEY_ID`).
PROGRAM_SECRETS_KEY_ALIAS = program_secrets_key_alias("fraud-management")
PROGRAM_SECRET_PURPOSE = "program-signing-secret"  # noqa: S105 (a name, no secret)
# what a webhook's secret is sealed for, in its encryption context (the deployed grant requires both)
WEBHOOK_SECRET_CONTEXT = ("program_id", "webhook_id")


def program_context(program_id: str) -> dict[str, str]:
    """What a program's signing secrets are sealed for (the ingest function's grant names the purpose)."""
    return {"purpose": PROGRAM_SECRET_PURPOSE, "program_id": program_id}


class SecretSealer(Protocol):
    def seal(self, secret: str, context: dict[str, str]) -> str: ...

    def open(self, sealed: str, context: dict[str, str]) -> str: ...


class KmsSealer:
    """Secrets encrypted with a KMS key, bound to what they belong to by the encryption context."""

    def __init__(self, client: Any, key_id: str) -> None:
        self._client, self._key_id = client, key_id

    def seal(self, secret: str, context: dict[str, str]) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self._client.encrypt(
                KeyId=self._key_id, Plaintext=secret.encode(), EncryptionContext=context
            )
        except (BotoCoreError, ClientError) as exc:
            raise _key_error(exc) from exc
        return base64.b64encode(answer["CiphertextBlob"]).decode()

    def open(self, sealed: str, context: dict[str, str]) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self._client.decrypt(
                KeyId=self._key_id, CiphertextBlob=base64.b64decode(sealed), EncryptionContext=context
            )
        except (BotoCoreError, ClientError) as exc:
            raise _key_error(exc) from exc
        return bytes(answer["Plaintext"]).decode()


# What a retry may get past: the key service busy or down. Anything else it answers (no grant, no
# such key, a key disabled, a sealed text that does not open with this key and context) no retry of
# the caller's passes: the deployment's, not the caller's (an API answers 500 and logs it; 503 would
# have every sender retry for ever).
_PASSING = {
    "ThrottlingException",
    "LimitExceededException",
    "KMSInternalException",
    "DependencyTimeoutException",
    "KeyUnavailableException",
}


def _key_error(exc: Exception) -> DomainError:
    code = (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")
    if code is None or code in _PASSING:  # a network failure (BotoCoreError) or the service busy
        return StorageUnavailable(f"the key service did not answer: {code or type(exc).__name__}")
    return StorageRefused(f"the key service refused: {code}")
