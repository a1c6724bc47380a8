"""The local system runs loyalty workflows behind its workflow queue: the earn answers first, the
poller hands the run to the runner, and the action lands within seconds (SPEC 8), over real HTTP."""

from __future__ import annotations

import time
import uuid


def test_a_workflow_runs_within_seconds_of_the_earn_that_crossed_its_threshold(local_system):
    fraud, integration = local_system.session("fraud"), local_system.session("integration")
    workflow = f"big-earner-{uuid.uuid4().hex[:8]}"
    customer = f"member-{uuid.uuid4().hex[:8]}"
    settings = {
        "trigger": {"event": "points.earned"},
        "filter": {"aggregation": "earned", "date_range": "today", "customer": "current", "threshold": 100},
        "actions": [{"type": "suspend"}],
        "enabled": True,
    }
    url = f"{local_system.api_url}/v1/loyalty/workflows/{workflow}"
    assert fraud.put(url, json=settings, timeout=10).ok
    try:
        earn = {"id": f"e-{customer}", "customer_id": customer, "points": 150, "kind": "purchase"}
        answer = integration.post(f"{local_system.api_url}/v1/loyalty/earn", json=earn, timeout=10)

        assert answer.status_code == 200 and answer.json()["balance"] == 150
        deadline, view = time.monotonic() + 60, {}  # a loaded machine runs slowly; the state decides
        while time.monotonic() < deadline:
            view = fraud.get(f"{local_system.api_url}/v1/loyalty/customers/{customer}", timeout=10).json()
            if view["status"] == "suspended":
                break
            time.sleep(0.5)
        assert view["status"] == "suspended"
        assert [(h["action"], h["by"]) for h in view["history"]] == [("suspended", f"workflow:{workflow}")]
    finally:  # the demo program is shared by the other end-to-end tests
        fraud.delete(url, timeout=10)
