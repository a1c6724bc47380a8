"""Every name, size and setting of the deployed system, in one place.

Plain values only (no aws_cdk import), so `make bundle` and the tests read them without starting
the CDK. The constructs turn them into resources; the infra tests assert the intent they encode.
"""

from __future__ import annotations

from dataclasses import dataclass

from functions.shared.auth import AUTHORIZER_CACHE_SECONDS as AUTHORIZER_CACHE_SECONDS
from functions.shared.auth import AUTHORIZER_TIMEOUT_SECONDS as AUTHORIZER_TIMEOUT_SECONDS
from functions.shared.config import MAX_RECEIVES as MAX_RECEIVES  # the code's own number, re-exported
from functions.shared.config import SCORE_TIMEOUT_SECONDS as SCORE_TIMEOUT_SECONDS  # the code's too
from functions.shared.routes import FUNCTIONS_WITH_ROUTES, ROUTES
from functions.webhooks.settings import WEBHOOKS_MAX_RECEIVES as WEBHOOKS_MAX_RECEIVES  # the code's

# The CloudFormation stack's name, and the prefix of every function's name: `fraud-management-score`,
# `fraud-management-hold-sweep` (the names `fraudctl run <job>` invokes by default). Another name
# (`-c stackName=...`) deploys a second system beside it in the same account and region.
STACK_NAME = "fraud-management"

# --- Lambda runtime ------------------------------------------------------------------------------
# Python 3.11: the version pyproject.toml pins the project to (requires-python), so the bundle's
# wheels and the runtime agree. arm64 (Graviton): about 20% cheaper per GB-second than x86_64 at equal
# or better speed for this workload (JSON, pydantic-core, hashing), and every runtime dependency
# ships manylinux2014_aarch64 wheels, so the bundle needs no compiler and no Docker.
PYTHON_VERSION = "3.11"
ARCHITECTURE = "arm64"
PIP_PLATFORM = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}[ARCHITECTURE]
LOG_RETENTION = "ONE_MONTH"  # aws_logs.RetentionDays: 30 days

# Powertools settings shared by every function. Events and responses carry personal data (e-mails,
# IPs, device fingerprints): they are never logged and never attached to traces.
METRICS_NAMESPACE = "FraudManagement"  # = functions.shared.observability.NAMESPACE
DISPUTE_CASES_FAILED_METRIC = "DisputeCasesFailed"  # = functions.disputes.service.CASES_FAILED_METRIC
HOLD_SWEEP_FAILED_METRIC = "HoldSweepSubjectsFailed"  # = functions.hold_sweep.service.SUBJECTS_FAILED_METRIC
NOTIFICATIONS_WAITING_METRIC = (
    "NotificationsWaitingSeconds"  # = functions.outbox_relay.service.WAITING_METRIC
)
NOTIFICATIONS_WAITING_ALARM_SECONDS = 30 * 60  # the bus down half an hour, or a notification it refuses
HOLD_SWEEP_PERIOD_MINUTES = 15  # SPEC 4 (= functions.hold_sweep.service.SWEEP_PERIOD_SECONDS / 60)
POWERTOOLS_ENVIRONMENT = {
    "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_LOGGER_LOG_EVENT": "false",
    "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
}


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function: its name in this app, its handler path and its size."""

    name: str  # also the key of its entry in infra/permissions.py
    handler: str  # package-qualified, as the local system imports it
    memory_mb: int
    timeout_seconds: int
    description: str
    # a chain of its own invocations by design, bounded by its code (a webhook's tries, hop on hop
    # through its own queue until the delivery's 24-hour horizon; the dispute cycle handing its rest
    # on to itself, `MAX_CONTINUATIONS` at most). Lambda's recursive loop detection stops any chain at
    # its 16th invocation unless told otherwise: a receiver down past 2 to 3 hours had its deliveries
    # dead-lettered, never `failed` at their horizon, and a cycle's 17th continuation was dropped.
    loops_by_design: bool = False

    def function_name(self, prefix: str) -> str:
        return f"{prefix}-{self.name.replace('_', '-')}"


API_MEMORY_MB = 1024  # more memory is more CPU: shorter cold starts for pydantic + Powertools
API_TIMEOUT_SECONDS = 10  # well under API Gateway's 29-second integration limit
# `POST /v1/events?wait=decision&timeout_ms=10000` waits up to 10 s for its decision (SPEC 3.1), then
# answers: ingest gets that wait on top of the usual time, still under the 29-second limit.
API_TIMEOUTS_SECONDS = {"ingest": API_TIMEOUT_SECONDS + 10}


def api_function(name: str) -> FunctionSpec:
    """The Lambda behind every route of one function folder in the route table."""
    handler = next(route.handler for route in ROUTES if route.function == name)
    timeout = API_TIMEOUTS_SECONDS.get(name, API_TIMEOUT_SECONDS)
    return FunctionSpec(name, handler, API_MEMORY_MB, timeout, f"HTTP API: functions/{name}")


API_FUNCTIONS: tuple[FunctionSpec, ...] = tuple(api_function(name) for name in FUNCTIONS_WITH_ROUTES)

SCORE = FunctionSpec(
    "score",
    "functions.score.handler.lambda_handler",
    1024,
    SCORE_TIMEOUT_SECONDS,  # the code's: a crowd's slots are learnt after it (`read_memory`)
    "Scores queued events in batches (SQS event source, partial batch responses)",
)
OUTBOX_RELAY = FunctionSpec(
    "outbox_relay",
    "functions.outbox_relay.handler.lambda_handler",
    512,
    120,
    "Sends again accepted events that scoring has not taken (schedule)",
)
HOLD_SWEEP = FunctionSpec(
    "hold_sweep",
    "functions.hold_sweep.handler.lambda_handler",
    1024,
    300,
    "Puts on hold new rewards of flagged subjects (schedule)",
)
DISPUTE_CYCLE = FunctionSpec(
    "dispute_cycle",
    "functions.disputes.cycle.lambda_handler",
    1024,
    900,
    "Applies recorded dispute verdicts at the start of each invoicing month (schedule)",
    loops_by_design=True,
)

LOYALTY_WORKFLOWS = FunctionSpec(
    "loyalty_workflows",
    "functions.loyalty.workflow_runner.lambda_handler",
    512,
    30,
    "Runs loyalty workflows of earns (workflow queue, partial batch responses)",
)
LOYALTY_WORKFLOW_RELAY = FunctionSpec(
    "loyalty_workflow_relay",
    "functions.loyalty.workflow_relay.lambda_handler",
    512,
    60,
    "Sends again loyalty workflow runs the workflow queue never got (schedule)",
)

# --- Scoring queue -------------------------------------------------------------------------------
# MAX_RECEIVES (from functions.shared.config, above): deliveries of one message before the dead-letter
# queue, the one number the local system's queue and the score function use too.
# AWS's guidance for an SQS event source: visibility timeout at least six times the function timeout,
# so a message is not redelivered while a slow batch (and its retries of throttled calls) still runs.
SCORING_VISIBILITY_TIMEOUT_SECONDS = 6 * SCORE.timeout_seconds
QUEUE_RETENTION_DAYS = 4
DEAD_LETTER_RETENTION_DAYS = 14  # the most SQS keeps: two weeks to look at and redrive
SCORING_BATCH_SIZE = 25
SCORING_BATCH_WINDOW_SECONDS = 1  # at most one second added to an event's time to a decision
# How many score functions the queue may run at once: enough for SPEC 1's rate, and a ceiling so that a
# backlog cannot take the account's whole concurrency (1,000 by default) from the API's functions.
# Little's law: environments busy = events a second x seconds each event keeps one busy. An event is
# about 3 ms of the function's CPU (`make bench SUITES=scoring`, `function_cpu`) and two DynamoDB round
# trips (a `BatchGetItem`, a `TransactWriteItems`: about 10 ms each at DynamoDB's usual latency,
# several times that at its tail, and a transaction refused by a concurrent one is tried again). At
# 100, an event had 33 ms on average before a backlog grew at 3,000 events a second; 200 gives it
# 66 ms, three times the round trips' usual time, with room for their tail; and a backlog drains at
# most 200 batches at once.
SPEC_EVENTS_PER_SECOND = 3000  # SPEC 1: one program's integration at full rate
SCORING_MAX_CONCURRENCY = 200

# --- Loyalty workflow queue (SPEC 8: workflows run within seconds of the earn) ----------------
WORKFLOW_VISIBILITY_TIMEOUT_SECONDS = 6 * LOYALTY_WORKFLOWS.timeout_seconds
WORKFLOW_BATCH_SIZE = 25
WORKFLOW_BATCH_WINDOW_SECONDS = 1
WORKFLOW_MAX_CONCURRENCY = 20  # audience sweeps coalesce per environment: a few environments suffice


# --- Schedules -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScheduleSpec:
    """An EventBridge schedule that runs one function.

    Two layers of retry: `delivery_retries` and `max_event_age_seconds` govern EventBridge handing the
    event to Lambda; `run_retries` governs Lambda re-running a failed (asynchronous) invocation.
    What exhausts either ends in the schedules' dead-letter queue."""

    name: str
    function: FunctionSpec
    expression: str  # EventBridge schedule expression; cron fields are UTC
    description: str
    delivery_retries: int
    run_retries: int  # 0-2
    max_event_age_seconds: int  # 60 s - 6 h (Lambda's asynchronous limit)


SCHEDULES: tuple[ScheduleSpec, ...] = (
    ScheduleSpec(
        "outbox-relay",
        OUTBOX_RELAY,
        "rate(5 minutes)",
        "Every 5 minutes: relay accepted events that scoring has not taken",
        delivery_retries=2,
        run_retries=0,  # the next run, five minutes later, does the same work
        max_event_age_seconds=4 * 60,
    ),
    ScheduleSpec(
        "hold-sweep",
        HOLD_SWEEP,
        f"rate({HOLD_SWEEP_PERIOD_MINUTES} minutes)",
        "Every 15 minutes: hold new rewards of flagged subjects",
        delivery_retries=3,
        run_retries=1,
        max_event_age_seconds=14 * 60,  # never overlaps the next run
    ),
    ScheduleSpec(
        "dispute-cycle",
        DISPUTE_CYCLE,
        "cron(0 0 1 * ? *)",
        "00:00 UTC on the 1st of each month: apply dispute verdicts",
        delivery_retries=10,
        # also for a run's continuation (functions/disputes/continuation.py), an asynchronous
        # invocation of the function by itself: a failed one is run again from where it started
        run_retries=2,
        max_event_age_seconds=6 * 60 * 60,  # a missed monthly cycle is costly: keep trying for hours
    ),
    ScheduleSpec(
        "loyalty-workflow-relay",
        LOYALTY_WORKFLOW_RELAY,
        "rate(1 minute)",
        "Every minute: relay loyalty workflow runs the workflow queue never got",
        delivery_retries=2,
        run_retries=0,  # the next run, a minute later, does the same work
        max_event_age_seconds=60,
    ),
)

# The edge authorizer (API Gateway REQUEST authorizer on every credentialed method): small and fast,
# since a request whose key's answer is not cached waits for it; one read and at most one write.
AUTHORIZER = FunctionSpec(
    "authorizer",
    "functions.authorizer.handler.lambda_handler",
    1024,
    AUTHORIZER_TIMEOUT_SECONDS,  # the code's own number: a revocation flushes again after it
    "Edge authorizer: checks the API key before any function runs (API Gateway caches its answers)",
)

ALL_FUNCTIONS: tuple[FunctionSpec, ...] = (
    *API_FUNCTIONS,
    SCORE,
    LOYALTY_WORKFLOWS,
    *(s.function for s in SCHEDULES),
    AUTHORIZER,
)

# --- Webhooks (SPEC 6) ----------------------------------------------------------------------------
# The delivery function takes notifications (from the bus, by a rule) and scheduled tries from the
# webhooks queue. A try waits at most 10 seconds for a receiver (SPEC 6): a batch's fit in 60 s.
WEBHOOK_DELIVERY = FunctionSpec(
    "webhook_delivery",
    "functions.webhooks.deliver.lambda_handler",
    512,
    60,
    "Delivers signed webhooks: notifications and scheduled tries from the webhooks queue",
    loops_by_design=True,
)
ALL_FUNCTIONS += (WEBHOOK_DELIVERY,)
# receivers are other companies' servers: a ceiling on how hard we call, 20 tries at once (each
# function takes its batch's tries side by side: `functions/webhooks/deliver.py`)
WEBHOOKS_TRIES_AT_ONCE = 20
# in runs of 2: a run lasts as long as its slowest try, so a program's one slow try at a time
# (`domain.webhooks`, "a slow receiver") holds one run of ten and one other try, not one run of four
# and four others (a tester's: four programs with a slow receiver each held every run)
WEBHOOKS_BATCH_SIZE = 2
WEBHOOKS_MAX_CONCURRENCY = WEBHOOKS_TRIES_AT_ONCE // WEBHOOKS_BATCH_SIZE
WEBHOOKS_VISIBILITY_TIMEOUT_SECONDS = 6 * WEBHOOK_DELIVERY.timeout_seconds  # AWS's guidance, as scoring
# A rule target's own retries when SQS does not take a notification, then the dead-letter queue.
WEBHOOKS_RULE_RETRIES = 10
WEBHOOKS_RULE_MAX_EVENT_AGE_HOURS = 24

# --- API -----------------------------------------------------------------------------------------
STAGE_NAME = "prod"  # the routes carry their own /v1 prefix
# Stage-wide limits, for all programs together. The account's regional default is 10,000 requests/s;
# raise that quota before raising these.
THROTTLE_RATE_PER_SECOND = 5000
THROTTLE_BURST = 2500
# Routes without credentials are the cheapest to abuse: they get their own, much lower, limit.
PUBLIC_THROTTLE_RATE_PER_SECOND = 20
PUBLIC_THROTTLE_BURST = 40

# --- Per-key rate limit at the edge: a WAF web ACL on the API's stage (docs/design.md) ------------
# Requests per second one API key may send, averaged over the rule's window (`-c rateLimitPerKey=N`).
# 4,000: one program's integration at the scale SPEC 1 is built for (3,000 events/s) with a third to
# spare, and under the stage's 5,000, so that no single key takes the whole stage from the others.
RATE_LIMIT_PER_KEY = 4000
# DynamoDB's default on-demand quota: request units a second for the table, and for each index (raised
# in Service Quotas); `-c tableQuota=N` tells the alarms a raised one. They warn at QUOTA_WARNING of it
TABLE_QUOTA = 40_000
QUOTA_WARNING = 0.8
# WAF counts each key's requests over a trailing window: 60 s, its shortest, starts and lifts a block
# soonest. A 429 from the rule says to retry after one window, when the key's count is back under it.
RATE_LIMIT_WINDOW_SECONDS = 60
RATE_LIMIT_RETRY_AFTER_SECONDS = RATE_LIMIT_WINDOW_SECONDS
# How long API Gateway keeps the authorizer's answer for one Authorization header (the code's own
# number: the local gateway keeps it as long). A revoked key stops at once when the keys function's
# flush of the stage's authorizer cache succeeds, and within this time otherwise.
AUTHORIZER_CACHE_SECONDS = AUTHORIZER_CACHE_SECONDS
# API Gateway's own 429 (stage throttling, a token bucket refilled every second)
THROTTLED_RETRY_AFTER_SECONDS = 1

# --- Web console (CloudFront in front of S3 and the API) ----------------------------------------
API_PATH_PATTERN = "/v1/*"  # every route of the route table; anything else is the console's
# The console's own rules (docs/design.md, "Web console"): nothing but this origin, never in a frame.
# The same policy the local system sends with the console's files (local_system/http_adapter.py).
CONTENT_SECURITY_POLICY = "default-src 'self'; frame-ancestors 'none'"
HSTS_MAX_AGE_SECONDS = 365 * 24 * 3600  # a year; no includeSubDomains: the stack owns one host name
# The console's files carry no content hash in their names: browsers revalidate each (ETag, 304), so a
# deployment is seen at the next page load without any invalidation.
CONSOLE_CACHE_CONTROL = "no-cache"
# North America, Europe and Israel: the cheapest class. Every API call goes to the API's region anyway,
# so edge locations farther out would speed up only a few small static files.
CONSOLE_PRICE_CLASS = "PRICE_CLASS_100"
# With a custom domain (`-c domainName=... -c certificateArn=...`): TLS 1.2 at least, with the
# ciphers CloudFront's 2021 policy allows. CloudFront's default certificate (no domain) cannot be
# given a minimum.
VIEWER_MINIMUM_PROTOCOL = "TLS_V1_2_2021"  # aws_cloudfront.SecurityPolicyProtocol
CERTIFICATE_REGION = "us-east-1"  # the only region CloudFront takes certificates from
# The parts of an ARN an option names (`alarmTopicArn`, `certificateArn`), as regular expressions:
# AWS's partitions, and a region's form (`eu-west-1`, `us-gov-west-1`, `cn-north-1`)
ARN_PARTITION = "(?:aws|aws-cn|aws-us-gov|aws-iso|aws-iso-[a-z]|aws-eusc)"
ARN_REGION = "[a-z]{2,}(?:-[a-z]+)+-[0-9]+"  # us-east-1, cn-north-1, eusc-de-east-1, us-isob-east-1

# --- Access logs (CloudFront's standard logs and the console bucket's server access logs) ---------
# They hold viewers' addresses: kept for a quarter, long enough to look into an incident noticed
# late, then expired.
ACCESS_LOG_EXPIRY_DAYS = 90
CLOUDFRONT_LOG_PREFIX = "cloudfront/"
CONSOLE_BUCKET_LOG_PREFIX = "console-bucket/"

# --- Network pepper ------------------------------------------------------------------------------
NETWORK_PEPPER_LENGTH = 64  # letters and digits: about 380 bits, far over HMAC-SHA256's 256-bit key

# --- Alarms --------------------------------------------------------------------------------------
ALARM_PERIOD_SECONDS = 300
SCORING_BACKLOG_AGE_SECONDS = 300  # the oldest queued event waited this long: scoring falls behind
# a run a customer's spends may wait for (20 minutes at most) waited five: the workflows fall behind
WORKFLOW_BACKLOG_AGE_SECONDS = 300
# a try is sent with its delay (15 minutes at most) and then has its receives: half an hour is behind
WEBHOOKS_BACKLOG_AGE_SECONDS = 1800
