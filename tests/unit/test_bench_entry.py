"""`make bench` through its real entry point (`python -m benchmarks`)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_misspelt_suite_is_named_and_fails_rather_than_measuring_nothing():
    # `SUITES=sync-decision` printed the command line alone and exited 0
    done = subprocess.run(  # noqa: S603 (the interpreter running the tests)
        [sys.executable, "-m", "benchmarks", "sync-decision"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "no suite named sync-decision; the default ones: ingest scoring" in done.stderr
