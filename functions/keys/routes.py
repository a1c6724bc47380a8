"""Routes of the keys function: a program's API keys, for its admins (SPEC 3.2 `/v1/keys`)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.keys import service
from functions.keys.models import CreateKey, KeyCreated, KeyPage
from functions.shared import api

router = APIGatewayRouter()


@router.get("/v1/keys", summary="The program's keys: actor, role, created, last used (never a key)")
def get_keys() -> KeyPage:
    return service.list_keys(api.deps_of(router).repository, api.program_of(router))


@router.post(
    "/v1/keys",
    summary="A new key of the program; the key is in this answer only",
    responses={201: {"description": "Created"}},
)
def post_key(body: Annotated[CreateKey, Body()]) -> Response[KeyCreated]:
    deps = api.deps_of(router)
    program_id, by = api.program_of(router), api.principal_of(router).key_id
    created = service.create_key(deps.repository, deps.clock, program_id, body.role, body.actor, by)
    # the key is in this body alone: no cache along the way may keep it
    return Response(201, "application/json", created, {"Cache-Control": "no-store"})


@router.delete(
    "/v1/keys/<key_id>",
    summary="Revoke a key of the program, at once",
    responses={204: {"description": "Revoked"}},
)
def delete_key(key_id: str) -> Response[None]:
    deps = api.deps_of(router)
    service.revoke_key(deps.repository, deps.clock, api.program_of(router), key_id)
    service.stop_at_the_edge(deps.flush_authorizer_cache)
    return Response(204, None, None)
