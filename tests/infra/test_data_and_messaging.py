"""The table, the queues and the event source: read against the code's own declarations."""

from __future__ import annotations

import re
from pathlib import Path

from functions.shared import config
from functions.shared.storage import schema
from infra import constants
from local_system import provision
from tests.infra import cfn


def test_table_keys_and_indexes_are_the_storage_schema(template: cfn.Template) -> None:
    _, table = template.only("AWS::DynamoDB::Table")
    props = table["Properties"]

    assert props["KeySchema"] == [
        {"AttributeName": schema.PARTITION_KEY, "KeyType": "HASH"},
        {"AttributeName": schema.SORT_KEY, "KeyType": "RANGE"},
    ]
    assert {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]} == (
        schema.key_attributes()
    )
    deployed = {
        index["IndexName"]: (index["KeySchema"], index["Projection"]["ProjectionType"])
        for index in props["GlobalSecondaryIndexes"]
    }
    declared = {
        index.name: (
            [
                {"AttributeName": index.partition_key, "KeyType": "HASH"},
                {"AttributeName": index.sort_key, "KeyType": "RANGE"},
            ],
            "ALL",  # the pynamodb indexes read whole items (AllProjection)
        )
        for index in schema.INDEXES
    }
    assert deployed == declared
    assert props["BillingMode"] == "PAY_PER_REQUEST"


def test_table_expires_items_recovers_to_a_point_in_time_and_outlives_the_stack(
    template: cfn.Template,
) -> None:
    _, table = template.only("AWS::DynamoDB::Table")
    props = table["Properties"]

    assert props["TimeToLiveSpecification"] == {"AttributeName": schema.TTL_ATTRIBUTE, "Enabled": True}
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


def _scoring_queue(template: cfn.Template) -> tuple[str, dict]:
    _, mapping = template.event_source_mapping(constants.SCORE.handler)
    queue_id = cfn.referenced_id(mapping["Properties"]["EventSourceArn"])
    return queue_id, template.props(queue_id)


def test_scoring_queue_dead_letters_after_as_many_deliveries_as_locally(template: cfn.Template) -> None:
    _, queue = _scoring_queue(template)
    redrive = queue["RedrivePolicy"]
    dead_letter_id = cfn.referenced_id(redrive["deadLetterTargetArn"])

    assert redrive["maxReceiveCount"] == config.MAX_RECEIVES
    assert template.resources[dead_letter_id]["Type"] == "AWS::SQS::Queue"
    # two weeks (SQS's most) to look at a poison message and redrive it
    assert template.props(dead_letter_id)["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_the_number_of_deliveries_has_one_definition() -> None:
    # the deployed queue, the local queue and the score function's "last delivery" read the same name
    from functions.score import service

    assert provision.MAX_RECEIVES == constants.MAX_RECEIVES == service.MAX_RECEIVES == config.MAX_RECEIVES
    for module in (provision, constants, service):  # imported, never a second assignment
        source = Path(module.__file__).read_text()
        assert not re.search(r"^MAX_RECEIVES\s*=", source, re.MULTILINE), f"{module.__name__} redefines it"


def test_every_queue_is_encrypted_and_refuses_plain_http(template: cfn.Template) -> None:
    queues = template.of_type("AWS::SQS::Queue")
    tls_only: set[str] = set()
    for policy in template.of_type("AWS::SQS::QueuePolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny" and statement.get("Condition") == {
                "Bool": {"aws:SecureTransport": "false"}
            }:
                tls_only.update(cfn.referenced_id(q) for q in policy["Properties"]["Queues"])

    assert queues
    for queue_id, queue in queues.items():
        assert queue["Properties"].get("SqsManagedSseEnabled") is True, queue_id
        assert queue_id in tls_only, queue_id


def test_score_reads_the_queue_in_batches_reporting_each_failed_record(template: cfn.Template) -> None:
    functions = template.functions_by_handler()
    _, mapping = template.event_source_mapping(constants.SCORE.handler)
    props = mapping["Properties"]

    assert cfn.referenced_id(props["FunctionName"]) == functions[constants.SCORE.handler]
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BatchSize"] > 1
    assert 0 < props["MaximumBatchingWindowInSeconds"] <= 5  # seconds added to time-to-decision
    assert props["ScalingConfig"]["MaximumConcurrency"] >= 2


def test_a_slow_batch_is_not_redelivered_while_it_runs(template: cfn.Template) -> None:
    # AWS's guidance for SQS event sources: visibility timeout >= 6 x function timeout
    _, queue = _scoring_queue(template)
    functions = template.functions_by_handler()
    score = template.props(functions[constants.SCORE.handler])

    assert queue["VisibilityTimeout"] >= 6 * score["Timeout"]


def test_a_bus_receives_the_domain_events(template: cfn.Template) -> None:
    bus_id, _ = template.only("AWS::Events::EventBus")
    publishers = [
        cfn.Grant("events:PutEvents", f"<{bus_id}.Arn>") in template.grants(template.function_role(f))
        for f in template.functions_by_handler().values()
    ]
    assert any(publishers)


def test_a_spend_waits_for_a_suspending_run_as_long_as_the_workflow_queue_delivers_it(
    template: cfn.Template,
) -> None:
    # an earn's run that may suspend holds the customer's spends while it is redelivered (throttled,
    # say): the hold outlasts every delivery before the dead-letter queue
    from functions.loyalty.workflows import SPEND_WAIT

    _, mapping = template.event_source_mapping(constants.LOYALTY_WORKFLOWS.handler)
    queue = template.props(cfn.referenced_id(mapping["Properties"]["EventSourceArn"]))
    deliveries = queue["RedrivePolicy"]["maxReceiveCount"] * queue["VisibilityTimeout"]
    assert SPEND_WAIT.total_seconds() > deliveries


def test_scoring_keeps_up_with_spec_1s_rate_without_taking_the_accounts_concurrency(
    template: cfn.Template,
) -> None:
    # Little's law: environments busy = events a second x seconds an event keeps one busy. At SPEC 1's
    # rate an event may take 60 ms (its CPU and two DynamoDB round trips, with their tail) before a
    # backlog grows; and a backlog may not take more than a fifth of an account's default 1,000.
    _, mapping = template.event_source_mapping(constants.SCORE.handler)
    ceiling = mapping["Properties"]["ScalingConfig"]["MaximumConcurrency"]

    assert ceiling / constants.SPEC_EVENTS_PER_SECOND >= 0.060
    assert ceiling <= 1000 / 5
