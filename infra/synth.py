"""Building and synthesizing the app, the same way for `cdk` (app.py), `make synth` and the tests.

`make synth` (`python -m infra.synth`) needs no AWS account, no network and no bundle: it synthesizes
with the `functions` source alone as the code asset (the template is the same but for the asset
hash) and the web console staged in web/dist, writes the cloud assembly to infra/cdk.out, and fails
on any cdk-nag finding left unacknowledged."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from infra import bundle, constants
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


def feature_flags() -> dict[str, Any]:
    """The context of cdk.json, so a synth outside the CDK CLI behaves the same as `cdk synth`."""
    return json.loads((INFRA / "cdk.json").read_text())["context"]


def new_app(*, outdir: Path | None = None) -> App:
    """An app with the CDK's feature flags; context given on the CLI (`-c`) takes precedence."""
    return App(outdir=str(outdir) if outdir else None, context=feature_flags())


def add_stack(app: App, *, lambda_asset: Path, console_assets: Path) -> FraudManagementStack:
    """The stack, checked by cdk-nag's AWS Solutions rules at synthesis."""
    stack = FraudManagementStack(
        app,
        constants.STACK_NAME,
        lambda_asset=lambda_asset,
        console_assets=console_assets,
        alarm_topic_arn=app.node.try_get_context("alarmTopicArn"),
    )
    # Acknowledged findings are also written into the template's metadata: an audit trail there.
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, verbose=True, write_suppressions_to_cloud_formation=True)
    )
    return stack


def main() -> None:
    parser = argparse.ArgumentParser(description="Synthesize the stack offline (make synth).")
    parser.add_argument("--outdir", type=Path, default=DEFAULT_OUTDIR)
    parser.add_argument("--asset", type=Path, default=bundle.ROOT / "build" / "synth-asset")
    args = parser.parse_args()
    app = new_app(outdir=args.outdir.resolve())
    add_stack(app, lambda_asset=bundle.stage_source(args.asset.resolve()), console_assets=stage_console())
    assembly = app.synth()
    print(f"synthesized: {assembly.get_stack_by_name(constants.STACK_NAME).template_full_path}")


if __name__ == "__main__":
    main()
