"""The edge (issue 18): the per-key rate limit, then the REQUEST authorizer with its result cache,
before any function runs; the functions trusting its context. Through the local gateway
(`local_system.http_adapter.LocalApiGateway`, what `make run` serves) and the real handlers on moto,
with the gateway's clock set, so the cache's lifetime is tested without waiting."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import Client

from functions.shared import runtime
from functions.shared.auth import AUTHORIZER_CACHE_SECONDS, sign
from functions.shared.errors import StorageUnavailable
from local_system import edge as local_edge
from local_system import http_adapter
from local_system.edge import LocalAuthorizer, RateLimiter
from local_system.http_adapter import LocalApiGateway
from tests.conftest import Aws, Tenant, make_tenant
from tests.support import invoke_raw, sample


class Ticking:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class Edge:
    """The local gateway, its clock, and a count of the functions it invoked behind the edge."""

    def __init__(self, gateway: LocalApiGateway, clock: Ticking) -> None:
        self.gateway, self.clock, self.client = gateway, clock, Client(gateway)
        self.functions_invoked: list[str] = []

    @property
    def authorizer(self) -> LocalAuthorizer:
        return self.gateway.authorizer

    def request(
        self,
        method: str,
        path: str,
        key: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        sent = dict(headers or {})
        if key is not None:
            sent["Authorization"] = f"Bearer {key}"
        data = body if isinstance(body, bytes | None) else json.dumps(body).encode()
        if data is not None:
            sent.setdefault("Content-Type", "application/json")
        return self.client.open(path, method=method, headers=sent, data=data)


@pytest.fixture
def edge(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Edge]:
    clock = Ticking()
    gateway = LocalApiGateway(rate_limiter=RateLimiter(clock=clock), authorizer=LocalAuthorizer(clock=clock))
    built = Edge(gateway, clock)
    real_invoke = http_adapter.invoke

    def counted(function: str, event: dict[str, Any], **options: Any) -> Any:
        built.functions_invoked.append(function.split(".")[1])
        return real_invoke(function, event, **options)

    monkeypatch.setattr(http_adapter, "invoke", counted)
    runtime.use_local_authorizer_cache(gateway.authorizer.flush)
    yield built
    runtime.use_local_authorizer_cache(None)


def is_problem(response: Any, status: int) -> bool:
    return (
        response.status_code == status
        and response.headers["Content-Type"] == "application/problem+json"
        and response.get_json(force=True)["status"] == status
    )


def test_an_unknown_key_is_refused_before_any_function_runs(edge: Edge, tenant: Tenant):
    real = tenant.keys["fraud"]
    unknown = real.replace(real.split("_")[1], "0" * 16)
    wrong_secret = real[:-2] + ("AA" if not real.endswith("AA") else "BB")

    for credentials in (unknown, wrong_secret, "not-a-key"):
        answer = edge.request("GET", "/v1/cases", key=credentials)
        assert is_problem(answer, 401), answer.get_data()
    answer = edge.request("GET", "/v1/cases")  # no header: refused without calling the authorizer
    assert is_problem(answer, 401)

    assert edge.functions_invoked == []
    assert edge.authorizer.invocations == 3


def test_one_authorizer_answer_serves_every_method_for_its_lifetime(edge: Edge, tenant: Tenant):
    admin = tenant.keys["admin"]

    # Given an admin's requests to three functions within the cache's lifetime
    assert edge.request("GET", "/v1/me", key=admin).status_code == 200
    assert edge.request("GET", "/v1/keys", key=admin).status_code == 200
    assert edge.request("GET", "/v1/loyalty/workflows", key=admin).status_code == 200
    # Then the key was read once, by the authorizer
    assert edge.authorizer.invocations == 1
    assert edge.functions_invoked == ["cases", "keys", "loyalty"]

    # When the lifetime has passed, the next request asks the authorizer again
    edge.clock.now += AUTHORIZER_CACHE_SECONDS + 1
    assert edge.request("GET", "/v1/me", key=admin).status_code == 200
    assert edge.authorizer.invocations == 2


def test_the_functions_take_the_caller_from_the_authorizer(edge: Edge, tenant: Tenant):
    answer = edge.request("GET", "/v1/me", key=tenant.keys["fraud"])

    assert answer.status_code == 200, answer.get_data()
    assert answer.get_json()["actor"] == "Program A fraud"
    assert answer.get_json()["role"] == "fraud"


def test_the_authorizer_records_the_last_use(edge: Edge, aws: Aws, tenant: Tenant):
    key = tenant.keys["viewer"]
    key_id = key.split("_")[1]
    assert aws.repository.load_key(key_id).last_used_at is None

    edge.request("GET", "/v1/me", key=key)

    assert aws.repository.load_key(key_id).last_used_at is not None


def test_roles_are_still_the_functions_to_check(edge: Edge, tenant: Tenant):
    # the authorizer admits the viewer's key for the whole stage; the route admits admins only
    answer = edge.request("GET", "/v1/keys", key=tenant.keys["viewer"])

    assert is_problem(answer, 403)


def test_a_revoked_key_stops_at_once_the_cache_is_flushed(edge: Edge, tenant: Tenant):
    fraud = tenant.keys["fraud"]
    assert edge.request("GET", "/v1/me", key=fraud).status_code == 200  # its answer is cached

    revoked = edge.request("DELETE", f"/v1/keys/{fraud.split('_')[1]}", key=tenant.keys["admin"])
    assert revoked.status_code == 204

    assert is_problem(edge.request("GET", "/v1/me", key=fraud), 401)
    assert edge.request("GET", "/v1/me", key=tenant.keys["admin"]).status_code == 200


def test_a_key_revoked_while_the_authorizer_checks_it_is_not_admitted_afterwards(
    edge: Edge, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
):
    """A security tester's race: the key's first request and its revocation at the same moment. The
    authorizer read the key still active, the revocation flushed the cache, then the authorizer's
    Allow was kept, and the revoked key was admitted for the cache's lifetime."""
    fraud, admin = tenant.keys["fraud"], tenant.keys["admin"]
    assert edge.request("GET", "/v1/me", key=admin).status_code == 200  # the admin's answer is cached
    real_invoke = local_edge.invoke
    revoked: list[int] = []

    def revoked_meanwhile(function: str, event: dict[str, Any], **options: Any) -> Any:
        answer = real_invoke(function, event, **options)  # the key read while still active
        if not revoked:
            revoked.append(edge.request("DELETE", f"/v1/keys/{fraud.split('_')[1]}", key=admin).status_code)
        return answer

    monkeypatch.setattr(local_edge, "invoke", revoked_meanwhile)
    assert edge.request("GET", "/v1/me", key=fraud).status_code == 200  # began before the revocation
    monkeypatch.setattr(local_edge, "invoke", real_invoke)

    assert revoked == [204]
    assert is_problem(edge.request("GET", "/v1/me", key=fraud), 401)
    assert is_problem(edge.request("GET", "/v1/cases", key=fraud), 401)


def test_without_the_flush_a_revoked_key_stops_within_the_cache_lifetime(
    edge: Edge, aws: Aws, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
):
    def unreachable() -> None:
        raise ConnectionError("API Gateway did not answer")

    runtime.use_local_authorizer_cache(unreachable)  # the flush fails: the revocation still holds
    fraud = tenant.keys["fraud"]
    assert edge.request("GET", "/v1/me", key=fraud).status_code == 200

    revoked = edge.request("DELETE", f"/v1/keys/{fraud.split('_')[1]}", key=tenant.keys["admin"])
    assert revoked.status_code == 204
    assert aws.repository.get_api_key(fraud.split("_")[1]).revoked_at is not None

    # the cached answer still admits it, at most for the lifetime
    assert edge.request("GET", "/v1/me", key=fraud).status_code == 200
    edge.clock.now += AUTHORIZER_CACHE_SECONDS + 1
    assert is_problem(edge.request("GET", "/v1/me", key=fraud), 401)


def test_signed_requests_are_still_verified_in_the_function(edge: Edge, aws: Aws):
    secret = "whsec_0123456789abcdef"
    signed = make_tenant(aws.repository, "Signed program", signing_secret=secret)
    key = signed.keys["integration"]
    body = json.dumps(sample("partnership.created", id="edge-signed-1")).encode()

    unsigned = edge.request("POST", "/v1/events", key=key, body=body)
    forged = edge.request(
        "POST",
        "/v1/events",
        key=key,
        body=body,
        headers={"X-Signature": sign("another-secret-123", int(time.time()), body)},
    )
    good = edge.request(
        "POST",
        "/v1/events",
        key=key,
        body=body,
        headers={"X-Signature": sign(secret, int(time.time()), body)},
    )

    assert is_problem(unsigned, 401) and is_problem(forged, 401)
    assert good.status_code == 202, good.get_data()
    assert edge.functions_invoked == ["ingest", "ingest", "ingest"]


def test_another_programs_data_stays_out_of_reach(edge: Edge, tenant: Tenant, other_tenant: Tenant):
    posted = edge.request(
        "POST",
        "/v1/events",
        key=other_tenant.keys["integration"],
        body=sample("partnership.created", id="b-1"),
    )
    assert posted.status_code == 202

    assert edge.request("GET", "/v1/events/b-1", key=other_tenant.keys["integration"]).status_code == 200
    assert is_problem(edge.request("GET", "/v1/events/b-1", key=tenant.keys["integration"]), 404)
    other_key_id = other_tenant.keys["fraud"].split("_")[1]
    assert is_problem(edge.request("DELETE", f"/v1/keys/{other_key_id}", key=tenant.keys["admin"]), 404)
    assert edge.request("GET", "/v1/me", key=other_tenant.keys["fraud"]).status_code == 200


def test_over_its_rate_a_key_gets_429_with_retry_after_and_others_do_not(edge: Edge, tenant: Tenant):
    edge.gateway.rate_limiter = RateLimiter(
        per_second=0.05, window_seconds=60, clock=edge.clock
    )  # 3 a minute
    fraud = tenant.keys["fraud"]

    statuses = [edge.request("GET", "/v1/me", key=fraud).status_code for _ in range(3)]
    limited = edge.request("GET", "/v1/me", key=fraud)
    other = edge.request("GET", "/v1/me", key=tenant.keys["admin"])

    assert statuses == [200, 200, 200]
    assert is_problem(limited, 429)
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert other.status_code == 200
    assert edge.functions_invoked == ["cases"] * 4  # the refused request reached nothing
    # a new window lets it through again
    edge.clock.now += int(limited.headers["Retry-After"])
    assert edge.request("GET", "/v1/me", key=fraud).status_code == 200


def test_blanks_around_a_key_buy_it_no_second_rate_budget(edge: Edge, tenant: Tenant):
    """The edge counts a key by its header lowercased, blanks compressed (WAF's transformations):
    a key taken with blanks or Unicode spaces around it was counted apart, a fresh budget each."""
    edge.gateway.rate_limiter = RateLimiter(per_second=0.05, window_seconds=60, clock=edge.clock)
    key = tenant.keys["fraud"]
    spellings = [f"Bearer {key}", f"Bearer {key} ", f"Bearer {key}\x85", f" Bearer {key}", f"Bearer  {key}"]

    statuses = [
        edge.client.open("/v1/me", method="GET", headers={"Authorization": spelling}).status_code
        for spelling in spellings
        for _ in range(3)
    ]

    # one key, 15 requests in a minute with a limit of 3: three pass, the other spellings are refused
    assert statuses.count(200) == 3 and set(statuses[3:]) <= {401, 429}, statuses
    assert edge.request("GET", "/v1/me", key=key).status_code == 429  # its budget is spent


def test_the_authorizer_handler_denies_a_bad_key_and_allows_a_good_one(aws: Aws, tenant: Tenant):
    # a Deny, which API Gateway answers with ACCESS_DENIED (401 here): no error of the function
    event = {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:000000000000:api/prod/GET/v1/me",
        "headers": {"Authorization": "Bearer fmk_0123456789abcdef_" + "A" * 43},
    }
    assert invoke_raw("authorizer", event)["policyDocument"]["Statement"][0]["Effect"] == "Deny"

    event["headers"]["Authorization"] = f"Bearer {tenant.keys['fraud']}"
    allowed = invoke_raw("authorizer", event)
    assert allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert allowed["context"]["role"] == "fraud"


def test_a_refused_key_is_cached_too_and_a_failing_table_is_not(
    edge: Edge, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
):
    unknown = "fmk_0123456789abcdef_" + "A" * 43
    assert is_problem(edge.request("GET", "/v1/me", key=unknown), 401)
    assert is_problem(edge.request("GET", "/v1/keys", key=unknown), 401)
    assert edge.authorizer.invocations == 1  # one read for a key sent again and again

    def down(*_: Any) -> Any:
        raise StorageUnavailable("throttled")

    with monkeypatch.context() as patched:
        patched.setattr(runtime.dependencies().repository, "load_key", down)
        failed = edge.request("GET", "/v1/me", key=tenant.keys["fraud"])
    assert is_problem(failed, 503) and failed.headers["Retry-After"] == "1"
    assert edge.request("GET", "/v1/me", key=tenant.keys["fraud"]).status_code == 200


def test_warm_requests_read_neither_the_key_nor_the_program(
    edge: Edge, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
):
    # issue 14: before, every request made two consistent reads (the key, then its program)
    repository = runtime.dependencies().repository
    reads: list[str] = []
    for name in ("load_key", "load_credentials", "get_program", "get_api_key"):
        real = getattr(repository, name)

        def counted(*args: Any, _real: Any = real, _name: str = name) -> Any:
            reads.append(_name)
            return _real(*args)

        monkeypatch.setattr(repository, name, counted)

    for _ in range(20):
        assert edge.request("GET", "/v1/loyalty/workflows", key=tenant.keys["fraud"]).status_code == 200

    assert reads == ["load_key", "get_program"]  # once per cache lifetime, not per request


def test_every_route_and_role_answers_the_same_through_the_edge_as_called_directly(
    edge: Edge, tenant: Tenant, security_key: str
):
    # The functions trust the authorizer's context instead of reading the key: for every credentialed
    # route and every role, the answer's status must be the one the function gives reading the key
    # itself (roles, 404 for what is not there, 422 for an empty body).
    from functions.shared.routes import ROUTES
    from tests.support import call, proxy_event

    keys = {**tenant.keys, "security": security_key}
    differences, seen = [], set()
    for route in (r for r in ROUTES if not r.public):
        path = route.path.replace("{", "").replace("}", "")  # {case_id} -> case_id: an unknown id
        body = {} if route.method in ("POST", "PUT") else None
        for role, key in keys.items():
            direct = call(route.function, proxy_event(route.method, path, body, key)).status
            through = edge.request(route.method, path, key=key, body=body).status_code
            seen.add(through)
            if direct != through:
                differences.append((route.method, route.path, role, direct, through))

    assert differences == []
    assert {200, 403, 404, 422} <= seen and 401 not in seen  # every key admitted, then judged
    assert edge.authorizer.invocations == len(keys)  # one per key, every route after from the cache


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_a_mistyped_api_address_is_no_console_page_but_405(tmp_path: Any, method: str):
    """Off the API's prefixes only the console is served, and only to GET and HEAD (as its
    distribution allows): a `POST /V1/loyalty/spend` answered 200 with the console's page, so an
    integration with a typo in its base URL saw its spends succeed."""
    (tmp_path / "index.html").write_text("<!doctype html><title>console</title>")
    client = Client(LocalApiGateway(tmp_path))

    answer = client.open("/V1/loyalty/spend", method=method, json={"points": 5})

    assert answer.status_code == 405
    assert answer.headers["Allow"] == "GET, HEAD"
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert client.get("/V1/loyalty/spend").status_code == 200  # the console's router takes the path


def test_a_console_path_with_a_nul_in_it_is_the_consoles_page_not_a_500(tmp_path: Any):
    """`GET /index.html%00` answered Werkzeug's 500 page ("embedded null byte"), not the console."""
    (tmp_path / "index.html").write_text("<!doctype html><title>console</title>")
    client = Client(LocalApiGateway(tmp_path))

    for path in ("/index.html%00", "/%00", "/cases%00/x"):
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
        assert b"<title>console</title>" in answer.get_data()


def test_a_file_beside_the_console_under_a_name_it_begins_is_not_served(tmp_path: Any):
    """The console's folder was confined by text: `dist` held `../dist2/secret` as within it."""
    root, beside = tmp_path / "dist", tmp_path / "dist2"
    root.mkdir(), beside.mkdir()
    (root / "index.html").write_text("<!doctype html><title>console</title>")
    (beside / "secret.txt").write_text("not the console's")
    client = Client(LocalApiGateway(root))

    answer = client.get("/../dist2/secret.txt")

    assert b"not the console's" not in answer.get_data()
    assert b"<title>console</title>" in answer.get_data()
