"""Schemathesis against a running API (the local system of `make run`, or any deployment):
`python -m tests.contract.fuzz --url URL --admin-key KEY --security-key KEY [--max-examples N]`.

Every operation is exercised with an admin key (the disputes operations with a security key), in
every phase (examples, coverage, fuzzing, stateful), with every check; it exits non-zero on any
failure. A campaign named by `hooks.FUZZ_CAMPAIGN` is created first, so that generated campaign
bonuses name one that exists."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import requests

from tests.contract.hooks import FUZZ_CAMPAIGN

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def prepare(url: str, admin_key: str) -> None:
    answer = requests.put(
        f"{url}/v1/loyalty/campaigns/{FUZZ_CAMPAIGN}",
        json={"total_cap": 10**15, "per_customer_cap": 10**15, "limit_behavior": "soft"},
        headers={"Authorization": f"Bearer {admin_key}"},
        timeout=30,
    )
    answer.raise_for_status()


def command(
    url: str, max_examples: int, seed: int | None, workers: int, report: Path | None, phases: str | None
) -> list[str]:
    args = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        f"{url}/v1/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(max_examples),
        "--workers",
        str(workers),
        "--request-timeout",
        "30",
    ]
    if seed is not None:
        # a seeded run is the same run each time: examples saved by earlier runs are not replayed
        args += ["--seed", str(seed), "--generation-database", "none"]
    if phases:
        args += ["--phases", phases]
    if report is not None:
        args += ["--report", "junit", "--report-junit-path", str(report)]
    return args


def run(
    url: str,
    admin_key: str,
    security_key: str,
    *,
    max_examples: int = 100,
    seed: int | None = None,
    workers: int = 1,
    report: Path | None = None,
    phases: str | None = None,
    capture: bool = False,
) -> subprocess.CompletedProcess[str]:
    prepare(url, admin_key)
    env = {
        **os.environ,
        "FRAUD_ADMIN_KEY": admin_key,
        "FRAUD_SECURITY_KEY": security_key,
        "SCHEMATHESIS_HOOKS": "tests.contract.hooks",
        "PYTHONPATH": str(ROOT),  # the hooks module, for the schemathesis command
    }
    return subprocess.run(  # noqa: S603 (our own tool, our own arguments)
        command(url, max_examples, seed, workers, report, phases),
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=capture,
        check=False,
        timeout=3600,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("FRAUD_API_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--admin-key", default=os.environ.get("FRAUD_ADMIN_KEY"), required=False)
    parser.add_argument("--security-key", default=os.environ.get("FRAUD_SECURITY_KEY"), required=False)
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--seed", type=int)
    # one worker: Schemathesis' coverage phase is not thread-safe on Python 3.11 (AST errors)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--phases", help="e.g. fuzzing,stateful (default: every phase)")
    parser.add_argument("--report", type=Path)
    args = parser.parse_args()
    if not args.admin_key or not args.security_key:
        parser.error(
            "an admin key and a security key are needed (the ones `make run` prints), in "
            "FRAUD_ADMIN_KEY and FRAUD_SECURITY_KEY"
        )
    url = args.url.rstrip("/")
    return run(
        url,
        args.admin_key,
        args.security_key,
        max_examples=args.max_examples,
        seed=args.seed,
        workers=args.workers,
        report=args.report,
        phases=args.phases,
    ).returncode


if __name__ == "__main__":
    sys.exit(main())
