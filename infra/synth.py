"""Building and synthesizing the app, the same way for `cdk` (app.py), `make synth` and the tests.

`make synth` (`python -m infra.synth`) needs no AWS account, no network and no bundle: it synthesizes
with the `functions` source alone as the code asset (the template is the same but for the asset
hash) and the web console staged in web/dist, writes the cloud assembly to infra/cdk.out, and fails
on any cdk-nag finding left unacknowledged (Checkov then scans the template: infra/checkov_scan.py).

The deploy options are context (`cdk deploy -c name=value`, README "Deploy to AWS"): `stackName`,
`alarmTopicArn`, `rateLimitPerKey`, `domainName` with `certificateArn`, `lambdaAsset` (app.py)."""

from __future__ import annotations

import argparse
import difflib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from functions.shared.sealing import STACK_NAME
from infra import bundle, constants
from infra.capabilities.console import CustomDomain
from infra.capabilities.data import TableThroughput
from infra.stack import FraudManagementStack

INFRA = Path(__file__).resolve().parent
DEFAULT_OUTDIR = INFRA / "cdk.out"
WEB = bundle.ROOT / "web"


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def stage_console() -> Path:
    """web/dist, the console the stack deploys, staged by web/build.py (what `make web` runs) unless it
    is already an exact copy of web/src: never a missing or stale console, and a folder the local
    system may be serving is not rewritten for nothing."""
    source, staged = WEB / "src", WEB / "dist"
    if not staged.is_dir() or _files(staged) != _files(source):
        built = subprocess.run(  # noqa: S603 - this interpreter, a script of this repository
            [sys.executable, str(WEB / "build.py")], capture_output=True, text=True, check=False
        )
        if built.returncode != 0:
            raise SystemExit(f"the web console does not build (make web):\n{built.stderr}")
    return staged


CDK_JSON = INFRA / "cdk.json"


def feature_flags() -> dict[str, Any]:
    """The context of cdk.json, so a synth outside the CDK CLI behaves the same as `cdk synth`."""
    return json.loads(CDK_JSON.read_text())["context"]


def new_app(*, outdir: Path | None = None, context: dict[str, Any] | None = None) -> App:
    """An app with the CDK's feature flags and the given options (`rateLimitPerKey`, ...); context
    given on the CLI (`-c`) takes precedence."""
    return App(outdir=str(outdir) if outdir else None, context={**feature_flags(), **(context or {})})


# The deploy options (README "Deploy to AWS"); `lambdaAsset` is read by app.py
OPTIONS = (
    "stackName",
    "alarmTopicArn",
    "rateLimitPerKey",
    "domainName",
    "certificateArn",
    "lambdaAsset",
    "tableQuota",
    "warmWritesPerSecond",
    "warmReadsPerSecond",
    "authorizerConcurrency",
)


def misspelt_options(app: App) -> None:
    """A context key that is no option but nearly one (`alarmTopicARN`, `ratelimitPerKey`,
    `stackNmae`) stops the synth naming the option, whether given with `-c` or in cdk.json's
    `context`: the CDK would ignore it, and the stack deploys without what the operator meant to
    give. Left alone: the CDK's own keys (feature flags `@aws-cdk/...`, `aws:cdk:...`, lookups cached
    as `name:account=...`), by their form wherever they are written, and any other key that
    resembles no option."""
    given = app.node.get_all_context()
    by_folded = {option.lower(): option for option in OPTIONS}
    for key in sorted(str(k) for k in given):
        if key in OPTIONS or key.startswith("@") or ":" in key:
            continue
        close = difflib.get_close_matches(key.lower(), by_folded, n=1, cutoff=0.8)
        if close:
            raise SystemExit(f"no deploy option {key!r}: did you mean {by_folded[close[0]]}?")


_FUNCTION_NAME_MAX = 64  # Lambda's


def stack_name(app: App) -> str:
    """`-c stackName=NAME`: the stack's name (constants.STACK_NAME), which prefixes its functions'
    names and its signing key's alias, so stacks of other names (staging beside production, a new
    stack beside an old one) deploy side by side in one account and region."""
    value = app.node.try_get_context("stackName")
    if value is None:
        return constants.STACK_NAME
    name = str(value)
    if not STACK_NAME.fullmatch(name):
        raise SystemExit(
            f"stackName must start with a letter and hold only letters, digits and hyphens, not {name!r}"
        )
    if name.lower() == "aws":  # its key's alias, alias/<stackName>/..., would be in AWS's own alias/aws/
        raise SystemExit(f"stackName must not be `aws` (AWS keeps alias/aws/ for its own keys), not {name!r}")
    longest = max(constants.ALL_FUNCTIONS, key=lambda spec: len(spec.function_name(name)))
    if len(longest.function_name(name)) > _FUNCTION_NAME_MAX:
        most = _FUNCTION_NAME_MAX - len(longest.function_name(""))
        raise SystemExit(
            f"stackName must be at most {most} characters (it prefixes function names such as "
            f"{longest.function_name('<stackName>')}, which Lambda limits to {_FUNCTION_NAME_MAX}), "
            f"not {name!r}"
        )
    return name


def _whole_number(app: App, option: str, unit: str, most: tuple[str, int] | None = None) -> int | None:
    """`-c option=N`: a whole number of `unit`, at least 1, in ASCII digits, and at most `most`
    (the option that bounds it, and its value); None when not given."""
    value = app.node.try_get_context(option)
    if value is None:
        return None
    if not re.fullmatch(r"[0-9]+", str(value)):  # int() also takes `٥٠٠`, ` 500`, `5_00`, `+500`
        raise SystemExit(f"{option} must be a whole number of {unit}, not {value!r}")
    number = int(str(value))
    if number < 1:
        raise SystemExit(f"{option} must be at least 1 ({unit}), not {number}")
    if most is not None and number > most[1]:
        raise SystemExit(f"{option} must be at most {most[0]} ({most[1]:,}), not {number:,}")
    return number


def rate_limit_per_key(app: App) -> int:
    """`-c rateLimitPerKey=N`: requests per second one API key may send (constants.RATE_LIMIT_PER_KEY)."""
    limit = _whole_number(app, "rateLimitPerKey", "requests per second")
    if limit is None:
        return constants.RATE_LIMIT_PER_KEY
    if limit > constants.THROTTLE_RATE_PER_SECOND:  # the stage's own limit would stop a key first
        raise SystemExit(
            f"rateLimitPerKey must be at most the stage's {constants.THROTTLE_RATE_PER_SECOND} requests "
            f"per second (all keys together), not {limit}"
        )
    return limit


def table_throughput(app: App) -> TableThroughput:
    """`-c tableQuota=N`: the request units a second the table, and each index, may use (DynamoDB's
    on-demand quota, constants.TABLE_QUOTA unless raised), which the alarms warn near;
    `-c warmWritesPerSecond=N -c warmReadsPerSecond=N`: the table and each index pre-warmed to take
    that many at once (none unless given)."""
    units = "request units per second"
    quota = _whole_number(app, "tableQuota", units) or constants.TABLE_QUOTA
    return TableThroughput(
        quota=quota,
        warm_writes=_whole_number(app, "warmWritesPerSecond", units, ("tableQuota", quota)),
        warm_reads=_whole_number(app, "warmReadsPerSecond", units, ("tableQuota", quota)),
    )


def authorizer_concurrency(app: App) -> int | None:
    """`-c authorizerConcurrency=N`: executions the account keeps for the authorizer alone (none by
    default: reserving takes them from every other function, and a new account's limit may not
    allow it)."""
    return _whole_number(app, "authorizerConcurrency", "executions")


# arn:PARTITION:sns:REGION:ACCOUNT:NAME, each part as AWS writes it (ASCII only)
_SNS_TOPIC_ARN = re.compile(
    rf"arn:{constants.ARN_PARTITION}:sns:{constants.ARN_REGION}:[0-9]{{12}}:[A-Za-z0-9_-]{{1,256}}(\.fifo)?"
)


def alarm_topic_arn(app: App) -> str | None:
    """`-c alarmTopicArn=ARN`: the SNS topic the alarms notify (none: the alarms notify no one)."""
    value = app.node.try_get_context("alarmTopicArn")
    if value is None:
        return None
    if not _SNS_TOPIC_ARN.fullmatch(str(value)):
        raise SystemExit(
            f"alarmTopicArn must be an SNS topic's ARN (arn:aws:sns:REGION:ACCOUNT:NAME), not {str(value)!r}"
        )
    return str(value)


def custom_domain(app: App) -> CustomDomain | None:
    """`-c domainName=... -c certificateArn=...`: both, or neither."""
    name = app.node.try_get_context("domainName")
    certificate_arn = app.node.try_get_context("certificateArn")
    if not name and not certificate_arn:
        return None
    if not (name and certificate_arn):
        raise SystemExit("a custom domain takes both -c domainName=... and -c certificateArn=...")
    try:
        return CustomDomain(name=str(name), certificate_arn=str(certificate_arn))
    except ValueError as exc:
        raise SystemExit(str(exc)) from None


def add_stack(app: App, *, lambda_asset: Path, console_assets: Path) -> FraudManagementStack:
    """The stack, with the options given as context, checked by cdk-nag's AWS Solutions rules at
    synthesis."""
    misspelt_options(app)
    stack = FraudManagementStack(
        app,
        stack_name(app),
        lambda_asset=lambda_asset,
        console_assets=console_assets,
        alarm_topic_arn=alarm_topic_arn(app),
        rate_limit_per_key=rate_limit_per_key(app),
        custom_domain=custom_domain(app),
        throughput=table_throughput(app),
        authorizer_concurrency=authorizer_concurrency(app),
    )
    # Acknowledged findings are also written into the template's metadata: an audit trail there.
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, verbose=True, write_suppressions_to_cloud_formation=True)
    )
    return stack


def main() -> None:
    parser = argparse.ArgumentParser(description="Synthesize the stack offline (make synth).")
    parser.add_argument("--outdir", type=Path, default=DEFAULT_OUTDIR)
    parser.add_argument("--asset", type=Path, default=bundle.SOURCE_ONLY_OUT)
    parser.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a deploy option, as `cdk -c NAME=VALUE` takes it (README: stackName, rateLimitPerKey, ...)",
    )
    args = parser.parse_args()
    options = dict(option.partition("=")[::2] for option in args.context)
    if any(not name for name in options) or any("=" not in option for option in args.context):
        parser.error("--context takes NAME=VALUE")
    app = new_app(outdir=args.outdir.resolve(), context=options)
    stack = add_stack(
        app, lambda_asset=bundle.stage_source(args.asset.resolve()), console_assets=stage_console()
    )
    assembly = app.synth()
    print(f"synthesized: {assembly.get_stack_by_name(stack.stack_name).template_full_path}")


if __name__ == "__main__":
    main()
