"""The deploy options given as context (`cdk deploy -c name=value`, README "Deploy to AWS"):
`stackName`, `rateLimitPerKey`, and a custom domain (`domainName` with `certificateArn`), which brings
TLS 1.2 at least. One more synthesis of the whole app, with every option set, shared by this file's tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App

from infra import bundle, checkov_scan, constants, synth
from infra.capabilities.data import TableThroughput
from infra.capabilities.nag import CHECKOV_METADATA
from tests.infra import cfn
from tests.infra.test_rate_limit import per_key_rule

RATE_LIMIT = 25  # requests per second per key
DOMAIN = "fraud.example.com"
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0b2a1f5e-6d5c-4e1b-9f0a-3c4d5e6f7a8b"
STACK = "fraud-staging"
QUOTA, WARM_WRITES, WARM_READS = 120_000, 50_000, 60_000  # request units a second
OPTIONS = {
    "stackName": STACK,
    "rateLimitPerKey": str(RATE_LIMIT),
    "domainName": DOMAIN,
    "certificateArn": CERTIFICATE,
    "tableQuota": str(QUOTA),
    "warmWritesPerSecond": str(WARM_WRITES),
    "warmReadsPerSecond": str(WARM_READS),
    "authorizerConcurrency": "100",
}


@pytest.fixture(scope="module")
def with_options(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template synthesized with every option, as `cdk synth -c ...` would (strings, as on the CLI)."""
    root = tmp_path_factory.mktemp("options")
    app = synth.new_app(outdir=root / "cdk.out", context=OPTIONS)
    synth.add_stack(
        app, lambda_asset=bundle.stage_source(root / "asset"), console_assets=synth.stage_console()
    )
    app.synth()  # cdk-nag passes with the options too, or this raises
    return root / "cdk.out" / f"{STACK}.template.json"


@pytest.fixture(scope="module")
def options_template(with_options: Path) -> cfn.Template:
    return cfn.Template(json.loads(with_options.read_text()))


def test_the_rate_limit_per_key_comes_from_the_context(options_template: cfn.Template) -> None:
    statement = per_key_rule(options_template)["Statement"]["RateBasedStatement"]
    assert statement["Limit"] == RATE_LIMIT * constants.RATE_LIMIT_WINDOW_SECONDS


def test_a_stack_of_another_name_names_what_the_account_holds_once_after_itself(
    options_template: cfn.Template, template: cfn.Template
) -> None:
    # a second system beside the default one (staging beside production, a new stack beside an old
    # one): what an account and region name once (functions, the key's alias) carries its stack's name
    def named(t: cfn.Template) -> set[str]:
        kinds = {"AWS::Lambda::Function": "FunctionName", "AWS::KMS::Alias": "AliasName"}
        return {
            resource["Properties"][kinds[resource["Type"]]]
            for resource in t.resources.values()
            if kinds.get(resource["Type"]) in resource.get("Properties", {})  # not the console's deployment
        }

    staged, default = named(options_template), named(template)
    # the app's functions, the key's alias, and the CDK's log retention function (named, so that its
    # role names its log group)
    assert len(staged) == len(default) == len(constants.ALL_FUNCTIONS) + 2
    assert not staged & default
    assert {n.replace(STACK, constants.STACK_NAME, 1) for n in staged} == default
    assert "alias/fraud-staging/program-secrets" in staged
    assert all(n.startswith(f"{STACK}-") for n in staged if not n.startswith("alias/"))
    # and its logs and metrics are its own (the service Powertools names them by)
    services = {
        f["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        for f in options_template.of_type("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"].startswith(cfn.APP_PACKAGE)
    }
    assert services == {STACK}


def test_a_stack_of_another_name_has_an_api_of_its_own_name_and_alarms_on_its_own_errors(
    options_template: cfn.Template, template: cfn.Template
) -> None:
    """API Gateway counts 5xx answers per API name in the account and region: staging's API, named
    as production's (the CDK's default, `RestApi`), raised production's alarm and paged its topic."""

    def api_and_alarmed(t: cfn.Template) -> tuple[str, set[str]]:
        (api,) = t.of_type("AWS::ApiGateway::RestApi").values()
        alarmed = {
            d["Value"]
            for alarm in t.of_type("AWS::CloudWatch::Alarm").values()
            for d in alarm["Properties"].get("Dimensions", [])
            if d["Name"] == "ApiName"
        }
        return api["Properties"]["Name"], alarmed

    staged, default = api_and_alarmed(options_template), api_and_alarmed(template)
    assert staged == (f"{STACK}-api", {f"{STACK}-api"})
    assert default == (f"{constants.STACK_NAME}-api", {f"{constants.STACK_NAME}-api"})


def test_a_stack_of_another_name_counts_its_rate_limit_refusals_under_its_own_name(
    options_template: cfn.Template, template: cfn.Template
) -> None:
    """The WAF's metrics are named in the account and region: staging's refusals were counted with
    production's under one `BlockedRequests` (a reviewer's find)."""

    def metric_names(t: cfn.Template) -> set[str]:
        _, acl = t.only("AWS::WAFv2::WebACL")
        rules = acl["Properties"]["Rules"]
        return {acl["Properties"]["VisibilityConfig"]["MetricName"]} | {
            rule["VisibilityConfig"]["MetricName"] for rule in rules
        }

    assert metric_names(options_template) == {f"{STACK}-api", f"{STACK}-PerKeyRateLimit"}
    assert metric_names(template) == {
        f"{constants.STACK_NAME}-api",
        f"{constants.STACK_NAME}-PerKeyRateLimit",
    }


def test_the_table_and_its_indexes_are_warmed_and_alarmed_as_the_options_say(
    options_template: cfn.Template, template: cfn.Template
) -> None:
    """SPEC 1's 3,000 events a second use about DynamoDB's default on-demand quota of 40,000 write units
    a second on the table (`make bench SUITES=partitions`; a reviewer's find): a table may be
    pre-warmed to take them at once, and the alarms warn at 80% of the quota the account has."""
    from functions.shared.storage.schema import INDEXES

    (table,) = options_template.of_type("AWS::DynamoDB::Table").values()
    warm = {"WriteUnitsPerSecond": WARM_WRITES, "ReadUnitsPerSecond": WARM_READS}
    assert table["Properties"]["WarmThroughput"] == warm
    indexes = table["Properties"]["GlobalSecondaryIndexes"]
    assert len(indexes) == len(INDEXES) and all(index["WarmThroughput"] == warm for index in indexes)
    (plain,) = template.of_type("AWS::DynamoDB::Table").values()  # none unless asked: it is charged
    assert "WarmThroughput" not in plain["Properties"]
    assert not any("WarmThroughput" in index for index in plain["Properties"]["GlobalSecondaryIndexes"])

    def near_quota(t: cfn.Template) -> dict[str, float]:
        return {
            alarm_id: alarm["Properties"]["Threshold"]
            for alarm_id, alarm in t.of_type("AWS::CloudWatch::Alarm").items()
            if "NearQuota" in alarm_id
        }

    period = constants.ALARM_PERIOD_SECONDS
    for t, quota in ((options_template, QUOTA), (template, constants.TABLE_QUOTA)):
        thresholds = near_quota(t)
        assert len(thresholds) == 2 + 2 * -(-len(INDEXES) // 10)  # the table's, and each index group's
        assert set(thresholds.values()) == {0.8 * quota * period}


def test_the_authorizer_keeps_executions_of_its_own_when_asked(
    options_template: cfn.Template, template: cfn.Template
) -> None:
    """Every request needs the authorizer: with the account's executions used up (ingest stretched
    out by a slow table), it was throttled with the rest and every program refused (a reviewer's
    find). Reserved on request only: a new account's limit may not allow it."""

    def reserved(t: cfn.Template) -> dict[str, int]:
        return {
            f["Properties"]["FunctionName"]: f["Properties"]["ReservedConcurrentExecutions"]
            for f in t.of_type("AWS::Lambda::Function").values()
            if "ReservedConcurrentExecutions" in f["Properties"]
        }

    assert reserved(options_template) == {constants.AUTHORIZER.function_name(STACK): 100}
    assert reserved(template) == {}


def test_a_custom_domain_gets_its_certificate_and_tls_1_2_at_least(options_template: cfn.Template) -> None:
    distribution_id, distribution = options_template.only("AWS::CloudFront::Distribution")
    config = distribution["Properties"]["DistributionConfig"]
    certificate = config["ViewerCertificate"]
    outputs = {name: cfn.render(o["Value"]) for name, o in options_template.document["Outputs"].items()}

    assert config["Aliases"] == [DOMAIN]
    assert certificate["AcmCertificateArn"] == CERTIFICATE
    assert certificate["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert certificate["SslSupportMethod"] == "sni-only"  # no dedicated-IP fee
    assert outputs["ConsoleUrl"] == f"https://{DOMAIN}/"
    # with a domain, nothing to acknowledge about the protocol
    skipped = {s["id"] for s in distribution.get("Metadata", {}).get(CHECKOV_METADATA, {}).get("skip", [])}
    assert "CKV_AWS_174" not in skipped


def test_with_every_option_checkov_still_finds_nothing_unacknowledged(
    with_options: Path, template: cfn.Template, tmp_path: Path
) -> None:
    # what the options change (the unchanged resources are scanned in test_checkov.py)
    document = json.loads(with_options.read_text())
    default = template.resources
    changed = {
        logical_id: resource
        for logical_id, resource in document["Resources"].items()
        if default.get(logical_id) != resource
    }
    assert "AWS::CloudFront::Distribution" in {r["Type"] for r in changed.values()}
    scanned = tmp_path / with_options.name
    scanned.write_text(json.dumps({**document, "Resources": changed}))
    report = checkov_scan.scan(scanned)
    assert [str(finding) for finding in report.failed] == []
    assert report.passed > 0
    assert "CKV_AWS_174" not in {finding.check for finding in report.acknowledged}


def test_without_a_domain_the_default_certificate_is_acknowledged_not_hidden(template: cfn.Template) -> None:
    _, distribution = template.only("AWS::CloudFront::Distribution")
    config = distribution["Properties"]["DistributionConfig"]
    skipped = {s["id"] for s in distribution.get("Metadata", {}).get(CHECKOV_METADATA, {}).get("skip", [])}

    assert "Aliases" not in config
    assert config.get("ViewerCertificate", {"CloudFrontDefaultCertificate": True}).get(
        "CloudFrontDefaultCertificate"
    )
    assert "CKV_AWS_174" in skipped


@pytest.mark.parametrize(
    ("context", "complaint"),
    [
        ({"rateLimitPerKey": "0"}, "at least 1"),
        ({"rateLimitPerKey": "lots"}, "whole number"),
        ({"domainName": DOMAIN}, "both"),
        ({"certificateArn": CERTIFICATE}, "both"),
        (
            {"domainName": DOMAIN, "certificateArn": CERTIFICATE.replace("us-east-1", "eu-west-1")},
            "us-east-1",
        ),
        ({"domainName": DOMAIN, "certificateArn": "arn:aws:iam::123456789012:server-certificate/x"}, "ACM"),
        ({"domainName": "https://fraud.example.com/", "certificateArn": CERTIFICATE}, "host name"),
        ({"stackName": "2fraud"}, "start with a letter"),
        ({"stackName": "fraud_staging"}, "hyphens"),
        ({"stackName": ""}, "start with a letter"),
        ({"stackName": "f" * 42}, "at most 41 characters"),
        ({"rateLimitPerKey": str(constants.THROTTLE_RATE_PER_SECOND + 1)}, "at most the stage's"),
        ({"alarmTopicArn": "arn:aws:sqs:eu-west-1:123456789012:alarms"}, "SNS topic's ARN"),
        ({"alarmTopicArn": "alarms"}, "SNS topic's ARN"),
        # the KMS alias alias/<stackName>/program-secrets: AWS keeps alias/aws/ (a jsii traceback before)
        ({"stackName": "aws"}, "must not be `aws`"),
        ({"stackName": "AWS"}, "must not be `aws`"),
        # each part of an ARN as AWS writes it, and digits as ASCII ones
        ({"domainName": DOMAIN, "certificateArn": "arn:aws:acm:us-east-1::certificate/"}, "ACM"),
        (
            {"domainName": DOMAIN, "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc"},
            "ACM",
        ),
        ({"domainName": DOMAIN, "certificateArn": CERTIFICATE.replace("aws", "awsxyz", 1)}, "ACM"),
        ({"alarmTopicArn": "arn:awsxyz:sns:eu-west-1:123456789012:ops"}, "SNS topic's ARN"),
        ({"alarmTopicArn": "arn:aws:sns:eu-west-1:١٢٣٤٥٦٧٨٩٠١٢:ops"}, "SNS topic's ARN"),
        ({"alarmTopicArn": "arn:aws:sns:west:123456789012:ops"}, "SNS topic's ARN"),
        ({"rateLimitPerKey": "٥٠٠"}, "whole number"),
        ({"rateLimitPerKey": " 500"}, "whole number"),
        ({"rateLimitPerKey": "5_00"}, "whole number"),
        ({"tableQuota": "0"}, "at least 1"),
        ({"authorizerConcurrency": "0"}, "at least 1"),
        ({"authorizerConcurrency": "many"}, "whole number of executions"),
        ({"tableQuota": "40k"}, "whole number"),
        ({"warmWritesPerSecond": "40001"}, r"at most tableQuota \(40,000\)"),
        ({"tableQuota": "80000", "warmReadsPerSecond": "90000"}, r"at most tableQuota \(80,000\)"),
    ],
)
def test_a_wrong_option_stops_the_synth_with_what_to_give(context: dict[str, str], complaint: str) -> None:
    app = App(context=context)
    with pytest.raises(SystemExit, match=complaint):
        synth.stack_name(app)
        synth.rate_limit_per_key(app)
        synth.custom_domain(app)
        synth.alarm_topic_arn(app)
        synth.table_throughput(app)
        synth.authorizer_concurrency(app)


def test_without_options_the_defaults_apply() -> None:
    app = App()
    assert synth.alarm_topic_arn(app) is None
    topic = "arn:aws:sns:eu-west-1:123456789012:fraud-alarms"
    assert synth.alarm_topic_arn(App(context={"alarmTopicArn": topic})) == topic
    assert synth.stack_name(app) == constants.STACK_NAME
    assert synth.stack_name(App(context={"stackName": "f" * 41})) == "f" * 41  # the longest that fits
    # names and ARNs of every partition and region form are taken (a reviewer's finds: aws-staging and
    # an SNS topic in the European Sovereign Cloud were refused)
    for name in ("aws-staging", "AWSFraud", "awsome-fraud"):
        assert synth.stack_name(App(context={"stackName": name})) == name
    for topic in (
        "arn:aws-eusc:sns:eusc-de-east-1:123456789012:ops",
        "arn:aws-cn:sns:cn-north-1:123456789012:ops",
        "arn:aws-us-gov:sns:us-gov-west-1:123456789012:ops",
    ):
        assert synth.alarm_topic_arn(App(context={"alarmTopicArn": topic})) == topic
    assert synth.rate_limit_per_key(app) == constants.RATE_LIMIT_PER_KEY
    assert synth.custom_domain(app) is None
    assert synth.table_throughput(app) == TableThroughput(constants.TABLE_QUOTA, None, None)
    assert synth.authorizer_concurrency(app) is None


@pytest.mark.parametrize(
    ("key", "meant"),
    [
        ("alarmTopicARN", "alarmTopicArn"),
        ("ratelimitPerKey", "rateLimitPerKey"),
        ("stackname", "stackName"),
        ("stackNmae", "stackName"),
        ("certificateARN", "certificateArn"),
        ("domainNames", "domainName"),
        ("lambdaAssets", "lambdaAsset"),
    ],
)
def test_a_misspelt_option_stops_the_synth_naming_the_option(key: str, meant: str) -> None:
    # the CDK ignores a context key it does not know: the stack deployed without the topic, the limit
    app = synth.new_app(context={key: "500"})
    with pytest.raises(SystemExit, match=f"no deploy option '{key}': did you mean {meant}\\?"):
        synth.add_stack(app, lambda_asset=Path("/nonexistent"), console_assets=Path("/nonexistent"))


@pytest.mark.parametrize(
    ("key", "meant"), [("ratelimitPerKey", "rateLimitPerKey"), ("alarmTopicARN", "alarmTopicArn")]
)
def test_a_misspelt_option_in_cdk_json_stops_the_synth_too(
    key: str, meant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # README: options may be added to `context` in infra/cdk.json instead of given with -c; a slip
    # there was taken for one of cdk.json's own keys, and the stack deployed with the default limit
    cdk_json = json.loads(synth.CDK_JSON.read_text())
    cdk_json["context"][key] = "500"
    (tmp_path / "cdk.json").write_text(json.dumps(cdk_json))
    monkeypatch.setattr(synth, "CDK_JSON", tmp_path / "cdk.json")
    for given in ({}, {meant: "500"}):  # alone, and beside the option rightly spelt on the command line
        app = synth.new_app(context=given)
        with pytest.raises(SystemExit, match=f"no deploy option '{key}': did you mean {meant}\\?"):
            synth.add_stack(app, lambda_asset=Path("/nonexistent"), console_assets=Path("/nonexistent"))


def test_the_cdks_own_context_and_other_keys_are_no_misspelt_option() -> None:
    app = synth.new_app(
        context={  # cdk.json's feature flags come with new_app
            **OPTIONS,
            "alarmTopicArn": "arn:aws:sns:eu-west-1:123456789012:ops",
            "lambdaAsset": "/tmp/bundle",
            "aws:cdk:enable-path-metadata": True,
            "aws:cdk:version-reporting": False,
            "@aws-cdk/core:newStyleStackSynthesis": True,
            "availability-zones:account=123456789012:region=eu-west-1": ["eu-west-1a"],
            "team": "fraud",
        }
    )
    synth.misspelt_options(app)  # nothing raised
    assert set(synth.OPTIONS) <= set(app.node.get_all_context())
