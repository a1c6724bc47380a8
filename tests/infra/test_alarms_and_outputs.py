"""Alarms on what an operator must act on, and the outputs the README's deploy steps use."""

from __future__ import annotations

import json
import re
from pathlib import Path

from aws_cdk import App, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from infra import constants
from infra.capabilities.alarms import Alarms
from tests.infra import cfn

ROOT = Path(__file__).parents[2]


def _alarms(template: cfn.Template) -> list[dict]:
    return [a["Properties"] for a in template.of_type("AWS::CloudWatch::Alarm").values()]


def _alarmed(template: cfn.Template, namespace: str, metric: str, dimension: str) -> set[str]:
    """Logical ids of the resources an alarm on `metric` watches, firing from the first occurrence."""
    watched = set()
    for alarm in _alarms(template):
        if alarm.get("Namespace") == namespace and alarm.get("MetricName") == metric:
            assert alarm["Threshold"] <= 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
            assert alarm["TreatMissingData"] == "notBreaching"
            for d in alarm["Dimensions"]:
                if d["Name"] == dimension:
                    watched.add(cfn.referenced_id(d["Value"]))
    return watched


def test_every_function_alarms_on_errors_and_throttles(template: cfn.Template) -> None:
    functions = set(template.functions_by_handler().values())

    assert _alarmed(template, "AWS/Lambda", "Errors", "FunctionName") == functions
    assert _alarmed(template, "AWS/Lambda", "Throttles", "FunctionName") == functions


def test_every_dead_letter_queue_alarms_on_its_first_message(template: cfn.Template) -> None:
    dead_letter_queues = {
        cfn.referenced_id(q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        for q in template.of_type("AWS::SQS::Queue").values()
        if "RedrivePolicy" in q["Properties"]
    } | {
        cfn.referenced_id(t["DeadLetterConfig"]["Arn"])
        for r in template.of_type("AWS::Events::Rule").values()
        for t in r["Properties"]["Targets"]
    }
    watched = _alarmed(template, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName")

    assert len(dead_letter_queues) == 4  # scoring's, the schedules', the webhooks' and the workflow queue's
    assert dead_letter_queues <= watched


def test_a_scoring_backlog_alarms(template: cfn.Template) -> None:
    _, mapping = template.event_source_mapping(constants.SCORE.handler)
    queue = cfn.referenced_id(mapping["Properties"]["EventSourceArn"])
    backlog = [
        a
        for a in _alarms(template)
        if a.get("MetricName") == "ApproximateAgeOfOldestMessage"
        and [cfn.referenced_id(d["Value"]) for d in a["Dimensions"]] == [queue]
    ]
    assert backlog and backlog[0]["Threshold"] <= 15 * 60


def test_every_work_queue_alarms_on_its_backlog(template: cfn.Template) -> None:
    """Not scoring's alone: a workflow backlog holds customers' spends (README), a webhooks one
    delays every program's deliveries, and neither fails a function while it only waits."""
    consumed = {
        cfn.referenced_id(m["Properties"]["EventSourceArn"])
        for m in template.of_type("AWS::Lambda::EventSourceMapping").values()
    }
    aged = {
        cfn.referenced_id(d["Value"]): a["Threshold"]
        for a in _alarms(template)
        if a.get("MetricName") == "ApproximateAgeOfOldestMessage"
        for d in a["Dimensions"]
    }
    assert len(consumed) == 3  # scoring, the loyalty workflows, the webhooks' deliveries
    assert consumed <= set(aged)
    assert all(aged[queue] <= 30 * 60 for queue in consumed)


def test_every_schedule_run_by_a_rate_alarms_when_its_function_stops_running(template: cfn.Template) -> None:
    """A rule disabled or deleted fails nothing, so no error alarm sees it: the sweep stops holding
    the rewards of flagged subjects, the relays stop relaying. No invocation for three periods is."""
    functions = template.functions_by_handler()
    expected = {
        functions[s.function.handler] for s in constants.SCHEDULES if s.expression.startswith("rate(")
    }
    not_running = {
        cfn.referenced_id(d["Value"])
        for a in _alarms(template)
        if a.get("Namespace") == "AWS/Lambda"
        and a.get("MetricName") == "Invocations"
        and a["ComparisonOperator"] == "LessThanThreshold"
        and a["Threshold"] == 1
        and a["TreatMissingData"] == "breaching"
        for d in a["Dimensions"]
    }
    assert len(expected) == 3  # the outbox relay, the hold sweep, the workflow relay
    assert not_running == expected


def test_outputs_name_what_the_deploy_steps_need(template: cfn.Template) -> None:
    outputs = {name: cfn.render(o["Value"]) for name, o in template.document["Outputs"].items()}
    table, _ = template.only("AWS::DynamoDB::Table")
    bus, _ = template.only("AWS::Events::EventBus")
    _, mapping = template.event_source_mapping(constants.SCORE.handler)
    queue = cfn.referenced_id(mapping["Properties"]["EventSourceArn"])
    api, _ = template.only("AWS::ApiGateway::RestApi")
    distribution, _ = template.only("AWS::CloudFront::Distribution")
    secret, _ = template.only("AWS::SecretsManager::Secret")
    bucket = template.console_bucket()

    assert outputs["ConsoleUrl"] == f"https://<{distribution}.DomainName>/"
    assert outputs["ConsoleBucketName"] == f"<{bucket}>"  # retained by `cdk destroy`: the README deletes it
    assert outputs["AccessLogBucketName"] == f"<{template.log_bucket()}>"  # retained too
    assert outputs["NetworkPepperSecretArn"] == f"<{secret}>"
    program_secrets_key, _ = template.only("AWS::KMS::Key", **cfn.PROGRAM_SECRETS_KEY)
    assert outputs["ProgramSecretsKeyArn"] == f"<{program_secrets_key}.Arn>"  # fraudctl seals with it
    webhooks_key, _ = template.only("AWS::KMS::Key", **cfn.WEBHOOK_SECRETS_KEY)
    assert outputs["WebhooksSecretsKeyArn"] == f"<{webhooks_key}.Arn>"  # retained: the README deletes it
    assert outputs["TableName"] == f"<{table}>"
    assert outputs["EventBusName"] == f"<{bus}>"
    assert outputs["ScoringQueueUrl"] == f"<{queue}>"
    assert outputs["ApiUrl"].startswith(f"https://<{api}>.execute-api.")
    assert {"ScoringDeadLetterQueueUrl", "SchedulesDeadLetterQueueUrl", "WebhooksDeadLetterQueueUrl"} <= set(
        outputs
    )
    function_names = {v for k, v in outputs.items() if k.endswith("FunctionName")}
    assert function_names == {f"<{f}>" for f in template.functions_by_handler().values()}


# Retained by `cdk destroy` and kept on purpose: API Gateway's account-wide logging setting and its
# role, which every API of the account and region shares (README says so)
_SHARED_BY_THE_ACCOUNT = "AWS::ApiGateway::Account"


def _removal_steps() -> str:
    """README's "To remove it" paragraph and its commands, up to the next section."""
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"\nTo remove it: .*?(?=\n## )", readme, re.DOTALL)
    assert found, "README: no removal steps"
    return found.group(0)


def test_readmes_removal_steps_delete_everything_cdk_destroy_leaves(template: cfn.Template) -> None:
    """A reviewer found two KMS keys left by `cdk destroy` that the README's steps never named: each
    resource the stack retains (but the account's API Gateway setting and its role) is named by an
    output, and that output by a command of the steps."""
    shared = {
        template.props(a)["CloudWatchRoleArn"]["Fn::GetAtt"][0]
        for a in template.of_type(_SHARED_BY_THE_ACCOUNT)
    }
    shared |= set(template.of_type(_SHARED_BY_THE_ACCOUNT))
    retained = {
        logical_id
        for logical_id, resource in template.resources.items()
        if resource.get("DeletionPolicy") == "Retain" and logical_id not in shared
    }
    named_by = {}
    for name, output in template.document["Outputs"].items():
        if isinstance(output["Value"], dict) and {"Ref", "Fn::GetAtt"} & set(output["Value"]):
            named_by.setdefault(cfn.referenced_id(output["Value"]), name)
    steps = _removal_steps()
    commands = "\n".join(re.findall(r"```sh\n(.*?)```", steps, re.DOTALL))

    assert retained <= set(named_by), "retained but named by no output"
    for logical_id in retained:
        assert f"<{named_by[logical_id]}>" in commands, (logical_id, named_by[logical_id])
    for key in (k for k in retained if template.resources[k]["Type"] == "AWS::KMS::Key"):
        assert f"aws kms schedule-key-deletion --key-id <{named_by[key]}>" in commands
    # Left outside the stack's resources: the log group of the CDK's log retention function (it makes
    # it and keeps its logs a day); the group it expires is deleted with the stack
    for retention in template.of_type("Custom::LogRetention").values():
        assert retention["Properties"]["RemovalPolicy"] == "destroy", retention["Properties"]["LogGroupName"]
        function = template.props(cfn.referenced_id(retention["Properties"]["ServiceToken"]))
        own = f"/aws/lambda/{function['FunctionName']}"
        assert f"aws logs delete-log-group --log-group-name {own}" in commands


def test_with_a_topic_every_alarm_notifies_it() -> None:
    # the Alarms construct alone, in a small stack of its own: the whole app is synthesized only once
    stack = Stack(App(), "AlarmsOnly")
    topic_arn = "arn:aws:sns:eu-west-1:123456789012:operations"
    queue = sqs.Queue.from_queue_arn(stack, "Queue", "arn:aws:sqs:eu-west-1:123456789012:scoring")
    api = apigw.RestApi(stack, "Api", cloud_watch_role=False)
    api.root.add_method("GET")  # an API with no method does not synthesize
    Alarms(
        stack,
        "Alarms",
        functions={"score": lambda_.Function.from_function_name(stack, "Score", "score")},
        dead_letter_queues={"scoring": queue},
        backlogs={"scoring": (queue, constants.SCORING_BACKLOG_AGE_SECONDS)},
        api=api,
        table=dynamodb.Table.from_table_name(stack, "Table", "fraud"),
        topic=sns.Topic.from_topic_arn(stack, "Topic", topic_arn),
    )
    resources = Template.from_stack(stack).to_json()["Resources"]
    actions = [
        r["Properties"].get("AlarmActions")
        for r in resources.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    ]

    assert len(actions) >= 7  # errors, throttles, dead letters, API 5xx, table throttles, backlog
    assert all(a == [topic_arn] for a in actions)


def test_the_api_alarms_on_its_5xx_answers_and_the_table_on_its_throttling(template: cfn.Template) -> None:
    # an API function answers an unexpected error with a 500 document: Lambda's Errors stays at 0
    (api_id,) = template.of_type("AWS::ApiGateway::RestApi")
    (table_id,) = template.of_type("AWS::DynamoDB::Table")
    server_errors = [
        a
        for a in _alarms(template)
        if a.get("Namespace") == "AWS/ApiGateway" and a.get("MetricName") == "5XXError"
    ]
    assert server_errors and server_errors[0]["Threshold"] == 1
    assert {d["Name"] for d in server_errors[0]["Dimensions"]} == {"ApiName"}
    for metric in ("ReadThrottleEvents", "WriteThrottleEvents"):
        assert _alarmed(template, "AWS/DynamoDB", metric, "TableName") == {table_id}


def test_a_verdict_the_dispute_cycle_could_not_apply_alarms(template: cfn.Template) -> None:
    from functions.disputes.service import CASES_FAILED_METRIC
    from functions.shared.observability import NAMESPACE

    # the cycle reports such a case and goes on (its function does not fail): the metric it emits,
    # under the service name its function gives Powertools, alarms from the first case
    (cycle,) = [f for h, f in template.functions_by_handler().items() if h == constants.DISPUTE_CYCLE.handler]
    variables = template.of_type("AWS::Lambda::Function")[cycle]["Properties"]["Environment"]["Variables"]
    (alarm,) = [a for a in _alarms(template) if a.get("MetricName") == CASES_FAILED_METRIC]
    assert alarm.get("Namespace") == NAMESPACE == variables["POWERTOOLS_METRICS_NAMESPACE"]
    assert alarm["Dimensions"] == [{"Name": "service", "Value": variables["POWERTOOLS_SERVICE_NAME"]}]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert alarm["Statistic"] == "Sum" and alarm["TreatMissingData"] == "notBreaching"


def test_a_subject_the_hold_sweep_fails_in_two_of_three_runs_alarms(template: cfn.Template) -> None:
    from functions.hold_sweep.service import SUBJECTS_FAILED_METRIC, SWEEP_PERIOD_SECONDS
    from functions.shared.observability import NAMESPACE

    # a failed subject is tried again by the next run: one failure may be a throttle the next run
    # outlives, failures in two of three schedule periods are not; under the sweep's service name
    (sweeper,) = [f for h, f in template.functions_by_handler().items() if h == constants.HOLD_SWEEP.handler]
    variables = template.of_type("AWS::Lambda::Function")[sweeper]["Properties"]["Environment"]["Variables"]
    (alarm,) = [a for a in _alarms(template) if a.get("MetricName") == SUBJECTS_FAILED_METRIC]
    assert alarm.get("Namespace") == NAMESPACE == variables["POWERTOOLS_METRICS_NAMESPACE"]
    assert alarm["Dimensions"] == [{"Name": "service", "Value": variables["POWERTOOLS_SERVICE_NAME"]}]
    assert alarm["Period"] == SWEEP_PERIOD_SECONDS  # the schedule's (tests/infra/test_schedules.py)
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"], alarm["Threshold"]) == (3, 2, 1)
    assert alarm["Statistic"] == "Sum" and alarm["TreatMissingData"] == "notBreaching"


def test_notifications_the_bus_refuses_for_half_an_hour_alarm(template: cfn.Template) -> None:
    from functions.outbox_relay.service import WAITING_METRIC
    from functions.shared.observability import NAMESPACE

    # the relay's run ends well when the bus refuses (one notification refused for good would keep
    # a failing run's alarm up for ever): the oldest one's wait, under the relay's service name, does
    (relay,) = [f for h, f in template.functions_by_handler().items() if h == constants.OUTBOX_RELAY.handler]
    variables = template.of_type("AWS::Lambda::Function")[relay]["Properties"]["Environment"]["Variables"]
    (alarm,) = [a for a in _alarms(template) if a.get("MetricName") == WAITING_METRIC]
    assert alarm.get("Namespace") == NAMESPACE == variables["POWERTOOLS_METRICS_NAMESPACE"]
    assert alarm["Dimensions"] == [{"Name": "service", "Value": variables["POWERTOOLS_SERVICE_NAME"]}]
    assert (alarm["Threshold"], alarm["Statistic"]) == (30 * 60, "Maximum")
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_every_dead_letter_queue_alarms_again_when_more_messages_arrive(template: cfn.Template) -> None:
    """The first message's alarm stays raised while any message stays in the queue (14 days): next
    month's failed dispute cycle, landing beside last week's message, would notify no one."""
    rising: set[str] = set()
    for alarm in _alarms(template):
        for query in alarm.get("Metrics", []):
            if query.get("Expression") == "DIFF(visible)":
                assert (
                    alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
                )
                (visible,) = [m for m in alarm["Metrics"] if m["Id"] == "visible"]
                stat = visible["MetricStat"]["Metric"]
                assert stat["MetricName"] == "ApproximateNumberOfMessagesVisible"
                rising |= {cfn.referenced_id(d["Value"]) for d in stat["Dimensions"]}
    dead_letter_queues = _alarmed(template, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName")

    assert len(dead_letter_queues) == 4 and rising == dead_letter_queues


def test_a_throttled_read_or_write_of_any_index_of_the_table_alarms(template: cfn.Template) -> None:
    """The table's ReadThrottleEvents and WriteThrottleEvents (dimension TableName alone) do not
    count its global secondary indexes' (AWS's DynamoDB metrics): each index's own are alarmed too,
    from the first one, each alarm summing at most the 10 metrics CloudWatch takes in one."""
    from functions.shared.storage.schema import INDEXES

    (table_id,) = template.of_type("AWS::DynamoDB::Table")
    for throttled in ("ReadThrottleEvents", "WriteThrottleEvents"):
        covered: list[str] = []
        for alarm in _alarms(template):
            queries = alarm.get("Metrics", [])
            (returned,) = [q for q in queries if q.get("ReturnData", True)] or [None]
            if returned is None or "Expression" not in returned:
                continue
            summed = set(re.findall(r"FILL\((\w+), 0\)", returned["Expression"]))
            names = {q.get("MetricStat", {}).get("Metric", {}).get("MetricName") for q in queries}
            if throttled not in names:
                continue  # another measure's (the indexes' capacity near their quota)
            for query in queries:
                metric = query.get("MetricStat", {}).get("Metric", {})
                if metric.get("MetricName") != throttled or metric.get("Namespace") != "AWS/DynamoDB":
                    continue
                dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
                assert cfn.referenced_id(dimensions["TableName"]) == table_id
                assert query["Id"] in summed and query["MetricStat"]["Stat"] == "Sum"
                covered.append(dimensions["GlobalSecondaryIndexName"])
            if summed:
                assert len(queries) - 1 <= 10 and alarm["Threshold"] == 1
                assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert sorted(covered) == sorted(index.name for index in INDEXES), throttled


def _dead_letter_descriptions(template: cfn.Template, output: str) -> list[str]:
    """The descriptions of the alarms on the dead-letter queue the stack's `output` names."""
    queue = cfn.referenced_id(template.document["Outputs"][output]["Value"])
    return [
        alarm["AlarmDescription"]
        for alarm in _alarms(template)
        for stat in [alarm.get("Dimensions")]
        + [q.get("MetricStat", {}).get("Metric", {}).get("Dimensions") for q in alarm.get("Metrics", [])]
        if stat
        and any(d["Name"] == "QueueName" and cfn.referenced_id(d["Value"]) == queue for d in stat)
        and "ApproximateNumberOfMessagesVisible" in json.dumps(alarm)
    ]


def test_each_alarm_says_what_broke_and_the_first_thing_to_do_as_readme_does(template: cfn.Template) -> None:
    """README ("Operating it"): the schedules' dead letters cannot be redriven (the job is run
    again), a webhook delivery is sent again by its retry route, a failed scheduled run is run
    again with `fraudctl run <job>`; a schedule not running fires after three alarm periods."""
    schedules = _dead_letter_descriptions(template, "SchedulesDeadLetterQueueUrl")
    webhooks = _dead_letter_descriptions(template, "WebhooksDeadLetterQueueUrl")
    scoring = _dead_letter_descriptions(template, "ScoringDeadLetterQueueUrl")
    assert len(schedules) == len(webhooks) == len(scoring) == 2  # the first message, and each rise
    assert all("fraudctl run <job>" in d and "then redrive" not in d for d in schedules)
    assert all("/v1/webhooks/{id}/deliveries/{delivery_id}/retry" in d for d in webhooks)
    assert all("redrive them to their queue" in d for d in scoring)

    functions = template.functions_by_handler()
    for spec in constants.SCHEDULES:
        (errors,) = [
            a
            for a in _alarms(template)
            if a.get("MetricName") == "Errors"
            and [cfn.referenced_id(d["Value"]) for d in a["Dimensions"]] == [functions[spec.function.handler]]
        ]
        assert f"fraudctl run {spec.name}" in errors["AlarmDescription"]
    not_running = [a for a in _alarms(template) if a.get("ComparisonOperator") == "LessThanThreshold"]
    assert not_running
    for alarm in not_running:
        minutes = alarm["Period"] * alarm["EvaluationPeriods"] // 60
        assert f"has not run for {minutes} minutes" in alarm["AlarmDescription"]
    for alarm in _alarms(template):  # every backlog and throttle alarm names where to look first
        if alarm.get("MetricName") in ("ApproximateAgeOfOldestMessage", "Throttles"):
            assert re.search(r": (look|receivers|compare)", alarm["AlarmDescription"]), alarm
