"""Setting the stage for a console test through the public API and fraudctl only: partners flagged
by the platform's own scoring, rewards held, loyalty customers with points.

A partner is flagged here the way the seed describes: it signs up with the same e-mail address as
an existing partner (SPEC 5.1 `email_duplicate`, strong enough to flag on its own).
"""

from __future__ import annotations

import subprocess
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

from tests.e2e.conftest import LocalSystem

ROOT = Path(__file__).resolve().parents[3]
FRAUDCTL = ROOT / ".venv" / "bin" / "fraudctl"


def unique(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:8]}"


def mailbox(stem: str) -> str:
    """An address of its own, twelve random letters after the stem: no other test's is one or two
    edits from it. (A `unique()` address is compared without its trailing digits, `dup-ab123456`
    as `dupab`: two of them were sometimes `email_similar`, a reason the tests did not expect.)"""
    letters = "".join(chr(ord("a") + int(digit, 16)) for digit in uuid.uuid4().hex[:12])
    return f"{stem}-{letters}"


def ip() -> str:
    """A British home-broadband address of its own: tests never share an IP (a shared one is a
    signal) and never use a hosting network's (another signal)."""
    number = uuid.uuid4().int
    return f"86.{128 + number % 32}.{number // 32 % 256}.{number // 8192 % 254 + 1}"


def at(minutes: int) -> str:
    """An RFC 3339 time `minutes` from now (negative: in the past)."""
    # microseconds: two cases flagged within one second must still sort by their flag time
    return (datetime.now(UTC) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _address() -> dict[str, Any]:
    return {
        "line1": "12 Marylebone Rd",
        "city": "London",
        "region": "England",
        "postal_code": "NW1 5LR",
        "country": "GB",
    }


@dataclass
class FlaggedPartner:
    partner_id: str
    name: str
    email: str
    case: dict[str, Any]
    reward_ids: list[str] = field(default_factory=list)


class Backend:
    def __init__(self, system: LocalSystem) -> None:
        self.system = system
        self.integration = system.session("integration")
        self.fraud = system.session("fraud")
        self.security = system.session("security")
        self.admin = system.session("admin")

    def url(self, path: str) -> str:
        return f"{self.system.api_url}{path}"

    # ---- events ----------------------------------------------------------------------------
    def send(self, event: dict[str, Any]) -> None:
        answer = self.integration.post(self.url("/v1/events"), json=event, timeout=10)
        assert answer.status_code == 202, answer.text

    def scored(self, event_id: str, timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            answer = self.integration.get(self.url(f"/v1/events/{event_id}"), timeout=10).json()
            if answer.get("status") in ("scored", "failed") or time.monotonic() > deadline:
                assert answer.get("status") == "scored", f"event {event_id} not scored: {answer}"
                return answer
            time.sleep(0.2)

    def partnership(self, partner_id: str, name: str, email: str, minutes: int, **extra: Any) -> str:
        event_id = unique("evt-partner")
        partner = {"id": partner_id, "name": name, "email": email, "country": "GB", "address": _address()}
        partner.update(extra)
        self.send(
            {
                "id": event_id,
                "type": "partnership.created",
                "occurred_at": at(minutes),
                "partner": partner,
                "session": {"ip": ip(), "device_fingerprint": unique("fp")},
            }
        )
        return event_id

    def account_update(self, partner_id: str, email: str, minutes: int, event_id: str = "") -> str:
        """An `account.updated` with the partner's e-mail address, scored: a flagged partner's
        shared address fires `email_duplicate` again, and the case counts it. Returns its id."""
        return self._account(partner_id, {"email": email}, "profile_update", minutes, event_id)

    def payout_update(self, partner_id: str, account: str, minutes: int) -> str:
        """An `account.updated` giving the partner new payout details, scored. Returns its id."""
        return self._account(partner_id, {"payout_account": account}, "payout_update", minutes)

    def _account(
        self, partner_id: str, changed: dict[str, Any], activity: str, minutes: int, event_id: str = ""
    ) -> str:
        event_id = event_id or unique("evt-update")
        self.send(
            {
                "id": event_id,
                "type": "account.updated",
                "occurred_at": at(minutes),
                "partner": {"id": partner_id, **changed},
                "session": {"ip": ip(), "device_fingerprint": unique("fp")},
                "activity": activity,
            }
        )
        self.scored(event_id)
        return event_id

    def transaction(
        self, partner_id: str, amount: str, minutes: int, currency: str = "USD", *, wait: bool = True
    ) -> str:
        """A purchase through the partner with its reward; scored before it returns, unless `wait` is
        False (many sent at once, waited for together)."""
        event_id, reward_id = unique("evt-tx"), unique("rwd")
        self.send(
            {
                "id": event_id,
                "type": "transaction.created",
                "occurred_at": at(minutes),
                "transaction": {
                    "id": unique("tx"),
                    "amount": str(Decimal(amount) * 10),
                    "currency": currency,
                },
                "partner_id": partner_id,
                "customer": {
                    "id": unique("cust"),
                    "email": f"{mailbox('buyer')}@example.org",
                    "country": "GB",
                    "ip": ip(),
                    "device_fingerprint": unique("fp"),
                },
                "reward": {"id": reward_id, "amount": amount, "currency": currency},
            }
        )
        if wait:
            self.scored(event_id)
        return reward_id

    # ---- cases -----------------------------------------------------------------------------
    def active_cases(self, q: str) -> list[dict[str, Any]]:
        answer = self.fraud.get(self.url("/v1/cases"), params={"view": "active", "q": q}, timeout=10)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        return body if isinstance(body, list) else body.get("items", body.get("cases", []))

    def flagged_partner(self, name: str, rewards: tuple[str, ...] = ("25.00",)) -> FlaggedPartner:
        """A partner flagged by scoring (same e-mail as an earlier partner), with rewards on hold."""
        email = f"{mailbox('dup')}@example.com"
        first = self.partnership(unique("p-orig"), unique("Original partner"), email, minutes=-120)
        self.scored(first)
        partner_id = unique("p-flag")
        flagged = self.partnership(
            partner_id, name, email.upper(), minutes=-60, team="Resellers", group="EMEA"
        )
        decision = self.scored(flagged)
        assert decision["decision"]["action"] == "flag", decision
        reward_ids = [
            self.transaction(partner_id, amount, minutes=-30 + i) for i, amount in enumerate(rewards)
        ]
        case = self.wait_for_case(name, held=len(reward_ids))
        return FlaggedPartner(partner_id, name, email, case, reward_ids)

    def declined_partner(self, name: str, note: str | None = None) -> FlaggedPartner:
        """`flagged_partner`, its case disputed, declined by the security team (with `note`) and
        resolved by the dispute cycle: the partner stays flagged under the declined case (SPEC 4)."""
        partner = self.flagged_partner(name)
        case_url = self.url(f"/v1/cases/{partner.case['id']}")
        assert self.fraud.post(f"{case_url}/dispute", json={"reason": "Ours."}, timeout=10).ok
        verdict = {"verdict": "decline", **({"note": note} if note is not None else {})}
        assert self.security.post(
            self.url(f"/v1/disputes/{partner.case['id']}/verdict"), json=verdict, timeout=10
        ).ok
        self.run_dispute_cycle()
        assert self.fraud.get(case_url, timeout=10).json()["status"] == "declined"
        return partner

    def wait_for_case(self, name: str, held: int, timeout: float = 20) -> dict[str, Any]:
        """The active case of `name` once `held` rewards are on hold (the sweep runs every 2 s here)."""
        deadline = time.monotonic() + timeout
        while True:
            cases = [c for c in self.active_cases(name) if c["subject"]["name"] == name]
            if cases and int(cases[0].get("held_rewards", 0)) >= held:
                return cases[0]
            assert time.monotonic() < deadline, f"no active case for {name} with {held} held rewards: {cases}"
            time.sleep(0.3)

    def reward_status(self, partner_id: str, reward_id: str) -> str:
        answer = self.fraud.get(self.url("/v1/rewards"), params={"partner_id": partner_id}, timeout=10)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        items = body if isinstance(body, list) else body.get("items", body.get("rewards", []))
        return next(r["status"] for r in items if r.get("id", r.get("reward_id")) == reward_id)

    def run_dispute_cycle(self) -> None:
        done = subprocess.run(
            [str(FRAUDCTL), "run", "dispute-cycle", "--json"],
            env=self.system.env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr + done.stdout

    # ---- keys ------------------------------------------------------------------------------
    def create_key(self, role: str, actor: str) -> dict[str, Any]:
        """A key of the demo program, made by its admin through POST /v1/keys."""
        answer = self.admin.post(self.url("/v1/keys"), json={"role": role, "actor": actor}, timeout=10)
        assert answer.status_code == 201, answer.text
        return answer.json()

    def listed_keys(self) -> list[dict[str, Any]]:
        answer = self.admin.get(self.url("/v1/keys"), timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()["items"]

    def signs_in(self, key: str) -> bool:
        answer = requests.get(self.url("/v1/me"), headers={"Authorization": f"Bearer {key}"}, timeout=10)
        assert answer.status_code in (200, 401), answer.text
        return answer.status_code == 200

    # ---- webhooks --------------------------------------------------------------------------
    def put_webhook(
        self, webhook_id: str, url: str, events: tuple[str, ...] = ("PartnerFlagged",), enabled: bool = True
    ) -> dict[str, Any]:
        """The demo program's webhook made or changed by its admin (PUT): the webhook as answered."""
        answer = self.admin.put(
            self.url(f"/v1/webhooks/{webhook_id}"),
            json={"url": url, "events": list(events), "enabled": enabled},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    def webhook_once(self, webhook_id: str, field: str, timeout: float) -> dict[str, Any]:
        """The webhook as read once its `field` is set (a receiver found silent, or slow, by its tries)."""
        deadline = time.monotonic() + timeout
        while not (shown := self.admin.get(self.url(f"/v1/webhooks/{webhook_id}"), timeout=10).json()).get(
            field
        ):
            assert time.monotonic() < deadline, shown
            time.sleep(0.5)
        return shown  # type: ignore[no-any-return]

    def delete_webhook(self, webhook_id: str) -> None:
        self.admin.delete(self.url(f"/v1/webhooks/{webhook_id}"), timeout=10)

    # ---- loyalty ---------------------------------------------------------------------------
    def earn(self, customer_id: str, points: int, **extra: Any) -> dict[str, Any]:
        body = {
            "id": unique("earn"),
            "customer_id": customer_id,
            "points": points,
            "kind": "purchase",
            **extra,
        }
        answer = self.integration.post(self.url("/v1/loyalty/earn"), json=body, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def campaign(self, campaign_id: str) -> dict[str, Any]:
        answer = self.fraud.get(self.url(f"/v1/loyalty/campaigns/{campaign_id}"), timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def spend(self, customer_id: str, points: int) -> requests.Response:
        body = {"id": unique("spend"), "customer_id": customer_id, "points": points}
        return self.integration.post(self.url("/v1/loyalty/spend"), json=body, timeout=10)
