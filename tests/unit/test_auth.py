"""API keys and request signatures (pure: the in-memory store, no network)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from functions.shared import tenancy
from functions.shared.auth import authenticate, hash_secret, note_use, sign, verify_signature
from functions.shared.clock import FixedClock
from functions.shared.errors import Forbidden, InvalidInput, NotFound, StorageUnavailable, Unauthorized
from functions.shared.storage.memory import InMemoryRepository

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def store():
    repository = InMemoryRepository()
    clock = FixedClock(NOW)
    program = tenancy.create_program(repository, clock, "Acme")
    return repository, clock, program


def test_only_a_hash_of_the_key_is_stored(store):
    repository, clock, program = store

    record, key = tenancy.create_key(repository, clock, program.program_id, "fraud", "Dana")

    stored = repository.get_api_key(record.key_id)
    secret = key[len(f"fmk_{record.key_id}_") :]
    assert secret not in repr(stored)
    assert stored.secret_hash == hash_secret(secret)
    assert key.startswith(f"fmk_{record.key_id}_")


def test_a_key_authenticates_as_its_program_role_and_actor(store):
    repository, clock, program = store
    _, key = tenancy.create_key(repository, clock, program.program_id, "fraud", "Dana")

    principal = authenticate(repository, f"Bearer {key}")

    assert (principal.program_id, principal.role, principal.actor) == (program.program_id, "fraud", "Dana")


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer abc", "Token fmk_x", "Basic dXNlcjpwYXNz"])
def test_missing_or_malformed_credentials_are_refused(store, header):
    repository, _, _ = store
    with pytest.raises(Unauthorized):
        authenticate(repository, header)


def test_an_unknown_key_id_and_a_wrong_secret_are_refused_alike(store):
    repository, clock, program = store
    record, key = tenancy.create_key(repository, clock, program.program_id, "admin", "Ops")
    wrong_secret = key[:-1] + ("a" if key[-1] != "a" else "b")
    unknown_id = key.replace(record.key_id, "0" * 16)

    with pytest.raises(Unauthorized) as first:
        authenticate(repository, f"Bearer {wrong_secret}")
    with pytest.raises(Unauthorized) as second:
        authenticate(repository, f"Bearer {unknown_id}")
    assert first.value.detail == second.value.detail == "invalid API key"


def test_a_revoked_key_is_refused(store):
    repository, clock, program = store
    record, key = tenancy.create_key(repository, clock, program.program_id, "admin", "Ops")

    tenancy.revoke_key(repository, clock, record.key_id)

    with pytest.raises(Unauthorized):
        authenticate(repository, f"Bearer {key}")


def test_revoking_twice_keeps_the_first_time(store):
    repository, clock, program = store
    record, _ = tenancy.create_key(repository, clock, program.program_id, "admin", "Ops")
    first = tenancy.revoke_key(repository, clock, record.key_id)
    clock.advance(hours=1)

    assert tenancy.revoke_key(repository, clock, record.key_id).revoked_at == first.revoked_at


def test_keys_for_unknown_programs_and_bad_roles_are_refused(store):
    repository, clock, program = store
    with pytest.raises(NotFound):
        tenancy.create_key(repository, clock, "prg-unknown", "admin", "X")
    with pytest.raises(InvalidInput):
        tenancy.create_key(repository, clock, program.program_id, "root", "X")
    with pytest.raises(InvalidInput):
        tenancy.create_key(repository, clock, program.program_id, "security", "X")  # platform only
    with pytest.raises(InvalidInput):
        tenancy.create_key(repository, clock, None, "admin", "X")  # a platform key is security


def test_a_platform_key_has_no_program(store):
    repository, clock, _ = store
    _, key = tenancy.create_key(repository, clock, None, "security", "Sec team")

    principal = authenticate(repository, f"Bearer {key}")

    assert principal.program_id is None and principal.role == "security"


def test_require_refuses_other_roles(store):
    repository, clock, program = store
    _, key = tenancy.create_key(repository, clock, program.program_id, "viewer", "V")
    principal = authenticate(repository, f"Bearer {key}")

    principal.require("viewer")
    with pytest.raises(Forbidden):
        principal.require("fraud", "admin")


class CountingStore(InMemoryRepository):
    """The in-memory store, counting the last-use writes it is asked for."""

    def __init__(self, failure: Exception | None = None) -> None:
        super().__init__()
        self.asked: list[datetime] = []
        self.failure = failure

    def note_key_used(self, key_id: str, at: datetime, unless_since: datetime) -> bool:
        self.asked.append(at)
        if self.failure:
            raise self.failure
        return super().note_key_used(key_id, at, unless_since)


def test_a_keys_use_costs_no_write_within_a_minute_of_the_last_one_read():
    repository, clock = CountingStore(), FixedClock(NOW)
    program = tenancy.create_program(repository, clock, "Acme")
    _, key = tenancy.create_key(repository, clock, program.program_id, "fraud", "Dana")

    def request() -> None:
        note_use(repository, authenticate(repository, f"Bearer {key}"), clock.now())

    request()  # never used: written
    clock.advance(seconds=60)
    request()  # exactly a minute later: read as used within the minute, no write
    assert repository.asked == [NOW]
    clock.advance(seconds=1)
    request()
    assert repository.asked == [NOW, NOW + timedelta(seconds=61)]
    assert repository.load_credentials(authenticate(repository, f"Bearer {key}").key_id)[0].last_used_at == (
        NOW + timedelta(seconds=61)
    )


@pytest.mark.parametrize("failure", [StorageUnavailable("throttled"), RuntimeError("AccessDenied")])
def test_a_failed_use_write_is_swallowed(failure):
    repository, clock = CountingStore(failure), FixedClock(NOW)
    program = tenancy.create_program(repository, clock, "Acme")
    _, key = tenancy.create_key(repository, clock, program.program_id, "fraud", "Dana")
    principal = authenticate(repository, f"Bearer {key}")

    note_use(repository, principal, clock.now())  # does not raise

    assert repository.asked == [NOW]


def test_program_settings_are_validated(store):
    repository, clock, _ = store
    with pytest.raises(InvalidInput):
        tenancy.create_program(repository, clock, "X", timezone="Mars/Olympus")
    # an operator tester's: the machine's zone database answers to these, which are no place's
    # zone (`localtime`: the operator's laptop's, UTC in Lambda)
    for machine_only in ("localtime", "posix/Europe/Paris", "right/UTC", "Factory"):
        with pytest.raises(InvalidInput, match="unknown time zone"):
            tenancy.create_program(repository, clock, "X", timezone=machine_only)
    assert tenancy.create_program(repository, clock, "X", timezone="Europe/Paris").timezone == "Europe/Paris"
    with pytest.raises(InvalidInput):
        tenancy.create_program(repository, clock, "X", signing_secret="short")
    with pytest.raises(InvalidInput):
        tenancy.create_program(repository, clock, "   ")


class TestSignature:
    SECRET = "whsec_test_secret_value"
    BODY = b'{"id":"e1"}'

    def test_the_documented_scheme(self):
        # HMAC-SHA256(secret, "<t>.<raw body>") in hex, as SPEC section 2 writes it
        import hashlib
        import hmac

        expected = hmac.new(self.SECRET.encode(), b"1700000000." + self.BODY, hashlib.sha256).hexdigest()
        assert sign(self.SECRET, 1700000000, self.BODY) == f"t=1700000000,v1={expected}"

    def test_a_fresh_signature_verifies(self):
        verify_signature(self.SECRET, sign(self.SECRET, int(NOW.timestamp()), self.BODY), self.BODY, NOW)

    @pytest.mark.parametrize("offset", [300, -300])
    def test_the_tolerance_edge_is_inside(self, offset):
        at = int(NOW.timestamp()) + offset
        verify_signature(self.SECRET, sign(self.SECRET, at, self.BODY), self.BODY, NOW)

    @pytest.mark.parametrize("offset", [301, -301])
    def test_past_the_tolerance_is_refused(self, offset):
        at = int(NOW.timestamp()) + offset
        with pytest.raises(Unauthorized, match="tolerance"):
            verify_signature(self.SECRET, sign(self.SECRET, at, self.BODY), self.BODY, NOW)

    @pytest.mark.parametrize(
        "header",
        [None, "", "t=,v1=", "v1=abc", "t=123", "t=abc,v1=def", "garbage"],
    )
    def test_malformed_headers_are_refused(self, header):
        with pytest.raises(Unauthorized):
            verify_signature(self.SECRET, header, self.BODY, NOW)

    def test_a_changed_body_or_secret_is_refused(self):
        header = sign(self.SECRET, int(NOW.timestamp()), self.BODY)
        with pytest.raises(Unauthorized, match="does not match"):
            verify_signature(self.SECRET, header, self.BODY + b" ", NOW)
        with pytest.raises(Unauthorized, match="does not match"):
            verify_signature("another_secret_value", header, self.BODY, NOW - timedelta(seconds=1))

    @pytest.mark.parametrize("digits", [13, 309, 5000])
    def test_a_timestamp_no_clock_can_read_is_malformed_not_an_error(self, digits):
        """`t=` of 309 nines overflowed the float comparison, 5,000 digits `int()`: both were 500."""
        with pytest.raises(Unauthorized, match="malformed"):
            verify_signature(self.SECRET, f"t={'9' * digits},v1=00", self.BODY, NOW)

    def test_one_matching_v1_is_enough_whatever_its_place(self):
        """Only the last `v1=` was checked: the same header passed or failed by its order."""
        good = sign(self.SECRET, int(NOW.timestamp()), self.BODY)
        t, v1 = good.split(",")
        for header in (f"{t},{v1},v1={'0' * 64}", f"{t},v1={'0' * 64},{v1}"):
            verify_signature(self.SECRET, header, self.BODY, NOW)
        with pytest.raises(Unauthorized, match="malformed"):  # two times: which one was signed?
            verify_signature(self.SECRET, f"{t},t=1,{v1}", self.BODY, NOW)

    def test_a_timestamp_is_signed_as_sent(self):
        import hashlib
        import hmac

        sent = "0" + str(int(NOW.timestamp()))
        digest = hmac.new(self.SECRET.encode(), f"{sent}.".encode() + self.BODY, hashlib.sha256).hexdigest()
        verify_signature(self.SECRET, f"t={sent},v1={digest}", self.BODY, NOW)

    def test_the_secret_it_replaced_verifies_too_while_it_is_accepted(self):
        header = sign("the_old_secret_value", int(NOW.timestamp()), self.BODY)
        verify_signature((self.SECRET, "the_old_secret_value"), header, self.BODY, NOW)
        with pytest.raises(Unauthorized, match="does not match"):
            verify_signature((self.SECRET,), header, self.BODY, NOW)


_KEY_ID, _SECRET = "0123456789abcdef", "A" * 43
_KEY = f"fmk_{_KEY_ID}_{_SECRET}"


@pytest.mark.parametrize(
    "header", [f"Bearer  {_KEY}", f"Bearer\t{_KEY}", f"bearer   {_KEY}", f"BEARER {_KEY}"]
)
def test_rfc_6750_separators_the_rate_limit_counts_as_one_are_taken(header):
    from functions.shared.auth import _parse
    from local_system.edge import RateLimiter

    # `"Bearer" 1*SP token`: WAF's rate key (lowercased, blanks compressed) counts them as one key
    limiter = RateLimiter(per_second=1 / 60, window_seconds=60, clock=lambda: 0.0)
    assert limiter.retry_after(f"Bearer {_KEY}") is None
    assert limiter.retry_after(header) is not None  # the same budget: no second one to buy
    assert _parse(header) == (_KEY_ID, _SECRET)


@pytest.mark.parametrize(
    "header",
    [f"Bearer {_KEY} ", f" Bearer {_KEY}", f"Bearer {_KEY}\x85", f"Bearer {_KEY}\n", f"\u3000Bearer {_KEY}"],
)
def test_blanks_around_the_credentials_are_refused(header):
    # WAF's rate key keeps them: taken, each spelling would be a budget of its own
    from functions.shared.auth import _parse

    with pytest.raises(Unauthorized, match="nothing around it"):
        _parse(header)
