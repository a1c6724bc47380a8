"""Configuration of the webhooks function, read from the environment and validated at invocation
(never at import), beside the shared `Settings`."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.shared.config import ConfigurationError
from functions.shared.domain.webhooks import RetrySchedule

# Deliveries of one message of the webhooks queue before its dead-letter queue: a try whose outcome
# could not be recorded (the table or KMS down) is taken again a few times. The queue is made with it
# (infra/constants.py, local_system/webhooks.py).
WEBHOOKS_MAX_RECEIVES = 5


class WebhookSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    queue_url: str = Field(min_length=1)  # the webhooks queue: notifications in, tries scheduled
    kms_key_id: str = Field(min_length=1)  # seals webhook secrets
    retry_base_seconds: float = Field(default=30.0, gt=0)
    retry_max_seconds: float = Field(default=3 * 3600.0, gt=0)
    retry_horizon_seconds: float = Field(default=24 * 3600.0, gt=0)
    # the local system only: a test receiver on http://127.0.0.1 (SPEC 6); never set in AWS
    allow_loopback_http: bool = False

    @property
    def schedule(self) -> RetrySchedule:
        return RetrySchedule(self.retry_base_seconds, self.retry_max_seconds, self.retry_horizon_seconds)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebhookSettings:
        env = os.environ if env is None else env
        values: dict[str, str] = {
            "queue_url": env.get("WEBHOOKS_QUEUE_URL", ""),
            "kms_key_id": env.get("WEBHOOKS_KMS_KEY_ID", ""),
        }
        for field, name in (
            ("retry_base_seconds", "WEBHOOK_RETRY_BASE_SECONDS"),
            ("retry_max_seconds", "WEBHOOK_RETRY_MAX_SECONDS"),
            ("retry_horizon_seconds", "WEBHOOK_RETRY_HORIZON_SECONDS"),
            ("allow_loopback_http", "WEBHOOKS_ALLOW_LOOPBACK_HTTP"),
        ):
            if env.get(name):
                values[field] = env[name]
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
            raise ConfigurationError(f"invalid webhooks configuration: {fields}") from exc
