"""The per-key rate limit at the edge (SPEC 3: 429 over the key's rate limit, with Retry-After): a
regional WAF web ACL on the API's stage, with one rate-based rule keyed on the `Authorization`
header. The stage is where every `/v1` request arrives, through CloudFront or the API's own URL, so
no path goes around it. Why WAF rather than usage plans: docs/design.md, "Per-key rate limit".

- A key is counted over `constants.RATE_LIMIT_WINDOW_SECONDS`; over `requests_per_second` times that,
  its requests are answered 429 with a problem document and `Retry-After` until its rate falls back.
- The header is lowercased and its white space compressed before counting: the edge accepts
  `Bearer`, `bearer` or `BEARER` and extra spaces, and none of those spellings may buy a key a second
  budget (a key's id is lowercase hex, so two keys never collide).
- Requests without the header are not counted by the rule (WAF leaves out a request that lacks a
  key): they are refused as unauthenticated, and the stage throttle bounds them.
- The API's document (`GET /v1/openapi.json`, served without credentials) is not counted: a client
  that sends its key with every request can still read it while the key is throttled.
- Sampled requests are off: WAF would keep whole requests, API keys included, for anyone with read
  access to the web ACL. The rule's CloudWatch metric counts what it blocks.
"""

from __future__ import annotations

import json

from aws_cdk import Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from functions.shared import problems
from functions.shared.routes import DOCS_ROUTES
from infra import constants
from infra.capabilities.nag import acknowledge

KEY_HEADER = "authorization"  # WAF matches header names in any case
RULE_NAME = "per-key-rate-limit"
_BODY_KEY = "rate-limited"


def _not_the_document() -> wafv2.CfnWebACL.StatementProperty:
    """Every request but the API's document's: its path exactly, as the stage sees it on the API's
    own URL (after the stage's name) or through CloudFront, never a path that only ends so (a
    session reviewer's: an id ending in `/v1/openapi.json`, were it ever read decoded, would have
    bought another route uncounted requests)."""
    acl = wafv2.CfnWebACL
    (document,) = DOCS_ROUTES

    def path_is(path: str) -> wafv2.CfnWebACL.StatementProperty:
        return acl.StatementProperty(
            byte_match_statement=acl.ByteMatchStatementProperty(
                field_to_match=acl.FieldToMatchProperty(uri_path={}),
                positional_constraint="EXACTLY",
                search_string=path,
                text_transformations=[acl.TextTransformationProperty(priority=0, type="NONE")],
            )
        )

    paths = [path_is(document.path), path_is(f"/{constants.STAGE_NAME}{document.path}")]
    return acl.StatementProperty(
        not_statement=acl.NotStatementProperty(
            statement=acl.StatementProperty(or_statement=acl.OrStatementProperty(statements=paths))
        )
    )


def rate_limited_problem() -> str:
    """The body of the rule's 429: the problem document a function would give for it."""
    return json.dumps(
        problems.problem(
            429,
            "request rate over this API key's limit; retry after the number of seconds in Retry-After",
        )
    )


class RateLimit(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, stage: apigw.Stage, requests_per_second: int
    ) -> None:
        super().__init__(scope, construct_id)
        # the WAF's metrics are named in the account and region: each stack's after itself, or a
        # staging stack's refusals were counted with production's under one `BlockedRequests`
        prefix = Stack.of(self).stack_name
        if requests_per_second < 1:
            raise ValueError(
                f"rateLimitPerKey must be at least 1 request per second, not {requests_per_second}"
            )
        acl = wafv2.CfnWebACL
        self.web_acl = acl(
            self,
            "WebAcl",
            scope="REGIONAL",
            description="Fraud management API: a rate limit per API key, counted on the Authorization header",
            default_action=acl.DefaultActionProperty(allow={}),
            custom_response_bodies={
                # WAF sends a custom body as application/json at most: its content type cannot be set
                _BODY_KEY: acl.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON", content=rate_limited_problem()
                )
            },
            rules=[
                acl.RuleProperty(
                    name=RULE_NAME,
                    priority=0,
                    statement=acl.StatementProperty(
                        rate_based_statement=acl.RateBasedStatementProperty(
                            limit=requests_per_second * constants.RATE_LIMIT_WINDOW_SECONDS,
                            evaluation_window_sec=constants.RATE_LIMIT_WINDOW_SECONDS,
                            aggregate_key_type="CUSTOM_KEYS",
                            scope_down_statement=_not_the_document(),
                            custom_keys=[
                                acl.RateBasedStatementCustomKeyProperty(
                                    header=acl.RateLimitHeaderProperty(
                                        name=KEY_HEADER,
                                        text_transformations=[
                                            acl.TextTransformationProperty(priority=0, type="LOWERCASE"),
                                            acl.TextTransformationProperty(
                                                priority=1, type="COMPRESS_WHITE_SPACE"
                                            ),
                                        ],
                                    )
                                )
                            ],
                        )
                    ),
                    action=acl.RuleActionProperty(
                        block=acl.BlockActionProperty(
                            custom_response=acl.CustomResponseProperty(
                                response_code=429,
                                custom_response_body_key=_BODY_KEY,
                                response_headers=[
                                    acl.CustomHTTPHeaderProperty(
                                        name="Retry-After",
                                        value=str(constants.RATE_LIMIT_RETRY_AFTER_SECONDS),
                                    )
                                ],
                            )
                        )
                    ),
                    visibility_config=_metrics(f"{prefix}-PerKeyRateLimit"),
                )
            ],
            visibility_config=_metrics(f"{prefix}-api"),
        )
        wafv2.CfnWebACLAssociation(
            self, "StageAssociation", resource_arn=stage.stage_arn, web_acl_arn=self.web_acl.attr_arn
        )
        acknowledge(
            self.web_acl,
            "CKV_AWS_192",
            "No Log4j rule: nothing in this system runs on a JVM, and managed rules that inspect bodies "
            "could refuse valid events (any Unicode text, SPEC 3.1) with an answer outside the API's "
            "contract. Request validation is the functions' edge's, with problem documents.",
        )


def _metrics(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=False
    )
