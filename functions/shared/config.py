"""Configuration of every function, read from the environment and validated at invocation.

Never at import: a module can be imported (by tests, by the OpenAPI generator) with no environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.shared.sealing import PROGRAM_SECRETS_KEY_ALIAS

# Deliveries of one scoring message before the queue moves it to its dead-letter queue: the queue is
# made with it (infra/constants.py, local_system/provision.py) and the score function marks an event
# failed on its last delivery (functions/score/service.py). One definition, so the three agree.
MAX_RECEIVES = 5  # AWS's advice for a Lambda event source: a throttled function's receives count too
# The score function's timeout (infra/constants.py), and the longest any function that scores may run
# (ingest's synchronous decision runs less: an infra test holds it): after it, no event whose read
# came before then still writes (`read_memory.CROWD_SETTLES_IN`). One definition, so the two agree.
SCORE_TIMEOUT_SECONDS = 30


class ConfigurationError(RuntimeError):
    """The function's environment is missing or wrong: an operator problem, not a caller's."""


# the variable each setting is read from, to name it when it is missing or wrong
VARIABLES = {
    "table_name": "TABLE_NAME",
    "queue_url": "SCORING_QUEUE_URL",
    "event_bus_name": "EVENT_BUS_NAME",
    "region": "AWS_REGION",
    "endpoint_url": "AWS_ENDPOINT_URL",
    "rest_api_id": "REST_API_ID",
    "api_stage": "API_STAGE_NAME",
    "workflow_queue_url": "LOYALTY_WORKFLOW_QUEUE_URL",
    "program_secrets_key_id": "PROGRAM_SECRETS_KMS_KEY_ID",
}


def deployed(env: Mapping[str, str] | None = None) -> bool:
    """In a Lambda execution environment (its runtime names the function), not on the local system
    or in a test: there a setting a function needs is never guessed."""
    env = os.environ if env is None else env
    return bool(env.get("AWS_LAMBDA_FUNCTION_NAME"))


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: str = Field(min_length=3, max_length=255)
    queue_url: str | None = None
    # the stack's bus; None: not set, so a publish is refused (`messaging.EventBridgePublisher`): the
    # account's default bus, which no rule of the stack watches, would take every notification
    event_bus_name: str | None = Field(default=None, min_length=1)
    region: str = Field(default="us-east-1", min_length=1)
    endpoint_url: str | None = None  # moto's server locally; unset in AWS
    # The REST API and stage whose authorizer cache the keys function flushes on a revocation
    rest_api_id: str | None = None
    api_stage: str = Field(default="prod", min_length=1)
    workflow_queue_url: str | None = None  # loyalty workflows run behind it (SPEC 8)
    # the KMS key sealing programs' signing secrets (`functions.shared.sealing`): its alias unless given
    program_secrets_key_id: str = Field(default=PROGRAM_SECRETS_KEY_ALIAS, min_length=1)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        try:
            return cls(
                table_name=env.get("TABLE_NAME", ""),
                queue_url=env.get("SCORING_QUEUE_URL") or None,
                event_bus_name=env.get("EVENT_BUS_NAME") or None,
                region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
                endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
                rest_api_id=env.get("REST_API_ID") or None,
                api_stage=env.get("API_STAGE_NAME") or "prod",
                workflow_queue_url=env.get("LOYALTY_WORKFLOW_QUEUE_URL") or None,
                program_secrets_key_id=env.get("PROGRAM_SECRETS_KMS_KEY_ID") or PROGRAM_SECRETS_KEY_ALIAS,
            )
        except ValidationError as exc:
            fields = ", ".join(
                f"{_variable('.'.join(map(str, e['loc'])))}: {e['msg'].lower()}" for e in exc.errors()
            )  # and why: `TABLE_NAME (table_name): string should have at least 3 characters`
            raise ConfigurationError(f"invalid function configuration: {fields}") from exc


def _variable(setting: str) -> str:
    return f"{VARIABLES[setting]} ({setting})" if setting in VARIABLES else setting
