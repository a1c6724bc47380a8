"""Routes of the cases function: who is calling, and (as they land) cases, rewards, removals."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel

from functions.shared import api

router = APIGatewayRouter()


class Me(BaseModel):
    actor: str
    role: str
    program_id: str | None
    program_name: str | None


@router.get("/v1/me", summary="The caller's actor name, role and program (the console's sign-in)")
def get_me() -> Me:
    principal = api.principal_of(router)
    program = principal.program
    return Me(
        actor=principal.actor,
        role=principal.role,
        program_id=principal.program_id,
        program_name=program.name if program else None,
    )
