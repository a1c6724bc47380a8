"""Webhooks on the local system over real HTTP (SPEC 6), with a real receiver on 127.0.0.1: a flag
produces a signed `PartnerFlagged` delivery; a receiver failing twice gets three tries with one
delivery id; a rotation signs with both secrets; a private URL is 422 naming `url`; another
program's webhook is 404. Also measures the delivery latency after the notification."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.webhook_support import Receiver, receiving, signatures, verifies
from tests.support import sample

pytestmark = pytest.mark.e2e
FRAUDCTL = str(Path(sys.executable).with_name("fraudctl"))
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture
def receiver(request: pytest.FixtureRequest, local_system: Any) -> Iterator[Receiver]:
    """A receiver for one test; the webhooks made for it are deleted after it, so that no other
    test's flags go on to a receiver that has stopped (or to another that took its port)."""
    made.clear()
    yield from receiving(getattr(request, "param", [200]))
    admin = local_system.session("admin")
    for webhook_id in made:
        admin.delete(f"{local_system.api_url}/v1/webhooks/{webhook_id}", timeout=10)


made: list[str] = []


def wait_for(check: Callable[[], Any], seconds: float = 60, every: float = 0.05) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out")


def subscribe(system: Any, receiver: Receiver, events: list[str] | None = None) -> tuple[str, str]:
    webhook_id = f"e2e-{uuid.uuid4().hex[:12]}"
    made.append(webhook_id)
    answer = system.session("admin").put(
        f"{system.api_url}/v1/webhooks/{webhook_id}",
        json={"url": receiver.url, "events": events or ["PartnerFlagged"], "enabled": True},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return webhook_id, answer.json()["secret"]


def flag_a_partner(system: Any) -> tuple[str, float, str]:
    """Two sign-ups with one e-mail address: the second partner is flagged. Returns the flagged
    partner's id, when its event was accepted, and the event id."""
    integration = system.session("integration")
    stamp = time.time_ns()
    first = sample("partnership.created", id=f"wh-a-{stamp}")
    first["partner"].update(id=f"wha-{stamp}", email=f"hook-{stamp}@example.com", name=f"Hook A {stamp}")
    second = sample("partnership.created", id=f"wh-b-{stamp}")
    second["partner"].update(id=f"whb-{stamp}", email=f"Hook-{stamp}@example.com", name=f"Hook B {stamp}")
    second["session"]["device_fingerprint"] = f"fp-{stamp}"
    assert integration.post(f"{system.api_url}/v1/events", json=first, timeout=10).status_code == 202
    accepted = time.monotonic()
    assert integration.post(f"{system.api_url}/v1/events", json=second, timeout=10).status_code == 202
    return f"whb-{stamp}", accepted, second["id"]


def flags_of(receiver: Receiver, partner_id: str) -> list[Any]:
    """What the receiver got about this partner (other tests flag partners of the demo program too)."""
    return [
        g
        for g in receiver.got
        if json.loads(g.body)["type"] == "PartnerFlagged"
        and json.loads(g.body)["data"]["subject"]["id"] == partner_id
    ]


def test_a_flag_produces_a_partner_flagged_delivery_the_receiver_verifies(local_system, receiver):
    webhook_id, secret = subscribe(local_system, receiver)
    partner_id, _, _ = flag_a_partner(local_system)

    [got] = wait_for(lambda: flags_of(receiver, partner_id))
    body = json.loads(got.body)
    assert set(body) == {"id", "notification_id", "type", "created_at", "program_id", "data"}
    assert body["program_id"] == local_system.program_id
    assert body["data"]["case_id"].startswith("case_") or body["data"]["case_id"]
    # the receiver checks the signature over the raw body with the secret it was shown once
    assert verifies(secret, got.headers["x-signature"], got.body)
    assert not verifies(secret + "x", got.headers["x-signature"], got.body)
    assert len(signatures(got.headers["x-signature"])[1]) == 1

    admin = local_system.session("admin")

    def delivered() -> list[Any]:
        items = admin.get(f"{local_system.api_url}/v1/webhooks/{webhook_id}/deliveries", timeout=10).json()[
            "items"
        ]
        return [d for d in items if d["id"] == body["id"] and d["status"] == "delivered"]

    [delivery] = wait_for(delivered, seconds=10)
    assert [(a["answer_code"], a["outcome"]) for a in delivery["attempts"]] == [(200, "delivered")]


@pytest.mark.parametrize("receiver", [[500, 500, 200]], indirect=True)
def test_a_receiver_answering_500_twice_then_200_gets_three_tries_with_one_delivery_id(
    local_system, receiver
):
    webhook_id, secret = subscribe(local_system, receiver)
    partner_id, _, _ = flag_a_partner(local_system)

    got = wait_for(lambda: (lambda g: g if len(g) >= 3 else None)(flags_of(receiver, partner_id)))
    assert len({json.loads(g.body)["id"] for g in got}) == 1
    assert all(verifies(secret, g.headers["x-signature"], g.body) for g in got)
    admin = local_system.session("admin")

    def settled() -> Any:
        items = admin.get(f"{local_system.api_url}/v1/webhooks/{webhook_id}/deliveries", timeout=10).json()[
            "items"
        ]
        return items if items and items[0]["status"] == "delivered" else None

    [delivery] = [d for d in wait_for(settled, seconds=10) if d["id"] == json.loads(got[0].body)["id"]]
    assert [a["answer_code"] for a in delivery["attempts"]] == [500, 500, 200]
    time.sleep(1.5)
    assert len(flags_of(receiver, partner_id)) == 3  # nothing after the 200


def test_a_rotation_gives_two_v1_values_both_verifying(local_system, receiver):
    webhook_id, old = subscribe(local_system, receiver)
    rotated = local_system.session("admin").post(
        f"{local_system.api_url}/v1/webhooks/{webhook_id}/rotate-secret", timeout=10
    )
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    partner_id, _, _ = flag_a_partner(local_system)

    [got] = wait_for(lambda: flags_of(receiver, partner_id))
    _, values = signatures(got.headers["x-signature"])
    assert len(values) == 2
    assert verifies(old, got.headers["x-signature"], got.body) and verifies(
        new, got.headers["x-signature"], got.body
    )


@pytest.mark.parametrize(
    "url",
    ["https://10.0.0.7/hook", "https://169.254.169.254/latest", "https://localhost/hook", "http://8.8.8.8/"],
)
def test_a_url_to_a_private_address_is_refused_with_422_naming_url(local_system, url):
    answer = local_system.session("admin").put(
        f"{local_system.api_url}/v1/webhooks/private",
        json={"url": url, "events": ["PartnerFlagged"]},
        timeout=10,
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in answer.json()["errors"]] == ["url"]


def test_another_programs_webhook_is_404(local_system, receiver):
    webhook_id, _ = subscribe(local_system, receiver)
    env = local_system.env()
    made = subprocess.run(
        [FRAUDCTL, "create-program", "--name", "Other program", "--json"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    program_id = json.loads(made.stdout)["program_id"]
    key = subprocess.run(
        [
            FRAUDCTL,
            "create-key",
            "--program",
            program_id,
            "--role",
            "admin",
            "--actor",
            "Other admin",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert key.returncode == 0, key.stderr
    other = local_system.session("admin")
    other.headers["Authorization"] = f"Bearer {json.loads(key.stdout)['key']}"
    base = f"{local_system.api_url}/v1/webhooks/{webhook_id}"
    assert other.get(base, timeout=10).status_code == 404
    assert other.delete(base, timeout=10).status_code == 404
    assert other.post(f"{base}/rotate-secret", timeout=10).status_code == 404
    assert other.get(f"{base}/deliveries", timeout=10).status_code == 404
    assert webhook_id not in {
        w["id"] for w in other.get(f"{local_system.api_url}/v1/webhooks", timeout=10).json()["items"]
    }
    assert local_system.session("admin").get(base, timeout=10).status_code == 200


def test_delivery_latency_after_the_notification(local_system, receiver):
    """The figure for the closing note: from the flagging event's score (its notification is
    published as the scoring step commits) to the receiver's POST, p50 over a few flags."""
    subscribe(local_system, receiver)
    integration = local_system.session("integration")
    after_notification, after_accept = [], []
    for _ in range(8):
        partner_id, accepted, event_id = flag_a_partner(local_system)
        scored_at: list[float] = []

        def scored() -> bool:
            body = integration.get(f"{local_system.api_url}/v1/events/{event_id}", timeout=10).json()
            if body["status"] == "scored" and not scored_at:
                scored_at.append(time.monotonic())
            return bool(scored_at)

        wait_for(scored, every=0.02)
        wait_for(lambda: flags_of(receiver, partner_id), every=0.005)
        arrived = flags_of(receiver, partner_id)[0].at
        after_notification.append(arrived - scored_at[0])
        after_accept.append(arrived - accepted)
    figures = {
        "delivery_p50_after_notification_ms": round(statistics.median(after_notification) * 1000),
        "delivery_max_after_notification_ms": round(max(after_notification) * 1000),
        "delivery_p50_after_event_accepted_ms": round(statistics.median(after_accept) * 1000),
        "samples": len(after_notification),
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "webhook_latency.json").write_text(json.dumps(figures, indent=2))
    print(figures)
    assert figures["delivery_p50_after_notification_ms"] < 5000
