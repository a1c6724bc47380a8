"""The edge authorizer's decision and the functions' side of it (pure: the in-memory store)."""

from __future__ import annotations

import fnmatch
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.authorizer.service import authorize, stage_arn
from functions.shared import tenancy
from functions.shared.auth import ProgramCache, authorizer_context, principal_from_context, with_program
from functions.shared.clock import FixedClock
from functions.shared.errors import NotFound, Unauthorized
from functions.shared.storage.memory import InMemoryRepository

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/v1/cases"


@pytest.fixture
def store() -> tuple[InMemoryRepository, FixedClock, str]:
    repository = InMemoryRepository()
    clock = FixedClock(NOW)
    program = tenancy.create_program(repository, clock, "Acme", signing_secret="s" * 20)
    return repository, clock, program.program_id


def request(key: str | None, header: str = "Authorization") -> dict[str, Any]:
    return {
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "headers": {header: f"Bearer {key}"} if key else {},
    }


def test_a_valid_key_gets_the_whole_stage_and_its_caller_in_the_context(store):
    repository, clock, program_id = store
    record, key = tenancy.create_key(repository, clock, program_id, "fraud", "Dana")

    answer = authorize(repository, clock, request(key, header="authorization"))

    statement = answer["policyDocument"]["Statement"][0]
    assert (statement["Effect"], statement["Action"]) == ("Allow", "execute-api:Invoke")
    # the cached answer is reused for any method of the stage, never another stage or API
    for other in ("abc123/prod/DELETE/v1/keys/0123456789abcdef", "abc123/prod/POST/v1/events"):
        assert fnmatch.fnmatchcase(
            f"arn:aws:execute-api:eu-west-1:123456789012:{other}", statement["Resource"]
        )
    for outside in ("abc123/test/GET/v1/cases", "zzz999/prod/GET/v1/cases"):
        assert not fnmatch.fnmatchcase(
            f"arn:aws:execute-api:eu-west-1:123456789012:{outside}", statement["Resource"]
        )
    assert answer["principalId"] == record.key_id
    assert answer["context"] == {
        "key_id": record.key_id,
        "program_id": program_id,
        "role": "fraud",
        "actor": "Dana",
    }
    assert all(isinstance(value, str) for value in answer["context"].values())


def test_a_platform_key_has_no_program_in_its_context(store):
    repository, clock, _ = store
    _, key = tenancy.create_key(repository, clock, None, "security", "Platform")

    context = authorize(repository, clock, request(key))["context"]

    assert context["program_id"] == "" and context["role"] == "security"
    assert principal_from_context(context).program_id is None


@pytest.mark.parametrize("kind", ["missing", "malformed", "unknown", "wrong secret", "revoked"])
def test_anything_but_a_valid_key_gets_a_deny(store, kind):
    repository, clock, program_id = store
    record, key = tenancy.create_key(repository, clock, program_id, "admin", "Ops")
    sent = {
        "missing": None,
        "malformed": "fmk_nothing",
        "unknown": key.replace(record.key_id, "f" * 16),
        "wrong secret": key[:-1] + ("a" if key[-1] != "a" else "b"),
        "revoked": key,
    }[kind]
    if kind == "revoked":
        tenancy.revoke_key(repository, clock, record.key_id)

    answer = authorize(repository, clock, request(sent))

    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert "context" not in answer
    assert repository.load_key(record.key_id).last_used_at is None  # a refused key was not used


def test_the_authorizer_reads_the_key_alone_and_notes_its_use(store, monkeypatch):
    repository, clock, program_id = store
    record, key = tenancy.create_key(repository, clock, program_id, "viewer", "Val")

    def no_program(*_: Any) -> Any:
        raise AssertionError("the authorizer read a program")

    monkeypatch.setattr(repository, "get_program", no_program)
    monkeypatch.setattr(repository, "load_credentials", no_program)
    authorize(repository, clock, request(key))

    assert repository.load_key(record.key_id).last_used_at == NOW


def test_stage_arn_refuses_what_is_not_a_method_arn():
    assert stage_arn(METHOD_ARN) == "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*"
    with pytest.raises(ValueError):
        stage_arn("")


@pytest.mark.parametrize(
    "context",
    [
        {"key_id": "0123456789abcdef", "program_id": "p", "role": "owner", "actor": "X"},  # no such role
        {"key_id": "../../", "program_id": "p", "role": "fraud", "actor": "X"},
        {
            "key_id": "0123456789abcdef",
            "program_id": "",
            "role": "fraud",
            "actor": "X",
        },  # program role, no program
        {"key_id": "0123456789abcdef", "program_id": "p", "role": "security", "actor": "X"},
        {"key_id": "0123456789abcdef", "program_id": "p", "role": "fraud", "actor": ""},
        {"key_id": "0123456789abcdef", "program_id": "p", "role": "fraud"},
    ],
)
def test_a_malformed_authorizer_context_is_refused_not_trusted(context):
    with pytest.raises(Unauthorized):
        principal_from_context(context)


def test_no_authorizer_context_means_no_principal_from_it():
    assert principal_from_context(None) is None
    assert principal_from_context({}) is None
    assert principal_from_context({"principalId": "x"}) is None


def test_the_context_round_trips(store):
    repository, clock, program_id = store
    _, key = tenancy.create_key(repository, clock, program_id, "integration", "Backend")
    context = authorize(repository, clock, request(key))["context"]

    principal = principal_from_context(context)

    assert principal is not None
    assert authorizer_context(principal) == context


def test_programs_are_read_once_per_lifetime(store, monkeypatch):
    repository, clock, program_id = store
    reads: list[str] = []
    real = repository.get_program

    def counted(wanted: str) -> Any:
        reads.append(wanted)
        return real(wanted)

    monkeypatch.setattr(repository, "get_program", counted)
    cache = ProgramCache(timedelta(seconds=60))

    for _ in range(5):
        assert cache.get(repository, program_id, clock.now()).signing_secret == "s" * 20
    clock.advance(seconds=61)
    cache.get(repository, program_id, clock.now())

    assert reads == [program_id, program_id]


def test_a_program_not_found_is_not_kept_and_refuses_the_key(store):
    repository, clock, _ = store
    cache = ProgramCache()
    principal = principal_from_context(
        {"key_id": "0123456789abcdef", "program_id": "prg-gone", "role": "fraud", "actor": "X"}
    )

    with pytest.raises(Unauthorized):
        with_program(principal, cache, repository, clock.now())
    with pytest.raises(NotFound):
        cache.get(repository, "prg-gone", clock.now())
    tenancy.create_program(repository, clock, "Back", program_id="prg-gone")
    assert cache.get(repository, "prg-gone", clock.now()).name == "Back"


def test_a_deployed_function_flushes_its_own_stage_again_once_the_authorizer_cannot_still_answer(monkeypatch):
    """API Gateway keeps an answer the authorizer began before the first flush (it read the key
    still active: a security tester's race), so the flush is repeated once the authorizer's timeout
    has passed."""
    from functions.shared import runtime
    from functions.shared.auth import AUTHORIZER_TIMEOUT_SECONDS
    from functions.shared.config import Settings

    done: list[Any] = []

    class ApiGateway:
        def flush_stage_authorizers_cache(self, **request: str) -> None:
            done.append(request)

    monkeypatch.setattr(runtime, "boto3_client", lambda service, settings: ApiGateway())
    settings = Settings.from_env({"TABLE_NAME": "fraud-management", "REST_API_ID": "abc123"})

    flush = runtime._stage_flush(settings, wait=lambda seconds: done.append(seconds))
    flush()

    stage = {"restApiId": "abc123", "stageName": "prod"}
    assert done[0] == done[2] == stage and len(done) == 3
    assert done[1] > AUTHORIZER_TIMEOUT_SECONDS
    assert Settings.from_env({"TABLE_NAME": "fraud-management"}).rest_api_id is None  # no API: no flush
