"""Routes of the loyalty function (SPEC 3.4): earn and spend for integrations; customers,
campaigns and workflows for program teams. Roles are checked at the edge from the route table."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.loyalty import service
from functions.loyalty.models import (
    CampaignPage,
    CampaignSettings,
    CampaignView,
    CustomerView,
    EarnAnswer,
    EarnRequest,
    HistoryPage,
    SpendAnswer,
    SpendRequest,
    StatusNote,
    WorkflowList,
    WorkflowSettings,
    WorkflowView,
)
from functions.shared import api
from functions.shared.domain.model import Program

router = APIGatewayRouter()


def _program() -> Program:
    program = api.principal_of(router).program
    assert program is not None, "loyalty routes admit program keys only"
    return program


def _raw() -> object:
    """The body as validation read it (`documents.read_json`, kept by the event): not read again."""
    return router.current_event.json_body


# --- earn and spend ------------------------------------------------------------------------
@router.post(
    "/v1/loyalty/earn",
    summary="Earn points (idempotent by id)",
    description="409 when the customer is blocked, or the id was used before with another body or by a "
    "spend: earns and spends share one id space.",
)
def post_earn(request: Annotated[EarnRequest, Body()]) -> EarnAnswer:
    return EarnAnswer.model_validate(service.earn(api.deps_of(router), _program(), request, _raw()))


@router.post(
    "/v1/loyalty/spend",
    summary="Spend points (idempotent by id)",
    description="409 when the customer is suspended or blocked or the balance is too low, and when "
    "the id was used before with another body or by an earn: earns and spends share one id space. "
    "409 of type /problems/decision-pending, with Retry-After (nothing spent), while a recent earn "
    "left them above the threshold of a workflow that suspends or blocks and has not run for them in "
    "that period yet (seconds; 20 minutes at most): the same spend passes, or is refused, once it has.",
)
def post_spend(request: Annotated[SpendRequest, Body()]) -> SpendAnswer:
    return SpendAnswer.model_validate(service.spend(api.deps_of(router), _program(), request, _raw()))


# --- customers -----------------------------------------------------------------------------
@router.get("/v1/loyalty/customers/<customer_id>", summary="A customer: status, balance, aggregates, history")
def get_customer(customer_id: str) -> CustomerView:
    return CustomerView.model_validate(service.customer_view(api.deps_of(router), _program(), customer_id))


@router.get(
    "/v1/loyalty/customers/<customer_id>/history",
    summary="A customer's history, newest first, a page at a time",
    description="Status changes and communications, newest first. Page with `next_cursor`; entries "
    "recorded meanwhile are newer than any page after the first and never shift it. A page of large "
    "communications may hold fewer than `limit` (an answer holds about 5 MB of them): follow "
    "`next_cursor` until it is null.",
)
def get_customer_history(
    customer_id: str,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None, Query(max_length=2000, description="`next_cursor` of the previous page, unchanged")
    ] = None,
) -> HistoryPage:
    page = service.history_page(api.deps_of(router), _program(), customer_id, limit, cursor)
    return HistoryPage.model_validate(page)


def _status_change(customer_id: str, change: str, body: StatusNote | None) -> CustomerView:
    principal = api.principal_of(router)
    note = body.note if body else None
    view = service.change_status(api.deps_of(router), principal, customer_id, change, note)
    return CustomerView.model_validate(view)


@router.post(
    "/v1/loyalty/customers/<customer_id>/suspend", summary="Suspend: the customer earns but cannot spend"
)
def suspend(customer_id: str, body: Annotated[StatusNote | None, Body()] = None) -> CustomerView:
    return _status_change(customer_id, "suspend", body)


@router.post("/v1/loyalty/customers/<customer_id>/unsuspend", summary="Undo a suspension")
def unsuspend(customer_id: str, body: Annotated[StatusNote | None, Body()] = None) -> CustomerView:
    return _status_change(customer_id, "unsuspend", body)


@router.post(
    "/v1/loyalty/customers/<customer_id>/block", summary="Block: the customer can neither earn nor spend"
)
def block(customer_id: str, body: Annotated[StatusNote | None, Body()] = None) -> CustomerView:
    return _status_change(customer_id, "block", body)


@router.post("/v1/loyalty/customers/<customer_id>/unblock", summary="Undo a block")
def unblock(customer_id: str, body: Annotated[StatusNote | None, Body()] = None) -> CustomerView:
    return _status_change(customer_id, "unblock", body)


# --- campaigns -----------------------------------------------------------------------------
@router.put("/v1/loyalty/campaigns/<campaign_id>", summary="Create or change a campaign's point caps")
def put_campaign(campaign_id: str, settings: Annotated[CampaignSettings, Body()]) -> CampaignView:
    view = service.put_campaign(api.deps_of(router), _program().program_id, campaign_id, settings)
    return CampaignView.model_validate(view)


@router.get(
    "/v1/loyalty/campaigns",
    summary="The program's campaigns, by id, a page at a time",
    description="Each campaign's settings as last saved; its figures (`granted_total`, `customers`) "
    "are `GET /v1/loyalty/campaigns/{id}`'s. Page with `next_cursor`.",
)
def list_campaigns(
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[
        str | None, Query(max_length=2000, description="`next_cursor` of the previous page, unchanged")
    ] = None,
) -> CampaignPage:
    page = service.campaigns_page(api.deps_of(router), _program().program_id, limit, cursor)
    return CampaignPage.model_validate(page)


@router.get("/v1/loyalty/campaigns/<campaign_id>", summary="A campaign's caps and counters")
def get_campaign(campaign_id: str) -> CampaignView:
    return CampaignView.model_validate(
        service.get_campaign(api.deps_of(router), _program().program_id, campaign_id)
    )


# --- workflows -----------------------------------------------------------------------------
@router.get("/v1/loyalty/workflows", summary="The program's workflows")
def list_workflows() -> WorkflowList:
    return WorkflowList.model_validate(service.list_workflows(api.deps_of(router), _program().program_id))


@router.put(
    "/v1/loyalty/workflows/<workflow_id>", summary="Create or replace an aggregated-attributes workflow"
)
def put_workflow(workflow_id: str, settings: Annotated[WorkflowSettings, Body()]) -> WorkflowView:
    view = service.put_workflow(api.deps_of(router), _program().program_id, workflow_id, settings)
    return WorkflowView.model_validate(view)


@router.get("/v1/loyalty/workflows/<workflow_id>", summary="A workflow")
def get_workflow(workflow_id: str) -> WorkflowView:
    return WorkflowView.model_validate(
        service.get_workflow(api.deps_of(router), _program().program_id, workflow_id)
    )


@router.delete(
    "/v1/loyalty/workflows/<workflow_id>",
    summary="Delete a workflow",
    responses={204: {"description": "Deleted"}},
)
def delete_workflow(workflow_id: str) -> Response[None]:
    service.delete_workflow(api.deps_of(router), _program().program_id, workflow_id)
    return Response(204, None, None)
