"""The KMS key that seals programs' request-signing secrets (SPEC 2, `X-Signature` on POST
/v1/events): fraudctl seals them with it (the operator's own credentials), the ingest function opens
them to check a signature (infra/permissions.py). A key of its own, apart from the webhook secrets'
key: no grant on one reaches the other's secrets."""

from __future__ import annotations

from constructs import Construct

from functions.shared.sealing import PROGRAM_SECRETS_KEY_ALIAS
from infra.capabilities.sealing import sealing_key


class ProgramSecrets(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.key = sealing_key(self, "Key", "Seals programs' request-signing secrets (SPEC 2)")
        # the name the code seals with by default (`functions.shared.sealing`): fraudctl needs no
        # setting of its own to seal a program's secret with the operator's credentials
        self.alias = self.key.add_alias(PROGRAM_SECRETS_KEY_ALIAS)
