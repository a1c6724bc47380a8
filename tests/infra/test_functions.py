"""Every function: its runtime and defaults, its own least-privilege role, and its environment.

The expected grants come from infra/permissions.py (what each code path calls, declared once); the
role must give exactly those on the table, its indexes, the queue and the bus, plus the platform's
own needs (its log group, X-Ray, a scheduled function's dead-letter queue), and nothing else."""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path

import pytest

from functions.disputes.continuation import MAX_CONTINUATIONS
from functions.shared import aws_calls
from functions.shared.domain.webhooks import SQS_LONGEST_DELAY_SECONDS, RetrySchedule
from functions.shared.routes import ROUTES
from functions.shared.storage import keys
from infra import constants, permissions
from infra.constants import FunctionSpec
from tests.infra import cfn

FUNCTIONS = [pytest.param(spec, id=spec.name) for spec in constants.ALL_FUNCTIONS]
SQS_CONSUME = {
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
}
XRAY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
SCHEDULED = {schedule.function.name for schedule in constants.SCHEDULES}


class Ids:
    """Logical ids of the shared resources, found by what they are."""

    def __init__(self, template: cfn.Template) -> None:
        self.table, _ = template.only("AWS::DynamoDB::Table")
        self.bus, _ = template.only("AWS::Events::EventBus")
        self.network_pepper, _ = template.only("AWS::SecretsManager::Secret")
        self.rest_api, _ = template.only("AWS::ApiGateway::RestApi")
        _, mapping = template.event_source_mapping(constants.SCORE.handler)
        self.scoring_queue = cfn.referenced_id(mapping["Properties"]["EventSourceArn"])
        _, mapping = template.event_source_mapping(constants.LOYALTY_WORKFLOWS.handler)
        self.workflow_queue = cfn.referenced_id(mapping["Properties"]["EventSourceArn"])
        (self.schedule_dead_letters,) = {
            cfn.referenced_id(t["DeadLetterConfig"]["Arn"])
            for r in template.of_type("AWS::Events::Rule").values()
            if "ScheduleExpression" in r["Properties"]
            for t in r["Properties"]["Targets"]
        }
        _, webhooks = template.event_source_mapping(constants.WEBHOOK_DELIVERY.handler)
        self.webhooks_queue = cfn.referenced_id(webhooks["Properties"]["EventSourceArn"])
        self.webhook_key, _ = template.only("AWS::KMS::Key", **cfn.WEBHOOK_SECRETS_KEY)
        self.program_secrets_key, _ = template.only("AWS::KMS::Key", **cfn.PROGRAM_SECRETS_KEY)


def expected_grants(access: permissions.Access, ids: Ids, function_name: str = "") -> set[cfn.Grant]:
    table = f"<{ids.table}.Arn>"
    not_keys = cfn.condition_text(permissions.other_items_condition())
    grants = {cfn.Grant(action, table, not_keys) for action in access.table}
    only_keys = cfn.condition_text(permissions.api_key_items_condition())
    grants |= {cfn.Grant(action, table, only_keys) for action in access.api_keys}
    if access.clears_outbox:
        only_notifications = cfn.condition_text(permissions.notification_items_condition())
        grants.add(cfn.Grant(permissions.BATCH_WRITE_ITEM, table, only_notifications))
    if access.deletes:
        only_deleted = cfn.condition_text(permissions.deleted_items_condition(access))
        grants.add(cfn.Grant(permissions.DELETE_ITEM, table, only_deleted))
    grants |= {cfn.Grant(permissions.QUERY, f"{table}/index/{name}") for name in access.indexes}
    # a relay reads how many messages wait in the queues it sends to, and nothing else of them
    sends = ("sqs:SendMessage", "sqs:GetQueueAttributes") if access.gauge_queues else ("sqs:SendMessage",)
    queue = f"<{ids.scoring_queue}.Arn>"
    if access.send_to_scoring:
        grants |= {cfn.Grant(action, queue) for action in sends}
    if access.consume_scoring:
        grants |= {cfn.Grant(action, queue) for action in SQS_CONSUME}
    workflow_queue = f"<{ids.workflow_queue}.Arn>"
    if access.send_to_workflows:
        grants |= {cfn.Grant(action, workflow_queue) for action in sends}
    if access.consume_workflows:
        grants |= {cfn.Grant(action, workflow_queue) for action in SQS_CONSUME}
    if access.publish_events:
        grants.add(cfn.Grant("events:PutEvents", f"<{ids.bus}.Arn>"))
    if access.read_network_pepper:
        grants.add(cfn.Grant("secretsmanager:GetSecretValue", f"<{ids.network_pepper}>"))
    if access.flush_authorizer_cache:  # FlushStageAuthorizersCache on the one stage of the one API
        stage_cache = f"/restapis/<{ids.rest_api}>/stages/{constants.STAGE_NAME}/cache/authorizers"
        grants.add(
            cfn.Grant("apigateway:DELETE", f"arn:<AWS::Partition>:apigateway:<AWS::Region>::{stage_cache}")
        )
    webhooks = f"<{ids.webhooks_queue}.Arn>"
    if access.send_to_webhooks:
        grants.add(cfn.Grant("sqs:SendMessage", webhooks))
    if access.consume_webhooks:
        grants |= {cfn.Grant(action, webhooks) for action in SQS_CONSUME}
    for_webhooks = cfn.condition_text(permissions.webhook_secrets_condition())
    grants |= {
        cfn.Grant(action, f"<{ids.webhook_key}.Arn>", for_webhooks) for action in access.webhook_secrets
    }
    for_programs = cfn.condition_text(permissions.program_secrets_condition())
    grants |= {
        cfn.Grant(action, f"<{ids.program_secrets_key}.Arn>", for_programs)
        for action in access.program_secrets
    }
    if access.invoke_self:  # its own function, unqualified, by name (never a reference: a cycle)
        own = f"arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:{function_name}"
        grants.add(cfn.Grant("lambda:InvokeFunction", own))
    return grants


def platform_grants(template: cfn.Template, function_id: str, spec: FunctionSpec, ids: Ids) -> set[cfn.Grant]:
    log_group = cfn.referenced_id(template.props(function_id)["LoggingConfig"]["LogGroup"])
    grants = {cfn.Grant(a, f"<{log_group}.Arn>") for a in ("logs:CreateLogStream", "logs:PutLogEvents")}
    grants |= {cfn.Grant(action, "*") for action in XRAY}
    if spec.name in SCHEDULED:  # a failed asynchronous run is sent to the dead-letter queue
        dead_letters = f"<{ids.schedule_dead_letters}.Arn>"
        grants |= {
            cfn.Grant(a, dead_letters)
            for a in ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl")
        }
    return grants


ROOT = Path(__file__).parents[2]


def _role(template: cfn.Template, spec: FunctionSpec) -> str:
    return template.function_role(_function(template, spec))


def _function(template: cfn.Template, spec: FunctionSpec) -> str:
    functions = template.functions_by_handler()
    assert spec.handler in functions, f"no function runs {spec.handler}"
    return functions[spec.handler]


@pytest.mark.parametrize("spec", FUNCTIONS)
def test_role_grants_exactly_what_the_function_uses(template: cfn.Template, spec: FunctionSpec) -> None:
    ids = Ids(template)
    function_id = _function(template, spec)
    role = template.function_role(function_id)

    granted = template.grants(role)
    name = template.props(function_id)["FunctionName"]
    expected = expected_grants(permissions.access_of(spec.name), ids, name)

    assert granted - platform_grants(template, function_id, spec, ids) == expected
    assert not template.props(role).get("ManagedPolicyArns"), "no AWS managed policy on a function role"


@pytest.mark.parametrize("spec", FUNCTIONS)
def test_no_function_reaches_a_table_action_it_does_not_use(
    template: cfn.Template, spec: FunctionSpec
) -> None:
    role = template.function_role(_function(template, spec))
    access = permissions.access_of(spec.name)

    table_grants = {g for g in template.grants(role) if g.action.startswith("dynamodb:")}
    indexes = {g for g in table_grants if "/index/" in g.resource}
    only_keys = {
        g for g in table_grants if g.condition == cfn.condition_text(permissions.api_key_items_condition())
    }
    notifications = cfn.condition_text(permissions.notification_items_condition())
    outbox = {g for g in table_grants if g.condition == notifications}
    deletions = {g for g in table_grants if g.action == permissions.DELETE_ITEM}
    other_items = table_grants - indexes - only_keys - outbox - deletions

    # a batch write (it puts or deletes any item it names) reaches notification items alone
    assert {g.action for g in outbox} == ({permissions.BATCH_WRITE_ITEM} if access.clears_outbox else set())
    # a deletion reaches the kinds of items the function deletes alone, named by their keys' shape
    assert {g.condition for g in deletions} == (
        {cfn.condition_text(permissions.deleted_items_condition(access))} if access.deletes else set()
    )
    assert all(pattern.startswith("P#*#") for pattern in access.deletes)

    assert {g.action for g in indexes} <= {permissions.QUERY} and not any(g.condition for g in indexes)
    assert {g.action for g in other_items} <= access.table
    # no grant on the table's items reaches API-key items but those made for them
    assert {g.condition for g in other_items} <= {cfn.condition_text(permissions.other_items_condition())}
    assert {g.action for g in only_keys} <= access.api_keys
    assert all(g.resource != "*" and "*" not in g.action for g in table_grants)


def test_every_function_that_authenticates_may_record_its_callers_key_use() -> None:
    # The last-used write never fails a request: a function denied it would answer as usual and
    # silently never record a use. So it is declared, for every function whose routes take a key.
    authenticating = {route.function for route in ROUTES if not route.public}
    may_record = {
        name for name in authenticating if permissions.UPDATE_ITEM in permissions.access_of(name).api_keys
    }
    assert may_record == authenticating


def test_the_api_key_condition_names_exactly_the_key_items() -> None:
    pattern = permissions.API_KEY_ITEMS
    assert pattern.endswith("*") and keys.api_key_pk("0123456789abcdef").startswith(pattern[:-1])
    # no other item's partition key starts like an API key's
    assert not keys.program_keys_pk("APIKEY").startswith(pattern[:-1])
    assert not keys.program_pk().startswith(pattern[:-1])
    assert not keys.program_item_pk("prg-a").startswith(pattern[:-1])


def test_only_tracing_is_granted_on_every_resource(template: cfn.Template) -> None:
    for role_id in template.of_type("AWS::IAM::Role"):
        wildcard = {g.action for g in template.grants(role_id) if g.resource == "*"}
        assert wildcard <= XRAY, role_id


def test_every_table_grant_in_the_stack_belongs_to_a_declared_function(template: cfn.Template) -> None:
    roles = {template.function_role(f) for f in template.functions_by_handler().values()}
    for role_id in template.of_type("AWS::IAM::Role"):
        if role_id not in roles:
            assert not [g for g in template.grants(role_id) if g.action.startswith("dynamodb:")], role_id


def test_the_openapi_document_touches_no_storage(template: cfn.Template) -> None:
    spec = next(s for s in constants.API_FUNCTIONS if s.name == "openapi")
    role = template.function_role(_function(template, spec))

    assert not [g for g in template.grants(role) if g.action.split(":")[0] in {"dynamodb", "sqs", "events"}]


@pytest.mark.parametrize("spec", FUNCTIONS)
def test_environment_names_only_what_the_function_may_use(template: cfn.Template, spec: FunctionSpec) -> None:
    ids = Ids(template)
    access = permissions.access_of(spec.name)
    variables = template.props(_function(template, spec))["Environment"]["Variables"]

    assert ("TABLE_NAME" in variables) == access.uses_table
    assert ("SCORING_QUEUE_URL" in variables) == access.send_to_scoring
    assert ("EVENT_BUS_NAME" in variables) == access.publish_events
    assert ("LOYALTY_WORKFLOW_QUEUE_URL" in variables) == access.send_to_workflows
    assert ("NETWORK_PEPPER_SECRET_ARN" in variables) == access.read_network_pepper
    assert "NETWORK_PEPPER" not in variables  # the secret's ARN only, never its value
    if access.uses_table:
        assert cfn.referenced_id(variables["TABLE_NAME"]) == ids.table
    if access.send_to_scoring:
        assert cfn.referenced_id(variables["SCORING_QUEUE_URL"]) == ids.scoring_queue
    if access.send_to_workflows:
        assert cfn.referenced_id(variables["LOYALTY_WORKFLOW_QUEUE_URL"]) == ids.workflow_queue
    if access.publish_events:
        assert cfn.referenced_id(variables["EVENT_BUS_NAME"]) == ids.bus
    if access.read_network_pepper:
        assert cfn.referenced_id(variables["NETWORK_PEPPER_SECRET_ARN"]) == ids.network_pepper
    assert ("REST_API_ID" in variables) == access.flush_authorizer_cache
    if access.flush_authorizer_cache:
        assert cfn.referenced_id(variables["REST_API_ID"]) == ids.rest_api
        assert variables["API_STAGE_NAME"] == constants.STAGE_NAME
    assert ("WEBHOOKS_QUEUE_URL" in variables) == access.send_to_webhooks
    assert ("WEBHOOKS_KMS_KEY_ID" in variables) == bool(access.webhook_secrets)
    if access.send_to_webhooks:
        assert cfn.referenced_id(variables["WEBHOOKS_QUEUE_URL"]) == ids.webhooks_queue
    if access.webhook_secrets:
        assert cfn.referenced_id(variables["WEBHOOKS_KMS_KEY_ID"]) == ids.webhook_key
    assert ("PROGRAM_SECRETS_KMS_KEY_ID" in variables) == bool(access.program_secrets)
    if access.program_secrets:  # the key's ARN: Decrypt is granted on it, not on the code's default alias
        assert cfn.render(variables["PROGRAM_SECRETS_KMS_KEY_ID"]) == f"<{ids.program_secrets_key}.Arn>"
    assert not any(name.startswith("WEBHOOK_RETRY") for name in variables)  # deployed: the 24-hour schedule
    assert "WEBHOOKS_ALLOW_LOOPBACK_HTTP" not in variables  # never in AWS


@pytest.mark.parametrize("spec", FUNCTIONS)
def test_function_defaults(template: cfn.Template, spec: FunctionSpec) -> None:
    function_id = _function(template, spec)
    props = template.props(function_id)
    log_group = cfn.referenced_id(props["LoggingConfig"]["LogGroup"])
    variables = props["Environment"]["Variables"]

    assert props["TracingConfig"] == {"Mode": "Active"}
    assert template.props(log_group)["RetentionInDays"] == 30
    assert variables["POWERTOOLS_SERVICE_NAME"] == "fraud-management"
    assert variables["POWERTOOLS_LOGGER_LOG_EVENT"] == "false"  # events carry personal data
    assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
    assert props["Timeout"] <= 900 and props["MemorySize"] >= 128


def test_a_call_to_aws_that_never_answers_ends_inside_the_api_functions_timeout() -> None:
    """Every client the functions build waits on AWS within `aws_calls`' limits (botocore's own: a
    minute a read, retried, three minutes on one publish). A publish or a queue send after the
    commit gives up well inside an API answer (the outbox keeps what it carried), and a store that
    never answers fails the call before the function's timeout would."""
    shortest_api = min(spec.timeout_seconds for spec in constants.API_FUNCTIONS)
    assert aws_calls.HANDED_ON.longest_seconds() <= shortest_api / 2
    assert aws_calls.STORE.longest_seconds() < shortest_api
    assert aws_calls.limits_of("events") == aws_calls.limits_of("sqs") == aws_calls.HANDED_ON
    assert aws_calls.limits_of("kms") == aws_calls.STORE


def test_only_the_functions_that_hash_network_keys_read_the_pepper(template: cfn.Template) -> None:
    readers = {
        spec.name
        for spec in constants.ALL_FUNCTIONS
        if any(g.action.startswith("secretsmanager:") for g in template.grants(_role(template, spec)))
    }
    # scoring (and ingest's synchronous decision), removals, the dispute cycle, the sweep (finishing
    # a flag's marks)
    assert readers == {"score", "ingest", "cases", "dispute_cycle", "hold_sweep"}


def test_the_peppers_acknowledgments_name_exactly_the_functions_that_may_read_it(
    template: cfn.Template,
) -> None:
    # a reviewer read "only the three functions" while five roles could read it: the reasons given
    # for leaving it unrotated and on Secrets Manager's own key must name who actually reads it
    secret, resource = template.only("AWS::SecretsManager::Secret")
    readers = {
        spec.name
        for spec in constants.ALL_FUNCTIONS
        if cfn.Grant("secretsmanager:GetSecretValue", f"<{secret}>") in template.grants(_role(template, spec))
    }
    metadata = resource["Metadata"]
    reasons = {
        **{rule["id"]: rule["reason"] for rule in metadata["cdk_nag"]["rules_to_suppress"]},
        **{skip["id"]: skip["comment"] for skip in metadata["checkov"]["skip"]},
    }
    for rule in ("AwsSolutions-SMG4", "CKV_AWS_149"):
        named = re.findall(r"\(functions: ([a-z_, ]+)\)", reasons[rule])
        assert len(named) == 1, reasons[rule]
        assert set(named[0].split(", ")) == readers, rule
    # and no count of them that could go stale
    assert not re.search(
        r"\b(one|two|three|four|five|six|seven|[0-9]+) functions\b", " ".join(reasons.values())
    )


def test_every_function_folder_that_hashes_network_keys_has_a_reader_of_the_pepper() -> None:
    # A new caller of network_pepper() in a folder whose functions may not read the secret would fail
    # when deployed (AccessDenied): it must be declared in infra/permissions.py first. The scoring
    # engine's factory (`engine_for`) reads it too, so every folder that builds an engine counts.
    definition = ROOT / "functions" / "shared" / "domain" / "identity.py"
    callers = {
        path.relative_to(ROOT / "functions").parts[0]  # the function folder
        for path in (ROOT / "functions").rglob("*.py")
        if path != definition
        and any(call in path.read_text() for call in ("network_pepper()", "engine_for("))
    }
    readers = {
        spec.handler.split(".")[1]
        for spec in constants.ALL_FUNCTIONS
        if permissions.access_of(spec.name).read_network_pepper
    }
    assert callers == readers


def test_the_network_pepper_is_generated_retained_and_never_rotated(template: cfn.Template) -> None:
    _, secret = template.only("AWS::SecretsManager::Secret")
    generated = secret["Properties"]["GenerateSecretString"]

    assert "SecretString" not in secret["Properties"]  # nobody ever sees or types it
    assert generated["PasswordLength"] >= 32
    assert secret["DeletionPolicy"] == secret["UpdateReplacePolicy"] == "Retain"  # links outlive the stack
    assert not template.of_type("AWS::SecretsManager::RotationSchedule")  # a new value cuts every link


def test_runtime_and_architecture_match_the_bundle(template: cfn.Template) -> None:
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    requires = pyproject["project"]["requires-python"]

    for function_id in template.functions_by_handler().values():
        props = template.props(function_id)
        assert props["Runtime"] == f"python{constants.PYTHON_VERSION}"
        assert props["Architectures"] == [constants.ARCHITECTURE]
    # the bundle's wheels are built for the same Python and CPU the functions run on
    assert f">={constants.PYTHON_VERSION}" in requires
    assert constants.PIP_PLATFORM.endswith({"arm64": "aarch64", "x86_64": "x86_64"}[constants.ARCHITECTURE])


def test_powertools_names_are_the_code_s() -> None:
    from functions.shared import observability

    assert constants.STACK_NAME == observability.SERVICE  # the service is the stack's name
    assert constants.METRICS_NAMESPACE == observability.NAMESPACE


def test_fraudctl_runs_each_scheduled_job_by_its_deployed_name(
    template: cfn.Template, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fraudctl.cli import JOBS
    from fraudctl.config import Target

    # fraudctl's settings for a deployed stack, with nothing of this machine's environment
    monkeypatch.setenv("FRAUDCTL_TARGET", "aws")
    monkeypatch.setenv("TABLE_NAME", "unused")
    monkeypatch.delenv("FRAUD_FUNCTION_PREFIX", raising=False)
    monkeypatch.delenv("FRAUD_STACK_NAME", raising=False)
    prefix = Target.from_env().function_prefix
    functions = [template.props(f) for f in template.functions_by_handler().values()]
    handlers = {props["FunctionName"]: props["Handler"] for props in functions}

    for job, handler in JOBS.items():
        assert handlers.get(f"{prefix}{job}") == handler, job


def test_the_authorizer_reads_and_writes_api_key_items_alone(template: cfn.Template) -> None:
    role = _role(template, constants.AUTHORIZER)
    table_grants = {g for g in template.grants(role) if g.action.startswith("dynamodb:")}

    assert {g.action for g in table_grants} == {permissions.GET_ITEM, permissions.UPDATE_ITEM}
    assert {g.condition for g in table_grants} == {cfn.condition_text(permissions.api_key_items_condition())}


def test_only_the_keys_function_may_flush_the_authorizer_cache(template: cfn.Template) -> None:
    flushers = {
        spec.name
        for spec in constants.ALL_FUNCTIONS
        if any(g.action.startswith("apigateway:") for g in template.grants(_role(template, spec)))
    }
    assert flushers == {"keys"}


def test_the_keys_function_outlasts_a_revocations_second_flush(template: cfn.Template) -> None:
    """A revocation flushes the stage's authorizer cache, waits out the authorizer's timeout and
    flushes again (`runtime._stage_flush`): the authorizer's deployed timeout is the one the code
    waits on, and the keys function has time for both flushes and its own work."""
    from functions.shared.auth import AUTHORIZER_TIMEOUT_SECONDS

    authorizer = template.props(_function(template, constants.AUTHORIZER))
    [keys_spec] = [spec for spec in constants.ALL_FUNCTIONS if spec.name == "keys"]
    keys_timeout = template.props(_function(template, keys_spec))["Timeout"]
    assert authorizer["Timeout"] == AUTHORIZER_TIMEOUT_SECONDS
    assert keys_timeout >= AUTHORIZER_TIMEOUT_SECONDS + 1 + 3  # the wait, two flushes, the write


@pytest.mark.parametrize("name", ["cases", "hold_sweep"])
def test_a_removal_may_read_its_links_together_and_send_its_reviews_to_scoring(
    template: cfn.Template, name: str
) -> None:
    """Finishing a partner's removal (the removal's request, or the hold sweep) reviews the partners
    on its links (`removals.review_linked`): it reads the link items and the reviews recorded already
    together (BatchGetItem of items other than API keys) and sends the reviews it records to the
    scoring queue. Stated here, apart from `permissions.ACCESS`: taking either away fails this."""
    (spec,) = [s for s in constants.ALL_FUNCTIONS if s.name == name]
    ids = Ids(template)
    granted = template.grants(_role(template, spec))
    not_keys = cfn.condition_text(permissions.other_items_condition())

    assert cfn.Grant("dynamodb:BatchGetItem", f"<{ids.table}.Arn>", not_keys) in granted
    assert cfn.Grant("sqs:SendMessage", f"<{ids.scoring_queue}.Arn>") in granted


def test_no_function_that_scores_runs_past_the_time_after_which_a_crowds_slots_are_learnt() -> None:
    # A score environment learns a crowd's velocity slots only `CROWD_SETTLES_IN` after it first saw
    # the crowd: by then every event that read the link short of its crowd has written, for its
    # function's time is up. The score function's timeout is that bound, and the ingest function (its
    # synchronous decision scores too) stops sooner.
    from functions.shared.read_memory import CROWD_SETTLES_IN

    assert constants.SCORE.timeout_seconds == CROWD_SETTLES_IN.total_seconds()
    scoring = {
        spec.name
        for spec in constants.ALL_FUNCTIONS
        if any(
            "engine_for(" in path.read_text()
            for path in (ROOT / "functions" / spec.handler.split(".")[1]).rglob("*.py")
        )
    }
    assert scoring == {"score", "ingest"}, scoring
    assert all(
        spec.timeout_seconds <= CROWD_SETTLES_IN.total_seconds()
        for spec in constants.ALL_FUNCTIONS
        if spec.name in scoring
    )


# Lambda's recursive loop detection stops a chain of invocations (a function sending to the queue
# it reads, or invoking itself) at its 16th: docs.aws.amazon.com/lambda/latest/dg/invocation-recursion
LAMBDA_LOOP_LIMIT = 16


def _loops(access: permissions.Access) -> bool:
    """Whether a function hands work back to itself: to the queue it reads, or by invoking itself."""
    return access.invoke_self or any(
        getattr(access, f"send_to_{queue}") and getattr(access, f"consume_{queue}")
        for queue in ("scoring", "webhooks", "workflows")
    )


def _longest_chain(name: str) -> int:
    """The most invocations one chain of a looping function takes, by its code's own bounds."""
    if name == "dispute_cycle":  # the scheduled run, then its continuations
        return MAX_CONTINUATIONS + 1
    if name == "score":  # an event scored late, then the reviews it sent (`linked_earlier`), which send none
        return 2
    assert name == "webhook_delivery", f"{name} loops: how long may its chain be?"
    # a receiver that fails every try until the delivery's horizon, each wait the shortest: each try
    # an invocation, and a wait longer than SQS can delay a message one more for each hop
    schedule, invocations, tries, waited = RetrySchedule(), 1, 1, 0.0
    while waited < schedule.horizon_seconds:
        wait = schedule.wait_after(tries, lambda low, high: low)
        invocations += math.ceil(wait / SQS_LONGEST_DELAY_SECONDS)
        waited, tries = waited + wait, tries + 1
    return invocations


@pytest.mark.parametrize("spec", FUNCTIONS)
def test_only_a_function_whose_own_chain_outlasts_lambdas_loop_limit_may_loop(
    template: cfn.Template, spec: FunctionSpec
) -> None:
    allowed = template.props(_function(template, spec)).get("RecursiveLoop")

    # Lambda's detection stays on for a function that does not loop, or whose chains end well before it
    if not _loops(permissions.access_of(spec.name)) or _longest_chain(spec.name) < LAMBDA_LOOP_LIMIT:
        assert allowed is None
    else:
        assert allowed == "Allow"
