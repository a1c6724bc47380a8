"""Routes of the webhooks function (SPEC 6 "Webhooks"), for the program's admins."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.shared import api
from functions.webhooks import service
from functions.webhooks.models import (
    DeliveryPage,
    DeliveryView,
    PutWebhook,
    SecretRotated,
    WebhookPage,
    WebhookView,
)
from functions.webhooks.wiring import webhook_deps

router = APIGatewayRouter()
NO_STORE = {"Cache-Control": "no-store"}  # answers that may carry a secret


@router.get("/v1/webhooks", summary="The program's webhooks (never a secret)")
def get_webhooks() -> WebhookPage:
    return service.list_webhooks(webhook_deps(), api.program_of(router))


@router.put(
    "/v1/webhooks/<webhook_id>",
    summary="Create or change a webhook; a new one's secret is in this answer only",
    description="Send `replaces` so another admin's webhook is never replaced unseen: null to create "
    "one only if none of this id exists, the `updated_at` you read to change that one only if it is "
    "still as read; otherwise 409 and nothing changes. Left out, the PUT replaces whatever is there.",
)
def put_webhook(webhook_id: str, body: Annotated[PutWebhook, Body()]) -> Response[WebhookView]:
    saved = service.put_webhook(webhook_deps(), api.program_of(router), webhook_id, body)
    return Response(200, "application/json", saved, NO_STORE)


@router.get("/v1/webhooks/<webhook_id>", summary="A webhook (never its secret)")
def get_webhook(webhook_id: str) -> WebhookView:
    return service.get_webhook(webhook_deps(), api.program_of(router), webhook_id)


@router.delete(
    "/v1/webhooks/<webhook_id>", summary="Delete a webhook", responses={204: {"description": "Deleted"}}
)
def delete_webhook(webhook_id: str) -> Response[None]:
    service.delete_webhook(webhook_deps(), api.program_of(router), webhook_id)
    return Response(204, None, None)


@router.post(
    "/v1/webhooks/<webhook_id>/rotate-secret",
    summary="A new secret, shown once; the old one keeps signing for 24 hours",
)
def rotate_secret(webhook_id: str) -> Response[SecretRotated]:
    rotated = service.rotate_secret(webhook_deps(), api.program_of(router), webhook_id)
    return Response(200, "application/json", rotated, NO_STORE)


@router.get(
    "/v1/webhooks/<webhook_id>/deliveries", summary="A webhook's deliveries and their tries, newest first"
)
def get_deliveries(
    webhook_id: str,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2000, description="the last page's `next_cursor`")] = None,
) -> DeliveryPage:
    return service.list_deliveries(webhook_deps(), api.program_of(router), webhook_id, limit, cursor)


@router.post(
    "/v1/webhooks/<webhook_id>/deliveries/<delivery_id>/retry",
    summary="Send a delivery once again, now (same id, same body)",
    responses={202: {"description": "Scheduled"}},
)
def retry_delivery(webhook_id: str, delivery_id: str) -> Response[DeliveryView]:
    retried = service.retry_delivery(webhook_deps(), api.program_of(router), webhook_id, delivery_id)
    return Response(202, "application/json", retried)
