"""Configuration of the hold sweep, read from the environment and validated at invocation (never at
import), beside the shared `Settings`."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.shared.config import ConfigurationError
from functions.shared.storage.keys import FLAGGED_SHARDS


class SweepSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    # shards swept side by side: one a shard in AWS, where each waits on DynamoDB's round trips; the
    # local system sets fewer (HOLD_SWEEP_WORKERS), its one moto server doing all the work on the
    # machine's cores beside everything else
    workers: int = Field(default=FLAGGED_SHARDS, ge=1, le=FLAGGED_SHARDS)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SweepSettings:
        env = os.environ if env is None else env
        values = {"workers": env["HOLD_SWEEP_WORKERS"]} if env.get("HOLD_SWEEP_WORKERS") else {}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise ConfigurationError("invalid hold sweep configuration: HOLD_SWEEP_WORKERS") from exc
