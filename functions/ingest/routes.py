"""Routes of the ingest function: `POST /v1/events`, `GET /v1/events/{event_id}`."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.ingest import service
from functions.shared import api
from functions.shared.errors import invalid_query
from functions.shared.partner_events import Accepted, EventStatus, PartnerEvent

router = APIGatewayRouter()

_LAMBDA_MARGIN_MS = 1500  # left to answer before the function's own timeout

Wait = Annotated[
    Literal["decision"] | None,
    Query(
        description="`decision`: answer 200 with the decision when the event is scored within the wait",
        examples=["decision"],
    ),
]
TimeoutMs = Annotated[
    int,
    Query(
        ge=0,
        le=service.MAX_WAIT_MS,
        description="Only with `wait=decision`: how long to wait for the decision, in milliseconds",
    ),
]


@router.post(
    "/v1/events",
    summary="Send one partner-program event",
    responses={
        202: {"description": "Queued", "content": {"application/json": {"model": Accepted}}},
        200: {
            "description": "With `wait=decision`: scored within the wait; the event's status and decision",
            "content": {"application/json": {"model": EventStatus}},
        },
    },
)
def post_event(
    event: Annotated[PartnerEvent, Body()],
    wait: Wait = None,
    timeout_ms: TimeoutMs = service.DEFAULT_WAIT_MS,
) -> Response[Accepted | EventStatus]:
    if wait != "decision" and "timeout_ms" in (router.current_event.query_string_parameters or {}):
        raise invalid_query({"timeout_ms": "only with wait=decision"})  # before anything is recorded
    deps = api.deps_of(router)
    raw = router.current_event.json_body  # as validation read it (`documents.read_json`), once
    stored = service.accept_event(deps, api.program_of(router), event.id, event.type, event.occurred_at, raw)
    if wait == "decision":
        left_ms = router.lambda_context.get_remaining_time_in_millis() - _LAMBDA_MARGIN_MS
        stored = service.decide_within(deps, stored, min(timeout_ms, left_ms) / 1000)
        if stored.status == "scored":
            return Response(200, "application/json", EventStatus.model_validate(service.status_of(stored)))
    # the event's status now: as recorded, or as the wait last read it
    body = Accepted.model_validate({"event_id": stored.event_id, "status": stored.status})
    return Response(202, "application/json", body)


@router.get("/v1/events/<event_id>", summary="Read an event's status and decision")
def get_event(event_id: str) -> EventStatus:
    return EventStatus.model_validate(
        service.event_status(api.deps_of(router), api.program_of(router), event_id)
    )
