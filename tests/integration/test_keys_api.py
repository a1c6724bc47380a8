"""Admins hold their program's keys (SPEC 2, 3.2 `/v1/keys`), through the real handlers on moto:
create (the key shown once), list (never a key or its hash), revoke (at once), the last use kept to
the minute, and the attacks: other roles, another program's key, the platform's role."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.shared import runtime, tenancy
from functions.shared.clock import FixedClock
from functions.shared.errors import StorageUnavailable
from tests.conftest import Aws, Tenant
from tests.support import Answer, call, proxy_event

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> FixedClock:
    """The functions' clock, set: last-used times are compared to it."""
    fixed = FixedClock(T0)
    monkeypatch.setattr(runtime.dependencies(), "clock", fixed)
    return fixed


def keys_api(key: str | None, method: str, path: str = "/v1/keys", body: Any = None) -> Answer:
    return call("keys", proxy_event(method, path, body, key))


def me(key: str) -> Answer:
    return call("cases", proxy_event("GET", "/v1/me", key=key))


def listed(admin_key: str) -> list[dict[str, Any]]:
    answer = keys_api(admin_key, "GET")
    assert answer.status == 200, answer
    return answer.body["items"]


def key_id_of(key: str) -> str:
    return key.split("_")[1]


def secret_of(key: str) -> str:
    return key.split("_", 2)[2]


# --- create ---------------------------------------------------------------------------------
def test_an_admin_creates_a_key_shown_once_that_works_at_once(aws: Aws, tenant: Tenant, clock: FixedClock):
    # When an admin creates a key for a new teammate
    answer = keys_api(tenant.keys["admin"], "POST", body={"role": "fraud", "actor": "Dana Scully"})

    # Then the answer is 201 with the key, which no cache may keep
    assert answer.status == 201, answer
    assert set(answer.body) == {"key_id", "key", "role", "actor"}
    assert (answer.body["role"], answer.body["actor"]) == ("fraud", "Dana Scully")
    assert answer.body["key"].startswith(f"fmk_{answer.body['key_id']}_")
    assert answer.headers["cache-control"] == "no-store"
    # and the key signs in at once, as the teammate, in the admin's program
    signed_in = me(answer.body["key"])
    assert signed_in.status == 200, signed_in
    assert (signed_in.body["actor"], signed_in.body["role"], signed_in.body["program_id"]) == (
        "Dana Scully",
        "fraud",
        tenant.program_id,
    )
    # and only its hash is stored
    stored = aws.repository.get_api_key(answer.body["key_id"])
    assert secret_of(answer.body["key"]) not in repr(stored)


def test_the_listing_shows_actor_role_created_and_last_used_never_a_key_or_its_hash(
    aws: Aws, tenant: Tenant, other_tenant: Tenant, clock: FixedClock
):
    created = keys_api(tenant.keys["admin"], "POST", body={"role": "integration", "actor": "Backend"}).body

    answer = keys_api(tenant.keys["admin"], "GET")

    assert answer.status == 200, answer
    items = answer.body["items"]
    assert items[0]["key_id"] == created["key_id"]  # newest first
    assert {(i["actor"], i["role"]) for i in items} == {
        ("Backend", "integration"),
        *((f"Program A {role}", role) for role in ("integration", "viewer", "fraud", "admin")),
    }
    assert all(
        set(i) == {"key_id", "actor", "role", "created_at", "last_used_at", "created_by"} for i in items
    )
    # the key an admin made names the admin key that made it; the tenant's, made as fraudctl makes them, none
    by = {i["key_id"]: i["created_by"] for i in items}
    assert by.pop(created["key_id"]) == key_id_of(tenant.keys["admin"])
    assert set(by.values()) == {None}
    # no key text, no secret, no hash anywhere in the answer; nothing of program B
    text = json.dumps(answer.body)
    for key in [created["key"], *tenant.keys.values()]:
        assert secret_of(key) not in text
        assert aws.repository.get_api_key(key_id_of(key)).secret_hash not in text
    assert not {key_id_of(k) for k in other_tenant.keys.values()} & {i["key_id"] for i in items}


def test_the_last_use_is_kept_to_the_minute_without_a_write_per_request(
    aws: Aws, tenant: Tenant, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
):
    deps = runtime.dependencies()
    writes: list[datetime] = []
    note = deps.repository.note_key_used

    def counted(key_id: str, at: datetime, unless_since: datetime) -> bool:
        if key_id == key_id_of(tenant.keys["fraud"]):
            writes.append(at)
        return note(key_id, at, unless_since)

    monkeypatch.setattr(deps.repository, "note_key_used", counted)

    def last_used() -> str | None:
        fraud = key_id_of(tenant.keys["fraud"])
        return next(i["last_used_at"] for i in listed(tenant.keys["admin"]) if i["key_id"] == fraud)

    assert last_used() is None  # never used yet

    # Given a key used three times within a minute
    for seconds in (0, 20, 59):
        clock.advance(seconds=seconds - (clock.now() - T0).total_seconds())
        assert me(tenant.keys["fraud"]).status == 200
    # Then its last use was written once, at the first
    assert writes == [T0]
    assert datetime.fromisoformat(last_used()) == T0

    # When it is used again more than a minute after that write
    clock.advance(seconds=2)  # T0 + 61 s
    assert me(tenant.keys["fraud"]).status == 200
    assert me(tenant.keys["fraud"]).status == 200
    # Then one more write
    assert writes == [T0, datetime(2026, 11, 20, 9, 1, 1, tzinfo=UTC)]
    assert datetime.fromisoformat(last_used()) == datetime(2026, 11, 20, 9, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("failure", [StorageUnavailable("throttled"), RuntimeError("AccessDenied")])
def test_a_failed_last_use_write_never_fails_the_request(
    aws: Aws, tenant: Tenant, clock: FixedClock, monkeypatch: pytest.MonkeyPatch, failure: Exception
):
    def broken(*args: Any) -> bool:
        raise failure

    monkeypatch.setattr(runtime.dependencies().repository, "note_key_used", broken)

    assert keys_api(tenant.keys["admin"], "GET").status == 200
    assert me(tenant.keys["fraud"]).status == 200


# --- revoke ---------------------------------------------------------------------------------
def test_a_revoked_key_is_refused_at_once_and_leaves_the_listing(aws: Aws, tenant: Tenant, clock: FixedClock):
    created = keys_api(tenant.keys["admin"], "POST", body={"role": "viewer", "actor": "Temp"}).body
    assert me(created["key"]).status == 200

    answer = keys_api(tenant.keys["admin"], "DELETE", f"/v1/keys/{created['key_id']}")

    assert (answer.status, answer.body) == (204, None)
    assert me(created["key"]).status == 401
    assert created["key_id"] not in {i["key_id"] for i in listed(tenant.keys["admin"])}
    # again: nothing more to do, the same answer
    assert keys_api(tenant.keys["admin"], "DELETE", f"/v1/keys/{created['key_id']}").status == 204


def test_revoking_the_key_you_are_signed_in_with_signs_you_out(aws: Aws, tenant: Tenant, clock: FixedClock):
    second_admin = keys_api(tenant.keys["admin"], "POST", body={"role": "admin", "actor": "Leaving"}).body

    answer = keys_api(second_admin["key"], "DELETE", f"/v1/keys/{second_admin['key_id']}")

    assert answer.status == 204
    refused = keys_api(second_admin["key"], "GET")
    assert refused.status == 401 and refused.headers["content-type"] == "application/problem+json"
    assert keys_api(tenant.keys["admin"], "GET").status == 200  # the other admin is still in


def test_a_program_at_its_limit_of_keys_answers_409_until_one_is_revoked(
    aws: Aws, tenant: Tenant, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
):
    held = listed(tenant.keys["admin"])
    monkeypatch.setattr(tenancy, "MAX_PROGRAM_KEYS", len(held))  # the program holds as many as it may

    refused = keys_api(tenant.keys["admin"], "POST", body={"role": "viewer", "actor": "One Too Many"})

    assert refused.status == 409, refused
    assert refused.headers["content-type"] == "application/problem+json"
    assert "revoke one" in refused.body["detail"]
    assert listed(tenant.keys["admin"]) == held
    # a key revoked makes room
    revoked = keys_api(tenant.keys["admin"], "DELETE", f"/v1/keys/{key_id_of(tenant.keys['viewer'])}")
    assert revoked.status == 204
    created = keys_api(tenant.keys["admin"], "POST", body={"role": "viewer", "actor": "One Too Many"})
    assert created.status == 201, created


# --- attacks --------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["viewer", "fraud", "integration", "security"])
def test_only_admins_reach_the_keys(
    aws: Aws, tenant: Tenant, security_key: str, clock: FixedClock, role: str
):
    key = security_key if role == "security" else tenant.keys[role]
    victim = key_id_of(tenant.keys["viewer"])

    for method, path, body in (
        ("GET", "/v1/keys", None),
        ("POST", "/v1/keys", {"role": "admin", "actor": "Escalated"}),
        ("DELETE", f"/v1/keys/{victim}", None),
    ):
        answer = keys_api(key, method, path, body)
        assert answer.status == 403, (method, answer)
        assert role in answer.body["detail"]

    # nothing was created or revoked
    assert "Escalated" not in {i["actor"] for i in listed(tenant.keys["admin"])}
    assert me(tenant.keys["viewer"]).status == 200


def test_no_key_no_keys(aws: Aws, tenant: Tenant):
    assert keys_api(None, "GET").status == 401
    assert keys_api(None, "POST", body={"role": "admin", "actor": "Anyone"}).status == 401


def test_another_programs_key_is_not_found_and_stays_valid(
    aws: Aws, tenant: Tenant, other_tenant: Tenant, clock: FixedClock
):
    theirs = key_id_of(other_tenant.keys["admin"])

    answer = keys_api(tenant.keys["admin"], "DELETE", f"/v1/keys/{theirs}")

    assert answer.status == 404, answer
    unknown = keys_api(tenant.keys["admin"], "DELETE", f"/v1/keys/{'0' * 16}")
    assert (unknown.status, unknown.body["detail"]) == (404, answer.body["detail"].replace(theirs, "0" * 16))
    assert keys_api(tenant.keys["admin"], "DELETE", "/v1/keys/not-a-key-id").status == 404
    assert me(other_tenant.keys["admin"]).status == 200


def test_a_platform_key_is_never_a_programs_to_revoke(
    aws: Aws, tenant: Tenant, security_key: str, clock: FixedClock
):
    answer = keys_api(tenant.keys["admin"], "DELETE", f"/v1/keys/{key_id_of(security_key)}")

    assert answer.status == 404
    assert call("disputes", proxy_event("GET", "/v1/disputes", key=security_key)).status == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "security", "actor": "Platform"}, "role"),
        ({"role": "superuser", "actor": "Root"}, "role"),
        ({"role": "fraud", "actor": "Elsewhere", "program_id": "prg-other"}, "program_id"),
        ({"role": "fraud", "actor": ""}, "actor"),
        ({"role": "fraud", "actor": "   "}, "actor"),
        ({"role": "fraud", "actor": "\u0000\u202e evil"}, "actor"),  # shown in every audit trail
        ({"role": "fraud", "actor": "Ops\nadmin"}, "actor"),
        # the names the system signs its own entries with: a person's action passed off as a workflow's
        ({"role": "fraud", "actor": "workflow:weekly-warning"}, "actor"),
        # with a character drawn as a colon (a security tester's find: the history's By cells were
        # the same): ratio, modifier letter colon, raised colon, Hebrew sof pasuq, Armenian full stop
        *(
            ({"role": "fraud", "actor": f"workflow{colon}wf-guard"}, "actor")
            for colon in ("\u2236", "\ua789", "\u02f8", "\u05c3", "\u0589", "\uff1a")
        ),
        # or after a blank, or by any mark that is no letter (a braille colon, a semicolon); and a
        # katakana prolonged sound mark drawn as the cycle's dash (a security tester's, again)
        *(
            ({"role": "fraud", "actor": actor}, "actor")
            for actor in ("workflow :wf_a", "workflow\u2803wf_a", "workflow;wf_a", "dispute\u30fccycle")
        ),
        # small capitals (what "font generator" sites give), a Greek tau, a CJK one drawn as a dash,
        # a combining mark before it all (a reviewer's)
        *(
            ({"role": "fraud", "actor": actor}, "actor")
            for actor in (
                "\ua731\u028f\ua731\u1d1b\u1d07\u1d0d",  # ꜱʏꜱᴛᴇᴍ
                "\u1d21\u1d0f\u0280\u1d0b\ua730\u029f\u1d0f\u1d21:wf_a",  # ᴡᴏʀᴋꜰʟᴏᴡ:
                "\u0455\u0443\u0455\u03c4\u0435m",  # ѕуѕτеm
                "dispute\u4e00cycle",
                "\u0301workflow:wf_a",
                # all Cyrillic, its `м` drawn as a small capital; negative squared letters; an Arabic
                # tatweel and a modifier low macron drawn as dashes; a half triangular colon
                "\u0455\u0443\u0455\u0442\u0435\u043c",  # ѕуѕтем
                "\U0001f182\U0001f188\U0001f182\U0001f183\U0001f174\U0001f17c",  # 🆂🆈🆂🆃🅴🅼
                "dispute\u0640cycle",
                "workflow\u02d1wf_a",
                # a dash look-alike with blanks round it, or beside a dash (a fourth review's);
                # ASCII drawn alike; a combining mark inside the word; regional indicator letters
                "dispute \u4e00 cycle",
                "hold_\u30fcsweep",
                "hoId-sweep",
                "w0rkf1ow:wf_a",
                "workf\u0323low:wf_a",
                "\U0001f1f8\U0001f1fe\U0001f1f8\U0001f1f9\U0001f1ea\U0001f1f2",
                # a bar for an `l`, a hair space inside the word, a Thai mark over a letter, a Thai
                # vowel drawn as a colon (a fifth review's)
                "ho|d-sweep",
                "work\u200aflow:wf_a",
                "workf\u0e31low:wf_a",
                "workflow\u0e30wf_a",
            )
        ),
        ({"role": "fraud", "actor": "System"}, "actor"),
        ({"role": "fraud", "actor": "\u0455\u0443\u0455tem"}, "actor"),  # Cyrillic letters that read `system`
        # the cycle's and the sweep's, however written: a removal passed off as the scheduler's
        ({"role": "fraud", "actor": "dispute-cycle"}, "actor"),
        ({"role": "fraud", "actor": "Dispute Cycle"}, "actor"),
        ({"role": "fraud", "actor": "hold_sweep"}, "actor"),
        ({"actor": "No role"}, "role"),
    ],
)
def test_an_admin_cannot_mint_a_platform_key_or_another_programs(
    aws: Aws, tenant: Tenant, other_tenant: Tenant, clock: FixedClock, body: dict[str, Any], field: str
):
    before = {i["key_id"] for i in listed(tenant.keys["admin"])}

    answer = keys_api(tenant.keys["admin"], "POST", body=body)

    assert answer.status == 422, answer
    assert field in {e["field"] for e in answer.body["errors"]}
    assert {i["key_id"] for i in listed(tenant.keys["admin"])} == before  # nothing created
    assert len(listed(other_tenant.keys["admin"])) == 4


def test_the_service_refuses_a_platform_role_for_a_program_key_too(aws: Aws, tenant: Tenant):
    # the edge refuses it first; the rule itself (shared with fraudctl) holds on its own
    from functions.keys import service
    from functions.shared.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        service.create_key(aws.repository, FixedClock(T0), tenant.program_id, "security", "Platform", "k")
    assert refused.value.errors[0]["field"] == "role"


def test_the_keys_a_leaked_admin_key_made_are_found_by_it_whatever_actor_they_were_given(
    aws: Aws, tenant: Tenant, clock: FixedClock
):
    # an operator tester's: with a leaked admin key an attacker made an admin key named like the
    # real one ("Demo admin"); revoking the leaked key left it, and nothing told it from the real
    leaked = tenant.keys["admin"]
    made = keys_api(leaked, "POST", body={"role": "admin", "actor": "Program A admin"}).body
    assert keys_api(leaked, "DELETE", f"/v1/keys/{key_id_of(leaked)}").status == 204
    listing = {i["key_id"]: i for i in listed(made["key"])}
    assert listing[made["key_id"]]["created_by"] == key_id_of(leaked)
    assert keys_api(made["key"], "DELETE", f"/v1/keys/{made['key_id']}").status == 204  # revoked in turn


def test_keys_created_by_fraudctl_s_helper_are_listed_too(aws: Aws, tenant: Tenant, clock: FixedClock):
    record, _ = tenancy.create_key(aws.repository, clock, tenant.program_id, "integration", "From fraudctl")

    assert record.key_id in {i["key_id"] for i in listed(tenant.keys["admin"])}


@pytest.mark.parametrize(
    "actor",
    ["\u0000\u202e evil", "Ops\x1b[2J", "x" * 201, " ", " SYSTEM ", "Workflow:x", "\u200d\u200c", "\u3164"],
)
def test_fraudctl_s_helper_refuses_an_actor_no_audit_trail_should_show(aws: Aws, tenant: Tenant, actor: str):
    from functions.shared.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        tenancy.create_key(aws.repository, FixedClock(T0), tenant.program_id, "integration", actor)
    assert refused.value.errors[0]["field"] == "actor"
    record, _ = tenancy.create_key(
        aws.repository, FixedClock(T0), tenant.program_id, "integration", " Zoë Ω "
    )
    assert record.actor == "Zoë Ω"


@pytest.mark.parametrize(
    "actor",
    [
        "System Administrator",
        "system \u7ba1\u7406\u8005",  # system 管理者: a name in another script beside the word
        "\u4f50\u85e4 (system)",  # 佐藤 (system)
        "hold sweep \u30c1\u30fc\u30e0",  # hold sweep チーム
        "Workflow \u4e00\u53f7",  # Workflow 一号: a CJK `一` beside no Latin letter is no dash
        "Jean-Luc: night",
        "workflow_ops@example.com",  # a fifth review's: what follows `workflow` must read as a colon
        "Workflow (EU)",
        "#workflow-team",
        "\u03a9mar",  # Ωmar
        "T\u014dky\u014d desk",  # Tōkyō desk
        "Workflows team",
        "system-bot",
        "Ops: workflow:x",
        "Dispute cycle team",
        "علی‌اکبر (fraud desk)",  # Persian, written with a zero-width non-joiner
        "👩‍💻 on call",  # an emoji of two joined
    ],
)
def test_names_near_the_systems_own_are_anyones(aws: Aws, tenant: Tenant, clock: FixedClock, actor: str):
    answer = keys_api(tenant.keys["admin"], "POST", body={"role": "fraud", "actor": actor})

    assert answer.status == 201, answer
    assert answer.body["actor"] == actor


def test_last_used_at_is_shown_in_whole_seconds(aws: Aws, tenant: Tenant, clock: FixedClock):
    # it showed the request's microseconds, for a time kept only to the minute
    clock.advance(seconds=7.654321)
    assert me(tenant.keys["fraud"]).status == 200

    fraud = key_id_of(tenant.keys["fraud"])
    shown = next(i["last_used_at"] for i in listed(tenant.keys["admin"]) if i["key_id"] == fraud)
    assert datetime.fromisoformat(shown) == clock.now().replace(microsecond=0), shown
    assert "." not in shown
