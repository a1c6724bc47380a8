"""The KMS key that seals programs' request-signing secrets (SPEC 2, `X-Signature` on POST
/v1/events): fraudctl seals them with it (the operator's own credentials), the ingest function opens
them to check a signature (infra/permissions.py). A key of its own, apart from the webhook secrets'
key: no grant on one reaches the other's secrets."""

from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from functions.shared.sealing import program_secrets_key_alias
from infra.capabilities.sealing import sealing_key


class ProgramSecrets(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.key = sealing_key(self, "Key", "Seals programs' request-signing secrets (SPEC 2)")
        # the name fraudctl seals with (`functions.shared.sealing`): told the stack's name
        # (`FRAUD_STACK_NAME`, nothing for the default stack), it seals a program's secret with the
        # operator's credentials; one alias per stack, so stacks of one account keep their own keys
        self.alias = self.key.add_alias(program_secrets_key_alias(Stack.of(self).stack_name))
