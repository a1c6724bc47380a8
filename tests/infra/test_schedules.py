"""Each schedule: its expression, its target, its retries and where its failures go (SPEC 1, 4, 7)."""

from __future__ import annotations

import pytest

from tests.infra import cfn

# (expression, handler): the intent, written out here rather than read from infra/constants.py
SCHEDULES = [
    pytest.param("rate(5 minutes)", "functions.outbox_relay.handler.lambda_handler", id="outbox-relay"),
    pytest.param("rate(15 minutes)", "functions.hold_sweep.handler.lambda_handler", id="hold-sweep"),
    # minute hour day-of-month month day-of-week year, in UTC: 00:00 on the 1st of every month
    pytest.param("cron(0 0 1 * ? *)", "functions.disputes.cycle.lambda_handler", id="dispute-cycle"),
]


def _rule(template: cfn.Template, expression: str) -> dict:
    rules = [
        r["Properties"]
        for r in template.of_type("AWS::Events::Rule").values()
        if r["Properties"].get("ScheduleExpression") == expression
    ]
    assert len(rules) == 1, f"one rule with {expression}, found {len(rules)}"
    return rules[0]


@pytest.mark.parametrize(("expression", "handler"), SCHEDULES)
def test_schedule_runs_its_function(template: cfn.Template, expression: str, handler: str) -> None:
    rule = _rule(template, expression)
    (target,) = rule["Targets"]

    assert rule["State"] == "ENABLED"
    assert "EventBusName" not in rule  # schedules live on the default bus
    assert cfn.referenced_id(target["Arn"]) == template.functions_by_handler()[handler]
    assert "Input" not in target  # the handler gets EventBridge's own Scheduled Event document


@pytest.mark.parametrize(("expression", "handler"), SCHEDULES)
def test_schedule_retries_then_dead_letters(template: cfn.Template, expression: str, handler: str) -> None:
    (target,) = _rule(template, expression)["Targets"]
    function_id = template.functions_by_handler()[handler]
    (invoke_config,) = [
        c["Properties"]
        for c in template.of_type("AWS::Lambda::EventInvokeConfig").values()
        if cfn.referenced_id(c["Properties"]["FunctionName"]) == function_id
    ]
    delivery_dead_letters = cfn.referenced_id(target["DeadLetterConfig"]["Arn"])
    run_dead_letters = cfn.referenced_id(invoke_config["DestinationConfig"]["OnFailure"]["Destination"])

    # EventBridge retries handing the event over; Lambda retries a failed run (0-2)
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] >= 60
    assert 0 <= invoke_config["MaximumRetryAttempts"] <= 2
    # what still fails is kept, in one dead-letter queue that EventBridge may write to
    assert delivery_dead_letters == run_dead_letters
    assert template.resources[delivery_dead_letters]["Type"] == "AWS::SQS::Queue"
    writers = [
        s
        for p in template.of_type("AWS::SQS::QueuePolicy").values()
        if delivery_dead_letters in [cfn.referenced_id(q) for q in p["Properties"]["Queues"]]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow" and s.get("Principal") == {"Service": "events.amazonaws.com"}
    ]
    assert any("sqs:SendMessage" in cfn.as_list(s["Action"]) for s in writers)


def test_periodic_runs_give_up_before_the_next_run_starts(template: cfn.Template) -> None:
    for expression, minutes in (("rate(5 minutes)", 5), ("rate(15 minutes)", 15)):
        (target,) = _rule(template, expression)["Targets"]
        assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] < minutes * 60


def test_the_monthly_dispute_cycle_retries_most(template: cfn.Template) -> None:
    (target,) = _rule(template, "cron(0 0 1 * ? *)")["Targets"]
    function_id = template.functions_by_handler()["functions.disputes.cycle.lambda_handler"]
    (config,) = [
        c["Properties"]
        for c in template.of_type("AWS::Lambda::EventInvokeConfig").values()
        if cfn.referenced_id(c["Properties"]["FunctionName"]) == function_id
    ]

    assert config["MaximumRetryAttempts"] == 2
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] >= 3600


@pytest.mark.parametrize(
    ("name", "visibility"),
    [
        ("outbox-relay", "SCORING_VISIBILITY_TIMEOUT_SECONDS"),
        ("loyalty-workflow-relay", "WORKFLOW_VISIBILITY_TIMEOUT_SECONDS"),
    ],
)
def test_a_relay_sends_work_again_only_once_a_copy_has_left_its_queue(name: str, visibility: str) -> None:
    # `RelaySchedule.due` counts on the schedule's rate and on how long a copy received can stay in
    # its queue (one not received yet: the relay holds back while the queue is behind)
    from datetime import timedelta

    from functions.loyalty.runs import WORKFLOW_RELAY
    from functions.outbox_relay.service import SCORING_RELAY
    from infra import constants

    relay = {"outbox-relay": SCORING_RELAY, "loyalty-workflow-relay": WORKFLOW_RELAY}[name]
    (spec,) = [s for s in constants.SCHEDULES if s.name == name]
    minutes = int(relay.every.total_seconds() // 60)
    assert spec.expression == f"rate({minutes} minute{'s' if minutes > 1 else ''})"
    in_queue = timedelta(seconds=getattr(constants, visibility) * constants.MAX_RECEIVES)
    assert in_queue <= relay.copy_lifetime
