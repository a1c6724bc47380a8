"""CloudWatch alarms: a message in a dead-letter queue, a function error, a throttled invocation,
a backlog on a work queue, a schedule that stopped running, the API answering 5xx, the table
throttling. With an SNS topic (context `alarmTopicArn`), each alarm notifies it.

An API function answers an unexpected error with a 500 problem document rather than failing its
invocation (SPEC 3: errors are problem documents), so Lambda's Errors metric never sees it: the
API's own 5XXError count does, 503s (a dependency unavailable) included."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants
from infra.capabilities.lambda_factory import pascal_case
from infra.constants import ScheduleSpec

# a schedule that runs every N minutes (EventBridge's `rate(...)`)
_RATE = re.compile(r"rate\((\d+) minutes?\)")
# What to do first, by README ("Operating it"), for each dead-letter queue and each work queue's backlog
_REDRIVE = (
    "read a message and the consumer's log to see why, mend, then redrive them to their queue (the "
    "SQS console, or StartMessageMoveTask)"
)
_DEAD_LETTERS_FIRST_STEP = {
    "scoring": _REDRIVE,
    "loyalty_workflows": _REDRIVE,
    "schedules": "scheduled runs failed every retry: read the messages to see which job and when, mend, "
    "then run the job now (fraudctl run <job>; SQS cannot redrive this queue)",
    "webhooks": "webhook tries or notifications failed every delivery: read the messages to see which "
    "webhook, mend (its receiver, its URL), then send each delivery again "
    "(POST /v1/webhooks/{id}/deliveries/{delivery_id}/retry)",
}


def _consumer_behind(function: str, ceiling: str) -> str:
    return (
        f"look at the {function} function's Errors and Throttles alarms and its log (a consumer "
        "failing or throttled); else the load is more than its queue's concurrency ceiling takes "
        f"(the event source mapping's maximum concurrency, infra/constants.py {ceiling}): raise it "
        "there and deploy, or wait: nothing queued is lost"
    )


_BACKLOG_FIRST_STEP = {
    "scoring": _consumer_behind("score", "SCORING_MAX_CONCURRENCY"),
    "loyalty_workflows": _consumer_behind("loyalty_workflows", "WORKFLOW_MAX_CONCURRENCY"),
    "webhooks": "receivers answer slowly or not at all: GET /v1/webhooks/{id}/deliveries shows whose "
    "and their answers; the webhook_delivery function's Errors and Throttles alarms",
}
_THROTTLED_FIRST_STEP = (
    "retried, then answered 503 or redelivered; if it lasts, see whether one key is hot (CloudWatch "
    "Contributor Insights on the table) or the account's on-demand throughput quota is reached "
    "(Service Quotas, DynamoDB)"
)
_METRICS_PER_ALARM = 10  # the most metrics CloudWatch's metric math takes in one alarm


class Alarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[str, lambda_.IFunction],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        backlogs: Mapping[str, tuple[sqs.IQueue, int]],
        api: apigw.RestApi,
        table: dynamodb.ITable,
        table_indexes: Sequence[str] = (),
        table_quota: int = constants.TABLE_QUOTA,
        topic: sns.ITopic | None = None,
        schedules: Sequence[ScheduleSpec] = (),
    ) -> None:
        """`backlogs`: work queues, each with the age (seconds) its oldest message may reach;
        `table_indexes`: the table's global secondary indexes, whose throttles the table's own
        metric does not count; `schedules`: those whose function must be seen running (every one
        run by a rate)."""
        super().__init__(scope, construct_id)
        self._topic = topic
        period = Duration.seconds(constants.ALARM_PERIOD_SECONDS)
        self.alarms: list[cloudwatch.Alarm] = []
        jobs = {spec.function.name: spec.name for spec in schedules}
        for name, function in functions.items():
            again = (
                f"; a run in the schedules' dead-letter queue (it failed every retry): run it now "
                f"(fraudctl run {jobs[name]})"
                if name in jobs
                else ""
            )
            self._at_least_once(
                f"{pascal_case(name)}Errors",
                function.metric_errors(period=period, statistic="Sum"),
                f"{name}: the function failed (an error or a timeout): read its log group's ERROR "
                f"lines (the error, where, and what it was doing), mend the cause{again}",
            )
            self._at_least_once(
                f"{pascal_case(name)}Throttles",
                function.metric_throttles(period=period, statistic="Sum"),
                f"{name}: invocations were throttled (no concurrency left): compare the account's "
                "ConcurrentExecutions with its quota (Service Quotas, Lambda) and ask for more if the "
                "load is real; queued work and scheduled runs are retried, the API answers 5xx",
            )
        for name, queue in dead_letter_queues.items():
            visible = queue.metric_approximate_number_of_messages_visible(period=period, statistic="Maximum")
            self._at_least_once(
                f"{pascal_case(name)}DeadLetters",
                visible,
                f"{name}: messages in the dead-letter queue: {_DEAD_LETTERS_FIRST_STEP[name]}",
            )
            # the alarm above stays raised while any message stays (14 days): a later failure
            # would notify no one, so each rise of the count notifies again
            self._at_least_once(
                f"{pascal_case(name)}NewDeadLetters",
                cloudwatch.MathExpression(
                    expression="DIFF(visible)", using_metrics={"visible": visible}, period=period
                ),
                f"{name}: more messages arrived in the dead-letter queue: {_DEAD_LETTERS_FIRST_STEP[name]}",
            )
        self._at_least_once(
            "ApiServerErrors",
            api.metric_server_error(period=period, statistic="Sum"),
            "the API answered 5xx: a function failed (500) or a dependency was unavailable (503): "
            "the API function's own Errors alarm names which, its log group's ERROR lines say why "
            "(a 503 is retried by the caller: a short one needs nothing; one that lasts is the "
            "table's or the queue's, whose throttle alarms say so)",
        )
        for throttled in ("ReadThrottleEvents", "WriteThrottleEvents"):
            self._at_least_once(
                f"Table{throttled.removesuffix('Events')}s",
                table.metric(throttled, period=period, statistic="Sum"),
                f"the table throttled requests ({throttled}): {_THROTTLED_FIRST_STEP}",
            )
            self._index_throttles(table, table_indexes, throttled, period)
        self._near_quota(table, table_indexes, table_quota, period)
        self._at_least_once(
            "DisputeCasesFailed",
            self._ours(constants.DISPUTE_CASES_FAILED_METRIC, period, "Sum"),
            "the dispute cycle could not apply a verdict: look at its log, mend, then run it by hand "
            "(fraudctl run dispute-cycle); else it waits for next month's run",
        )
        self._add(
            "NotificationsWaiting",
            self._ours(constants.NOTIFICATIONS_WAITING_METRIC, period, "Maximum"),
            constants.NOTIFICATIONS_WAITING_ALARM_SECONDS,
            "notifications the bus refused wait in the outbox (the bus down, or one it refuses for good): "
            "the outbox relay's log says which ('the bus refused notifications'); a bus down, nothing to "
            "do (each run of the relay sends them again); one refused for good (too large, malformed), "
            "its error says why: mend, then fraudctl run outbox-relay",
        )
        # a subject a sweep could not hold for is tried again 15 minutes later: failures in two of
        # three periods of the schedule's length (runs drift across periods' edges) are a lasting
        # cause, not a throttle the next run outlived
        sweep_period = Duration.minutes(constants.HOLD_SWEEP_PERIOD_MINUTES)
        self._add(
            "HoldSweepSubjectsFailed",
            self._ours(constants.HOLD_SWEEP_FAILED_METRIC, sweep_period, "Sum"),
            1,
            "the hold sweep could not hold a flagged subject's rewards in two of its last three runs: "
            "look at its log ('hold sweep skipped a subject'), mend; the next run holds them",
            runs=2,
            of=3,
        )
        for name, (queue, most) in backlogs.items():
            self._add(
                f"{pascal_case(name)}Backlog",
                queue.metric_approximate_age_of_oldest_message(period=period, statistic="Maximum"),
                most,
                f"{name} falls behind: the oldest queued message has waited {most} s or more: "
                f"{_BACKLOG_FIRST_STEP[name]}",
            )
        for spec in schedules:
            if (rate := _RATE.fullmatch(spec.expression)) is None:
                continue  # a monthly cron: absent a month, longer than an alarm can look back
            every = Duration.minutes(max(int(rate.group(1)), constants.ALARM_PERIOD_SECONDS // 60))
            self._add(
                f"{pascal_case(spec.function.name)}NotRunning",
                functions[spec.function.name].metric_invocations(period=every, statistic="Sum"),
                1,
                f"{spec.name} has not run for {3 * int(every.to_minutes())} minutes (its schedule: "
                f"{spec.expression}): its rule disabled or deleted, or its function unable to start: "
                f"look at its EventBridge rule and its function's Errors and Throttles alarms, mend, "
                f"then run it now (fraudctl run {spec.name})",
                runs=3,
                below=True,
            )

    def _index_throttles(
        self, table: dynamodb.ITable, indexes: Sequence[str], throttled: str, period: Duration
    ) -> None:
        """The table's metric counts the table alone (AWS's DynamoDB metrics: an index's throttles
        have the index's own dimension). Every index is alarmed, in as few alarms as CloudWatch
        allows (a metric math alarm takes at most 10 metrics): each alarm sums its indexes' counts,
        each filled with 0 where it has no data, and names them. 16 indexes: 2 alarms per metric
        rather than 16, each $0.10 a month; which index throttled is its metric, in CloudWatch."""
        for number, (group, metrics) in enumerate(_index_groups(table, indexes, throttled, period)):
            self._at_least_once(
                f"Index{throttled.removesuffix('Events')}s{number + 1}",
                cloudwatch.MathExpression(
                    expression=" + ".join(f"FILL({name}, 0)" for name in metrics),
                    using_metrics=metrics,
                    period=period,
                    label=f"{throttled} of {len(group)} indexes",
                ),
                f"the table's indexes {', '.join(group)} throttled requests ({throttled}; which one: "
                f"the metric with its GlobalSecondaryIndexName in CloudWatch): {_THROTTLED_FIRST_STEP}",
            )

    def _near_quota(
        self, table: dynamodb.ITable, indexes: Sequence[str], quota: int, period: Duration
    ) -> None:
        """DynamoDB throttles an on-demand table, and each index, past its quota (`quota` request
        units a second). Warned at `QUOTA_WARNING` of it over a period, before it throttles (a
        reviewer measured SPEC 1's 3,000 events a second at about the default 40,000 write units on
        the table): one alarm per measure for the table, and per group of indexes the busiest."""
        seconds = period.to_seconds()
        near = constants.QUOTA_WARNING * quota * seconds
        step = (
            "ask for a higher table-level quota (Service Quotas, Amazon DynamoDB), then deploy with "
            "-c tableQuota=<the new quota> (README, 'Before going live')"
        )
        for consumed, units in (
            ("ConsumedWriteCapacityUnits", "write"),
            ("ConsumedReadCapacityUnits", "read"),
        ):
            measure = units.capitalize()
            self._add(
                f"Table{measure}sNearQuota",
                table.metric(consumed, period=period, statistic="Sum"),
                near,
                f"the table used {constants.QUOTA_WARNING:.0%} of its {quota:,} {units} units a second or "
                f"more: past them DynamoDB throttles it; {step}",
            )
            for number, (group, metrics) in enumerate(_index_groups(table, indexes, consumed, period)):
                self._add(
                    f"Index{measure}sNearQuota{number + 1}",
                    cloudwatch.MathExpression(
                        expression=f"MAX([{', '.join(f'FILL({name}, 0)' for name in metrics)}])",
                        using_metrics=metrics,
                        period=period,
                        label=f"{consumed} of the busiest of {len(group)} indexes",
                    ),
                    near,
                    f"one of the indexes {', '.join(group)} used {constants.QUOTA_WARNING:.0%} of its "
                    f"{quota:,} {units} units a second or more (which one: its GlobalSecondaryIndexName in "
                    f"CloudWatch): {step}",
                )

    def _ours(self, name: str, period: Duration, statistic: str) -> cloudwatch.Metric:
        """A metric the functions emit through Powertools: its namespace, and its `service`
        dimension, the service name every function is given (the stack's name)."""
        return cloudwatch.Metric(
            namespace=constants.METRICS_NAMESPACE,
            metric_name=name,
            dimensions_map={"service": Stack.of(self).stack_name},
            period=period,
            statistic=statistic,
        )

    def _at_least_once(self, alarm_id: str, metric: cloudwatch.IMetric, description: str) -> None:
        self._add(alarm_id, metric, 1, description)

    def _add(
        self,
        alarm_id: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        description: str,
        runs: int = 1,
        of: int | None = None,
        below: bool = False,
    ) -> None:
        """`runs` of the last `of` periods (`runs` when not given) must each breach: reach the
        threshold, or with `below` stay under it, a period with no data counting as under (a
        function not invoked has no Invocations data at all)."""
        alarm = cloudwatch.Alarm(
            self,
            alarm_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=of or runs,
            datapoints_to_alarm=runs,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
            if below
            else cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING
            if below
            else cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        if self._topic is not None:
            alarm.add_alarm_action(actions.SnsAction(self._topic))
        self.alarms.append(alarm)


def _index_groups(
    table: dynamodb.ITable, indexes: Sequence[str], metric: str, period: Duration
) -> list[tuple[Sequence[str], dict[str, cloudwatch.IMetric]]]:
    """The table's indexes in as few groups as CloudWatch's metric math takes in one alarm (at most
    10 metrics; balanced: 16 are two of 8), each with its indexes' `metric` (their own dimension) by
    the id an expression names it by."""
    groups = math.ceil(len(indexes) / _METRICS_PER_ALARM) if indexes else 0
    found: list[tuple[Sequence[str], dict[str, cloudwatch.IMetric]]] = []
    for number in range(groups):
        group = indexes[number::groups]
        metrics: dict[str, cloudwatch.IMetric] = {
            f"i{n}": table.metric(
                metric,
                dimensions_map={"TableName": table.table_name, "GlobalSecondaryIndexName": index},
                period=period,
                statistic="Sum",
            )
            for n, index in enumerate(group)
        }
        found.append((group, metrics))
    return found
