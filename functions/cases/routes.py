"""Routes of the cases function: the program teams' API (SPEC 3.2) and who is calling."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import ConfigDict, Field, StrictBool

from functions.cases import service
from functions.shared import api, views
from functions.shared.domain.cases import CASE_VIEWS
from functions.shared.domain.model import REWARD_STATUSES, ROLES
from functions.shared.inputs import Identifier, Model, one_of

router = APIGatewayRouter()


class Me(Model):
    key_id: str  # the key's public part: the console marks it in the API keys list
    actor: str
    role: Annotated[str, one_of(ROLES)]
    program_id: str | None
    program_name: str | None


class Override(Model):
    model_config = ConfigDict(extra="forbid")

    status: Literal["approved"]


class RemoveRequest(Model):
    model_config = ConfigDict(extra="forbid")

    block_reapply: StrictBool = False  # `"yes"` or `1` is not a choice: 422
    replaces: Literal["open", "disputed", "declined"] | None = Field(
        default=None,
        description="The case's status as the caller saw it. Sent, a case whose status changed since (a "
        "teammate disputed it, the dispute cycle declined it) is not removed: 409, and nothing changes. "
        "Left out, the partner of any removable case is removed (a disputed case's dispute withdrawn).",
    )


Limit = Annotated[int, Query(ge=1, le=100)]
# the views GET /v1/cases lists (removed cases: GET /v1/removed-partners), and the statuses a `status`
# filter may name in one of them (`service.list_cases` checks it against the view asked)
ListedView = Literal["active", "resolved"]
LISTED_STATUSES = [status for view in get_args(ListedView) for status in CASE_VIEWS[view]]


@router.get("/v1/me", summary="The caller's actor name, role and program (the console's sign-in)")
def get_me() -> Me:
    principal = api.principal_of(router)
    program = principal.program
    return Me(
        key_id=principal.key_id,
        actor=principal.actor,
        role=principal.role,
        program_id=principal.program_id,
        program_name=program.name if program else None,
    )


@router.get(
    "/v1/cases",
    summary="Active or resolved cases: search, filter, sort, page",
    description="`sort=hold_amount` (the active view) orders cases by the worth of everything they "
    "hold, every currency added up in euros at the European Central Bank's reference rates of one "
    "day (shipped with the API), then by case id; a case's `hold_amount` is its currency worth the "
    "most in euros (`hold_amounts` lists every one). A currency the ECB publishes no rate for has no "
    "known worth: a case holding only such currencies ranks below every case holding a currency with "
    "a rate and above a case holding nothing (with `order=desc`: after the first, before the "
    "second), among its kind by the largest amount it holds; a case holding both kinds is placed by "
    "the worth of those with a rate.",
)
def get_cases(
    view: Annotated[ListedView, Query()] = "active",
    q: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[
        Annotated[str, one_of(LISTED_STATUSES)] | None,
        Query(description="; ".join(f"{v} view: {', '.join(CASE_VIEWS[v])}" for v in get_args(ListedView))),
    ] = None,
    sort: Annotated[Literal["flagged_at", "hold_amount", "resolved_at"], Query()] = "flagged_at",
    order: Annotated[Literal["asc", "desc"], Query()] = "desc",
    limit: Limit = 25,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> views.CasePage:
    return service.list_cases(
        api.deps_of(router), api.program_of(router), view, q, status, sort, order, limit, cursor
    )


@router.get("/v1/cases/<case_id>", summary="One case: the drawer, with held rewards and audit trail")
def get_case(case_id: str) -> views.CaseDetail:
    return service.case_detail(api.deps_of(router), api.program_of(router), case_id)


@router.get(
    "/v1/cases/<case_id>/audit",
    summary="A case's audit trail, newest first, page by page",
    description="The drawer (GET /v1/cases/{id}) carries the newest entries and `audit_next_cursor`; "
    "each page gives the `next_cursor` of the one after (null on the last). A cursor belongs to the "
    "case and program that gave it.",
)
def get_case_audit(
    case_id: str,
    limit: Limit = 50,
    cursor: Annotated[
        str | None, Query(max_length=2000, description="`next_cursor` (or `audit_next_cursor`), unchanged")
    ] = None,
) -> views.AuditPage:
    return service.case_audit(api.deps_of(router), api.program_of(router), case_id, limit, cursor)


@router.get(
    "/v1/rewards",
    summary="Rewards, newest first: the program's, or one partner's or customer's",
    description="Every filter is optional. Without `partner_id` and `customer_id` the program's "
    "rewards (with `status`, only those in it) are read from an index page by page; with one, that "
    "partner's or customer's, from its own index, a filtered page reading at most 500 rewards (a page "
    "cut short by it still carries a cursor). Page with `next_cursor`: a cursor belongs to the query "
    "that gave it.",
)
def get_rewards(
    partner_id: Annotated[Identifier | None, Query()] = None,  # one that names no one is a 422, not []
    customer_id: Annotated[Identifier | None, Query()] = None,
    status: Annotated[Annotated[str, one_of(REWARD_STATUSES)] | None, Query()] = None,  # the enum lists them
    limit: Limit = 50,
    cursor: Annotated[
        str | None, Query(max_length=2000, description="`next_cursor` of the previous page, unchanged")
    ] = None,
) -> views.RewardPage:
    return service.list_rewards(
        api.deps_of(router), api.program_of(router), partner_id, customer_id, status, limit, cursor
    )


@router.post("/v1/rewards/<reward_id>/override", summary="Approve a held reward by hand (never re-held)")
def post_override(reward_id: str, body: Annotated[Override, Body()]) -> views.RewardView:
    principal = api.principal_of(router)
    return service.override_reward(api.deps_of(router), api.program_of(router), reward_id, principal.actor)


@router.get(
    "/v1/summary",
    summary="The Security Monitoring box: case counts, held rewards, flags per day",
    description="Figures kept as cases change (never counted at read time): one small query per "
    "summary shard (8), whatever the number of cases. `flags_per_day`: the last 30 days (UTC), "
    "oldest first, days without flags included.",
)
def get_summary() -> views.Summary:
    return service.summary(api.deps_of(router), api.program_of(router))


@router.post(
    "/v1/cases/<case_id>/remove",
    summary="Remove the case's partner from the program",
    description="Archives every reward of the partner not yet approved or paid, and every reward that "
    "arrives for them later: a removed partner is never paid again. A reward already approved (by hand "
    "too) stays approved. Allowed on an open, disputed (the dispute is withdrawn) or declined case; "
    "409 on an approved or removed one.",
)
def post_remove(case_id: str, body: Annotated[RemoveRequest, Body()]) -> views.RemovedPartner:
    principal = api.principal_of(router)
    return service.remove_partner(
        api.deps_of(router),
        api.program_of(router),
        case_id,
        body.block_reapply,
        principal.actor,
        body.replaces,
    )


@router.get(
    "/v1/removed-partners",
    summary="Partners removed from the program, with who removed them",
    description="Newest removal first, read from an index page by page. Page with `next_cursor` "
    "(null on the last page): a cursor belongs to the program and listing that gave it.",
)
def get_removed_partners(
    limit: Limit = 25,
    cursor: Annotated[
        str | None, Query(max_length=2000, description="`next_cursor` of the previous page, unchanged")
    ] = None,
) -> views.RemovedPage:
    return service.removed_partners(api.deps_of(router), api.program_of(router), limit, cursor)
