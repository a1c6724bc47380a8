"""One synthesis of the whole app per test session (about five seconds), shared by every infra test.

The code asset is the `functions` source alone, staged in a temporary directory as `make synth`
stages it: no bundle, no network, no AWS account. cdk-nag runs as it does in `cdk synth`; a finding
fails only the cdk-nag test, so the other tests still read the template (written before validation).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra import bundle, constants
from infra.synth import add_stack, new_app
from tests.infra import cfn


@dataclass(frozen=True)
class Synthesized:
    template: cfn.Template
    assembly_dir: Path
    validation_error: str | None

    @property
    def validation_report(self) -> dict[str, Any]:
        return json.loads((self.assembly_dir / "validation-report.json").read_text())


_broken: list[str] = []  # a stack that cannot be built fails every test at once, not once per test


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    if _broken:
        pytest.fail(_broken[0], pytrace=False)
    root = tmp_path_factory.mktemp("infra")
    asset = bundle.stage_source(root / "asset")
    outdir = root / "cdk.out"
    try:
        app = new_app(outdir=outdir)
        add_stack(app, lambda_asset=asset)
    except Exception as exc:
        _broken.append(f"the stack cannot be built: {exc!r}")
        raise
    error = None
    try:
        app.synth()
    except RuntimeError as exc:  # cdk-nag findings: the template is written all the same
        error = str(exc)
    template_file = outdir / f"{constants.STACK_NAME}.template.json"
    return Synthesized(cfn.Template(json.loads(template_file.read_text())), outdir, error)


@pytest.fixture(scope="session")
def template(synthesized: Synthesized) -> cfn.Template:
    return synthesized.template
