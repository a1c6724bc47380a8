"""Routes of the disputes function: disputing a case, and the security team's verdicts."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import ConfigDict, Field

from functions.disputes import service
from functions.shared import api, views
from functions.shared.domain.disputes import UNSEEN
from functions.shared.inputs import Model, Note, WrittenText

router = APIGatewayRouter()


class DisputeRequest(Model):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)  # a blank reason is none

    reason: WrittenText


class VerdictRequest(Model):
    model_config = ConfigDict(extra="forbid")

    verdict: Literal["approve", "decline"]
    note: Note = ""
    replaces: Literal["approve", "decline"] | None = Field(
        default=None,
        description="The verdict the caller saw on the case (null: none yet). Sent, a verdict recorded "
        "since by someone else is not replaced: 409. Left out, any verdict is replaced. The same "
        "verdict and note as the one recorded (a retry after a 503) record nothing again: 200.",
    )


@router.post("/v1/cases/<case_id>/dispute", summary="Dispute a case (open -> disputed)")
def post_dispute(case_id: str, body: Annotated[DisputeRequest, Body()]) -> views.CaseView:
    principal = api.principal_of(router)
    return service.dispute(
        api.deps_of(router), api.program_of(router), case_id, body.reason.strip(), principal.actor
    )


@router.get(
    "/v1/disputes",
    summary="Disputed cases across programs (security team)",
    description="Oldest dispute first, with or without a verdict, read from an index page by page. Page "
    "with `next_cursor` (null on the last page); a verdict recorded between pages does not move its case. "
    "A page of long reasons and notes may hold fewer than `limit` (an answer holds about 5 MB of them).",
)
def get_disputes(
    status: Annotated[Literal["open"], Query()] = "open",
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[
        str | None, Query(max_length=2000, description="`next_cursor` of the previous page, unchanged")
    ] = None,
) -> views.DisputePage:
    return service.open_disputes(api.deps_of(router), limit, cursor)


@router.post("/v1/disputes/<case_id>/verdict", summary="Record a verdict; the next dispute cycle applies it")
def post_verdict(case_id: str, body: Annotated[VerdictRequest, Body()]) -> views.DisputeView:
    principal = api.principal_of(router)
    seen = body.replaces if "replaces" in body.model_fields_set else UNSEEN
    return service.record_verdict(
        api.deps_of(router), case_id, body.verdict, body.note, principal.actor, seen
    )
