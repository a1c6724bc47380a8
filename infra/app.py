"""The CDK app (`cdk synth`, `cdk deploy` from this folder; see README, "Deploy to AWS").

The code asset is the bundle `make bundle` builds (build/lambda, or `-c lambdaAsset=<dir>`); a
missing bundle, or one built for other dependencies, stops the synth, so a deploy never ships
functions without their dependencies. The `functions` source in it is refreshed at every synth, and
the web console is staged from web/src (as `make web` does) when web/dist is missing or stale.
"""

from __future__ import annotations

from pathlib import Path

from infra import bundle
from infra.synth import add_stack, new_app, stage_console


def main() -> None:
    app = new_app()
    asset = Path(app.node.try_get_context("lambdaAsset") or bundle.DEFAULT_OUT).resolve()
    bundle.check_bundle(asset)
    bundle.refresh_source(asset)
    add_stack(app, lambda_asset=asset, console_assets=stage_console())
    app.synth()


if __name__ == "__main__":
    main()
