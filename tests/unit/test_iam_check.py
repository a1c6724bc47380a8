"""`tests.iam_check` reads a botocore call as IAM does: each item of a transaction by its own action,
a query on an index by that index, API-key items by the grant on them alone."""

from __future__ import annotations

from infra.permissions import ACCESS, CONDITION_CHECK_ITEM, Access
from tests.iam_check import refused

KEY = {"pk": {"S": "APIKEY#0123456789abcdef"}, "sk": {"S": "KEY"}}
CASE = {"pk": {"S": "P#prg-1#CASE#c1"}, "sk": {"S": "CASE"}}


def test_a_transaction_is_allowed_item_by_item():
    step = {
        "TransactItems": [
            {"Update": {"Key": CASE, "TableName": "t"}},
            {"ConditionCheck": {"Key": CASE, "TableName": "t"}},
        ]
    }
    without = Access(table=frozenset({"dynamodb:UpdateItem"}))

    assert refused(without, "dynamodb", "TransactWriteItems", step) == [f"{CONDITION_CHECK_ITEM} on table"]
    assert (
        refused(Access(table=without.table | {CONDITION_CHECK_ITEM}), "dynamodb", "TransactWriteItems", step)
        == []
    )


def test_a_query_on_an_index_needs_that_index_and_a_scan_is_never_granted():
    cases = ACCESS["cases"]

    assert refused(cases, "dynamodb", "Query", {"IndexName": "cases_by_view"}) == []
    assert refused(cases, "dynamodb", "Query", {"IndexName": "flagged"}) == [
        "dynamodb:Query on index/flagged"
    ]
    assert refused(cases, "dynamodb", "Scan", {}) == ["dynamodb:Scan on table"]


def test_the_authorizer_reaches_api_key_items_and_nothing_else():
    authorizer = ACCESS["authorizer"]

    assert refused(authorizer, "dynamodb", "GetItem", {"Key": KEY}) == []
    assert refused(authorizer, "dynamodb", "GetItem", {"Key": CASE}) == ["dynamodb:GetItem on table"]
    assert refused(authorizer, "events", "PutEvents", {}) == ["events:PutEvents"]


def test_a_batch_write_reaches_notification_items_alone():
    notification = {"pk": {"S": "P#prg-1#NOTIFICATION#n1"}, "sk": {"S": "NOTIFICATION"}}
    clear = {"RequestItems": {"t": [{"DeleteRequest": {"Key": notification}}]}}
    anything = {"RequestItems": {"t": [{"DeleteRequest": {"Key": CASE}}]}}

    assert refused(ACCESS["score"], "dynamodb", "BatchWriteItem", clear) == []
    assert refused(ACCESS["score"], "dynamodb", "BatchWriteItem", anything) == [
        "dynamodb:BatchWriteItem on table"
    ]
    assert refused(ACCESS["keys"], "dynamodb", "BatchWriteItem", clear) == [
        "dynamodb:BatchWriteItem on table"
    ]


def test_a_kms_call_for_a_programs_signing_secrets_needs_the_program_secrets_grant():
    # Given the context the code seals programs' signing secrets with, and a webhook's (no purpose)
    program = {"EncryptionContext": {"purpose": "program-signing-secret", "program_id": "prg-1"}}
    webhook = {"EncryptionContext": {"program_id": "prg-1", "webhook_id": "wh-1"}}

    # ingest opens a program's secrets, and nothing else; it seals none
    assert refused(ACCESS["ingest"], "kms", "Decrypt", program) == []
    assert refused(ACCESS["ingest"], "kms", "Encrypt", program) == [
        "kms:Encrypt on a program's signing secrets"
    ]
    assert refused(ACCESS["ingest"], "kms", "Decrypt", webhook) == ["kms:Decrypt"]
    # the webhook functions' grants are on the webhook secrets' key alone
    assert refused(ACCESS["webhook_delivery"], "kms", "Decrypt", webhook) == []
    assert refused(ACCESS["webhooks"], "kms", "Encrypt", webhook) == []
    assert refused(ACCESS["webhooks"], "kms", "Decrypt", program) == [
        "kms:Decrypt on a program's signing secrets"
    ]


def test_a_kms_call_for_another_purpose_is_refused_even_to_the_program_secrets_grant():
    # the grant's condition is StringEquals on the purpose: a near miss does not open
    wrong = {"EncryptionContext": {"purpose": "program-signing-secrets", "program_id": "prg-1"}}

    assert refused(ACCESS["ingest"], "kms", "Decrypt", wrong) == [
        "kms:Decrypt for purpose 'program-signing-secrets': the grant names 'program-signing-secret' alone"
    ]


def test_a_webhook_secret_is_sealed_and_opened_under_its_program_and_webhook_alone():
    # the deployed grant holds where the encryption context names both (`webhook_secrets_condition`)
    webhooks = ACCESS["webhooks"]
    named = {"EncryptionContext": {"program_id": "prg-1", "webhook_id": "crm"}}

    assert refused(webhooks, "kms", "Encrypt", named) == []
    assert refused(webhooks, "kms", "Encrypt", {}) == [
        "kms:Encrypt without program_id and webhook_id in its encryption context"
    ]
    assert refused(webhooks, "kms", "Decrypt", {"EncryptionContext": {"program_id": "prg-1"}}) == [
        "kms:Decrypt without program_id and webhook_id in its encryption context"
    ]
