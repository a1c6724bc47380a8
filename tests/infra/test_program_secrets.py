"""Programs' request-signing secrets (SPEC 2, `X-Signature` on POST /v1/events) in the stack, by
intent: sealed by a rotating, retained KMS key of their own (not the webhook secrets' key); only the
ingest function, which checks signatures, may open them, and only for their purpose (the encryption
context the code seals them with); no function seals them: fraudctl does, with the operator's
credentials, pointed at the key by the stack's output."""

from __future__ import annotations

import json

from functions.shared.routes import ROUTES
from functions.shared.sealing import PROGRAM_SECRETS_KEY_ALIAS, program_context
from infra import constants, permissions
from tests.infra import cfn

INGEST = next(spec for spec in constants.API_FUNCTIONS if spec.name == "ingest")  # POST /v1/events
PURPOSE_CONDITION = {"StringEquals": {"kms:EncryptionContext:purpose": "program-signing-secret"}}


def _key(template: cfn.Template) -> tuple[str, dict]:
    return template.only("AWS::KMS::Key", **cfn.PROGRAM_SECRETS_KEY)


def _grants_on_the_key(template: cfn.Template) -> dict[str, set[cfn.Grant]]:
    """role logical id -> its grants on the program secrets' key, for every role of the stack."""
    key_id, _ = _key(template)
    found = {
        role: {g for g in template.grants(role) if g.resource == f"<{key_id}.Arn>"}
        for role in template.of_type("AWS::IAM::Role")
    }
    return {role: grants for role, grants in found.items() if grants}


def test_the_secrets_are_sealed_by_a_rotating_retained_key_of_their_own(template: cfn.Template) -> None:
    key_id, key = _key(template)
    webhook_key, _ = template.only("AWS::KMS::Key", **cfn.WEBHOOK_SECRETS_KEY)

    assert key_id != webhook_key
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain" and key["UpdateReplacePolicy"] == "Retain"  # with the table
    # the key's own policy leaves use to IAM (the account root): no other principal may decrypt
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    assert all(s["Action"] == "kms:*" or "kms:Decrypt" not in json.dumps(s["Action"]) for s in statements)


def test_only_ingest_may_open_them_and_nothing_in_the_stack_seals_them(template: cfn.Template) -> None:
    ingest = template.function_role(template.functions_by_handler()[INGEST.handler])

    granted = {role: {g.action for g in grants} for role, grants in _grants_on_the_key(template).items()}

    assert granted == {ingest: {permissions.KMS_DECRYPT}}


def test_the_functions_that_check_signatures_are_those_that_may_open_the_secrets() -> None:
    # a signed route served by a function without the grant would answer 503 to every signed request
    signed = {route.function for route in ROUTES if route.signed}
    openers = {name for name, access in permissions.ACCESS.items() if access.program_secrets}

    assert signed == openers == {"ingest"}
    assert all(
        permissions.KMS_ENCRYPT not in access.program_secrets for access in permissions.ACCESS.values()
    )


def test_every_grant_on_the_key_is_for_the_secrets_purpose_alone(template: cfn.Template) -> None:
    grants = set().union(*_grants_on_the_key(template).values())

    assert grants and {g.condition for g in grants} == {cfn.condition_text(PURPOSE_CONDITION)}
    # the purpose the code seals and opens with is the one the grant names
    assert program_context("prg-1")["purpose"] == "program-signing-secret"


def test_only_the_ingest_function_is_told_the_key(template: cfn.Template) -> None:
    key_id, _ = _key(template)
    told = {
        handler: cfn.render(
            template.props(function_id)["Environment"]["Variables"]["PROGRAM_SECRETS_KMS_KEY_ID"]
        )
        for handler, function_id in template.functions_by_handler().items()
        if "PROGRAM_SECRETS_KMS_KEY_ID" in template.props(function_id)["Environment"]["Variables"]
    }

    assert told == {INGEST.handler: f"<{key_id}.Arn>"}


def test_the_key_answers_to_the_alias_the_code_seals_with(template: cfn.Template) -> None:
    key_id, _ = _key(template)
    _, alias = template.only("AWS::KMS::Alias")

    assert alias["Properties"]["AliasName"] == PROGRAM_SECRETS_KEY_ALIAS
    assert cfn.referenced_id(alias["Properties"]["TargetKeyId"]) == key_id
