"""The code asset holds every handler the template names; the bundle holds only runtime packages;
cdk-nag's AWS Solutions checks pass, every exception acknowledged with a reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from functions.shared.routes import ROUTES
from infra import bundle, constants
from tests.infra import cfn
from tests.infra.conftest import Synthesized


def _module_file(asset: Path, handler: str) -> Path:
    module = handler.rpartition(".")[0]
    return asset / (module.replace(".", "/") + ".py")


def _asset_dir(synthesized: Synthesized, function_id: str) -> Path:
    key = synthesized.template.props(function_id)["Code"]["S3Key"]
    return synthesized.assembly_dir / f"asset.{key.removesuffix('.zip')}"


HANDLERS = sorted(
    {r.handler for r in ROUTES}
    | {s.function.handler for s in constants.SCHEDULES}
    | {constants.SCORE.handler}
    | {constants.AUTHORIZER.handler}
    | {constants.WEBHOOK_DELIVERY.handler}
    | {constants.LOYALTY_WORKFLOWS.handler}
)


@pytest.mark.parametrize("handler", HANDLERS)
def test_the_code_asset_contains_each_handler(synthesized: Synthesized, handler: str) -> None:
    functions = synthesized.template.functions_by_handler()
    assert handler in functions, f"no function runs {handler}"
    module = _module_file(_asset_dir(synthesized, functions[handler]), handler)
    assert module.is_file(), f"{module.name} missing from the code asset"


def test_every_function_runs_a_handler_the_route_table_the_schedules_or_the_edge_name(
    template: cfn.Template,
) -> None:
    assert set(template.functions_by_handler()) == set(HANDLERS)


def test_the_bundle_installs_runtime_dependencies_only() -> None:
    names = {requirement.split("[")[0].split("=")[0].lower() for requirement in bundle.runtime_requirements()}
    assert "aws-lambda-powertools" in names and "pynamodb" in names
    tooling = {
        "aws-cdk-lib",
        "constructs",
        "cdk-nag",
        "cfn-lint",
        "moto",
        "pytest",
        "ruff",
        "mypy",
        "werkzeug",
    }
    assert not names & tooling


def test_the_bundle_installs_every_distribution_at_the_version_the_tests_run_on() -> None:
    """A reviewer's find: the bundle's manifest pinned only [project.dependencies], and pip chose
    botocore, urllib3, wrapt and the rest at each build, so two builds could ship different code
    under one manifest, and neither need be what the tests ran on. infra/lambda.lock names every
    distribution, the bundle installs those alone (--no-deps), and `make install` takes them as
    constraints: this environment's versions are the lock's, or the lock is stale (`make lock`)."""
    locked = bundle.lock_lines()
    assert locked == bundle.locked(), "infra/lambda.lock is not this environment's: run `make lock`"
    names = {line.split("==")[0] for line in locked}
    assert {"botocore", "urllib3", "pydantic-core", "wrapt", "typing-extensions"} <= names  # indirect ones
    direct = {text.split("[")[0].split("=")[0] for text in bundle.runtime_requirements()}
    assert direct <= names
    assert all(line.count("==") == 1 for line in locked)
    assert bundle.manifest()["locked"] == locked  # a bundle built from another lock is stale


def test_the_bundle_targets_the_lambda_platform() -> None:
    built_for = bundle.manifest()
    assert built_for["python"] == constants.PYTHON_VERSION
    assert built_for["platform"] == constants.PIP_PLATFORM


def test_a_stale_bundle_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="make bundle"):
        bundle.check_bundle(tmp_path)  # never built
    stale = {**bundle.manifest(), "requirements": ["pydantic==1.0"]}
    (tmp_path / bundle.MANIFEST).write_text(json.dumps(stale))
    with pytest.raises(SystemExit, match="make bundle"):
        bundle.check_bundle(tmp_path)
    (tmp_path / bundle.MANIFEST).write_text(json.dumps(bundle.manifest()))
    bundle.check_bundle(tmp_path)


def test_cdk_nag_aws_solutions_finds_nothing_unacknowledged(synthesized: Synthesized) -> None:
    report = synthesized.validation_report
    violations = [
        f"{v['ruleName']} at {c['constructPath']}"
        for plugin in report["pluginReports"]
        for v in plugin.get("violations", [])
        for c in v["violatingConstructs"]
    ]
    assert violations == []
    assert synthesized.validation_error is None


# Every acknowledged cdk-nag rule, and the one kind of resource it may sit on. A new acknowledgment
# is a decision to review: add it here with the construct's written reason.
ACKNOWLEDGED = {
    ("AwsSolutions-L1", "AWS::Lambda::Function"),  # Python 3.11, as pyproject.toml pins
    ("AwsSolutions-IAM5[Resource::*]", "AWS::IAM::Policy"),  # X-Ray has no resource-level permissions
    ("AwsSolutions-APIG2", "AWS::ApiGateway::RestApi"),  # validation in the edge, after authentication
    ("AwsSolutions-APIG4", "AWS::ApiGateway::Method"),  # API keys checked in the edge (SPEC 2)
    ("AwsSolutions-COG4", "AWS::ApiGateway::Method"),  # idem
    (
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AmazonAPIGatewayPushToCloudWatchLogs]",
        "AWS::IAM::Role",
    ),  # API Gateway's account-wide logging role
    ("AwsSolutions-SQS3", "AWS::SQS::Queue"),  # the schedules' dead-letter queue has none itself
    ("AwsSolutions-SMG4", "AWS::SecretsManager::Secret"),  # the network pepper: rotating cuts every link
    # the web console
    ("AwsSolutions-S1", "AWS::S3::Bucket"),  # the log bucket: no logs of its own logs
    ("AwsSolutions-CFR1", "AWS::CloudFront::Distribution"),  # no geo restriction: teams anywhere
    ("AwsSolutions-CFR2", "AWS::CloudFront::Distribution"),  # the web ACL is on the API's stage
    ("AwsSolutions-CFR4", "AWS::CloudFront::Distribution"),  # no custom domain: CloudFront's certificate
    ("AwsSolutions-L1", "AWS::Lambda::Function"),  # also the CDK's deployment function: the CDK's runtime
    *(
        (f"AwsSolutions-IAM5[{finding}]", "AWS::IAM::Policy")  # BucketDeployment's own grants
        for finding in (
            "Action::s3:GetBucket*",
            "Action::s3:GetObject*",
            "Action::s3:List*",
            "Action::s3:Abort*",
            "Action::s3:DeleteObject*",
            "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*",
        )
    ),
}
# ... and on the console bucket's objects, whose logical id the test reads from the template
CONSOLE_BUCKET_OBJECTS = "AwsSolutions-IAM5[Resource::<{bucket}.Arn>/*]"
# ... and on the two log groups the CDK's log retention function touches, each by its name (`:*` is a
# log group's ARN in IAM): the API's execution log group (its API's id read from the template), its own
LOG_GROUP = (
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:{}:*]"
)
LOG_RETENTION_GROUPS = (
    f"API-Gateway-Execution-Logs_<{{api}}>/{constants.STAGE_NAME}",
    f"/aws/lambda/{constants.STACK_NAME}-log-retention",
)


def test_acknowledgments_sit_on_the_resource_they_concern_with_a_reason(template: cfn.Template) -> None:
    found = {}
    for logical_id, resource in template.resources.items():
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            found[(rule["id"], resource["Type"], logical_id)] = rule["reason"]

    assert found, "no acknowledgment in the template: is cdk-nag attached to the app?"
    bucket = template.console_bucket()
    api, _ = template.only("AWS::ApiGateway::RestApi")
    allowed = ACKNOWLEDGED | {(CONSOLE_BUCKET_OBJECTS.format(bucket=bucket), "AWS::IAM::Policy")}
    allowed |= {(LOG_GROUP.format(group.format(api=api)), "AWS::IAM::Role") for group in LOG_RETENTION_GROUPS}
    assert {(rule, kind) for rule, kind, _ in found} <= allowed
    assert all(len(reason) > 60 for reason in found.values())


def test_cdk_synth_works_offline_and_a_deploy_never_takes_the_source_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SPEC 9: `cdk synth` works offline. With no bundle and no AWS account the app synthesizes with
    # the source alone; with an account (every deploy has one) it refuses, as with a named asset
    from aws_cdk import App

    from infra import app as cdk_app

    monkeypatch.setattr(bundle, "DEFAULT_OUT", tmp_path / "lambda")  # never built
    monkeypatch.setattr(cdk_app, "OFFLINE_ASSET", tmp_path / "synth-asset")

    offline = cdk_app.code_asset(App(), environ={})
    assert offline == tmp_path / "synth-asset" and (offline / "functions" / "score").is_dir()
    with pytest.raises(SystemExit, match="make bundle"):
        cdk_app.code_asset(App(), environ={"CDK_DEFAULT_ACCOUNT": "123456789012"})
    with pytest.raises(SystemExit, match="make bundle"):
        cdk_app.code_asset(App(context={"lambdaAsset": str(tmp_path / "elsewhere")}), environ={})


def test_an_assembly_synthesized_without_the_bundle_cannot_be_deployed() -> None:
    # `cdk deploy --app cdk.out` of an offline synth: CloudFormation wants a value for a parameter
    # without a default, which no deploy gives, and stops before any change
    from aws_cdk import App, Stack
    from aws_cdk.assertions import Template

    from infra import app as cdk_app

    stack = Stack(App(), "offline")
    cdk_app.not_deployable(stack)

    (parameter,) = Template.from_stack(stack).find_parameters("SynthesizedWithoutBundle").values()
    assert "Default" not in parameter and parameter["AllowedValues"] == ["run make bundle, then cdk deploy"]
