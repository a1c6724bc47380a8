"""The CDK app (`cdk synth`, `cdk deploy` from this folder; see README, "Deploy to AWS").

The code asset is the bundle `make bundle` builds (build/lambda, or `-c lambdaAsset=<dir>`); a
missing bundle, or one built for other dependencies, stops the synth, so a deploy never ships
functions without their dependencies. One exception keeps `cdk synth` working offline (SPEC 9): with
no bundle at build/lambda and no AWS account for the CLI to name (`CDK_DEFAULT_ACCOUNT`, which it
sets whenever credentials answer, as every deploy needs), there is nothing to deploy to, and the app
synthesizes with the `functions` source alone, as `make synth` does, saying the assembly is not
deployable; and it is not: its template asks for a parameter without a default that no deploy is
told (`cdk deploy --app cdk.out` of it stops at CloudFormation before any change). The `functions`
source in a bundle is refreshed at every synth, and the web console is
staged from web/src (as `make web` does) when web/dist is missing or stale.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from aws_cdk import App, CfnParameter, Stack

from infra import bundle
from infra.synth import add_stack, new_app, stage_console

OFFLINE_ASSET = bundle.SOURCE_ONLY_OUT  # the source alone, as `make synth` stages it


def code_asset(app: App, environ: dict[str, str] | None = None) -> Path:
    """The functions' code asset: the bundle, checked and refreshed, or (offline, no bundle) the
    source alone."""
    environ = dict(os.environ) if environ is None else environ
    given = app.node.try_get_context("lambdaAsset")
    asset = Path(given or bundle.DEFAULT_OUT).resolve()
    offline = not given and not (asset / bundle.MANIFEST).exists() and not environ.get("CDK_DEFAULT_ACCOUNT")
    if offline:
        print(
            f"no bundle at {asset} and no AWS account: synthesized with the functions' source alone, "
            "to read, not to deploy (`make bundle` builds the bundle a deploy ships)",
            file=sys.stderr,
        )
        return bundle.stage_source(OFFLINE_ASSET)
    bundle.check_bundle(asset)
    bundle.refresh_source(asset)
    return asset


def not_deployable(stack: Stack) -> None:
    """An assembly synthesized without the bundle: CloudFormation refuses to deploy it, since it
    asks for a value nobody gives (a parameter without a default)."""
    CfnParameter(
        stack,
        "SynthesizedWithoutBundle",
        type="String",
        allowed_values=["run make bundle, then cdk deploy"],
        description="This template was synthesized offline with the functions' source alone: not deployable",
    )


def main() -> None:
    app = new_app()
    asset = code_asset(app)
    stack = add_stack(app, lambda_asset=asset, console_assets=stage_console())
    if asset == OFFLINE_ASSET:
        not_deployable(stack)
    app.synth()


if __name__ == "__main__":
    main()
