"""Programs (tenants) and their API keys: the operator's side of SPEC section 2."""

from __future__ import annotations

import re
import secrets
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import TypeAdapter, ValidationError

from functions.shared.auth import issue_key
from functions.shared.clock import Clock
from functions.shared.domain.model import ApiKey, Program
from functions.shared.errors import InvalidInput
from functions.shared.inputs import NAME_MAX, ActorName
from functions.shared.storage.port import ProgramsPort

_PROGRAM_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,62}$")
_ACTOR: TypeAdapter[str] = TypeAdapter(ActorName)


def create_program(
    repository: ProgramsPort,
    clock: Clock,
    name: str,
    signing_secret: str | None = None,
    timezone: str = "UTC",
    program_id: str | None = None,
) -> Program:
    if not name.strip():
        raise InvalidInput("a program needs a name", [{"field": "name", "message": "empty"}])
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"unknown time zone '{timezone}'", [{"field": "timezone", "message": "not an IANA time zone"}]
        ) from None
    if signing_secret is not None and len(signing_secret) < 16:
        raise InvalidInput(
            "a signing secret needs at least 16 characters",
            [{"field": "signing_secret", "message": "too short"}],
        )
    program_id = program_id or f"prg-{secrets.token_hex(6)}"
    if not _PROGRAM_ID.match(program_id):
        raise InvalidInput(f"bad program id '{program_id}'", [{"field": "program_id", "message": "bad form"}])
    program = Program(program_id, name.strip(), clock.now(), timezone, signing_secret)
    repository.create_program(program)
    return program


def create_key(
    repository: ProgramsPort, clock: Clock, program_id: str | None, role: str, actor: str
) -> tuple[ApiKey, str]:
    """A new key for a program (or the platform, without one). Returns the record and the key text.
    `actor` names who uses it in audit trails: printable, at most 200 characters (`ActorName`)."""
    try:
        actor = _ACTOR.validate_python(actor)  # as the API's body takes it
    except ValidationError:
        message = f"printable text of at most {NAME_MAX} characters: no control or reordering character"
        raise InvalidInput(f"actor: {message}", [{"field": "actor", "message": message}]) from None
    if program_id is not None:
        repository.get_program(program_id)  # NotFound for an unknown program
    record, text = issue_key(program_id, role, actor, clock.now())
    repository.create_api_key(record)
    return record, text


def revoke_key(repository: ProgramsPort, clock: Clock, key_id: str) -> ApiKey:
    return repository.revoke_api_key(key_id, clock.now())
