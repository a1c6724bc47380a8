"""Programs (tenants) and their API keys: the operator's side of SPEC section 2."""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import TypeAdapter, ValidationError

from functions.shared.auth import issue_key
from functions.shared.clock import Clock
from functions.shared.domain import actors
from functions.shared.domain.model import ApiKey, Program, SigningSecrets
from functions.shared.errors import Conflict, InvalidInput, NotFound, StorageUnavailable
from functions.shared.inputs import ActorName
from functions.shared.problems import validation_errors
from functions.shared.signatures import SECRET_OVERLAP
from functions.shared.storage.port import ProgramsPort

_PROGRAM_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,62}$")
_ACTOR: TypeAdapter[str] = TypeAdapter(ActorName)
# names a machine's zone database answers to that are no place's zone: `localtime` is the operator's
# own machine's (UTC in Lambda), `posix/` and `right/` copies (`right/` counts leap seconds)
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})

# A program's keys not revoked, at most: `GET /v1/keys` answers them all in one page, which this
# keeps within an answer's budget (`paging.ANSWER_BUDGET`) whatever their names. A team with more
# holders than this shares keys by role, or revokes the keys it no longer uses.
MAX_PROGRAM_KEYS = 500


def create_program(
    repository: ProgramsPort,
    clock: Clock,
    name: str,
    signing_secret: str | None = None,
    timezone: str = "UTC",
    program_id: str | None = None,
) -> Program:
    name = _printable("name", name)  # shown to people as an actor's is: printable
    try:
        if timezone in _NOT_PLACES or timezone.startswith(("posix/", "right/")):
            raise ValueError(timezone)  # what the machine's zone database has besides places' zones
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"unknown time zone '{timezone}'", [{"field": "timezone", "message": "not an IANA time zone"}]
        ) from None
    if signing_secret is not None:
        _check_secret(signing_secret)
    program_id = program_id or f"prg-{secrets.token_hex(6)}"
    if not _PROGRAM_ID.match(program_id):
        raise InvalidInput(f"bad program id '{program_id}'", [{"field": "program_id", "message": "bad form"}])
    signing = SigningSecrets.clear(signing_secret) if signing_secret is not None else None
    program = Program(program_id, name.strip(), clock.now(), timezone, signing)
    repository.create_program(program)
    return program


def set_signing_secret(
    repository: ProgramsPort,
    clock: Clock,
    program_id: str,
    signing_secret: str | None = None,
    overlap: timedelta = SECRET_OVERLAP,
    accept_unsigned: timedelta = timedelta(0),
) -> tuple[Program, str]:
    """A program's new signing secret (given, or made here): from now on `X-Signature` is checked
    with it, and with the secret it replaces until `overlap` has passed, so senders move to the new
    one without a refused request (a header may carry a `v1=` for each). Every function sees the
    change within its 60 seconds of program settings.
    - A rotation while the last one's overlap lasts is refused: it would cut that overlap short,
      refusing senders who were told they had until its end. An overlap of 0, the answer to a leak,
      always goes through and refuses every earlier secret, and any unsigned window, at once.
    - The same secret sent again changes nothing (with an overlap of 0: ends what the last rotation
      left accepted).
    - `accept_unsigned`, for a program's first secret only and asked for explicitly (SPEC 2 wants
      every request signed once a secret is set): how long requests without `X-Signature` still
      pass, so its senders, who signed nothing, start signing meanwhile.
    Returns the program and the secret."""
    for name, span in (("overlap", overlap), ("accept_unsigned", accept_unsigned)):
        if span < timedelta(0) or span > timedelta(days=30):
            raise InvalidInput(
                f"the {name} is from 0 to 30 days", [{"field": name, "message": "from 0 to 30 days"}]
            )
    secret = signing_secret if signing_secret is not None else f"whsec_{secrets.token_urlsafe(32)}"
    _check_secret(secret)
    program = repository.get_program(program_id)
    now = clock.now()
    current = program.signing_secret  # opened (fraudctl, with the operator's own key access)
    if accept_unsigned and current is not None:
        message = "only a program's first secret may leave unsigned requests accepted"
        raise InvalidInput(message, [{"field": "accept_unsigned", "message": message}])
    if secret == current and overlap:
        return program, secret  # sent again: nothing changes, the overlap under way included
    if overlap and (program.in_overlap(now) or program.accepts_unsigned(now)):
        what, until = (
            ("unsigned requests are", program.unsigned_accepted_until)
            if program.accepts_unsigned(now)
            else ("the secret the last rotation replaced is", program.previous_signing_secret_until)
        )
        assert until is not None
        raise Conflict(
            f"{what} accepted until {until:%Y-%m-%d %H:%M:%S} UTC: rotating again now would refuse "
            "it at once. Rotate after then, or with an overlap of 0 to refuse every earlier secret "
            "now (after a leak). A rotation whose new secret no one saw (its output lost): give the "
            "secret before it again, with an overlap of 0 (fraudctl set-signing-secret --secret "
            "<previous> --overlap-hours 0)"
        )
    previous = current if overlap else None
    changed = replace(
        program,
        signing=SigningSecrets.clear(secret, previous),
        previous_signing_secret_until=now + overlap if previous else None,
        unsigned_accepted_until=now + accept_unsigned if accept_unsigned else None,
    )
    repository.save_signing_secrets(changed, program)  # refused if another rotation was saved meanwhile
    return changed, secret


def remove_signing_secret(repository: ProgramsPort, program_id: str) -> tuple[Program, bool]:
    """Takes a program's signing secrets away, the current one and any the last rotation left
    accepted: its `POST /v1/events` are no longer signed (SPEC 2: a program *may* have a secret),
    for an integration that cannot sign after all. Every function sees it within its 60 seconds of
    program settings. Returns the program and whether it had a secret (none: nothing changes)."""
    program = repository.get_program(program_id)
    if program.signing is None and program.unsigned_accepted_until is None:
        return program, False
    changed = replace(program, signing=None, previous_signing_secret_until=None, unsigned_accepted_until=None)
    repository.save_signing_secrets(changed, program)  # refused if a rotation was saved meanwhile
    return changed, True


def _printable(field: str, text: str) -> str:
    """A name people read (a program's, a key's actor), as the API's `ActorName` takes it: printable,
    at most `NAME_MAX` characters, trimmed."""
    try:
        return _ACTOR.validate_python(text)
    except ValidationError as error:
        # the reason the API's problem gives for the same value: blank, too long, or the character
        # that is not shown
        message = validation_errors([dict(e) for e in error.errors()])[0]["message"]
        raise InvalidInput(f"{field}: {message}", [{"field": field, "message": message}]) from None


def _not_reserved(actor: str) -> str:
    if actors.is_systems(actor):
        message = f"{actors.described()} are the system's own"
        raise InvalidInput(f"actor: {message}", [{"field": "actor", "message": message}])
    return actor


SECRET_MAX = 256  # characters: far beyond any secret's strength, and under KMS's 4 KiB to seal two


def _check_secret(secret: str) -> None:
    readable = secret.isascii() and secret.isprintable() and secret == secret.strip()
    if not 16 <= len(secret) <= SECRET_MAX or not readable:
        raise InvalidInput(
            f"a signing secret is 16 to {SECRET_MAX} printable ASCII characters, without blanks around it",
            [{"field": "signing_secret", "message": f"16 to {SECRET_MAX} printable ASCII characters"}],
        )


def create_key(
    repository: ProgramsPort,
    clock: Clock,
    program_id: str | None,
    role: str,
    actor: str,
    created_by: str | None = None,
) -> tuple[ApiKey, str]:
    """A new key for a program (or the platform, without one). Returns the record and the key text.
    `actor` names who uses it in audit trails: printable, at most 200 characters (`ActorName`);
    `created_by`: the admin key that asks for it through the API (None: an operator, fraudctl)."""
    actor = _not_reserved(_printable("actor", actor))  # as the API's body takes it
    if program_id is not None:
        repository.get_program(program_id)  # NotFound for an unknown program
        if len(repository.list_api_keys(program_id)) >= MAX_PROGRAM_KEYS:
            raise Conflict(
                f"the program has {MAX_PROGRAM_KEYS} keys not revoked, as many as it may: revoke one "
                "it no longer uses first"
            )
    record, text = issue_key(program_id, role, actor, clock.now())
    record = replace(record, created_by=created_by)
    try:
        repository.create_api_key(record)
    except (StorageUnavailable, Conflict):
        # its answer lost after the commit (a timeout), or botocore's retry of that write refused as
        # "exists": a key no one was shown, listed and live until revoked (a cloud-faults tester's
        # find). The key read back under its new id with this secret's hash is this one: made
        if not _made(repository, record):
            raise
    return record, text


def _made(repository: ProgramsPort, record: ApiKey) -> bool:
    try:
        return repository.get_api_key(record.key_id).secret_hash == record.secret_hash
    except NotFound:
        return False


def revoke_key(repository: ProgramsPort, clock: Clock, key_id: str) -> ApiKey:
    return repository.revoke_api_key(key_id, clock.now())
