"""Identity keys: the normalized forms under which partners and customers are linked.

Each key is a direct lookup ("who else used this device / address / e-mail"), never a search."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Providers that ignore dots in the local part, and those that ignore a +tag.
_DOTS_IGNORED = frozenset({"gmail.com"})
_PLUS_TAGS = frozenset(
    {
        "gmail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "icloud.com",
        "me.com",
        "fastmail.com",
        "proton.me",
        "protonmail.com",
        "yahoo.com",
        "zoho.com",
    }
)
_DOMAIN_ALIASES = {"googlemail.com": "gmail.com"}
_SEPARATORS = re.compile(r"[._\-+]")
_TRAILING_DIGITS = re.compile(r"\d+$")


@dataclass(frozen=True)
class EmailKeys:
    normalized: str  # the address as the provider delivers it: email_duplicate
    skeleton: str  # local part without separators and trailing digits, plus domain: near duplicates
    local: str  # the normalized local part alone: the same name at another provider


def normalize_email(address: str) -> str:
    local, _, domain = address.strip().lower().rpartition("@")
    domain = _DOMAIN_ALIASES.get(domain, domain)
    if domain in _PLUS_TAGS:
        local = local.split("+", 1)[0]
    if domain in _DOTS_IGNORED:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def email_keys(address: str) -> EmailKeys:
    normalized = normalize_email(address)
    local, _, domain = normalized.rpartition("@")
    bare = _TRAILING_DIGITS.sub("", _SEPARATORS.sub("", local.split("+", 1)[0])) or local
    return EmailKeys(normalized, f"{bare}@*", local)


def email_domain(address: str) -> str:
    return normalize_email(address).rpartition("@")[2]


def normalize_name(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", folded).split())


def normalize_device(fingerprint: str) -> str:
    return fingerprint.strip().lower()


def network_key(kind: str, value: str, pepper: bytes) -> str:
    """A keyed hash: programs share signals about a person without sharing who the person is."""
    return hmac.new(pepper, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


LOCAL_PEPPER = "local-network-pepper-not-secret"


def network_pepper() -> bytes:
    """The platform's secret for network keys, in this order: NETWORK_PEPPER itself; else the Secrets
    Manager secret NETWORK_PEPPER_SECRET_ARN names (deployed), read once per process; else, on the
    local system and in tests, a fixed public one. A secret that cannot be read raises: network keys
    hashed with the public pepper would reveal identities and never match the deployed ones."""
    import os

    if explicit := os.environ.get("NETWORK_PEPPER"):
        return explicit.encode()
    if secret_arn := os.environ.get("NETWORK_PEPPER_SECRET_ARN"):
        return _pepper_from_secret(secret_arn)
    return LOCAL_PEPPER.encode()


@lru_cache(maxsize=1)
def _pepper_from_secret(secret_arn: str) -> bytes:
    """One read per process (a failed read is not cached: the next call tries again)."""
    import boto3  # only deployed functions get here: no boto3 import on the local path
    from botocore.config import Config

    from functions.shared.config import ConfigurationError

    # Short timeouts: a stuck read fails the invocation with this error, well before the function's own
    # timeout would (10 s for an API function).
    client = boto3.client(
        "secretsmanager",
        config=Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 3, "mode": "standard"}),
    )
    try:
        value = client.get_secret_value(SecretId=secret_arn).get("SecretString")
    except Exception as exc:  # any failure: never fall back to the public pepper
        raise ConfigurationError(f"cannot read the network pepper secret {secret_arn}: {exc}") from exc
    if not value:
        raise ConfigurationError(f"the network pepper secret {secret_arn} has no string value")
    return value.encode()
