"""The route table: every HTTP route, the function that serves it and the roles it admits.

The local HTTP adapter and the CDK API construct both read this table, so the local system and the
deployed API cannot drift. Paths use API Gateway's `{param}` form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PROGRAM_TEAM = ("fraud", "admin")
INTEGRATION = ("integration", "admin")
SECURITY = ("security",)
ADMIN = ("admin",)
ANY_ROLE = ("integration", "viewer", "fraud", "admin", "security")
PAGE = ("limit", "cursor")  # a paged list's parameters


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str  # folder under functions/
    roles: tuple[str, ...] = ()  # empty: public (no credentials)
    signed: bool = False  # the program's signing secret, when set, applies
    # what the route's own logic may answer besides its success and what the edge and validation
    # answer for every route (401, 403, 404 for a path, 400/413/415/422 for a body: see the gate)
    answers: tuple[int, ...] = ()
    # those of its own answers that may carry Retry-After: the same request may pass once it has
    # passed (a loyalty spend's 409 `/problems/decision-pending`, while a workflow has not run)
    retried: tuple[int, ...] = ()
    # the query parameters it takes (its resolver's, which the OpenAPI document lists: a test holds
    # them alike); any other is refused, so a misspelt filter never answers as if there were none
    query: tuple[str, ...] = ()
    # whether it takes a body; None: as its method says (POST and PUT do, GET and DELETE do not). The
    # resolver's, as the OpenAPI document's requestBody (a test holds them alike): one that takes none
    # refuses a body that says anything, so a field sent to it is never dropped unread
    body: bool | None = None

    @property
    def public(self) -> bool:
        return not self.roles

    @property
    def takes_body(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH") if self.body is None else self.body

    @property
    def handler(self) -> str:
        return f"functions.{self.function}.handler.lambda_handler"

    @property
    def resolver_path(self) -> str:
        """The same path in Powertools' `<param>` form."""
        return re.sub(r"\{(\w+)\}", r"<\1>", self.path)

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method.upper() != self.method:
            return None
        found = _pattern(self.path).fullmatch(path)
        return found.groupdict() if found else None


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)))


# One block per capability; ROUTES is their concatenation.
DOCS_ROUTES: tuple[Route, ...] = (Route("GET", "/v1/openapi.json", "openapi"),)

INGEST_ROUTES: tuple[Route, ...] = (
    Route(
        "POST", "/v1/events", "ingest", INTEGRATION, signed=True, answers=(409,), query=("wait", "timeout_ms")
    ),
    Route("GET", "/v1/events/{event_id}", "ingest", INTEGRATION),
)

CASES_ROUTES: tuple[Route, ...] = (
    Route("GET", "/v1/me", "cases", ANY_ROLE),
    Route("GET", "/v1/cases", "cases", PROGRAM_TEAM, query=("view", "q", "status", "sort", "order", *PAGE)),
    Route("GET", "/v1/cases/{case_id}", "cases", PROGRAM_TEAM),
    Route("GET", "/v1/cases/{case_id}/audit", "cases", PROGRAM_TEAM, query=PAGE),
    Route("GET", "/v1/rewards", "cases", PROGRAM_TEAM, query=("partner_id", "customer_id", "status", *PAGE)),
    Route("POST", "/v1/rewards/{reward_id}/override", "cases", PROGRAM_TEAM, answers=(409,)),
    Route("GET", "/v1/summary", "cases", PROGRAM_TEAM),
    Route("POST", "/v1/cases/{case_id}/remove", "cases", PROGRAM_TEAM, answers=(409,)),
    Route("GET", "/v1/removed-partners", "cases", PROGRAM_TEAM, query=PAGE),
)

DISPUTES_ROUTES: tuple[Route, ...] = (
    Route("POST", "/v1/cases/{case_id}/dispute", "disputes", PROGRAM_TEAM, answers=(409,)),
    Route("GET", "/v1/disputes", "disputes", SECURITY, query=("status", *PAGE)),
    Route("POST", "/v1/disputes/{case_id}/verdict", "disputes", SECURITY, answers=(409,)),
)

LOYALTY_ROUTES: tuple[Route, ...] = (
    Route("POST", "/v1/loyalty/earn", "loyalty", INTEGRATION, answers=(409,)),
    Route("POST", "/v1/loyalty/spend", "loyalty", INTEGRATION, answers=(404, 409), retried=(409,)),
    Route("GET", "/v1/loyalty/customers/{customer_id}", "loyalty", PROGRAM_TEAM),
    Route("GET", "/v1/loyalty/customers/{customer_id}/history", "loyalty", PROGRAM_TEAM, query=PAGE),
    Route("POST", "/v1/loyalty/customers/{customer_id}/suspend", "loyalty", PROGRAM_TEAM, answers=(409,)),
    Route("POST", "/v1/loyalty/customers/{customer_id}/unsuspend", "loyalty", PROGRAM_TEAM, answers=(409,)),
    Route("POST", "/v1/loyalty/customers/{customer_id}/block", "loyalty", PROGRAM_TEAM, answers=(409,)),
    Route("POST", "/v1/loyalty/customers/{customer_id}/unblock", "loyalty", PROGRAM_TEAM, answers=(409,)),
    Route("PUT", "/v1/loyalty/campaigns/{campaign_id}", "loyalty", PROGRAM_TEAM, answers=(409,)),
    Route("GET", "/v1/loyalty/campaigns", "loyalty", PROGRAM_TEAM, query=PAGE),
    Route("GET", "/v1/loyalty/campaigns/{campaign_id}", "loyalty", PROGRAM_TEAM),
    Route("GET", "/v1/loyalty/workflows", "loyalty", PROGRAM_TEAM),
    Route("PUT", "/v1/loyalty/workflows/{workflow_id}", "loyalty", PROGRAM_TEAM, answers=(409,)),
    Route("GET", "/v1/loyalty/workflows/{workflow_id}", "loyalty", PROGRAM_TEAM),
    Route("DELETE", "/v1/loyalty/workflows/{workflow_id}", "loyalty", PROGRAM_TEAM),
)

# SPEC 2: admins hold their program's keys
KEYS_ROUTES: tuple[Route, ...] = (
    Route("GET", "/v1/keys", "keys", ADMIN),
    Route("POST", "/v1/keys", "keys", ADMIN, answers=(409,)),
    Route("DELETE", "/v1/keys/{key_id}", "keys", ADMIN),
)

ROUTES: tuple[Route, ...] = (
    DOCS_ROUTES + INGEST_ROUTES + CASES_ROUTES + DISPUTES_ROUTES + LOYALTY_ROUTES + KEYS_ROUTES
)

# SPEC 6: admins manage their program's webhooks
WEBHOOKS_ROUTES: tuple[Route, ...] = (
    Route("GET", "/v1/webhooks", "webhooks", ADMIN),
    Route("PUT", "/v1/webhooks/{webhook_id}", "webhooks", ADMIN, answers=(409,)),
    Route("GET", "/v1/webhooks/{webhook_id}", "webhooks", ADMIN),
    Route("DELETE", "/v1/webhooks/{webhook_id}", "webhooks", ADMIN),
    Route("POST", "/v1/webhooks/{webhook_id}/rotate-secret", "webhooks", ADMIN, answers=(409,), body=False),
    Route("GET", "/v1/webhooks/{webhook_id}/deliveries", "webhooks", ADMIN, query=PAGE),
    Route(
        "POST",
        "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
        "webhooks",
        ADMIN,
        answers=(409,),
        body=False,
    ),
)
ROUTES += WEBHOOKS_ROUTES

FUNCTIONS_WITH_ROUTES: tuple[str, ...] = tuple(dict.fromkeys(r.function for r in ROUTES))


def find_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in ROUTES:
        params = route.match(method, path)
        if params is not None:
            return route, params
    return None


def allowed_methods(path: str) -> list[str]:
    return [r.method for r in ROUTES if _pattern(r.path).fullmatch(path)]
