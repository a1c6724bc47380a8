"""Where fraudctl points: the local system by default, a deployed stack by configuration.

Environment (the lines `make run` prints set the local ones):
  FRAUDCTL_TARGET   `local` (default) or `aws`
  AWS_ENDPOINT_URL  the AWS stand-in for `local` (default http://127.0.0.1:4566)
  TABLE_NAME        the table (default fraud-management; a deployed stack prints its own)
  FRAUD_API_URL     the HTTP API (default http://127.0.0.1:8080)
  FRAUD_STACK_NAME  for `aws`: the deployed stack's name, when not fraud-management (`-c stackName`):
                    its functions' name prefix (`fraudctl run`) and its signing key's alias
                    (`set-signing-secret`) follow from it
  FRAUD_FUNCTION_PREFIX, PROGRAM_SECRETS_KMS_KEY_ID  either one given outright
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from functions.shared.sealing import STACK_NAME, program_secrets_key_alias

LOCAL_AWS = "http://127.0.0.1:4566"
# the local system's stand-in, as the README exports it (`make run`'s port), by any loopback name
_LOCAL_SYSTEM = re.compile(r"^https?://(localhost|127\.\d+\.\d+\.\d+|\[::1\]):4566$", re.IGNORECASE)
LOCAL_API = "http://127.0.0.1:8080"
_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s]*)?$")


@dataclass(frozen=True)
class Target:
    local: bool
    api_url: str
    function_prefix: str

    @classmethod
    def from_env(cls) -> Target:
        """ValueError, naming the variable, for a target or an address that cannot work."""
        target = os.environ.get("FRAUDCTL_TARGET", "local").strip().lower() or "local"
        if target not in ("local", "aws"):
            raise ValueError(f"FRAUDCTL_TARGET is `local` or `aws`, not {target!r}")
        for name in ("AWS_ENDPOINT_URL", "FRAUD_API_URL"):
            if (address := os.environ.get(name)) and not _URL.match(address):
                raise ValueError(f"{name} is an http(s) address (http://host:port), not {address!r}")
        stack = os.environ.get("FRAUD_STACK_NAME", "").strip() or "fraud-management"
        if not STACK_NAME.fullmatch(stack):
            raise ValueError(f"FRAUD_STACK_NAME is a stack's name (letters, digits, hyphens), not {stack!r}")
        local = target == "local"
        if local:
            os.environ.setdefault("AWS_ENDPOINT_URL", LOCAL_AWS)
            for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
                os.environ.setdefault(name, "local")
            os.environ.setdefault("AWS_REGION", "us-east-1")
        else:
            # the local system's address, exported for `make run` and left in the shell: a program
            # "created" in the deployed stack went to the local table (an operator tester's)
            endpoint = os.environ.get("AWS_ENDPOINT_URL", "").strip().rstrip("/")
            if endpoint and _LOCAL_SYSTEM.match(endpoint):
                raise ValueError(
                    f"AWS_ENDPOINT_URL is {endpoint}, the local system's, with FRAUDCTL_TARGET=aws: "
                    "unset AWS_ENDPOINT_URL to reach the deployed stack"
                )
            if not os.environ.get("TABLE_NAME", "").strip():
                raise ValueError("TABLE_NAME is needed with FRAUDCTL_TARGET=aws: the stack's TableName")
            os.environ.setdefault("PROGRAM_SECRETS_KMS_KEY_ID", program_secrets_key_alias(stack))
        os.environ.setdefault("TABLE_NAME", "fraud-management")
        return cls(
            local=local,
            api_url=os.environ.get("FRAUD_API_URL", LOCAL_API).rstrip("/"),
            function_prefix=os.environ.get("FRAUD_FUNCTION_PREFIX", f"{stack}-"),
        )
