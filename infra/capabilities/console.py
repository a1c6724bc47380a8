"""The web console (SPEC 10): its static files in a private S3 bucket, served with the REST API on one
CloudFront origin, so the console calls `/v1/...` on its own host (no CORS at all).

- `/v1/*` goes to the API's stage, uncached, with everything the caller sent but the Host header
  (API Gateway answers 403 to a foreign Host): Authorization, X-Signature, Content-Type, query strings.
- Everything else is the bucket, read by CloudFront alone (origin access control). No "serve
  index.html for unknown paths" rule: it would rewrite the API's own 403 and 404 answers, and the
  console routes with the URL's hash, so the server never sees its paths.
- One response headers policy for both: the console's Content-Security-Policy, nosniff, no referrer,
  no framing, HSTS.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import DefaultStackSynthesizer, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra import constants
from infra.capabilities.nag import acknowledge


class Console(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, assets: Path, rest_api: apigw.RestApi) -> None:
        super().__init__(scope, construct_id)
        if not (assets / "index.html").is_file():
            raise ValueError(f"no web console in {assets}: stage it first (make web)")
        # Not versioned: the bucket holds a build of web/src, replaced whole at each deployment (prune)
        # and reproducible from any commit; a rollback redeploys the previous asset. Versions would
        # only keep copies nobody reads. Retained with the stack, like the table: `cdk destroy` never
        # fails on a bucket with files in it (README, "Deploy to AWS", says how to delete it).
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=False,
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
        )
        self.deployment = self._deploy(assets)
        self.url = f"https://{self.distribution.distribution_domain_name}/"
        self._acknowledge_findings()

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

    def _deploy(self, assets: Path) -> s3deploy.BucketDeployment:
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
        return s3deploy.BucketDeployment(
            self,
            "Deployment",
            sources=[s3deploy.Source.asset(str(assets))],
            destination_bucket=self.bucket,
            cache_control=[s3deploy.CacheControl.from_string(constants.CONSOLE_CACHE_CONTROL)],
            prune=True,  # a file removed from web/src disappears from the console
            role=role,
            log_group=log_group,
        )

    def _acknowledge_findings(self) -> None:
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "CloudFront is the bucket's only reader (origin access control; public access blocked) and "
            "the deployment its only writer; what it serves is the console's static files, the same "
            "for every visitor. Server access logs would record only CloudFront fetching them.",
        )
        distribution_findings = {
            "AwsSolutions-CFR1": "No geo restriction: program teams and the platform security team work "
            "from anywhere, and every /v1 call needs an API key; an operator can add one on the "
            "distribution without changing this stack's design.",
            "AwsSolutions-CFR2": "No WAF by default, as for the API stage (APIG3): API keys on every call "
            "but the public OpenAPI document, stage and per-route throttling, a 64 KiB body limit in the "
            "edge. A CloudFront web ACL lives in us-east-1 with a fixed monthly cost: an operator's "
            "choice, associated with the distribution outside this stack.",
            "AwsSolutions-CFR3": "No CloudFront access logs by default: every /v1 call is logged by API "
            "Gateway's access log (request id, route, status, latency) and every action by the audit "
            "trail with its actor; the other paths serve static files. An operator who also needs the "
            "viewers' addresses (API Gateway sees CloudFront's) enables standard logging on it.",
            "AwsSolutions-CFR4": "The distribution uses its cloudfront.net name and CloudFront's default "
            "certificate, whose minimum protocol CloudFront fixes; a custom domain with an ACM "
            "certificate (us-east-1) is the operator's to add, with TLSv1.2_2021 as its minimum.",
        }
        for rule, reason in distribution_findings.items():
            acknowledge(self.distribution, rule, reason)

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
                acknowledge(
                    child,
                    "AwsSolutions-L1",
                    "The CDK's own deployment function (BucketDeployment), run only while deploying: its "
                    "runtime is aws-cdk-lib's choice and moves with an upgrade of aws-cdk-lib.",
                )
