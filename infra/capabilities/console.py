"""The web console (SPEC 10): its static files in a private S3 bucket, served with the REST API on one
CloudFront origin, so the console calls `/v1/...` on its own host (no CORS at all).

- `/v1/*` goes to the API's stage, uncached, with everything the caller sent but the Host header
  (API Gateway answers 403 to a foreign Host): Authorization, X-Signature, Content-Type, query strings.
- Everything else is the bucket, read by CloudFront alone (origin access control). No "serve
  index.html for unknown paths" rule: it would rewrite the API's own 403 and 404 answers, and the
  console routes with the URL's hash, so the server never sees its paths.
- One response headers policy for both: the console's Content-Security-Policy, nosniff, no referrer,
  no framing, HSTS.
- Standard logs of every viewer request, and the bucket's server access logs, in the log bucket.
- With a custom domain (`CustomDomain`), its ACM certificate and TLS 1.2 at least; without one, the
  cloudfront.net name and CloudFront's default certificate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import DefaultStackSynthesizer, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra import constants
from infra.capabilities.nag import acknowledge

_CERTIFICATE_ARN = re.compile(
    rf"arn:{constants.ARN_PARTITION}:acm:{constants.ARN_REGION}:[0-9]{{12}}:certificate/"
    "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # its id: a UUID, as ACM makes it
)


@dataclass(frozen=True)
class CustomDomain:
    """The console's (and the API's, under /v1) own host name (`-c domainName=... -c
    certificateArn=...`): an ACM certificate in us-east-1 that covers it. Its DNS record, an alias or
    CNAME to the distribution's cloudfront.net name, is the operator's."""

    name: str
    certificate_arn: str

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name or ":" in self.name:
            raise ValueError(f"domainName must be a host name such as fraud.example.com, not {self.name!r}")
        # arn:<partition>:acm:<region>:<account>:certificate/<id>, each part as AWS writes it
        if not _CERTIFICATE_ARN.fullmatch(self.certificate_arn):
            raise ValueError(
                "certificateArn must be an ACM certificate's ARN "
                "(arn:aws:acm:us-east-1:<12-digit account>:certificate/<id>), "
                f"not {self.certificate_arn!r}"
            )
        parts = self.certificate_arn.split(":", 5)
        if parts[3] != constants.CERTIFICATE_REGION:
            raise ValueError(
                f"CloudFront takes certificates from {constants.CERTIFICATE_REGION} only; "
                f"{self.certificate_arn} is in {parts[3]}"
            )


class Console(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        assets: Path,
        rest_api: apigw.RestApi,
        log_bucket: s3.IBucket,
        custom_domain: CustomDomain | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._custom_domain = custom_domain
        if not (assets / "index.html").is_file():
            raise ValueError(f"no web console in {assets}: stage it first (make web)")
        # Not versioned (why: the CKV_AWS_21 acknowledgment below). Retained with the stack, like the
        # table: `cdk destroy` never fails on a bucket with files in it (README, "Deploy to AWS", says
        # how to delete it). Its server access logs go to the log bucket.
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=False,
            server_access_logs_bucket=log_bucket,
            server_access_logs_prefix=constants.CONSOLE_BUCKET_LOG_PREFIX,
            removal_policy=RemovalPolicy.RETAIN,
        )
        headers = self._security_headers()
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Fraud management web console and API (/v1/*)",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
                compress=True,
            ),
            additional_behaviors={
                constants.API_PATH_PATTERN: cloudfront.BehaviorOptions(
                    # the stage as the origin path: /v1/me -> https://<api>.execute-api.../prod/v1/me
                    origin=origins.RestApiOrigin(rest_api),
                    # an API client is refused plain HTTP rather than redirected (a redirected POST
                    # would lose its body)
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                    cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                    # With caching disabled, the managed all-viewer policies are the one way to forward
                    # Authorization; this one leaves out Host, which API Gateway must see as its own.
                    origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                    response_headers_policy=headers,
                ),
            },
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass[constants.CONSOLE_PRICE_CLASS],
            enable_logging=True,
            log_bucket=log_bucket,
            log_file_prefix=constants.CLOUDFRONT_LOG_PREFIX,
            log_includes_cookies=False,
            **self._viewer_certificate(),
        )
        self.deployment, deployment_logs = self._deploy(assets)
        host = custom_domain.name if custom_domain else self.distribution.distribution_domain_name
        self.url = f"https://{host}/"
        self._acknowledge_findings(deployment_logs)

    def _viewer_certificate(self) -> dict[str, object]:
        if self._custom_domain is None:
            return {}  # the cloudfront.net name, with CloudFront's default certificate
        return {
            "domain_names": [self._custom_domain.name],
            "certificate": acm.Certificate.from_certificate_arn(
                self, "Certificate", self._custom_domain.certificate_arn
            ),
            "minimum_protocol_version": cloudfront.SecurityPolicyProtocol[constants.VIEWER_MINIMUM_PROTOCOL],
            "ssl_support_method": cloudfront.SSLMethod.SNI,
        }

    def _security_headers(self) -> cloudfront.ResponseHeadersPolicy:
        return cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="Fraud management console: CSP, nosniff, no referrer, no framing, HSTS",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=constants.CONTENT_SECURITY_POLICY, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.seconds(constants.HSTS_MAX_AGE_SECONDS),
                    include_subdomains=False,
                    override=True,
                ),
            ),
        )

    def _deploy(self, assets: Path) -> tuple[s3deploy.BucketDeployment, logs.LogGroup]:
        """web/dist into the bucket at each deployment: a zip asset (no Docker), unpacked by the CDK's
        deployment function with its own role and log group (no AWS managed policy)."""
        log_group = logs.LogGroup(
            self,
            "DeploymentLogs",
            retention=logs.RetentionDays[constants.LOG_RETENTION],
            removal_policy=RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            self,
            "DeploymentRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Copies the web console's files into its bucket at deployment",
        )
        log_group.grant_write(role)
        deployment = s3deploy.BucketDeployment(
            self,
            "Deployment",
            sources=[s3deploy.Source.asset(str(assets))],
            destination_bucket=self.bucket,
            cache_control=[s3deploy.CacheControl.from_string(constants.CONSOLE_CACHE_CONTROL)],
            prune=True,  # a file removed from web/src disappears from the console
            role=role,
            log_group=log_group,
        )
        return deployment, log_group

    def _acknowledge_findings(self, log_group: logs.LogGroup) -> None:
        acknowledge(
            self.bucket,
            "CKV_AWS_21",
            "Not versioned: the bucket holds a build of web/src, replaced whole at each deployment (prune) "
            "and reproducible from any commit; a rollback redeploys the previous asset. Versions would "
            "only keep copies nobody reads.",
        )
        web_acl = (
            "The web ACL (per-key rate limit) is on the API's stage, which every /v1 request reaches, "
            "through this distribution or the API's own URL alike; a CloudFront web ACL would live in "
            "us-east-1, outside this stack, and guard only the console's static files besides."
        )
        distribution_findings = {
            "AwsSolutions-CFR1": "No geo restriction: program teams and the platform security team work "
            "from anywhere, and every /v1 call needs an API key; an operator can add one on the "
            "distribution without changing this stack's design.",
            "AwsSolutions-CFR2": web_acl,
            "CKV_AWS_68": web_acl,
        }
        if self._custom_domain is None:
            default_certificate = (
                "No custom domain given: the distribution uses its cloudfront.net name and CloudFront's "
                "default certificate, whose minimum protocol CloudFront fixes. With -c domainName and "
                "-c certificateArn (README, Deploy to AWS) it gets that domain's certificate and TLS 1.2 "
                "at least."
            )
            distribution_findings["AwsSolutions-CFR4"] = default_certificate
            distribution_findings["CKV_AWS_174"] = default_certificate
        for rule, reason in distribution_findings.items():
            acknowledge(self.distribution, rule, reason)
        acknowledge(
            log_group,
            "CKV_AWS_158",
            "The deployment function's log group: encrypted at rest by CloudWatch Logs' own keys; it "
            "records file copies at deployment, nothing of the system's data, and expires in 30 days.",
        )

        # The CDK's deployment function: its grants are the ones BucketDeployment adds to its role.
        stack = Stack.of(self)
        qualifier = getattr(stack.synthesizer, "bootstrap_qualifier", None) or (
            DefaultStackSynthesizer.DEFAULT_QUALIFIER
        )
        policy = self.deployment.handler_role.node.find_child("DefaultPolicy")
        for finding in (
            "Action::s3:GetBucket*",
            "Action::s3:GetObject*",
            "Action::s3:List*",
            "Action::s3:Abort*",
            "Action::s3:DeleteObject*",
            f"Resource::arn:<AWS::Partition>:s3:::cdk-{qualifier}-assets-<AWS::AccountId>-<AWS::Region>/*",
            f"Resource::<{stack.get_logical_id(self.bucket.node.default_child)}.Arn>/*",
        ):
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[{finding}]",
                "Granted by the CDK's BucketDeployment to the function that copies the console into its "
                "bucket at deployment: read of the CDK assets bucket (where the console's zip is "
                "uploaded), read, write and delete (prune) of the console bucket's objects; nothing else.",
            )
        for child in stack.node.children:
            if child.node.id.startswith("Custom::CDKBucketDeployment"):
                for rule, reason in _DEPLOYMENT_FUNCTION_FINDINGS.items():
                    acknowledge(child, rule, reason)


# The CDK's own deployment function (BucketDeployment): CloudFormation invokes it while deploying, to
# copy the console into its bucket, and at no other time.
_DEPLOYMENT_FUNCTION_FINDINGS = {
    "AwsSolutions-L1": "The CDK's own deployment function (BucketDeployment), run only while deploying: its "
    "runtime is aws-cdk-lib's choice and moves with an upgrade of aws-cdk-lib.",
    "CKV_AWS_115": "The CDK's deployment function runs once per deployment, invoked by CloudFormation: "
    "there is no concurrency to bound.",
    "CKV_AWS_116": "The CDK's deployment function answers CloudFormation's custom resource request, which "
    "fails the deployment when it fails: no event to keep in a dead-letter queue.",
    "CKV_AWS_117": "The CDK's deployment function calls S3 only, over TLS with its own role; a VPC would add "
    "endpoints or a NAT gateway to reach it and protect nothing more.",
    "CKV_AWS_173": "The CDK's deployment function has no secret in its environment (aws-cdk-lib sets it), "
    "and Lambda encrypts environment variables at rest with its own key.",
}
