"""Routes of the ingest function: `POST /v1/events`, `GET /v1/events/{event_id}`."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.ingest import service
from functions.shared import api
from functions.shared.partner_events import Accepted, EventStatus, PartnerEvent

router = APIGatewayRouter()


@router.post(
    "/v1/events", summary="Send one partner-program event", responses={202: {"description": "Queued"}}
)
def post_event(event: Annotated[PartnerEvent, Body()]) -> Response[Accepted]:
    raw = service.parse_body(router.current_event.body or "{}")
    stored = service.accept_event(
        api.deps_of(router), api.program_of(router), event.id, event.type, event.occurred_at, raw
    )
    body = Accepted.model_validate({"event_id": stored.event_id, "status": stored.status})
    return Response(202, "application/json", body)


@router.get("/v1/events/<event_id>", summary="Read an event's status and decision")
def get_event(event_id: str) -> EventStatus:
    return EventStatus.model_validate(
        service.event_status(api.deps_of(router), api.program_of(router), event_id)
    )
