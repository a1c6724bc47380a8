"""Schemathesis against the local system over HTTP: the served OpenAPI document describes the API
as it behaves (SPEC 3). A smaller run than `make contract`, which also runs the coverage phase and
many more examples; this one stays under a minute."""

from __future__ import annotations

import pytest

from functions.shared.routes import ROUTES
from tests.contract.fuzz import run

pytestmark = pytest.mark.e2e


def test_generated_requests_find_no_server_error_and_no_failed_check(local_system):
    result = run(
        local_system.api_url,
        local_system.keys["admin"],
        local_system.keys["security"],
        max_examples=15,
        seed=1,
        phases="examples,fuzzing,stateful",
        capture=True,
    )

    summary = result.stdout[result.stdout.find("SUMMARY") :]
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    operations = len([r for r in ROUTES if r.path != "/v1/openapi.json"])  # every documented one
    assert f"Tested: {operations}" in summary, summary
