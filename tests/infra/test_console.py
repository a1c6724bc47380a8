"""The web console (SPEC 10, issue 9): web/dist in a private bucket, CloudFront in front of it and of
the API on one origin, the console's security headers, and nothing that would rewrite the API's own
answers."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_s3 as s3

from functions.shared.routes import ROUTES
from infra import constants
from infra.capabilities.console import Console
from infra.synth import stage_console
from tests.infra import cfn
from tests.infra.conftest import Synthesized

WEB = Path(__file__).parents[2] / "web"

# CloudFront's managed policies (their documented, fixed ids).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
# every viewer header but Host (so Authorization, X-Signature, Content-Type), every query string and
# cookie; with caching disabled, the one way CloudFront forwards Authorization
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def _distribution(template: cfn.Template) -> dict[str, Any]:
    _, distribution = template.only("AWS::CloudFront::Distribution")
    return distribution["Properties"]["DistributionConfig"]


def _origin(template: cfn.Template, origin_id: str) -> dict[str, Any]:
    (origin,) = [o for o in _distribution(template)["Origins"] if o["Id"] == origin_id]
    return origin


def _api_behaviour(template: cfn.Template) -> dict[str, Any]:
    behaviours = {b["PathPattern"]: b for b in _distribution(template).get("CacheBehaviors", [])}
    assert set(behaviours) == {constants.API_PATH_PATTERN}, "the API is the only other origin"
    return behaviours[constants.API_PATH_PATTERN]


def _references(value: Any) -> list[dict[str, Any]]:
    """Every Ref inside a CloudFormation value."""
    if isinstance(value, dict):
        return [value] if "Ref" in value else [r for v in value.values() for r in _references(v)]
    if isinstance(value, list):
        return [r for v in value for r in _references(v)]
    return []


def _bucket(template: cfn.Template) -> str:
    return template.console_bucket()


def test_the_default_behaviour_is_the_private_bucket_through_origin_access_control(
    template: cfn.Template,
) -> None:
    default = _distribution(template)["DefaultCacheBehavior"]
    origin = _origin(template, default["TargetOriginId"])
    access_control = cfn.referenced_id(origin["OriginAccessControlId"])

    assert cfn.referenced_id(origin["DomainName"]) == _bucket(template)
    assert template.props(access_control)["OriginAccessControlConfig"] == {
        "Name": template.props(access_control)["OriginAccessControlConfig"]["Name"],
        "OriginAccessControlOriginType": "s3",
        "SigningBehavior": "always",
        "SigningProtocol": "sigv4",
    }
    assert origin["S3OriginConfig"].get("OriginAccessIdentity", "") == ""  # OAC, not the legacy OAI
    assert default["AllowedMethods"] == ["GET", "HEAD"]
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    assert default["CachePolicyId"] == CACHING_OPTIMIZED
    assert _distribution(template)["DefaultRootObject"] == "index.html"


def test_only_cloudfront_reads_the_bucket_and_only_over_tls(template: cfn.Template) -> None:
    bucket = _bucket(template)
    props = template.props(bucket)
    distribution, _ = template.only("AWS::CloudFront::Distribution")
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in template.of_type("AWS::S3::BucketPolicy").values()
        if cfn.referenced_id(p["Properties"]["Bucket"]) == bucket
    ]
    allows = [s for s in policy if s["Effect"] == "Allow"]
    denies = [s for s in policy if s["Effect"] == "Deny"]

    assert props["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]  # no ACLs
    (encryption,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert "WebsiteConfiguration" not in props  # never a public website endpoint
    assert "VersioningConfiguration" not in props  # a build output, replaced whole (see console.py)
    # one reader: this distribution, objects only
    assert [(s["Principal"], s["Action"]) for s in allows] == [
        ({"Service": "cloudfront.amazonaws.com"}, "s3:GetObject")
    ]
    assert f":distribution/<{distribution}>" in cfn.render(
        allows[0]["Condition"]["StringEquals"]["AWS:SourceArn"]
    )
    assert {"Bool": {"aws:SecureTransport": "false"}} in [s["Condition"] for s in denies]


def test_the_api_is_the_origin_of_v1_uncached_with_the_caller_s_headers(template: cfn.Template) -> None:
    api_behaviour = _api_behaviour(template)
    origin = _origin(template, api_behaviour["TargetOriginId"])
    api, _ = template.only("AWS::ApiGateway::RestApi")
    stage, _ = template.only("AWS::ApiGateway::Stage")

    # the host of the API's URL, and its stage as the path: /v1/me -> <api host>/prod/v1/me
    assert {"Ref": api} in _references(origin["DomainName"]) and ".execute-api." in json.dumps(origin)
    assert origin["OriginPath"]["Fn::Join"][1][0] == "/" and {"Ref": stage} in _references(
        origin["OriginPath"]
    )
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert set(api_behaviour["AllowedMethods"]) >= {route.method for route in ROUTES}
    assert api_behaviour["CachePolicyId"] == CACHING_DISABLED
    assert api_behaviour["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert api_behaviour["ViewerProtocolPolicy"] == "https-only"  # a redirected POST would lose its body


@pytest.mark.parametrize("route", [pytest.param(r, id=f"{r.method} {r.path}") for r in ROUTES])
def test_every_route_goes_to_the_api(route) -> None:
    assert fnmatch.fnmatchcase(route.path, constants.API_PATH_PATTERN)


def test_security_headers_on_the_console_and_the_api(template: cfn.Template) -> None:
    from local_system.http_adapter import LocalApiGateway

    policy_id, policy = template.only("AWS::CloudFront::ResponseHeadersPolicy")
    config = policy["Properties"]["ResponseHeadersPolicyConfig"]
    headers = config["SecurityHeadersConfig"]
    local = LocalApiGateway(WEB / "src").static("/")  # the headers `make run` sends with the console

    assert headers["ContentSecurityPolicy"] == {
        "ContentSecurityPolicy": "default-src 'self'; frame-ancestors 'none'",
        "Override": True,
    }
    assert (
        headers["ContentSecurityPolicy"]["ContentSecurityPolicy"] == local.headers["Content-Security-Policy"]
    )
    assert headers["ContentTypeOptions"] == {"Override": True}  # X-Content-Type-Options: nosniff
    assert headers["ReferrerPolicy"] == {"ReferrerPolicy": "no-referrer", "Override": True}
    assert headers["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 365 * 24 * 3600
    assert headers["StrictTransportSecurity"]["Override"] is True
    assert "CorsConfig" not in config  # one origin: no CORS at all, let alone a wildcard
    behaviours = [_distribution(template)["DefaultCacheBehavior"], _api_behaviour(template)]
    assert [cfn.referenced_id(b["ResponseHeadersPolicyId"]) for b in behaviours] == [policy_id, policy_id]


def test_no_error_page_rule_rewrites_the_api_s_answers(template: cfn.Template) -> None:
    # a 403/404 -> /index.html rule would also turn the API's own problem documents into the console
    assert not _distribution(template).get("CustomErrorResponses")


def test_the_console_files_are_web_dist_revalidated_at_each_load(synthesized: Synthesized) -> None:
    template = synthesized.template
    _, deployment = template.only("Custom::CDKBucketDeployment")
    props = deployment["Properties"]
    (key,) = props["SourceObjectKeys"]
    asset = synthesized.assembly_dir / f"asset.{key.removesuffix('.zip')}"
    shipped = {str(p.relative_to(asset)) for p in asset.rglob("*") if p.is_file()}

    assert cfn.referenced_id(props["DestinationBucketName"]) == _bucket(template)
    assert shipped == {str(p.relative_to(WEB / "src")) for p in (WEB / "src").rglob("*") if p.is_file()}
    assert "index.html" in shipped
    assert props["SystemMetadata"]["cache-control"] == "no-cache"  # names carry no content hash
    assert props["Prune"] is True


def test_the_other_functions_are_the_cdk_s_console_deployment_and_log_retention(
    template: cfn.Template,
) -> None:
    _, deployment = template.only("Custom::CDKBucketDeployment")
    deployer = cfn.referenced_id(deployment["Properties"]["ServiceToken"])
    # the execution log group's (tests/infra/test_api.py)
    _, retention = template.only("Custom::LogRetention")

    assert template.cdk_functions() == {deployer, cfn.referenced_id(retention["Properties"]["ServiceToken"])}
    # its own role and log group: no AWS managed policy, and grants on the two buckets alone
    role = template.function_role(deployer)
    assert not template.props(role).get("ManagedPolicyArns")
    bucket = f"<{_bucket(template)}.Arn>"
    for grant in template.grants(role):
        if grant.action.startswith("s3:"):  # the console bucket, or the CDK assets bucket it copies from
            assert grant.resource in {bucket, f"{bucket}/*"} or "-assets-${AWS::AccountId}" in grant.resource
            assert grant.resource in {bucket, f"{bucket}/*"} or not grant.action.startswith(
                ("s3:Put", "s3:Delete", "s3:Abort")
            ), "the deployment writes to the console bucket only"
        else:
            assert grant.action.startswith("logs:"), grant


def test_the_console_url_is_an_output(template: cfn.Template) -> None:
    distribution, _ = template.only("AWS::CloudFront::Distribution")
    assert (
        cfn.render(template.document["Outputs"]["ConsoleUrl"]["Value"])
        == f"https://<{distribution}.DomainName>/"
    )


def test_a_console_that_was_never_staged_stops_the_synth(tmp_path: Path) -> None:
    stack = Stack(App(), "ConsoleOnly")  # the construct alone: the whole app is synthesized only once
    api = apigw.RestApi(stack, "Api")
    api.root.add_method("GET")

    with pytest.raises(ValueError, match="make web"):
        Console(stack, "Console", assets=tmp_path, rest_api=api, log_bucket=s3.Bucket(stack, "Logs"))


def test_synthesis_stages_the_console_as_make_web_does() -> None:
    staged = stage_console()
    index = staged / "index.html"
    before = index.stat().st_mtime_ns

    assert staged == WEB / "dist"
    assert {p.relative_to(staged) for p in staged.rglob("*")} == {
        p.relative_to(WEB / "src") for p in (WEB / "src").rglob("*")
    }
    assert stage_console() == staged and index.stat().st_mtime_ns == before  # up to date: not rewritten
