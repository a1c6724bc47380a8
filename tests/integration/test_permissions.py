"""The permission matrix (SPEC 2): every route of the route table x every role x the caller's own
program and another program. Viewers and integrations get 403 on fraud data, a program's own keys
get 403 on the security team's dispute routes, anything of another program is 404, and the security
team works on disputes across programs."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.shared import runtime, tenancy
from functions.shared.clock import FixedClock
from functions.shared.config import Settings
from functions.shared.domain.webhooks import Delivery
from functions.shared.messaging import InMemoryPublisher
from functions.shared.routes import ROUTES, Route
from functions.webhooks import wiring
from local_system.provision import provision
from local_system.webhooks import provision_webhooks
from tests.conftest import Aws, make_tenant
from tests.integration.scoring_support import drain, purchase, send, signup, status
from tests.support import Answer, call, proxy_event

ROLES = ("integration", "viewer", "fraud", "admin", "security")

# SPEC 2, written out here rather than read from the route table, so the table is checked against
# it: integrations send events and earn/spend points, viewers see no fraud data, fraud and admin
# act on their program's cases, rewards and loyalty items, admin has every program scope and alone
# holds the program's keys, and the platform's security team works on disputes only. () is public.
EVENTS, PROGRAM_TEAM, SECURITY, ADMIN = {"integration", "admin"}, {"fraud", "admin"}, {"security"}, {"admin"}
SPEC_ROLES: dict[tuple[str, str], set[str]] = {
    ("GET", "/v1/openapi.json"): set(),
    ("POST", "/v1/events"): EVENTS,
    ("GET", "/v1/events/{event_id}"): EVENTS,
    ("GET", "/v1/me"): set(ROLES),
    ("GET", "/v1/cases"): PROGRAM_TEAM,
    ("GET", "/v1/cases/{case_id}"): PROGRAM_TEAM,
    ("GET", "/v1/cases/{case_id}/audit"): PROGRAM_TEAM,
    ("GET", "/v1/rewards"): PROGRAM_TEAM,
    ("POST", "/v1/rewards/{reward_id}/override"): PROGRAM_TEAM,
    ("GET", "/v1/summary"): PROGRAM_TEAM,
    ("POST", "/v1/cases/{case_id}/remove"): PROGRAM_TEAM,
    ("GET", "/v1/removed-partners"): PROGRAM_TEAM,
    ("POST", "/v1/cases/{case_id}/dispute"): PROGRAM_TEAM,
    ("GET", "/v1/disputes"): SECURITY,
    ("POST", "/v1/disputes/{case_id}/verdict"): SECURITY,
    ("POST", "/v1/loyalty/earn"): EVENTS,
    ("POST", "/v1/loyalty/spend"): EVENTS,
    ("GET", "/v1/loyalty/customers/{customer_id}"): PROGRAM_TEAM,
    ("GET", "/v1/loyalty/customers/{customer_id}/history"): PROGRAM_TEAM,
    **{
        ("POST", f"/v1/loyalty/customers/{{customer_id}}/{c}"): PROGRAM_TEAM
        for c in ("suspend", "unsuspend", "block", "unblock")
    },
    ("PUT", "/v1/loyalty/campaigns/{campaign_id}"): PROGRAM_TEAM,
    ("GET", "/v1/loyalty/campaigns/{campaign_id}"): PROGRAM_TEAM,
    ("GET", "/v1/loyalty/campaigns"): PROGRAM_TEAM,  # beyond SPEC 3.4: the Campaigns tab's list
    ("GET", "/v1/loyalty/workflows"): PROGRAM_TEAM,
    ("PUT", "/v1/loyalty/workflows/{workflow_id}"): PROGRAM_TEAM,
    ("GET", "/v1/loyalty/workflows/{workflow_id}"): PROGRAM_TEAM,
    ("DELETE", "/v1/loyalty/workflows/{workflow_id}"): PROGRAM_TEAM,
    ("GET", "/v1/keys"): ADMIN,
    ("POST", "/v1/keys"): ADMIN,
    ("DELETE", "/v1/keys/{key_id}"): ADMIN,
    # SPEC 6: webhooks are the program's admins'
    ("GET", "/v1/webhooks"): ADMIN,
    ("PUT", "/v1/webhooks/{webhook_id}"): ADMIN,
    ("GET", "/v1/webhooks/{webhook_id}"): ADMIN,
    ("DELETE", "/v1/webhooks/{webhook_id}"): ADMIN,
    ("POST", "/v1/webhooks/{webhook_id}/rotate-secret"): ADMIN,
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"): ADMIN,
    ("POST", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry"): ADMIN,
}
_ips = itertools.count(150)
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def world() -> Iterator[SimpleNamespace]:
    """One moto account for the module: programs A (the caller's) and B (another), each with cases,
    held rewards, a dispute, an event and loyalty items; a platform security key."""
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            patch.setenv(name, value)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        runtime.forget_dependencies()
        resources = provision(lambda name: boto3.client(name, region_name="us-east-1"))
        for name, value in resources.environment().items():
            patch.setenv(name, value)
        webhooks_env = provision_webhooks(
            lambda n: boto3.client(n, region_name="us-east-1"), resources.event_bus_name
        )
        for name, value in webhooks_env.items():
            patch.setenv(name, value)
        wiring.forget_webhook_deps()
        settings = Settings.from_env()
        aws = Aws(
            resources,
            runtime.build_repository(settings),
            boto3.client("sqs", region_name="us-east-1"),
            settings,
        )
        deps = runtime.dependencies()
        clock = FixedClock(datetime(2026, 11, 20, 9, tzinfo=UTC))
        patch.setattr(deps, "clock", clock)
        patch.setattr(deps, "publisher", InMemoryPublisher())
        world = SimpleNamespace(aws=aws, deps=deps)
        world.a = make_tenant(aws.repository, "Program A")
        world.b = make_tenant(aws.repository, "Program B")
        world.security = tenancy.create_key(aws.repository, clock, None, "security", "Platform security")[1]
        world.own = resources_of(world, world.a, "a")
        world.other = resources_of(world, world.b, "b")
        yield world
        runtime.forget_dependencies()


def resources_of(world, tenant, tag: str) -> SimpleNamespace:
    """Cases (one to view, one per role that may dispute or remove, one disputed), a held reward
    per role that may override, an event, a loyalty customer, a campaign and workflows. Every id
    carries the program's tag: no id of program B names anything in program A."""
    found = SimpleNamespace(cases={}, rewards={}, partner=f"p-{tag}-view")
    for purpose in ("view", "dispute-fraud", "dispute-admin", "remove-fraud", "remove-admin", "verdict"):
        partner_id = f"p-{tag}-{purpose}"
        email = f"{purpose}.{tenant.program_id}@example.com"
        first = signup(
            f"{partner_id}-first", email=email, ip=f"81.2.69.{next(_ips)}", at="2026-11-02T09:00:00Z"
        )
        flagged = signup(partner_id, email=email, ip=f"81.2.69.{next(_ips)}", at="2026-11-03T09:00:00Z")
        send(tenant, first)
        send(tenant, flagged)
        drain(world.aws)
        found.cases[purpose] = status(tenant, flagged["id"])["case_id"]
        found.event = flagged["id"]
    for role in ("fraud", "admin"):
        reward = purchase(
            f"c-{tag}-{role}", found.partner, at="2026-11-04T09:00:00Z", ip=f"81.2.69.{next(_ips)}"
        )
        send(tenant, reward)
        found.rewards[role] = reward["reward"]["id"]
    drain(world.aws)
    dispute = request(
        tenant.keys["fraud"], "POST", f"/v1/cases/{found.cases['verdict']}/dispute", {"reason": "ok"}
    )
    assert dispute.status == 200, dispute
    found.customer = f"member-{tag}"  # created by its first earn
    earn = {"id": f"earn-{tag}", "customer_id": found.customer, "points": 50, "kind": "purchase"}
    assert request(tenant.keys["integration"], "POST", "/v1/loyalty/earn", earn).status == 200
    found.campaign, found.workflow = f"camp-{tag}", f"wf-{tag}"
    found.doomed = {role: f"wf-{tag}-doomed-{role}" for role in ("fraud", "admin")}  # to be deleted
    admin = tenant.keys["admin"]
    assert request(admin, "PUT", f"/v1/loyalty/campaigns/{found.campaign}", CAMPAIGN).status == 200
    for workflow in (found.workflow, *found.doomed.values()):
        assert request(admin, "PUT", f"/v1/loyalty/workflows/{workflow}", WORKFLOW).status == 200
    # a key only an admin of the program may revoke (a key is revoked once: one is enough)
    found.doomed_key = tenancy.create_key(
        world.aws.repository, FixedClock(T0), tenant.program_id, "viewer", "Doomed"
    )[0].key_id
    found.keys = {key.split("_")[1] for key in tenant.keys.values()} | {found.doomed_key}
    # a webhook with a delivery, and one webhook per role that may delete it
    found.webhook, found.doomed_webhook = f"wh-{tag}", f"wh-{tag}-doomed"
    for webhook in (found.webhook, found.doomed_webhook):
        saved = request(
            admin, "PUT", f"/v1/webhooks/{webhook}", {"url": PUBLIC_URL, "events": ["PartnerFlagged"]}
        )
        assert saved.status == 200, saved
    store = wiring.webhook_deps().store
    made = store.get_webhook(tenant.program_id, found.webhook).created_at  # a delivery is its webhook's
    found.delivery = store.create_delivery(
        Delivery(
            tenant.program_id, found.webhook, f"dlv_{tag}", f"n-{tag}", "PartnerFlagged", made, "{}", "failed"
        )
    )[0].delivery_id
    return found


T0 = datetime(2026, 11, 1, tzinfo=UTC)
PUBLIC_URL = "https://93.184.215.14/hooks"


CAMPAIGN = {"total_cap": 1000, "per_customer_cap": 25, "limit_behavior": "dynamic"}
WORKFLOW = {
    "trigger": {"event": "points.earned"},
    "filter": {"aggregation": "earned", "date_range": "today", "customer": "current", "threshold": 5000},
    "actions": [{"type": "communication", "event": "warning", "payload": {}}],
    "enabled": True,
}


def request(key: str, method: str, path: str, body: Any = None, **query: str) -> Answer:
    route = next(r for r in ROUTES if r.match(method, path) is not None)
    return call(route.function, proxy_event(method, path, body, key, query=query or None))


# --- what each route is asked, and what an allowed caller gets ----------------------------------
@dataclass(frozen=True)
class Ask:
    path: str
    body: Any = None
    query: dict[str, str] | None = None
    allowed: int | tuple[int, ...] = 200  # the answer to a role the route admits
    check: Callable[[Answer], None] | None = None


def _unique(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def _actor(role: str) -> str:
    return role if role in ("fraud", "admin") else "fraud"


def asks(world, role: str, scope: str) -> dict[tuple[str, str], Ask]:
    """The request per route for a caller of `role` (its keys are program A's, or the platform's)
    aimed at program A's items (`own`) or program B's (`other`)."""
    items = world.own if scope == "own" else world.other
    mine = scope == "own" or role == "security"  # the security team's scope is the platform
    missing = 200 if mine else 404
    case = items.cases["view"]
    event = sample_event()
    theirs = {"other": lambda answer: _none_of(answer, world.other)}.get(scope)
    return {
        ("GET", "/v1/openapi.json"): Ask("/v1/openapi.json"),
        ("POST", "/v1/events"): Ask("/v1/events", event, allowed=202),
        ("GET", "/v1/events/{event_id}"): Ask(f"/v1/events/{items.event}", allowed=missing),
        ("GET", "/v1/me"): Ask("/v1/me", check=lambda answer: _me(answer, world, role)),
        ("GET", "/v1/cases"): Ask("/v1/cases", check=theirs),
        ("GET", "/v1/cases/{case_id}"): Ask(f"/v1/cases/{case}", allowed=missing),
        ("GET", "/v1/cases/{case_id}/audit"): Ask(f"/v1/cases/{case}/audit", allowed=missing),
        ("GET", "/v1/rewards"): Ask(
            "/v1/rewards", query={"partner_id": items.partner}, check=_empty if scope == "other" else None
        ),
        ("POST", "/v1/rewards/{reward_id}/override"): Ask(
            f"/v1/rewards/{items.rewards[_actor(role)]}/override", {"status": "approved"}, allowed=missing
        ),
        ("GET", "/v1/summary"): Ask("/v1/summary"),
        ("POST", "/v1/cases/{case_id}/remove"): Ask(
            f"/v1/cases/{items.cases['remove-' + _actor(role)]}/remove",
            {"block_reapply": False},
            allowed=missing,
        ),
        ("GET", "/v1/removed-partners"): Ask("/v1/removed-partners", check=theirs),
        ("POST", "/v1/cases/{case_id}/dispute"): Ask(
            f"/v1/cases/{items.cases['dispute-' + _actor(role)]}/dispute",
            {"reason": "known"},
            allowed=missing,
        ),
        ("GET", "/v1/disputes"): Ask(
            "/v1/disputes", query={"status": "open"}, check=lambda answer: _both_programs(answer, world)
        ),
        ("POST", "/v1/disputes/{case_id}/verdict"): Ask(
            f"/v1/disputes/{items.cases['verdict']}/verdict", {"verdict": "approve", "note": ""}
        ),
        ("POST", "/v1/loyalty/earn"): Ask(
            "/v1/loyalty/earn",
            {"id": _unique("earn"), "customer_id": "member-new", "points": 5, "kind": "purchase"},
        ),
        ("POST", "/v1/loyalty/spend"): Ask(
            "/v1/loyalty/spend", {"id": _unique("spend"), "customer_id": world.own.customer, "points": 1}
        ),
        ("GET", "/v1/loyalty/customers/{customer_id}"): Ask(
            f"/v1/loyalty/customers/{items.customer}", allowed=missing
        ),
        ("GET", "/v1/loyalty/customers/{customer_id}/history"): Ask(
            f"/v1/loyalty/customers/{items.customer}/history", allowed=missing
        ),
        **{
            ("POST", f"/v1/loyalty/customers/{{customer_id}}/{change}"): Ask(
                f"/v1/loyalty/customers/{items.customer}/{change}",
                {"note": "test"},
                allowed=(200, 409) if mine else 404,
            )
            for change in ("suspend", "unsuspend", "block", "unblock")
        },
        # a PUT names the caller's own campaign or workflow: there is no other program's to reach
        ("PUT", "/v1/loyalty/campaigns/{campaign_id}"): Ask(
            f"/v1/loyalty/campaigns/{world.own.campaign}", CAMPAIGN
        ),
        ("GET", "/v1/loyalty/campaigns/{campaign_id}"): Ask(
            f"/v1/loyalty/campaigns/{items.campaign}", allowed=missing
        ),
        ("GET", "/v1/loyalty/campaigns"): Ask(
            "/v1/loyalty/campaigns", check=lambda answer: _own_campaigns_only(answer, world)
        ),
        ("GET", "/v1/loyalty/workflows"): Ask("/v1/loyalty/workflows"),
        ("PUT", "/v1/loyalty/workflows/{workflow_id}"): Ask(
            f"/v1/loyalty/workflows/{world.own.workflow}", WORKFLOW
        ),
        ("GET", "/v1/loyalty/workflows/{workflow_id}"): Ask(
            f"/v1/loyalty/workflows/{items.workflow}", allowed=missing
        ),
        ("DELETE", "/v1/loyalty/workflows/{workflow_id}"): Ask(
            f"/v1/loyalty/workflows/{items.doomed[_actor(role)]}", allowed=204 if mine else 404
        ),
        ("GET", "/v1/keys"): Ask("/v1/keys", check=lambda answer: _no_keys_of(answer, world.other)),
        ("POST", "/v1/keys"): Ask("/v1/keys", {"role": "viewer", "actor": _unique("teammate")}, allowed=201),
        ("DELETE", "/v1/keys/{key_id}"): Ask(f"/v1/keys/{items.doomed_key}", allowed=204 if mine else 404),
        ("GET", "/v1/webhooks"): Ask(
            "/v1/webhooks", check=lambda answer: _no_webhooks_of(answer, world.other)
        ),
        # a PUT names the caller's own webhook: another program's id is the caller's own new one
        ("PUT", "/v1/webhooks/{webhook_id}"): Ask(
            # still subscribed to its delivery's notification, which a retry by hand then sends
            f"/v1/webhooks/{world.own.webhook}",
            {"url": PUBLIC_URL, "events": ["PartnerFlagged", "RewardsHeld"]},
        ),
        ("GET", "/v1/webhooks/{webhook_id}"): Ask(f"/v1/webhooks/{items.webhook}", allowed=missing),
        ("DELETE", "/v1/webhooks/{webhook_id}"): Ask(
            f"/v1/webhooks/{items.doomed_webhook}", allowed=204 if mine else 404
        ),
        ("POST", "/v1/webhooks/{webhook_id}/rotate-secret"): Ask(
            f"/v1/webhooks/{items.webhook}/rotate-secret", allowed=missing
        ),
        ("GET", "/v1/webhooks/{webhook_id}/deliveries"): Ask(
            f"/v1/webhooks/{items.webhook}/deliveries", allowed=missing
        ),
        ("POST", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry"): Ask(
            f"/v1/webhooks/{items.webhook}/deliveries/{items.delivery}/retry", allowed=202 if mine else 404
        ),
    }


def sample_event() -> dict[str, Any]:
    return signup(_unique("p-new"), ip=f"81.2.70.{next(_ips) % 250}", at="2026-11-06T09:00:00Z")


def _me(answer: Answer, world, role: str) -> None:
    expected = None if role == "security" else world.a.program_id
    assert (answer.body["role"], answer.body["program_id"]) == (role, expected)


def _ids_in(answer: Answer) -> set[str]:
    return {item.get("id") or item.get("case_id") for item in answer.body["items"]}


def _none_of(answer: Answer, other) -> None:
    assert not _ids_in(answer) & set(other.cases.values()), answer.body


def _own_campaigns_only(answer: Answer, world) -> None:
    # the caller's program's campaigns, whatever is asked: never another program's
    listed = {item["id"] for item in answer.body["items"]}
    assert world.own.campaign in listed and world.other.campaign not in listed, answer.body


def _no_keys_of(answer: Answer, other) -> None:
    listed = {item["key_id"] for item in answer.body["items"]}
    assert listed and not listed & other.keys, answer.body


def _no_webhooks_of(answer: Answer, other) -> None:
    listed = {item["id"] for item in answer.body["items"]}
    assert listed and not listed & {other.webhook, other.doomed_webhook}, answer.body


def _empty(answer: Answer) -> None:
    assert answer.body["items"] == [], answer.body


def _both_programs(answer: Answer, world) -> None:
    listed = {(item["program_id"], item["id"]) for item in answer.body["items"]}
    assert (world.a.program_id, world.own.cases["verdict"]) in listed
    assert (world.b.program_id, world.other.cases["verdict"]) in listed


def key_of(world, role: str) -> str:
    return world.security if role == "security" else world.a.keys[role]


def test_the_route_table_admits_the_roles_of_the_spec():
    assert {(r.method, r.path): set(r.roles) for r in ROUTES} == SPEC_ROLES


def test_the_matrix_covers_every_route():
    asked = set(asks(SimpleNamespace(own=FAKE, other=FAKE, a=None, b=None), "fraud", "own"))
    assert asked == {(r.method, r.path) for r in ROUTES}


FAKE = SimpleNamespace(
    cases=dict.fromkeys(
        ("view", "dispute-fraud", "dispute-admin", "remove-fraud", "remove-admin", "verdict"), "c"
    ),
    rewards={"fraud": "r", "admin": "r"},
    partner="p",
    event="e",
    customer="m",
    campaign="c",
    workflow="w",
    doomed={"fraud": "w", "admin": "w"},
    doomed_key="k",
    keys=set(),
    webhook="w",
    doomed_webhook="w",
    delivery="d",
)


@pytest.mark.parametrize("scope", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_permission_matrix(world, route: Route, role: str, scope: str):
    ask = asks(world, role, scope)[(route.method, route.path)]
    admitted = SPEC_ROLES[(route.method, route.path)]
    key = None if not admitted else key_of(world, role)
    before = list(world.deps.repository.disputes()) if route.method != "GET" else None

    answer = call(route.function, proxy_event(route.method, ask.path, ask.body, key, query=ask.query))

    if not admitted:
        assert answer.status == 200, answer
    elif role not in admitted:
        assert answer.status == 403, answer
        assert answer.body["title"] == "Forbidden" and role in answer.body["detail"]
        if before is not None:  # refused: nothing changed
            assert list(world.deps.repository.disputes()) == before
    else:
        allowed = ask.allowed if isinstance(ask.allowed, tuple) else (ask.allowed,)
        assert answer.status in allowed, answer
        if answer.status == 404:
            assert answer.headers["content-type"] == "application/problem+json"
        elif ask.check:
            ask.check(answer)


def test_the_other_programs_items_are_untouched_by_the_matrix(world):
    """Runs after the matrix (file order): nothing of program B changed through program A's keys."""
    b = world.b.keys["fraud"]
    for purpose in ("view", "dispute-fraud", "dispute-admin", "remove-fraud", "remove-admin"):
        answer = request(b, "GET", f"/v1/cases/{world.other.cases[purpose]}")
        assert (answer.status, answer.body["status"]) == (200, "open"), (purpose, answer)
    rewards = request(b, "GET", "/v1/rewards", partner_id=world.other.partner).body["items"]
    assert {r["status"] for r in rewards} == {"on_hold"}
    customer = request(b, "GET", f"/v1/loyalty/customers/{world.other.customer}").body
    assert customer["status"] == "active"
    assert world.aws.repository.get_api_key(world.other.doomed_key).active
    webhooks = {w["id"] for w in request(world.b.keys["admin"], "GET", "/v1/webhooks").body["items"]}
    assert webhooks == {world.other.webhook, world.other.doomed_webhook}
