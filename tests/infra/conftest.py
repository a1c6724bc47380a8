"""One synthesis of the whole app per test run (ten seconds or so), shared by every infra test, on
every pytest-xdist worker.

The code asset is the `functions` source alone, staged in a temporary directory as `make synth`
stages it; the console is web/dist, staged as `make synth` stages it (web/build.py, unless web/dist
is already up to date). No bundle, no network, no AWS account. cdk-nag runs as it does in
`cdk synth`; a finding fails only the cdk-nag test, so the other tests still read the template
(written before validation).
"""

from __future__ import annotations

import fcntl
import json
import os
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra import bundle, constants
from infra.synth import add_stack, new_app, stage_console
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
_DONE = "synthesized.json"  # written last: the outcome of a shared synthesis


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """Under pytest-xdist, the workers of one run share one synthesis: the first to get here makes it
    in the run's common temporary directory, the others wait for it (a file lock) and read it."""
    if not _broken:
        if os.environ.get("PYTEST_XDIST_WORKER"):
            root = tmp_path_factory.getbasetemp().parent / "infra"
            with open(f"{root}.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
                if not (root / _DONE).is_file():
                    _synthesize(root)
        else:
            root = tmp_path_factory.mktemp("infra")
            _synthesize(root)
        outcome = json.loads((root / _DONE).read_text())
        if outcome["broken"]:
            _broken.append(outcome["broken"])
        else:
            return _read(root, outcome["validation_error"])
    pytest.fail(_broken[0], pytrace=False)


def _synthesize(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    outdir = root / "cdk.out"
    broken = error = None
    try:
        app = new_app(outdir=outdir)
        add_stack(app, lambda_asset=bundle.stage_source(root / "asset"), console_assets=stage_console())
    except Exception:  # reported, with its traceback, by every test that needs the stack
        broken = f"the stack cannot be built:\n{traceback.format_exc()}"
    else:
        try:
            app.synth()
        except RuntimeError as exc:  # cdk-nag findings: the template is written all the same
            error = str(exc)
    (root / _DONE).write_text(json.dumps({"broken": broken, "validation_error": error}))


def _read(root: Path, validation_error: str | None) -> Synthesized:
    outdir = root / "cdk.out"
    template_file = outdir / f"{constants.STACK_NAME}.template.json"
    return Synthesized(cfn.Template(json.loads(template_file.read_text())), outdir, validation_error)


@pytest.fixture(scope="session")
def template(synthesized: Synthesized) -> cfn.Template:
    return synthesized.template
