"""Disputes (SPEC 3.3, 7): program teams dispute a case; the platform security team records a
verdict; the monthly dispute cycle applies the verdicts."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from functions.cases.service import case_json
from functions.score.identity import network_keys_of, network_pepper, program_token
from functions.shared.errors import Conflict
from functions.shared.observability import logger
from functions.shared.runtime import Dependencies


def dispute(deps: Dependencies, program_id: str, case_id: str, reason: str, actor: str) -> dict[str, Any]:
    case = deps.repository.open_dispute(program_id, case_id, reason, actor, deps.clock.now())
    deps.publisher.publish(
        "DisputeOpened",
        {
            "program_id": program_id,
            "case_id": case_id,
            "subject": {"type": case.subject_type, "id": case.subject_id},
            "reason": reason,
            "by": actor,
        },
    )
    return case_json(case)


def open_disputes(deps: Dependencies) -> dict[str, Any]:
    programs = {p.program_id: p.name for p in deps.repository.list_programs()}
    items = []
    for case in deps.repository.disputes():
        row = case_json(case)
        row.update(
            program_id=case.program_id,
            program_name=programs.get(case.program_id),
            verdict=case.verdict,
            verdict_note=case.verdict_note,
        )
        items.append(row)
    return {"items": items}


def record_verdict(deps: Dependencies, case_id: str, verdict: str, note: str, actor: str) -> dict[str, Any]:
    case = deps.repository.record_verdict(case_id, verdict, note, actor, deps.clock.now())
    row = case_json(case)
    row.update(program_id=case.program_id, verdict=case.verdict, verdict_note=case.verdict_note)
    return row


def run_cycle(deps: Dependencies) -> dict[str, Any]:
    """Resolves every disputed case that has a verdict; the others wait for the next cycle. Safe to
    run twice, or again after stopping half way: each step is conditional on the state it changes."""
    repository = deps.repository
    now = deps.clock.now()
    pepper = network_pepper()
    report: dict[str, dict[str, int]] = defaultdict(lambda: {"approved": 0, "declined": 0, "waiting": 0})
    for case in repository.disputes():
        if case.verdict not in ("approve", "decline"):
            report[case.program_id]["waiting"] += 1
            continue
        subject = repository.get_subject(case.program_id, case.subject_type, case.subject_id)
        network = network_keys_of(subject.email_normalized, subject.devices, pepper)
        try:
            moved = repository.resolve_dispute(case, now, network, program_token(case.program_id, pepper))
        except Conflict:  # resolved by a concurrent cycle meanwhile
            continue
        outcome = "approved" if case.verdict == "approve" else "declined"
        report[case.program_id][outcome] += 1
        deps.publisher.publish(
            "DisputeResolved",
            {
                "program_id": case.program_id,
                "case_id": case.case_id,
                "subject": {"type": case.subject_type, "id": case.subject_id},
                "outcome": outcome,
                "rewards": [r.reward_id for r in moved],
                "rewards_now": "pending" if outcome == "approved" else "declined",
            },
        )
    totals = {k: sum(p[k] for p in report.values()) for k in ("approved", "declined", "waiting")}
    logger.info("dispute cycle done", extra=totals)
    return {"totals": totals, "programs": dict(report)}
