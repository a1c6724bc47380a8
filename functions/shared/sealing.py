"""Secrets sealed with a KMS key before they are stored: webhooks' signing secrets (bound to their
webhook) and programs' request-signing secrets (bound to their program), each by its encryption
context, so a sealed secret copied onto another item does not open there. AWS errors become
`StorageUnavailable` here."""

from __future__ import annotations

import base64
from typing import Any, Protocol

from functions.shared.errors import StorageUnavailable

# The key that seals programs' request-signing secrets, by its alias: the stack makes it
# (`ProgramSecretsKey`), `make run` and the tests make it on moto; fraudctl seals with it, the
# ingest function opens with it.
PROGRAM_SECRETS_KEY_ALIAS = "alias/fraud-management/program-secrets"
PROGRAM_SECRET_PURPOSE = "program-signing-secret"  # noqa: S105 (a name, no secret)


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
            raise StorageUnavailable(f"the key service did not answer: {type(exc).__name__}") from exc
        return base64.b64encode(answer["CiphertextBlob"]).decode()

    def open(self, sealed: str, context: dict[str, str]) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self._client.decrypt(
                KeyId=self._key_id, CiphertextBlob=base64.b64decode(sealed), EncryptionContext=context
            )
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"the key service did not answer: {type(exc).__name__}") from exc
        return bytes(answer["Plaintext"]).decode()
