"""Checkov, the second scanner of the synthesized template (`make synth`, after cdk-nag and cfn-lint).

Every failed check must be fixed in the CDK code or acknowledged on the resource it concerns, with a
reason (`infra.capabilities.nag.acknowledge`, which writes Checkov's `Metadata.checkov.skip`): a
failed check that is not acknowledged fails `make synth`.

Checkov pins boto3 and botocore to versions the runtime's own pin excludes, so it cannot share
.venv: it gets its own environment, .venv/checkov, built on first use from the `checkov` dependency
group of pyproject.toml (the pinned version). It runs offline: the CloudFormation framework alone,
no download of guidelines, mappings or external checks, no version check, nothing uploaded.

`python -m infra.checkov_scan <template>` prints the outcome and exits 1 on any unacknowledged
finding."""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from infra import bundle

TOOL_ENV = bundle.ROOT / ".venv" / "checkov"
_STAMP = TOOL_ENV / "installed.json"  # the requirements the environment was built with
_PYPROJECT = bundle.ROOT / "pyproject.toml"

# Offline and quiet: no guidelines or severities from the platform (BC_SKIP_MAPPING, --skip-download),
# no look-up of a newer version on PyPI, no API key picked up from the caller's environment.
OFFLINE_ENVIRONMENT = {
    "BC_SKIP_MAPPING": "TRUE",
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE",
    "LOG_LEVEL": "WARNING",
}
_PLATFORM_VARIABLES = ("BC_API_KEY", "PRISMA_API_URL", "BC_API_URL")


@dataclass(frozen=True)
class Finding:
    check: str  # CKV_AWS_27
    resource: str  # logical id
    resource_type: str
    title: str
    comment: str = ""  # the acknowledgment's reason, for a skipped check

    def __str__(self) -> str:
        return f"{self.check} on {self.resource} ({self.resource_type}): {self.title}"


@dataclass(frozen=True)
class Report:
    version: str
    passed: int
    failed: tuple[Finding, ...]  # unacknowledged: each one fails `make synth`
    acknowledged: tuple[Finding, ...]


def requirements() -> list[str]:
    """The pinned Checkov, from pyproject.toml's `checkov` dependency group."""
    groups = tomllib.loads(_PYPROJECT.read_text())["dependency-groups"]
    return list(groups["checkov"])


def ensure_installed() -> Path:
    """The checkov executable of .venv/checkov, built (or rebuilt for a new pin) under a file lock, so
    concurrent test workers and `make synth` install it once."""
    wanted = requirements()
    TOOL_ENV.parent.mkdir(parents=True, exist_ok=True)
    with open(TOOL_ENV.parent / "checkov.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not _STAMP.is_file() or json.loads(_STAMP.read_text()) != wanted:
            print(f"installing {' '.join(wanted)} into {TOOL_ENV}", file=sys.stderr)
            _run([sys.executable, "-m", "venv", "--clear", str(TOOL_ENV)])
            _run([str(TOOL_ENV / "bin" / "python"), "-m", "pip", "install", "--quiet", *wanted])
            _STAMP.write_text(json.dumps(wanted))
    return TOOL_ENV / "bin" / "checkov"


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - our own tools
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")


def scan(template: Path) -> Report:
    """Checkov's CloudFormation checks on one template, offline."""
    checkov = ensure_installed()
    environment = {k: v for k, v in os.environ.items() if k not in _PLATFORM_VARIABLES}
    done = subprocess.run(  # noqa: S603 - the pinned tool on our own template
        [
            str(checkov),
            "--file",
            str(template),
            "--framework",
            "cloudformation",
            "--skip-download",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**environment, **OFFLINE_ENVIRONMENT},
    )
    try:
        output = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"checkov gave no report (exit {done.returncode}):\n{done.stderr}") from None
    return _report(output, template)


def _report(output: dict | list, template: Path) -> Report:
    if isinstance(output, list) or output.get("check_type") != "cloudformation":
        raise SystemExit(f"checkov did not report one CloudFormation template: {str(output)[:500]}")
    summary = output["summary"]
    # A template Checkov cannot read would pass every check: that is a failure too.
    if summary["parsing_errors"] or not summary["resource_count"]:
        raise SystemExit(f"checkov could not read {template}: {summary}")
    results = output["results"]
    return Report(
        version=summary["checkov_version"],
        passed=summary["passed"],
        failed=tuple(_finding(r) for r in results["failed_checks"]),
        acknowledged=tuple(_finding(r) for r in results["skipped_checks"]),
    )


def _finding(result: dict) -> Finding:
    resource_type, _, logical_id = result["resource"].partition(".")
    return Finding(
        check=result["check_id"],
        resource=logical_id,
        resource_type=resource_type,
        title=result["check_name"],
        comment=(result.get("check_result") or {}).get("suppress_comment", ""),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Checkov on the synthesized template (make synth).")
    parser.add_argument("template", type=Path)
    parser.add_argument("--list-acknowledged", action="store_true", help="print every reason too")
    args = parser.parse_args(argv)
    report = scan(args.template)
    print(
        f"checkov {report.version}: {report.passed} passed, {len(report.acknowledged)} acknowledged, "
        f"{len(report.failed)} failed (unacknowledged)"
    )
    if args.list_acknowledged:
        for finding in report.acknowledged:
            print(f"  acknowledged {finding}\n    {finding.comment}")
    for finding in report.failed:
        print(f"  FAILED {finding}")
    if report.failed:
        print(
            "Fix each finding in infra/, or acknowledge it on its resource with the reason "
            "(infra.capabilities.nag.acknowledge).",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
