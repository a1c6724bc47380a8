"""API keys and request signatures.

A key reads `fmk_<key_id>_<secret>`. Only SHA-256 of the secret is stored: the secret is 256 random
bits, so a fast hash is safe here (a slow password hash protects guessable secrets, and would cost
every request). The key id finds the record in one read; the hash is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from functions.shared import signatures
from functions.shared.domain.model import ROLES, ApiKey, Program
from functions.shared.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from functions.shared.storage.port import KeyRecord, ProgramsPort

KEY_PREFIX = "fmk"
_KEY_ID = re.compile(r"[a-f0-9]{16}")  # `issue_key`'s: 8 random bytes in hexadecimal
# the scheme in any case, spaces or tabs (what WAF's rate key compresses to one), the key; nothing
# around it, which WAF's key keeps (a key with a blank after it would be counted apart)
_BEARER = re.compile(rf"(?i:bearer)[ \t]+{KEY_PREFIX}_({_KEY_ID.pattern})_([A-Za-z0-9_-]{{43}})")
SIGNATURE_TOLERANCE_SECONDS = 300
# A key's last use is written at most this often: a listing shows it to the minute, and a key sending
# thousands of requests a second costs one write a minute, not one per request.
LAST_USED_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class Principal:
    """Who is calling: resolved from the bearer key by the edge authorizer (its context), or by the
    function itself when invoked without one; `program` is added from the function's cache."""

    key_id: str
    program_id: str | None
    role: str
    actor: str
    program: Program | None = None
    last_used_at: datetime | None = None  # as read with the key, before this request

    def require(self, *roles: str) -> None:
        if self.role not in roles:
            raise Forbidden(f"role '{self.role}' may not do this")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def is_key_id(text: str) -> bool:
    """Whether `text` has the form of a key's id (`issue_key`'s), whole."""
    return _KEY_ID.fullmatch(text) is not None


def issue_key(program_id: str | None, role: str, actor: str, now: datetime) -> tuple[ApiKey, str]:
    """A new key record and the key text, which is shown once and never stored."""
    if role not in ROLES:
        raise InvalidInput(f"unknown role '{role}'", [{"field": "role", "message": "unknown role"}])
    if (program_id is None) != (role == "security"):
        raise InvalidInput(
            "platform keys (no program) have role 'security'; program keys have another role",
            [{"field": "role", "message": "does not fit the key's scope"}],
        )
    if not actor.strip():
        raise InvalidInput("an actor name is required", [{"field": "actor", "message": "empty"}])
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    record = ApiKey(
        key_id=key_id,
        program_id=program_id,
        role=role,
        actor=actor.strip(),
        secret_hash=hash_secret(secret),
        created_at=now,
    )
    return record, f"{KEY_PREFIX}_{key_id}_{secret}"


def _parse(authorization: str | None) -> tuple[str, str]:
    """The key id and secret of a bearer key; Unauthorized for anything else."""
    if not authorization:
        raise Unauthorized("missing Authorization header: send 'Authorization: Bearer <api key>'")
    # as written, nothing around it: the edge's rate limit counts a key by its header lowercased,
    # blanks compressed (WAF's own transformations), so a key taken with blanks or Unicode spaces
    # around it would be counted apart, each spelling a fresh budget
    match = _BEARER.fullmatch(authorization)
    if not match:
        raise Unauthorized(
            "malformed credentials: send 'Authorization: Bearer <api key>' (nothing around it)"
        )
    key_id, secret = match.groups()
    return key_id, secret


def _verified(record: KeyRecord | None, secret: str, program: Program | None = None) -> Principal:
    if record is None:
        hmac.compare_digest(hash_secret(secret), hash_secret(""))  # same work as a known key
        raise Unauthorized("invalid API key")
    key = record.key
    if not hmac.compare_digest(key.secret_hash, hash_secret(secret)) or not key.active:
        raise Unauthorized("invalid API key")
    return Principal(key.key_id, key.program_id, key.role, key.actor, program, record.last_used_at)


def authenticate(repository: ProgramsPort, authorization: str | None) -> Principal:
    """The key and its program, read together: what a function does when no authorizer ran."""
    key_id, secret = _parse(authorization)
    try:
        record, program = repository.load_credentials(key_id)
    except NotFound:
        return _verified(None, secret)
    return _verified(record, secret, program)


def authenticate_key(repository: ProgramsPort, authorization: str | None) -> Principal:
    """The key alone (no program): the edge authorizer's check, one read of one API-key item."""
    key_id, secret = _parse(authorization)
    try:
        record: KeyRecord | None = repository.load_key(key_id)
    except NotFound:
        record = None
    return _verified(record, secret)


# --- the edge authorizer's answer, and the functions' side of it ---------------------------------
# API Gateway keeps an authorizer's answer for this long, per Authorization header, and reuses it for
# every method of the stage (the local gateway does the same). A revoked key is refused at once when
# the keys function's flush of the stage's authorizer cache succeeds, and within this time otherwise.
AUTHORIZER_CACHE_SECONDS = 60
# The edge authorizer's own timeout: an answer it began before a revocation comes back within it
# (and API Gateway keeps it), so the revocation's flush is repeated once this has passed
AUTHORIZER_TIMEOUT_SECONDS = 5
# Functions keep each program (signing secret, time zone, name) in memory this long: a changed
# signing secret applies within it. Not cached: a program not found.
PROGRAM_CACHE_SECONDS = 60
_CONTEXT_FIELDS = ("key_id", "program_id", "role", "actor")


def authorizer_context(principal: Principal) -> dict[str, str]:
    """What the authorizer hands the functions (strings only: API Gateway's rule). A platform key's
    program is the empty string."""
    return {
        "key_id": principal.key_id,
        "program_id": principal.program_id or "",
        "role": principal.role,
        "actor": principal.actor,
    }


def principal_from_context(authorizer: Any) -> Principal | None:
    """The caller the edge authorizer admitted (API Gateway's `requestContext.authorizer`), None when
    no authorizer ran (a direct invocation). A context that is there but malformed is refused: it
    means a misconfigured gateway, never a caller to trust."""
    if not isinstance(authorizer, Mapping) or "key_id" not in authorizer:
        return None
    values = {name: authorizer.get(name) for name in _CONTEXT_FIELDS}
    if not all(isinstance(value, str) for value in values.values()):
        raise Unauthorized("invalid authorizer context")
    key_id, program_id, role, actor = (str(values[name]) for name in _CONTEXT_FIELDS)
    if not is_key_id(key_id) or role not in ROLES or not actor:
        raise Unauthorized("invalid authorizer context")
    if (role == "security") != (program_id == ""):
        raise Unauthorized("invalid authorizer context")
    return Principal(key_id, program_id or None, role, actor)


class ProgramCache:
    """Programs by id, each kept `lifetime` after it was read: a function under load reads a program
    once a minute, not twice per request. One per function environment (`Dependencies.programs`)."""

    def __init__(self, lifetime: timedelta = timedelta(seconds=PROGRAM_CACHE_SECONDS)) -> None:
        self._lifetime = lifetime
        self._entries: dict[str, tuple[Program, datetime]] = {}
        self._lock = threading.Lock()

    def get(self, repository: ProgramsPort, program_id: str, now: datetime) -> Program:
        with self._lock:
            entry = self._entries.get(program_id)
        if entry is not None and entry[1] > now:
            return entry[0]
        program = repository.get_program(program_id)  # NotFound is not kept
        with self._lock:
            self._entries[program_id] = (program, now + self._lifetime)
        return program


def with_program(
    principal: Principal, programs: ProgramCache, repository: ProgramsPort, now: datetime
) -> Principal:
    """The principal with its program (from the cache); a program key whose program is gone is
    refused like an unknown key."""
    if principal.program_id is None or principal.program is not None:
        return principal
    try:
        program = programs.get(repository, principal.program_id, now)
    except NotFound:
        raise Unauthorized("invalid API key") from None
    return replace(principal, program=program)


def note_use(repository: ProgramsPort, principal: Principal, now: datetime) -> None:
    """Keeps the key's last-used time to the minute: no write when the key was read as used within
    the last minute; otherwise one conditional write, which concurrent requests of the same key
    make once. Best effort: a failure is logged and never fails the request it belongs to."""
    since = now - LAST_USED_RESOLUTION
    if principal.last_used_at is not None and principal.last_used_at >= since:
        return
    try:  # in whole seconds: a time kept to the minute shows no microseconds
        repository.note_key_used(principal.key_id, now.replace(microsecond=0), since)
    except Exception:  # throttled, unavailable, denied: the request goes on without it
        from functions.shared.observability import logger

        logger.warning(
            "could not record the key's last use", extra={"key_id": principal.key_id}, exc_info=True
        )


_TIMESTAMP_DIGITS = 12  # unix seconds until the year 33658: more is not a time (and a float cannot hold it)


def sign(secret: str, timestamp: int, raw_body: bytes) -> str:
    """The X-Signature header value for a body, as integrations compute it (`signatures`)."""
    return signatures.header(timestamp, [secret], raw_body)


def verify_signature(
    accepted: str | Sequence[str], header: str | None, raw_body: bytes, now: datetime
) -> None:
    """`X-Signature: t=<unix seconds>,v1=<hex>`: the HMAC-SHA256 of `<t>.<body>` (t as sent) under a
    secret the program accepts now (`accepted`: the current one, and the one it replaced while its
    overlap lasts). A header may carry a `v1=` per secret (a sender in the middle of a rotation, as
    webhooks are signed): one that matches is enough, whatever the order."""
    if not header:
        raise Unauthorized("this program requires a signed request: X-Signature is missing")
    pairs = [part.strip().split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value for name, value in pairs if name == "t"]
    given = [value.lower() for name, value in pairs if name == "v1" and value]
    timestamp = timestamps[0] if len(timestamps) == 1 else ""
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= _TIMESTAMP_DIGITS) or not given:
        raise Unauthorized("malformed X-Signature: expected 't=<unix seconds>,v1=<hex>'")
    if abs(now.timestamp() - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
        raise Unauthorized("X-Signature timestamp is outside the 300-second tolerance")
    secrets_now = (accepted,) if isinstance(accepted, str) else accepted
    expected = [signatures.digest(secret, timestamp, raw_body) for secret in secrets_now]
    if not any(hmac.compare_digest(e, g) for e in expected for g in given if g.isascii()):
        raise Unauthorized("X-Signature does not match the body")
