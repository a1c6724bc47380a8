"""Every partner-program rule (SPEC 4, 5.3, 7), once: pure functions from what was read to the
writes that carry the decision out (`writes.py`). No storage, no AWS.

- which rewards a flag holds, and where a newly arrived reward goes (held, archived, or left);
- the hold sweep's holdability;
- case transitions (open -> disputed -> approved | declined; open | disputed | declined -> removed)
  and what each does to rewards and to the subject;
- verdict outcomes; what a removal archives; what a block covers;
- which identifiers name a subject, and its network marks;
- how reasons merge on a case.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Set
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from functions.shared.domain import actors, holdables
from functions.shared.domain.hold_order import ORDERED_VIEW
from functions.shared.domain.holdables import ListChange
from functions.shared.domain.identity import (
    NEAR_DUPLICATE_KINDS,
    NEAR_SPANS_LIMIT,
    crowd_limit,
    email_keys,
    namesake_entries,
    near_keys,
    network_key,
)
from functions.shared.domain.model import (
    CUSTOMER_KEY,
    AuditEntry,
    Case,
    Holdables,
    LinkKey,
    LinkState,
    NetworkState,
    Notification,
    Reason,
    Reward,
    Subject,
    as_utc,
    evolve,
)
from functions.shared.domain.velocity import Tally
from functions.shared.domain.writes import (
    MAX_STEP_ITEMS,
    Audit,
    ClaimTransaction,
    CountUp,
    ListRewards,
    LocateCase,
    MarkLink,
    MarkNetwork,
    MoveReward,
    Notify,
    PartnerArrival,
    PutCase,
    PutReward,
    ScoreEvent,
    SpillIdentifier,
    Step,
    UpdateCase,
    UpdateProfile,
    Write,
    WriteProfile,
)
from functions.shared.errors import Conflict
from functions.shared.money import amount_text, to_micros

HOLDABLE = ("new", "pending")
# what a removal archives: every reward of the partner not yet approved or paid (SPEC 3.2)
ARCHIVABLE = ("new", "pending", "on_hold", "declined")
ACTIVE = ("open", "disputed")  # a subject's active case: new signals add reasons to it
TAKES_HOLDS = ("open", "disputed", "declined")  # never approved or removed (SPEC 4)
MARKED = ("flagged", "removed")  # subject statuses whose identifiers carry their mark (network marks too)
REMOVABLE = ("open", "disputed", "declined")
RESOLVED = ("approved", "declined")
BLOCK_COVERS = ("email", "device")  # a blocked person reapplying is known by these
VERDICTS = ("approve", "decline")
_NOTHING: dict[str, frozenset[str]] = {}  # a mark's `remove` when it takes nothing away (never changed)
CASE_VIEWS = {"active": ACTIVE, "resolved": RESOLVED, "removed": ("removed",)}


def view_of(status: str) -> str:
    return next(view for view, statuses in CASE_VIEWS.items() if status in statuses)


def view_time(view: str) -> str:
    """The case time a view is kept in order of (the `cases_by_view` index's sort key): the removed
    view by removal, every other view by flag."""
    return "removed_at" if view == "removed" else "flagged_at"


def dispute_position(case: Case) -> tuple[datetime, str, str]:
    """Where a disputed case stands in the security team's list (`GET /v1/disputes`, oldest dispute
    first, across programs): its dispute time, then program and case ids (the `disputes` index's
    sort key). A verdict does not move it."""
    return (case.disputed_at or case.flagged_at, case.program_id, case.case_id)


def in_hold_order(status: str) -> bool:
    """Only the active view's cases are in the hold-amount order (`hold_order`): a case leaves it
    when it leaves the view (resolved or removed), for good."""
    return view_of(status) == ORDERED_VIEW


# --- rewards ----------------------------------------------------------------------------------
def holdable(reward: Reward) -> bool:
    return reward.status in HOLDABLE and not reward.overridden


def held_by_flag(subject_type: str, flagged_at: datetime, reward: Reward) -> bool:
    """A flagged partner's rewards from the flag on; a flagged customer's rewards, all of them."""
    return subject_type == "customer" or reward.created_at >= flagged_at


def flag_holds(subject_type: str, flagged_at: datetime, rewards: Iterable[Reward]) -> list[Reward]:
    """What a flag puts on hold at once, and what the sweep puts on hold later."""
    return [r for r in rewards if holdable(r) and held_by_flag(subject_type, flagged_at, r)]


def sweep_holds(subject: Subject, rewards: Iterable[Reward]) -> list[Reward]:
    if subject.status != "flagged" or subject.flagged_at is None or not subject.flag_case_id:
        return []
    return flag_holds(subject.type, subject.flagged_at, rewards)


@dataclass(frozen=True)
class Placement:
    """Where a newly arrived reward goes: its status, and the case it is counted under."""

    status: str
    case_id: str | None = None
    archived: bool = False


def place_reward(
    reward: Reward,
    *,
    partner: Subject | None,
    customer: Subject | None,
    flag: tuple[str, str, datetime] | None,
) -> Placement:
    """`flag`: (subject type, case id, flag time) when the reward's own event flags its subject."""
    if partner is not None and partner.status == "removed":
        return Placement("archived", partner.flag_case_id, archived=True)  # never paid again
    if reward.status not in HOLDABLE:
        return Placement(reward.status)
    if flag is not None:
        subject_type, case_id, at = flag
        if held_by_flag(subject_type, at, reward):
            return Placement("on_hold", case_id)
    if customer is not None and reward.customer_id == customer.id and _holds(customer):
        return Placement("on_hold", customer.flag_case_id)
    if (
        partner is not None
        and _holds(partner)
        and partner.flagged_at
        and reward.created_at >= partner.flagged_at
    ):
        return Placement("on_hold", partner.flag_case_id)
    return Placement(reward.status)


def flagged_since(subject: Subject, at: datetime) -> datetime:
    """When a flag at `at` leaves its subject flagged from (what it holds from): this flag's time,
    or, when the subject is flagged already (under an active case, or under a declined one: SPEC 4
    keeps it flagged), the earlier of that flag and this one (events arrive late, and a subject
    was flagged when the flagged event occurred). A new case after a declined dispute does not
    make what arrives dated between the two payable."""
    if subject.status == "flagged" and subject.flagged_at:
        return min(subject.flagged_at, at)
    return at


def _holds(subject: Subject) -> bool:
    return subject.status == "flagged" and bool(subject.flag_case_id)


def _flag_case(subject: Subject) -> str | None:
    return subject.flag_case_id if _holds(subject) else None


def totals(rewards: Iterable[Reward]) -> dict[str, int]:
    found: dict[str, int] = {}
    for reward in rewards:
        found[reward.currency] = found.get(reward.currency, 0) + to_micros(reward.amount)
    return found


def negated(figures: dict[str, int]) -> dict[str, int]:
    return {currency: -micros for currency, micros in figures.items()}


def amounts(figures: dict[str, int]) -> list[dict[str, str]]:
    return [{"currency": c, "amount": amount_text(m, c)} for c, m in sorted(figures.items()) if m]


# --- identifiers and marks --------------------------------------------------------------------
def identifiers_of(subject: Subject) -> list[LinkKey]:
    """Every link item that names a subject: each e-mail it ever used (with the near-duplicate
    forms it is linked under: a partner's `email_near` keys too), each device, IP and payout
    account, however many (those spilled out of the profile too, when read: `spilled`)."""
    found: dict[LinkKey, None] = {}
    spilled: dict[str, set[str]] = {}
    for name, value in subject.spilled:
        spilled.setdefault(name, set()).add(value)
    addresses = set(subject.emails) | ({subject.email} if subject.email else set())
    addresses |= spilled.get("emails", set())
    for address in sorted(addresses):
        keys = email_keys(address)
        found[("email", keys.normalized)] = None
        found[("email_skeleton", keys.skeleton)] = None
        for near, _span in near_keys(address) if subject.type == "partner" else ():
            found[("email_near", near)] = None
    if subject.email_normalized:
        found[("email", subject.email_normalized)] = None
    for kind, values in (("device", subject.devices), ("ip", subject.ips)):
        for value in sorted(values | spilled.get(f"{kind}s", set())):
            found[(kind, value)] = None
    payouts = subject.payouts | ({subject.payout} if subject.payout else set())
    payouts |= spilled.get("payouts", set())
    for payout in sorted(payouts):
        found[("payout", payout)] = None
    return list(found)


def network_identifiers(
    subject: Subject, pepper: bytes, identifiers: list[LinkKey] | None = None
) -> list[LinkKey]:
    """The subject's identifiers across the network: each e-mail, device and payout account, as
    keyed hashes (`identifiers`: the subject's `identifiers_of`, when known already)."""
    found = identifiers_of(subject) if identifiers is None else identifiers
    emails = sorted(k for kind, k in found if kind == "email")
    payouts = sorted(k for kind, k in found if kind == "payout")
    return (
        [("email", network_key("email", e, pepper)) for e in emails]
        + [("device", network_key("device", d, pepper)) for kind, d in found if kind == "device"]
        + [("payout", network_key("payout", p, pepper)) for p in payouts]
    )


@lru_cache(maxsize=1024)  # a few programs per process; every scored event asks several times
def program_token(program_id: str, pepper: bytes) -> str:
    return hmac.new(pepper, f"program:{program_id}".encode(), hashlib.sha256).hexdigest()[:16]


def network_marks(subject: Subject, status: str, pepper: bytes) -> dict[str, str]:
    """The marks a subject's network items carry while it has `status`: its mark in `flagged` or in
    `removed` (`MARKED`), none otherwise."""
    return {status: network_mark(subject.program_id, subject, pepper)} if status in MARKED else {}


def network_mark(program_id: str, subject: Subject, pepper: bytes) -> str:
    """One subject's mark on a network item: its program's token and an opaque subject token."""
    return _network_mark(program_id, subject.key, pepper)


# ends a customer's mark: what a customer identifies itself by is typed at checkout, verified by
# no one, so partners do not read it as theirs (`signals.as_a_partner_sees`). Customers' marks made
# before the suffix have none: read as an account's, and withdrawn in both forms.
CUSTOMER_MARK = ".c"


@lru_cache(maxsize=65536)  # a flagged subject's every event asks
def _network_mark(program_id: str, subject_key: str, pepper: bytes) -> str:
    person = hmac.new(pepper, f"subject:{program_id}/{subject_key}".encode(), hashlib.sha256).hexdigest()[:16]
    mark = f"{program_token(program_id, pepper)}.{person}"
    return mark + CUSTOMER_MARK if subject_key.startswith(CUSTOMER_KEY) else mark


def mark_program(mark: str) -> str:
    return mark.partition(".")[0]


def customers_mark(mark: str) -> bool:
    return mark.endswith(CUSTOMER_MARK)


def flag_marks(subject: Subject, pepper: bytes, skip: Set[LinkKey] = frozenset()) -> list[Write]:
    """Marks a flagged subject on its identifiers, so later look-ups see the flag; none on the
    identifiers in `skip` (marked already, or by another write of the same step)."""
    mark = network_mark(subject.program_id, subject, pepper)
    identifiers = identifiers_of(subject)
    flagged = {"flagged": frozenset({subject.key})}
    writes: list[Write] = [
        MarkLink(subject.program_id, key, add=flagged) for key in identifiers if key not in skip
    ]
    writes += [
        MarkNetwork(key, add={"flagged": frozenset({mark})})
        for key in network_identifiers(subject, pepper, identifiers)
        if key not in skip
    ]
    return writes


# every field `identifiers_of` reads (a crowded payout account is the `payout` field, in no set)
_IDENTIFYING = ("emails", "email", "email_normalized", "devices", "ips", "payouts", "payout", "spill_count")


def adds_identifiers(read: Subject | None, written: Subject) -> int:
    """1 when a profile write may add identifiers, else 0: both stores count it in
    `identifier_seq`, by which a removal's mop-up knows to mark again. `read`: the profile the
    write was decided from (the version it expects); without one, any identifier counts."""
    if read is None:
        return int(any(getattr(written, name) for name in _IDENTIFYING))
    return int(any(getattr(written, name) != getattr(read, name) for name in _IDENTIFYING))


def marks_not_named(
    before: Subject | None, profile: Subject, named: Set[LinkKey], pepper: bytes
) -> list[Write]:
    """The marks of a flagged (or removed) subject on its identifiers that a scored event's own
    writes (`named`) do not carry: all of them, but those a `before` with the same status carries
    for certain. A flag marks every identifier the subject used and a removal too (before it writes
    the status), and while the status stays every event marks those it adds: so once the marks are
    all written (`marks_pending` false), only the identifiers this event adds are left, and none
    when it adds none."""
    skip = set(named)
    if before is not None and before.status == profile.status and not before.marks_pending:
        if not adds_identifiers(before, profile):
            return []
        identifiers = identifiers_of(before)
        skip.update(identifiers, network_identifiers(before, pepper, identifiers))
    if profile.status == "removed":
        return removal_marks(profile, pepper, profile.block_reapply, skip)
    return flag_marks(profile, pepper, skip)


def marks_every_identifier(before: Subject | None, status: str) -> bool:
    """Whether marking a subject that will have `status` reaches every identifier it ever used
    (`marks_not_named`), so those spilled out of its profile must be read first: a new flag or
    removal, or marks still pending; not while a status stays and its marks are all written."""
    if status not in MARKED:
        return False
    return before is None or before.status != status or before.marks_pending


def unflag_marks(subject: Subject, pepper: bytes) -> list[Write]:
    """Withdraws this subject's flag marks only (SPEC 5.3): others sharing them keep theirs."""
    mark = network_mark(subject.program_id, subject, pepper)
    marks = frozenset({mark, mark.removesuffix(CUSTOMER_MARK)})  # a customer's older marks too
    writes: list[Write] = [
        MarkLink(subject.program_id, key, remove={"flagged": frozenset({subject.key})})
        for key in identifiers_of(subject)
    ]
    writes += [MarkNetwork(key, remove={"flagged": marks}) for key in network_identifiers(subject, pepper)]
    return writes


def marks_to_rewrite(subject: Subject) -> bool:
    """Whether a subject is a flagged customer whose network marks may be of the form before
    `CUSTOMER_MARK` (`customer_marks_rewritten`)."""
    return subject.type == "customer" and subject.status == "flagged" and not subject.customer_marks


def customer_marks_rewritten(subject: Subject, pepper: bytes) -> list[Step]:
    """A flagged customer's network marks as written before `CUSTOMER_MARK`, in its form: the
    suffixed mark added on each of its network identifiers, then the old one withdrawn (added first,
    so the customer is never unmarked meanwhile; one attribute cannot be added to and taken from in
    one DynamoDB update). Each step holds only while the customer is still flagged under the same
    case: an approval meanwhile withdrew both forms, and a step after it would put one back. Set
    additions and removals: running it again changes nothing."""
    if not marks_to_rewrite(subject):
        return []
    mark = network_mark(subject.program_id, subject, pepper)
    old = mark.removesuffix(CUSTOMER_MARK)
    identifiers = network_identifiers(subject, pepper)
    added: list[Write] = [MarkNetwork(key, add={"flagged": frozenset({mark})}) for key in identifiers]
    withdrawn: list[Write] = [MarkNetwork(key, remove={"flagged": frozenset({old})}) for key in identifiers]
    return _marks_then_noted(subject, [added, withdrawn], {"customer_marks": True})


def removal_marks(
    subject: Subject, pepper: bytes, block_reapply: bool, skip: Set[LinkKey] = frozenset()
) -> list[Write]:
    """Marks a removed subject on its identifiers (and blocks re-applying with its e-mail
    addresses and devices); none on those in `skip`."""
    mark = network_mark(subject.program_id, subject, pepper)
    identifiers = identifiers_of(subject)
    writes: list[Write] = [
        MarkLink(subject.program_id, key, add=removed_marks(subject, key, block_reapply, pepper))
        for key in identifiers
        if key not in skip
    ]
    writes += [
        MarkNetwork(key, add={"removed": frozenset({mark})})
        for key in network_identifiers(subject, pepper, identifiers)
        if key not in skip
    ]
    return writes


def removed_marks(
    subject: Subject, key: LinkKey, block_reapply: bool, pepper: bytes
) -> dict[str, frozenset[str]]:
    """What a removed subject's mark on one link is: removed, and blocked where it covers re-applying;
    on an IP, `<subject key> <its name's digest>` too (`identity.namesake`): a removed partner back
    from its connection under its own name, with a new address and a new computer, is named by them
    (`signals.removed_namesake`)."""
    me = frozenset({subject.key})
    marks = {"removed": me, "blocked": me} if block_reapply and key[0] in BLOCK_COVERS else {"removed": me}
    if key[0] == "ip" and (names := namesake_entries(subject.key, subject.name, pepper)):
        marks["names"] = names
    return marks


# --- reasons ----------------------------------------------------------------------------------
def case_reasons(reasons: list[dict[str, str]], at: datetime) -> tuple[Reason, ...]:
    """A decision's reasons as case reasons: one per code (SPEC 4), in the decision's order; each
    one's `first` sorts by instant (UTC: an event's time keeps the offset it was sent with, and
    `11:00+05:00` written as text sorts after `07:00Z`, which came later)."""
    seen: dict[str, Reason] = {}
    first = as_utc(at).isoformat()
    for n, reason in enumerate(reasons):
        seen.setdefault(reason["code"], Reason(reason["code"], reason["detail"], 1, f"{first}#{n:02d}"))
    return tuple(seen.values())


def merge_reasons(current: list[Reason], new: Iterable[Reason]) -> list[Reason]:
    """Each code once: its most recent detail, how often it fired, where it first appeared."""
    merged = {r.code: evolve(r) for r in current}
    for reason in new:
        kept = merged.get(reason.code)
        if kept is None:
            merged[reason.code] = evolve(reason)
        else:
            kept.detail, kept.count = reason.detail, kept.count + reason.count
    return sorted(merged.values(), key=lambda r: (r.first, r.code))


# --- ids ----------------------------------------------------------------------------------------
def derived_id(*parts: str) -> str:
    """A stable id for what a decision writes (audit entries, notifications): a retry of the same
    decision writes the same item again, never a second one."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:20]


def notify(program_id: str, name: str, detail: dict[str, Any], at: datetime, *origin: str) -> Notify:
    return Notify(Notification(derived_id(program_id, name, *origin), program_id, name, detail, at))


def audit(
    case: Case | tuple[str, str], action: str, actor: str, at: datetime, detail: dict[str, Any], *origin: str
) -> Audit:
    program_id, case_id = (case.program_id, case.case_id) if isinstance(case, Case) else case
    entry_id = (
        derived_id(program_id, case_id, action, *origin)
        if origin
        else derived_id(program_id, case_id, action, at.isoformat())
    )
    return Audit(program_id, case_id, AuditEntry(at, action, actor, detail), entry_id)


def held_notice(
    program_id: str, case_id: str, subject: tuple[str, str], held: list[Reward], at: datetime, origin: str
) -> Notify:
    return notify(
        program_id,
        "RewardsHeld",
        {
            "program_id": program_id,
            "case_id": case_id,
            "subject": {"type": subject[0], "id": subject[1]},
            "count": len(held),
            "amounts": amounts(totals(held)),
            "reward_ids": [r.reward_id for r in held],
        },
        at,
        origin,
        *sorted(r.reward_id for r in held),
    )


# --- holds ------------------------------------------------------------------------------------
HOLD_STEP_ROOM = MAX_STEP_ITEMS - 3  # the case, the audit entry, the notification


def hold_steps(
    case: tuple[str, str],
    subject: tuple[str, str],
    rewards: list[Reward],
    actor: str,
    at: datetime,
    origin: str,
) -> list[Step]:
    """Puts rewards on hold under a case that still takes holds, in steps of at most 100 writes;
    each reward only if it is still what was read."""
    program_id, case_id = case
    steps = []
    for start in range(0, len(rewards), HOLD_STEP_ROOM):
        chunk = rewards[start : start + HOLD_STEP_ROOM]
        step = Step([hold_write(r, case_id) for r in chunk])
        figures = totals(chunk)
        step.add(
            UpdateCase(program_id, case_id, expect=TAKES_HOLDS, held=len(chunk), hold_micros=figures),
            audit(
                case,
                "rewards_held",
                actor,
                at,
                {"rewards": [r.reward_id for r in chunk]},
                origin,
                chunk[0].reward_id,
            ),
            held_notice(program_id, case_id, subject, chunk, at, origin),
        )
        steps.append(step)
    return steps


def hold_write(reward: Reward, case_id: str) -> MoveReward:
    return MoveReward(
        reward.program_id,
        reward.reward_id,
        expect=reward.status,
        status="on_hold",
        case_id=case_id,
        never_overridden=True,
    )


# --- overrides --------------------------------------------------------------------------------
def override_step(reward: Reward, actor: str, at: datetime) -> Step:
    """on_hold -> approved, for good: no sweep or verdict holds it again (SPEC 3.2)."""
    if reward.status != "on_hold":
        raise Conflict(
            f"reward {reward.reward_id} is {reward.status}; only a reward on hold can be overridden"
        )
    step = Step(
        [
            MoveReward(
                reward.program_id, reward.reward_id, expect="on_hold", status="approved", overridden=True
            )
        ]
    )
    if reward.case_id:
        step.add(
            UpdateCase(reward.program_id, reward.case_id, held=-1, hold_micros=negated(totals([reward]))),
            audit(
                (reward.program_id, reward.case_id),
                "reward_overridden",
                actor,
                at,
                {
                    "reward_id": reward.reward_id,
                    "amount": amount_text(to_micros(reward.amount), reward.currency),
                    "currency": reward.currency,
                },
            ),
        )
    return step


# --- disputes and verdicts (SPEC 3.3, 7) ----------------------------------------------------------
def dispute_step(case: Case, reason: str, actor: str, at: datetime) -> Step:
    if case.status != "open":
        raise Conflict(f"case {case.case_id} is {case.status}; only an open case can be disputed")
    return Step(
        [
            UpdateCase(
                case.program_id,
                case.case_id,
                expect=("open",),
                changes={"status": "disputed", "disputed_at": at, "dispute_reason": reason},
            ),
            audit(case, "disputed", actor, at, {"reason": reason}),
            LocateCase(case.case_id, case.program_id),  # a verdict finds it by its id alone
            notify(
                case.program_id,
                "DisputeOpened",
                {
                    "program_id": case.program_id,
                    "case_id": case.case_id,
                    "subject": {"type": case.subject_type, "id": case.subject_id},
                    "reason": reason,
                    "by": actor,
                },
                at,
                case.case_id,
                "dispute",
                at.isoformat(),
            ),
        ]
    )


def resolution_under_way(case: Case, subject: Subject) -> bool:
    """A disputed case whose verdict the cycle has begun to apply: its subject no longer under it
    (`resolution_begin_step`: unflagged by an approval, left without an active case by a decline),
    its rewards not all moved yet. The next run of the cycle finishes it."""
    return case.status == "disputed" and case.verdict in VERDICTS and subject.active_case_id != case.case_id


def _under_way(case: Case) -> str:
    doing, detail = (
        ("approved", "its subject is no longer flagged")
        if case.verdict == "approve"
        else ("declined", "its rewards are being declined")
    )
    return f"case {case.case_id} is being {doing} by the dispute cycle ({detail}); its next run finishes it"


def verdict_step(
    case: Case, verdict: str, note: str, actor: str, at: datetime, subject: Subject | None = None
) -> Step:
    """The security team's verdict on a disputed case. With the case's `subject` as read: another
    verdict than the one the cycle has begun to apply is refused (an approval half applied would
    leave the subject unflagged, a decline half applied some rewards declined; the verdict would
    be recorded and never applied), and the verdict holds only while the subject is still under
    the case, so the cycle beginning meanwhile refuses it too."""
    if verdict not in VERDICTS:
        raise Conflict(f"unknown verdict {verdict!r}")
    if case.status != "disputed":
        raise Conflict(f"case {case.case_id} is {case.status}; only a disputed case takes a verdict")
    if subject is not None and verdict != case.verdict and resolution_under_way(case, subject):
        raise Conflict(_under_way(case))
    if (verdict, note, evidence_of(case)) == (case.verdict, case.verdict_note, case.verdict_evidence):
        return Step([])  # the same verdict on the same evidence again (a retry): nothing to record
    step = Step(
        [
            UpdateCase(
                case.program_id,
                case.case_id,
                expect=("disputed",),
                changes={"verdict": verdict, "verdict_note": note, "verdict_evidence": evidence_of(case)},
            ),
            audit(case, f"verdict_{verdict}", actor, at, {"note": note}),
        ]
    )
    if subject is not None and subject.active_case_id == case.case_id:
        step.add(UpdateProfile.guard(case.program_id, subject.type, subject.id, active_case_id=case.case_id))
    return step


def evidence_of(case: Case) -> dict[str, int]:
    """How often each of a case's reasons has fired: what a verdict on it is decided on."""
    return {r.code: r.count for r in case.reasons}


def evidence_since_verdict(case: Case) -> dict[str, int]:
    """The reasons that fired on a disputed case since the security team approved the dispute (code:
    how many times more). An approval was decided on the case as it was then: fraud its subject
    commits afterwards, while the case waits for the cycle, merges into the same case, and applied
    blindly the approval would release the rewards of that fraud too. A decline stands whatever
    follows, and a verdict recorded before verdicts kept their evidence is applied as it was."""
    if case.verdict != "approve" or case.verdict_evidence is None:
        return {}
    then = case.verdict_evidence
    return {r.code: r.count - then.get(r.code, 0) for r in case.reasons if r.count > then.get(r.code, 0)}


def verdict_withdrawal_step(case: Case, at: datetime) -> Step:
    """The dispute cycle's step for an approval that new evidence outdated: the verdict is taken
    back, the case stays disputed with its rewards on hold, and it waits in the security team's
    open disputes for a verdict on the case as it is now."""
    since = evidence_since_verdict(case)
    if case.status != "disputed" or not since:
        raise Conflict(f"case {case.case_id} has no approval that new evidence outdated")
    return Step(
        [
            UpdateCase(
                case.program_id,
                case.case_id,
                expect=("disputed",),
                changes={"verdict": None, "verdict_note": None, "verdict_evidence": None},
                expect_verdict="approve",
            ),
            audit(
                case,
                "verdict_withdrawn",
                actors.DISPUTE_CYCLE,
                at,
                {"reasons": sorted(since), "verdict_note": case.verdict_note},
            ),
        ]
    )


@dataclass
class Plan:
    """A change too big for one step: steps applied in order, each safe to apply again."""

    steps: list[Step] = field(default_factory=list)
    moved: list[Reward] = field(default_factory=list)  # the rewards it changes


def _reward_chunks(
    case: Case,
    rewards: list[Reward],
    to_status: str,
    guard: tuple[str, ...],
    *,
    archive: bool,
    verdict: str | None = None,
    also: Write | None = None,
    under: str | None = None,
) -> list[Step]:
    """Moves rewards in steps, each also conditional on the case's status (`guard`), its `verdict`
    (the one a cycle applies) and `also` (a removal's condition on its partner): a case changed
    meanwhile (a removal racing a dispute cycle) stops the plan, and nothing more moves. Held
    rewards leave the hold figures of whichever case holds them; moved `on_hold` `under` another
    case, they join that case's."""
    holdable_again = to_status in HOLDABLE  # an approval: each reward's subjects list it (marked)
    room = MAX_STEP_ITEMS // (3 if holdable_again else 2) - 1 - (1 if also else 0) - (1 if under else 0)
    steps = []
    for start in range(0, len(rewards), room):
        chunk = rewards[start : start + room]
        step = Step(
            [
                MoveReward(r.program_id, r.reward_id, expect=r.status, status=to_status, case_id=under)
                for r in chunk
            ]
        )
        if under is not None:
            step.add(UpdateCase(case.program_id, under, held=len(chunk), hold_micros=totals(chunk)))
        if holdable_again:
            subjects = {("partner", r.partner_id) for r in chunk} | {
                ("customer", r.customer_id) for r in chunk if r.customer_id
            }
            step.add(
                *(
                    ListRewards(case.program_id, kind, subject_id, holdables.EVERYTHING_UNLISTED)
                    for kind, subject_id in sorted(subjects)
                )
            )
        holders: dict[str, list[Reward]] = {}
        for reward in chunk:
            if reward.status == "on_hold" and reward.case_id:
                holders.setdefault(reward.case_id, []).append(reward)
        own = holders.pop(case.case_id, [])
        own_update = UpdateCase(
            case.program_id,
            case.case_id,
            expect=guard,
            held=-len(own),
            hold_micros=negated(totals(own)),
            archived=len(chunk) if archive else 0,
            archived_micros=totals(chunk) if archive else {},
            expect_verdict=verdict,
        )
        step.add(own_update)
        if also is not None:
            step.add(also)
        for holder, held in sorted(holders.items()):
            step.add(UpdateCase(case.program_id, holder, held=-len(held), hold_micros=negated(totals(held))))
        steps.append(step)
    return steps


def resolution_begin_step(case: Case, subject: Subject) -> Step | None:
    """The first step of a verdict's application (SPEC 7), on condition that the case is still
    disputed with that verdict (and, approved, on the evidence approved): its subject is no longer
    under the case. Approved, the subject is unflagged; from this step on nothing of it is held
    under the case or marked as flagged (an event or a sweep that read it flagged is refused by its
    version and reads it again), so what `resolution_plan` then reads is all there is to release
    and unmark: the approval never waits for a moment without new rewards or identifiers, which a
    busy partner (its customers buying every second) would never give it. Declined, the subject
    stays flagged under the case with no active case (what the decline leaves). Either way, from
    here on the verdict is under way (`resolution_under_way`): another verdict cannot change it
    half applied, and a removal waits for the cycle. None when the subject is not under
    this case (a run that stopped after this step)."""
    _check_resolvable(case)
    if subject.active_case_id != case.case_id:
        return None
    approve = case.verdict == "approve"
    changes: dict[str, Any]
    if not approve:
        changes = {"active_case_id": None, "declined_case_id": case.case_id}
    elif (standing := declined_before(case, subject)) is not None:
        changes = {"active_case_id": None, "flag_case_id": standing}  # still flagged, marks kept
    else:
        # its unfamiliar sessions were the review's to judge: approved, they are the partner's own
        changes = {
            "status": "active",
            "active_case_id": None,
            "flag_case_id": None,
            "marks_pending": False,
            "unfamiliar": (),
        }
    return Step(
        [
            UpdateCase(
                case.program_id,
                case.case_id,
                expect=("disputed",),
                expect_evidence=evidence_of(case) if approve else None,
                expect_verdict=case.verdict,
            ),
            UpdateProfile(
                case.program_id, subject.type, subject.id, changes, expect={"active_case_id": case.case_id}
            ),
        ]
    )


def declined_before(case: Case, subject: Subject) -> str | None:
    """The earlier case whose declined dispute keeps `case`'s subject flagged (SPEC 4: after a
    declined dispute the subject stays flagged; no whitelisting): approving a later case withdraws
    that case's flag only. Its subject goes back under the declined case, its marks kept, and what
    the later case held stays held under the declined one. None when the subject has no such case."""
    standing = subject.declined_case_id
    return standing if standing and standing != case.case_id and subject.status == "flagged" else None


def resolution_plan(case: Case, subject: Subject, rewards: list[Reward], pepper: bytes, at: datetime) -> Plan:
    """The dispute cycle's steps for one case with a verdict (SPEC 7): approved, its held rewards
    back to `pending` and the subject's marks withdrawn on every identifier; declined, its held
    rewards `declined`, the subject still flagged (later rewards go on hold under this case).
    Rewards first, then marks, the case last: a cycle stopped half way finds the case still
    disputed and does the rest. An approval is planned on the subject and rewards read after its
    `resolution_begin_step`; its marks are withdrawn only while the subject is flagged by no case
    (a new flag meanwhile marks it again, and keeps its marks). Evidence that lands while an
    approval is under way refuses its first step or its last (`expect_evidence`): the cycle plans
    again, and withdraws the approval (`evidence_since_verdict`)."""
    _check_resolvable(case)
    approve = case.verdict == "approve"
    if subject.active_case_id == case.case_id:
        raise ValueError(f"case {case.case_id}: its subject is under it; begin with resolution_begin_step")
    # approved while an earlier declined case keeps its subject flagged: what it held stays held,
    # under the case the subject's rewards now go under
    keeper = subject.flag_case_id if approve and declined_before(case, subject) else None
    target = "on_hold" if keeper else "pending" if approve else "declined"
    held = [r for r in rewards if r.status == "on_hold" and r.case_id == case.case_id and not r.overridden]
    # what a run that stopped half way moved already: reported with the rest
    moved_before = (
        []  # under the keeper, they are not told apart from its own
        if keeper
        else [r for r in rewards if r.status == target and r.case_id == case.case_id and not r.overridden]
    )
    # what it moves, and what a run that stopped half way moved already: reported, counted and
    # held for their other side (`other_holders`) alike
    moved = [replace(r, status=target, case_id=keeper or r.case_id) for r in held] + moved_before
    plan = Plan(
        _reward_chunks(case, held, target, ("disputed",), archive=False, verdict=case.verdict, under=keeper),
        moved,
    )
    if approve and subject.status == "active" and subject.active_case_id is None:
        unflagged = UpdateProfile.guard(
            case.program_id, subject.type, subject.id, status="active", active_case_id=None
        )
        plan.steps += _chunked(unflag_marks(subject, pepper), unflagged)
    outcome = "approved" if approve else "declined"
    final = Step(
        [
            UpdateCase(
                case.program_id,
                case.case_id,
                expect=("disputed",),
                changes={"status": outcome, "resolved_at": at},
                # evidence since the case was read outdates an approval: planned again, withdrawn
                expect_evidence=evidence_of(case) if approve else None,
                expect_verdict=case.verdict,
            ),
            audit(
                case,
                f"dispute_{outcome}",
                actors.DISPUTE_CYCLE,
                at,
                {"rewards": len(moved), "note": case.verdict_note}
                | ({"still_flagged_under": keeper} if keeper else {}),
                "resolved",
            ),
            notify(
                case.program_id,
                "DisputeResolved",
                {
                    "program_id": case.program_id,
                    "case_id": case.case_id,
                    "subject": {"type": case.subject_type, "id": case.subject_id},
                    "outcome": outcome,
                    "rewards": sorted(r.reward_id for r in moved),
                    "rewards_now": target,
                }
                | ({"held_under": keeper} if keeper else {}),
                at,
                case.case_id,
                "resolved",
            ),
        ]
    )
    plan.steps.append(final)
    return plan


def other_holders(case: Case, moved: list[Reward]) -> list[tuple[str, str, str]]:
    """Who else may hold the rewards an approval put back to `pending`: each one's other side (a
    customer case's rewards' partners, a partner case's rewards' customers). A reward released from
    a customer's case is still a flagged partner's to hold (SPEC 4: a flagged partner's rewards from
    its flag on go on hold), and the reverse: the cycle holds what they are due at once, not at the
    next sweep (which could be a payout later)."""
    released = [r for r in moved if r.status == "pending"]
    if case.subject_type == "customer":
        others = {r.partner_id for r in released}
        return [(case.program_id, "partner", partner_id) for partner_id in sorted(others)]
    others = {r.customer_id for r in released if r.customer_id}
    return [(case.program_id, "customer", customer_id) for customer_id in sorted(others)]


def _check_resolvable(case: Case) -> None:
    if case.status != "disputed" or case.verdict not in VERDICTS:
        raise Conflict(f"case {case.case_id} is not a disputed case with a verdict")


def removal_plan(
    case: Case,
    subject: Subject,
    rewards: list[Reward],
    pepper: bytes,
    block_reapply: bool,
    actor: str,
    at: datetime,
) -> Plan:
    """Removes the case's partner (SPEC 3.2): every reward of theirs not yet paid or approved is
    archived (held ones leave the hold figures of whichever case held them), their identifiers are
    marked removed (and blocked) here and across the network, however many, then the case is
    `removed` and the partner too. From that last step on, a reward of theirs is archived as it
    arrives and an identifier marked as it is added; what arrived between the read and that step is
    `removal_mop_up`'s (noted by `marks_pending`). The last step does not wait for a moment
    without arrivals: a partner sending rewards faster than a removal takes would never see one.

    Against the dispute cycle: a disputed case's dispute is withdrawn first, its verdict taken back
    and the case open again, so a cycle that read it refuses to begin applying it and no verdict can
    be recorded while the removal goes on; a verdict the cycle has begun
    to apply refuses the removal (409: its rewards would be archived as the cycle releases them);
    and every step holds only while the partner is under the case as read, so the cycle beginning
    between the read and a step stops the removal rather than racing it."""
    if case.subject_type != "partner":
        raise Conflict(f"case {case.case_id} is about a customer; only partners can be removed")
    if case.status not in REMOVABLE:
        raise Conflict(
            f"case {case.case_id} is {case.status}; a {case.status} case's partner cannot be removed"
        )
    if subject.status == "removed":
        raise Conflict(f"partner {subject.id} is removed already (case {subject.flag_case_id})")
    if subject.active_case_id not in (None, case.case_id):  # its case now: the one to remove it from
        raise Conflict(
            f"partner {subject.id} is under case {subject.active_case_id} now; "
            "remove the partner from that case"
        )
    if resolution_under_way(case, subject):
        raise Conflict(_under_way(case) + "; remove the partner after it, if it is still to be removed")
    still = UpdateProfile.guard(case.program_id, "partner", subject.id, active_case_id=subject.active_case_id)
    plan = Plan()
    if case.status == "disputed":
        # withdrawn first, its verdict (if any) taken back: the case is open again, out of the
        # security team's list, so no verdict can be recorded while the removal goes on
        plan.steps.append(
            Step(
                [
                    UpdateCase(
                        case.program_id,
                        case.case_id,
                        expect=("disputed",),
                        expect_verdict=case.verdict,
                        changes={
                            "status": "open",
                            "verdict": None,
                            "verdict_note": None,
                            "verdict_evidence": None,
                        },
                    ),
                    still,
                    audit(
                        case,
                        "dispute_withdrawn",
                        actor,
                        at,
                        {"by": "removal", "verdict": case.verdict},
                        "removed",
                    ),
                ]
            )
        )
    archivable = [r for r in rewards if r.status in ARCHIVABLE]
    plan.steps += _reward_chunks(case, archivable, "archived", REMOVABLE, archive=True, also=still)
    plan.moved = [replace(r, status="archived") for r in archivable]
    plan.steps += _chunked(
        removal_marks(subject, pepper, block_reapply),
        UpdateCase(case.program_id, case.case_id, expect=REMOVABLE),
        still,
    )
    changes = {
        "status": "removed",
        "removed_at": at,
        "removed_by": actor,
        "block_reapply": block_reapply,
        "subject_team": subject.team,
        "subject_name": subject.name or case.subject_name,  # as the partner is called now
    }
    final = Step(
        [
            # the status it has then, not any removable one: the summary takes its count away
            UpdateCase(case.program_id, case.case_id, expect=(_withdrawn(case.status),), changes=changes),
            UpdateProfile(
                case.program_id,
                "partner",
                subject.id,
                {
                    "status": "removed",
                    "active_case_id": None,
                    "flag_case_id": case.case_id,  # later rewards are archived under this case
                    "marks_pending": True,  # until `removal_mop_up` has seen what arrived meanwhile
                    "block_reapply": block_reapply,  # its later identifiers are blocked too
                },
            ),
            audit(
                case,
                "partner_removed",
                actor,
                at,
                {"block_reapply": block_reapply, "archived_rewards": case.archived_count + len(archivable)},
                "removed",
            ),
            notify(
                case.program_id,
                "PartnerRemoved",
                {
                    "program_id": case.program_id,
                    "case_id": case.case_id,
                    "partner_id": subject.id,
                    "block_reapply": block_reapply,
                    "archived_rewards": case.archived_count + len(archivable),
                    "by": actor,
                },
                at,
                case.case_id,
                "removed",
            ),
        ]
    )
    plan.steps.append(final)
    return plan


def _withdrawn(status: str) -> str:
    """A removal's case status after its first step: a dispute withdrawn leaves the case open."""
    return "open" if status == "disputed" else status


def removal_unfinished(case: Case, subject: Subject) -> bool:
    """A removal whose last step is written but not its mop-up (it stopped between them): a retry
    of the removal finishes it instead of answering that the case is removed already."""
    return case.status == "removed" and subject.flag_case_id == case.case_id and subject.marks_pending


def removal_mop_up(
    case: Case, read: Subject | None, subject: Subject, rewards: list[Reward], pepper: bytes, at: datetime
) -> list[Step]:
    """After a removal's last step (`removal_plan`), what arrived between its read (`read`; None
    when a retry finishes a removal that stopped, and then everything is done again) and that step:
    the partner's `rewards` still archivable are archived, and their identifiers marked again when
    one was added (set additions: nothing is marked twice); then `marks_pending` is cleared. Nothing
    can arrive unseen after the last step, so one mop-up is enough (an event of the partner may
    have cleared `marks_pending` first, marking their identifiers: the rewards are still this one's).
    None when the partner is not removed by this case."""
    if subject.status != "removed" or subject.flag_case_id != case.case_id:
        return []
    removed = ("removed",)
    archivable = [r for r in rewards if r.status in ARCHIVABLE]
    steps = _reward_chunks(case, archivable, "archived", removed, archive=True)
    if archivable:
        detail = {"rewards": [r.reward_id for r in archivable[:100]], "count": len(archivable)}
        steps.append(
            Step([audit(case, "rewards_archived", actors.SYSTEM, at, detail, "mop-up", at.isoformat())])
        )
    if read is None or subject.identifier_seq != read.identifier_seq:
        marks = removal_marks(subject, pepper, subject.block_reapply)
        steps += _chunked(marks, UpdateCase(case.program_id, case.case_id, expect=removed))
    done = UpdateProfile(
        case.program_id,
        "partner",
        subject.id,
        {"marks_pending": False},
        expect={"status": "removed", "flag_case_id": case.case_id},
        bump=False,
    )
    return [*steps, Step([done])]


def check_removable(case: Case) -> None:
    if case.subject_type != "partner":
        raise Conflict(f"case {case.case_id} is about a customer; only partners can be removed")
    if case.status not in REMOVABLE:
        raise Conflict(
            f"case {case.case_id} is {case.status}; a {case.status} case's partner cannot be removed"
        )


def _chunked(writes: list[Write], *guards: Write) -> list[Step]:
    """`writes` in steps that fit a transaction, each with every one of `guards` (conditions)."""
    room = MAX_STEP_ITEMS - len(guards)
    return [Step([*writes[i : i + room], *guards]) for i in range(0, len(writes), room)]


# --- profiles -----------------------------------------------------------------------------------
# Fields that keep a time of their own, whatever order events arrive in: the earliest sign-up and
# the latest payout change (what `payout_soon_after_signup` and `unusual_activity` measure from)
EARLIEST_FIELDS = frozenset({"signup_at"})
LATEST_FIELDS = frozenset({"last_payout_change_at"})


# how long before or after a session where a partner never was a change made on its device or its
# connection is still one made there (a login there first makes them known): an account taken over
# is paid out within hours, before its owner notices
UNFAMILIAR_FOR = timedelta(hours=72)
UNFAMILIAR_KEPT = 8  # such sessions a profile notes: the newest (a decoy or two does not push one out)


def familiar(subject: Subject, kind: str, value: str, link: LinkState) -> bool:
    """Whether a partner used this device or IP (`kind`) before: on its profile, or a member of the
    identifier's link (one spilled out of a full profile stays on its link)."""
    kept = subject.devices if kind == "device" else subject.ips
    return value in kept or subject.key in link.members


def unfamiliar_session(
    subject: Subject | None, device: str | None, ip: str | None, device_link: LinkState, ip_link: LinkState
) -> bool:
    """A session where the partner, as far as anyone knows, never was: a connection new to a partner
    that has used a device before, on a device new to it too, or on none (a fingerprint hidden where
    the partner always sent one). `ip` None, a connection that names no one (a privacy relay, a
    proxy's own address, a crowded link), is not judged; nor is a partner whose integration never
    sent a device."""
    if subject is None or ip is None or not subject.devices or familiar(subject, "ip", ip, ip_link):
        return False
    return device is None or not familiar(subject, "device", device, device_link)


@dataclass(frozen=True)
class Unfamiliar:
    """One noted session where the partner never was: first seen `seen`, `where` (`signals.elsewhere`'s
    word for the place), on connection `ip` (its link key) and device `device` ("" for none sent)."""

    seen: datetime
    where: str
    ip: str
    device: str

    def entry(self) -> str:
        where = "-".join(self.where.split()) or "-"  # one word: the entry is read back by blanks
        return f"{self.seen.isoformat()} {where} {self.ip} {self.device}"


def unfamiliar_entries(subject: Subject) -> list[Unfamiliar]:
    """A profile's note of unfamiliar sessions, read (`<seen> <where> <ip> <device>`; an entry that
    does not read is skipped)."""
    found = []
    for entry in subject.unfamiliar:
        seen, _, rest = entry.partition(" ")
        where, _, rest = rest.partition(" ")
        ip, _, device = rest.partition(" ")  # a device may hold blanks: the rest
        try:
            found.append(Unfamiliar(datetime.fromisoformat(seen), where, ip, device))
        except ValueError:
            continue
    return found


def unfamiliar_noted(
    subject: Subject, device: str | None, ip: str, where: str, at: datetime
) -> tuple[str, ...]:
    """A partner's note of unfamiliar sessions with this one added: the newest `UNFAMILIAR_KEPT`, none
    older than `UNFAMILIAR_FOR` before the newest; one connection and device noted already keeps its
    first time. Events arrive out of order: the note merges whatever order they come in."""
    first: dict[tuple[str, str], Unfamiliar] = {}
    for noted in [Unfamiliar(at, where, ip, device or ""), *unfamiliar_entries(subject)]:
        kept = first.get((noted.ip, noted.device))
        if kept is None or noted.seen < kept.seen:
            first[(noted.ip, noted.device)] = noted
    newest = max(noted.seen for noted in first.values())
    recent = sorted(
        (noted for noted in first.values() if newest - noted.seen <= UNFAMILIAR_FOR),
        key=lambda noted: noted.seen,
        reverse=True,
    )
    return tuple(noted.entry() for noted in recent[:UNFAMILIAR_KEPT])


def _near(at: datetime, noted: Unfamiliar) -> bool:
    """Within `UNFAMILIAR_FOR` of `at`, before or after it (events arrive out of order)."""
    return abs(at - noted.seen) <= UNFAMILIAR_FOR


def noted_ips(subject: Subject | None, at: datetime) -> frozenset[str]:
    """The connections of the unfamiliar sessions noted near `at`: on the profile since, but no
    evidence of where the partner has been (`signals.elsewhere` leaves them out)."""
    if subject is None or not subject.unfamiliar:
        return frozenset()
    return frozenset(noted.ip for noted in unfamiliar_entries(subject) if _near(at, noted))


def unfamiliar_seen(
    subject: Subject | None, device: str | None, ip: str | None, at: datetime
) -> tuple[datetime, str] | None:
    """When and where a noted unfamiliar session first showed this event's device or connection, near
    `at` (a login there minutes before made them known), while the event is not on a connection the
    partner used before it (a computer bought abroad, then used at home, is the partner's own). None
    for none."""
    if subject is None or not subject.unfamiliar:
        return None
    near = [noted for noted in unfamiliar_entries(subject) if _near(at, noted)]
    if ip is not None and ip in subject.ips and ip not in {noted.ip for noted in near}:
        return None
    same = [noted for noted in near if (device and noted.device == device) or (ip and noted.ip == ip)]
    if not same:
        return None
    earliest = min(same, key=lambda noted: noted.seen)
    return earliest.seen, earliest.where


def payout_changed(subject: Subject | None, activity: str, payout: str | None, at: datetime) -> bool:
    """Whether an account change sets new payout details: named so, or carrying an account other than
    the partner's on file (an integration may send a settings form as one `profile_update`), unless
    the partner is not on file yet or the event is older than its profile's last change (a late
    login carrying the details of then)."""
    if activity == "payout_update":
        return True
    if payout is None or subject is None or payout == subject.payout:
        return False
    return subject.changed_at is None or at >= subject.changed_at


# Fields whose new value is merged with what the profile holds whatever order events arrive in
MERGED_FIELDS = frozenset({"unfamiliar"})


def profile_changes(current: Subject, changes: dict[str, Any], at: datetime) -> Subject:
    """An event's field changes on a profile. An event older than the profile's last change does
    not undo what that change set (events arrive late and out of order), but it still gives what
    no event has given yet (a sign-up received after a login: the name, e-mail, country) and its
    own times (`EARLIEST_FIELDS`, `LATEST_FIELDS`): it used to be dropped whole, and a payout change
    received after a later login was never seen by the reward it preceded. Identifiers are added
    either way (`with_identifiers`)."""
    if current.changed_at is None or at >= current.changed_at:
        return evolve(current, **changes, changed_at=at)
    given: dict[str, Any] = {}
    for name, value in changes.items():
        held = getattr(current, name)
        if name in LATEST_FIELDS:
            take = held is None or value > held
        elif name in EARLIEST_FIELDS:
            take = held is None or value < held
        elif name in MERGED_FIELDS:
            take = True
        else:
            take = held is None or held == "" or held == ()
        if take:
            given[name] = value
    return evolve(current, **given) if given else current


PROFILE_KEEPS = 50  # identifiers of one kind a profile keeps; more are spilled, one item each


def with_identifiers(
    profile: Subject,
    *,
    email: str | None,
    device: str | None,
    ip: str | None,
    payout: str | None,
    crowds: Iterable[LinkKey] = (),
    known: Set[LinkKey] = frozenset(),
) -> Subject:
    """The profile with this event's identifiers added to those it ever used, except a device, IP
    or payout account whose link is crowded (`crowds`): it names no one, so no flag, removal or
    approval ever writes to it (issue 14). A profile keeps `PROFILE_KEEPS` of each kind; a new one
    past them is spilled (`spilled`, `spill_count`: an item of its own, `SpillIdentifier`), unless
    its link names the subject already (`known`: spilled before). Kept whole, the profile of a
    partner rotating devices or IPs grew with every login: each event wrote it whole (a transaction
    pays every kilobyte twice), and past DynamoDB's 400 KB item its events could not be scored."""
    skip = set(crowds)
    device = None if ("device", device or "") in skip else device
    ip = None if ("ip", ip or "") in skip else ip
    payout = None if ("payout", payout or "") in skip else payout
    changes: dict[str, Any] = {}
    spills: set[tuple[str, str]] = set()
    for name, value in (("emails", email), ("devices", device), ("ips", ip), ("payouts", payout)):
        kept: frozenset[str] = getattr(profile, name)
        if not value or value in kept or (name, value) in profile.spilled:
            continue
        if len(kept) < PROFILE_KEEPS:
            changes[name] = kept | {value}  # a union copies the set: only when it adds
        elif _link_of(name, value) not in known:
            spills.add((name, value))
    if spills:
        changes["spilled"] = profile.spilled | spills
        changes["spill_count"] = profile.spill_count + len(spills)
    return evolve(profile, **changes)


def _link_of(name: str, value: str) -> LinkKey:
    """The link item an identifier of a profile field is linked under."""
    if name == "emails":
        return ("email", email_keys(value).normalized)
    return (name[:-1], value)  # devices, ips, payouts


# --- scoring (SPEC 4, 5) ------------------------------------------------------------------------
@dataclass
class ScoringInput:
    """What the engine decided about one event, before it is written."""

    program_id: str
    event_id: str
    occurred_at: datetime
    decision: dict[str, Any]
    profile: Subject  # the subject after the event (its version: the one read)
    links: list[LinkKey]  # this event's identifiers to link the subject under
    spans: dict[LinkKey, str]  # of those, each `email_near` key's span entry (`<member> <block>`)
    network: list[LinkKey]  # this event's network identifiers
    counts: list[Tally]  # velocity counts to add one to (`velocity`)
    seen: dict[LinkKey, int] = field(default_factory=dict)  # of `links`, the guarded joins (`guarded_joins`)
    reward: Reward | None = None
    revenue: tuple[str, int] | None = None  # a transaction's (currency, micros) for its partner
    flag: bool = False
    new_case_id: str = ""
    reward_taken: bool = False  # the reward's id is already used: refuse the reward, score the event
    # a transaction's id, and the event that recorded it already (None: none did)
    transaction: tuple[str, str | None] | None = None
    notes: tuple[str, ...] = ()  # the event's optional values ignored as invalid (`IgnoredWhenInvalid`)


@dataclass
class ScoringPlan:
    steps: list[Step]
    case_id: str | None
    opened: bool
    held: list[Reward]
    reward: Reward | None
    notes: tuple[str, ...] = ()


def flags_subject(before: Subject | None, flag: bool) -> bool:
    """Whether a decision to flag flags its subject: not a removed partner, which stays removed
    (SPEC 3.2: never paid again). Flagged again, it would get a new case to hold its rewards under,
    and that case approved would make it active and paid; so no case is opened, nothing is held,
    its rewards are archived as they arrive, and its identifiers keep the removal's marks. The
    decision still says flag, and names the case that removed it."""
    return flag and not (before is not None and before.status == "removed")


def scoring_plan(
    given: ScoringInput,
    before: Subject | None,
    partner: Subject | None,
    subject_rewards: list[Reward],
    pepper: bytes,
    lists: ListsRead | None = None,
) -> ScoringPlan:
    """The writes of one scored event: the decision, the profile, links, counters, the reward
    where it belongs, and, when it flags, the case (opened, or its reasons merged) with the holds
    and the marks on every identifier the subject ever used. The first step holds everything but
    what does not fit (more holds, more marks), which follows in further steps. With `lists`, the
    subject's (and partner's) lists of holdable rewards follow what the step does to rewards."""
    program_id, profile, at = given.program_id, evolve(given.profile), given.occurred_at
    me = (profile.type, profile.id)
    notes = given.notes
    reward = evolve(given.reward) if given.reward else None
    revenue = given.revenue
    claim = None
    if given.transaction is not None:
        transaction_id, recorded_by = given.transaction
        if recorded_by not in (None, given.event_id):
            # the same transaction sent again under another event id (a retry that made a new one):
            # counted once, its commission once (SPEC 3.1: ids name what they name)
            refused = f", reward {reward.reward_id} refused" if reward is not None else ""
            notes += (
                f"transaction {transaction_id} already recorded by event {recorded_by}: "
                f"its revenue not counted again{refused}",
            )
            reward, revenue = None, None
        else:
            claim = ClaimTransaction(program_id, transaction_id, given.event_id)
    if reward is not None and given.reward_taken:
        notes += (f"reward {reward.reward_id} refused: that reward id is already used",)
        reward = None
    removal_case = None  # a removed partner's event that would flag it: the case that removed it
    if not given.flag and given.decision["action"] == "flag" and profile.status == "removed":
        removal_case = profile.flag_case_id
        notes += (f"partner removed (case {removal_case}): no case opened, its rewards archived",)
    case_id = before.active_case_id if before else None
    opened = False
    reasons: tuple[Reason, ...] = ()
    if given.flag:
        profile.flagged_at = flagged_since(profile, at)
        opened = case_id is None
        case_id = given.new_case_id if opened else case_id
        reasons = case_reasons(given.decision["reasons"], at)
        profile.status, profile.active_case_id, profile.flag_case_id = "flagged", case_id, case_id
        if profile.type == "customer" and (before is None or before.status != "flagged"):
            profile.customer_marks = True  # a new flag marks every identifier, in the customer's form
    assert not given.flag or case_id is not None
    # where the event's own reward goes
    placement = None
    if reward is not None:
        as_partner = partner if profile.type == "customer" else before
        placement = place_reward(
            reward,
            partner=as_partner,
            customer=before if profile.type == "customer" else None,
            flag=(profile.type, case_id, at) if given.flag and case_id else None,
        )
        reward.status, reward.case_id = placement.status, placement.case_id or reward.case_id
    to_hold = (
        [
            r
            for r in flag_holds(profile.type, profile.flagged_at or at, subject_rewards)
            if not reward or r.reward_id != reward.reward_id
        ]
        if given.flag
        else []
    )
    # A flagged subject's identifiers carry its mark: a flag marks those this event does not name
    # (the subject's older ones, but those marked already), and while it stays flagged every event
    # marks those it adds (a subject whose marks are still pending has them all marked by the sweep).
    # A removed subject's identifiers carry the removal's marks the same way.
    marking, removed = profile.status == "flagged", profile.status == "removed"
    later_marks: list[Write] = []
    if (marking and (given.flag or not profile.marks_pending)) or removed:
        later_marks = marks_not_named(before, profile, {*given.links, *given.network}, pepper)
    profile.marks_pending = bool(later_marks) or (profile.marks_pending and not given.flag)

    # the case the event's decision names: its flag's, the one that removed it, or its active one
    # (a flagged subject with no active case: the declined case it is flagged under; or the case
    # that holds the event's reward)
    event_case = (
        case_id
        if given.flag
        else removal_case
        or profile.active_case_id
        or _flag_case(profile)
        or (placement.case_id if placement is not None and placement.status == "on_hold" else None)
    )
    core = Step()
    core.add(ScoreEvent(program_id, given.event_id, given.decision, event_case, notes))
    if claim is not None:
        core.add(claim)
    core.add(
        WriteProfile(
            profile,
            expect_version=before.version if before else 0,
            arrivals=1 if reward is not None and profile.type == "partner" else 0,
            before=before,
        )
    )
    for name, value in sorted(profile.spilled - (before.spilled if before else frozenset())):
        core.add(SpillIdentifier(program_id, profile.type, profile.id, name, value))  # this event's
    flagged_me = frozenset({profile.key})
    # one `add` for every link (and one for every network item) of the event: writes never change them
    joined = {"members": flagged_me, "flagged": flagged_me} if marking else {"members": flagged_me}
    riding = {t.link: t for t in given.counts if t.link is not None and t.link in given.links}
    for key in given.links:
        marks = (
            {**joined, **removed_marks(profile, key, profile.block_reapply, pepper)} if removed else joined
        )
        if span := given.spans.get(key):
            marks = {**marks, "spans": frozenset({span})}
        seen = given.seen.get(key)
        if counted := riding.get(key):  # the count rides on the link's write (`velocity`)
            slots = frozenset({counted.slot})
            core.add(MarkLink(program_id, key, marks, _NOTHING, slots, counted.stale, seen))
        else:
            core.add(MarkLink(program_id, key, marks, _NOTHING, expect_members=seen))
    if given.network:  # only a flagged or removed subject's event has network items to write
        ours = {
            name: frozenset({mark}) for name, mark in network_marks(profile, profile.status, pepper).items()
        }
        for key in given.network:
            core.add(MarkNetwork(key, ours, _NOTHING))
    for counted in given.counts:
        if counted.link not in riding:
            core.add(CountUp(program_id, counted.name, counted.expires_at))
    held_now: list[Reward] = []
    case_hold = (
        [reward]
        if reward is not None
        and placement
        and placement.case_id == case_id
        and placement.status == "on_hold"
        and given.flag
        else []
    )
    if reward is not None:
        core.add(PutReward(reward))
        if profile.type == "customer":
            core.add(
                PartnerArrival(
                    program_id,
                    reward.partner_id,
                    expect_status=partner.status if partner else None,
                    expect_flag_case=partner.flag_case_id if partner else None,
                    currency=revenue[0] if revenue else None,
                    micros=revenue[1] if revenue else 0,
                )
            )
        if placement and placement.case_id and not case_hold:
            if placement.archived:
                core.add(
                    UpdateCase(
                        program_id,
                        placement.case_id,
                        expect=("removed",),
                        archived=1,
                        archived_micros=totals([reward]),
                    )
                )
            elif placement.status == "on_hold":
                core.add(
                    UpdateCase(
                        program_id,
                        placement.case_id,
                        expect=TAKES_HOLDS,
                        held=1,
                        hold_micros=totals([reward]),
                    )
                )
                holder = (
                    "partner"
                    if placement.case_id == (partner.flag_case_id if partner else None)
                    else profile.type
                )
                holder_id = reward.partner_id if holder == "partner" else profile.id
                core.add(
                    held_notice(
                        program_id, placement.case_id, (holder, holder_id), [reward], at, given.event_id
                    ),
                    audit(
                        (program_id, placement.case_id),
                        "rewards_held",
                        actors.SYSTEM,
                        at,
                        {"rewards": [reward.reward_id]},
                        given.event_id,
                    ),
                )
                held_now.append(reward)
    elif revenue and profile.type == "customer" and partner is not None:
        core.add(
            PartnerArrival(
                program_id,
                partner.id,
                expect_status=partner.status,
                expect_flag_case=partner.flag_case_id,
                currency=revenue[0],
                micros=revenue[1],
                reward=False,
            )
        )
    # a subject renamed while a case is open on it: the case carries the name it is searched by
    renamed = (
        {"subject_name": profile.name} if before and profile.name and profile.name != before.name else {}
    )
    if renamed and not given.flag and profile.active_case_id:
        _change_case(core, program_id, profile.active_case_id, renamed)
    steps = [core]
    held: list[Reward] = list(held_now)
    if given.flag:
        assert case_id is not None
        room = (
            MAX_STEP_ITEMS - len(core) - 5
        )  # the case, its audit entry, two notifications, the marks' guard
        first, rest = to_hold[: max(room, 0)], to_hold[max(room, 0) :]
        for r in first:
            core.add(hold_write(r, case_id))
        in_case = first + case_hold
        figures = totals(in_case)
        if opened:
            core.add(
                PutCase(
                    Case(
                        program_id=program_id,
                        case_id=case_id,
                        subject_type=profile.type,
                        subject_id=profile.id,
                        subject_name=profile.name or profile.id,
                        reasons=list(reasons),
                        status="open",
                        flagged_at=at,
                        flag_event_id=given.event_id,
                        hold_micros=figures,
                        held_count=len(in_case),
                    )
                )
            )
        else:
            core.add(
                UpdateCase(
                    program_id,
                    case_id,
                    expect=ACTIVE,
                    changes=renamed,
                    held=len(in_case),
                    hold_micros=figures,
                    reasons=reasons,
                )
            )
        core.add(
            audit(
                (program_id, case_id),
                "flagged" if opened else "reasons_added",
                actors.SYSTEM,
                at,
                {"reasons": given.decision["reasons"], "event_id": given.event_id, "held": len(in_case)},
                given.event_id,
            )
        )
        if opened:
            core.add(
                notify(
                    program_id,
                    "PartnerFlagged" if profile.type == "partner" else "CustomerFlagged",
                    {
                        "program_id": program_id,
                        "case_id": case_id,
                        "subject": {"type": profile.type, "id": profile.id},
                        "score": given.decision["score"],
                        "reasons": given.decision["reasons"],
                    },
                    at,
                    given.event_id,
                )
            )
        if in_case:
            core.add(held_notice(program_id, case_id, me, in_case, at, given.event_id))
        held += in_case
        steps += hold_steps((program_id, case_id), me, rest, actors.SYSTEM, at, given.event_id)
        held += rest
        if lists is not None:  # before the marks: the holds' list writes take room first
            _list_holdables(core, profile, reward, first, rest, subject_rewards, lists)
    elif lists is not None:
        _list_holdables(core, profile, reward, [], [], subject_rewards, lists)
    if later_marks and len(core) + len(later_marks) <= MAX_STEP_ITEMS:
        # marks in one step (issue 15): the older identifiers' marks ride in the first step when
        # they fit, and the profile (written in it) is noted as fully marked
        core.add(*later_marks)
        profile.marks_pending = False  # the subject of the core's WriteProfile
    elif later_marks:
        steps += marks_plan(profile, later_marks)  # more than a step takes: the bounded fallback
    return ScoringPlan(steps, event_case, opened, held, reward, notes)


def _change_case(step: Step, program_id: str, case_id: str, changes: dict[str, Any]) -> None:
    """`changes` on a case in `step`: with the step's write of that case when it has one (a reward
    held under it, say; one write per item in a step), else in a write of its own."""
    for n, write in enumerate(step.writes):
        if isinstance(write, UpdateCase) and (write.program_id, write.case_id) == (program_id, case_id):
            step.writes[n] = replace(write, changes={**write.changes, **changes})
            return
    step.add(UpdateCase(program_id, case_id, changes=changes))


@dataclass(frozen=True)
class ListsRead:
    """The lists of holdable rewards scoring read (`holdables`): the subject's and the referring
    partner's; `found`: the subject's rewards came from the index (from `found_since` on), not
    from its list, so its list is written anew from them."""

    subject: Holdables
    partner: Holdables = Holdables()
    found: bool = False
    found_since: datetime | None = None
    customer: Holdables | None = None  # a reward through the API for a customer: that customer's


def _list_holdables(
    core: Step,
    profile: Subject,
    reward: Reward | None,
    held: list[Reward],
    held_later: list[Reward],
    subject_rewards: list[Reward],
    lists: ListsRead,
) -> None:
    """Keeps the lists of holdable rewards with the step (issue 15): the event's reward listed
    where it landed holdable, the rewards held taken out, on the subject (its profile write), on
    the referring partner (its arrival), and on others when the step has room (else their stale
    entries are found out by the next flag, which then asks the index)."""
    arriving = [reward] if reward is not None and reward.status in HOLDABLE else []
    if not (arriving or held or held_later or lists.found):
        return  # nothing becomes holdable or leaves: no list changes (most events)
    mine = [
        r for r in arriving if (r.partner_id if profile.type == "partner" else r.customer_id) == profile.id
    ]
    own = holdables.change(
        lists.subject,
        arriving=mine,
        leaving=held + held_later,
        unknown=held_later,  # held by the steps after this one: should they stop, the mark says so
        found=subject_rewards if lists.found else None,
        found_since=lists.found_since,
    )
    others: dict[tuple[str, str], ListChange] = {}
    written = {(profile.type, profile.id)}
    for n, write in enumerate(core.writes):
        if isinstance(write, WriteProfile) and own:
            core.writes[n] = evolve(write, listed=own)
        elif isinstance(write, PartnerArrival):
            written.add(("partner", write.partner_id))
            change = holdables.change(
                lists.partner,
                arriving=[r for r in arriving if r.partner_id == write.partner_id]
                if profile.type == "customer"
                else [],
                leaving=[r for r in held if r.partner_id == write.partner_id],
            )
            if change:
                core.writes[n] = evolve(write, listed=change)
    if profile.type == "partner":
        for r in arriving:
            if r.customer_id:  # a reward through the API for a customer: listed, or marked unread
                others[("customer", r.customer_id)] = (
                    holdables.change(lists.customer, arriving=[r])
                    if lists.customer is not None
                    else holdables.EVERYTHING_UNLISTED
                )
    for r in held:  # the other side of each reward held: its entry taken out there too
        other = ("customer", r.customer_id or "") if profile.type == "partner" else ("partner", r.partner_id)
        if other[1] and other not in written:
            gone = others.get(other, ListChange())
            others[other] = replace(gone, remove=gone.remove | {r.reward_id})
    for (kind, subject_id), change in sorted(others.items()):
        must = bool(change.unlisted_add or change.add)  # a holdable arrival: never left out
        if must or len(core) < MAX_STEP_ITEMS:
            core.add(ListRewards(profile.program_id, kind, subject_id, change))


def marks_plan(subject: Subject, marks: list[Write]) -> list[Step]:
    """Flag marks in as many steps as they take, then the profile noted as fully marked."""
    return _marks_then_noted(subject, [marks], {"marks_pending": False})


def _marks_then_noted(subject: Subject, groups: list[list[Write]], note: dict[str, Any]) -> list[Step]:
    """Marks in as many steps as they take (each group in steps of its own: a group may write an
    item another group writes too), the profile noted (`note`, no new version) with the last. Each
    step is conditional on the subject being still what these marks mark (an approval that
    unflagged it meanwhile has withdrawn its marks: a step after that would put them back)."""
    still = {"flag_case_id": subject.flag_case_id, "status": subject.status}
    program_id, kind, subject_id = subject.program_id, subject.type, subject.id
    done = UpdateProfile(program_id, kind, subject_id, note, expect=still, bump=False)
    guard = UpdateProfile.guard(program_id, kind, subject_id, **still)
    steps = [step for group in groups for step in _chunked(group, guard)]
    if steps:  # the last marks and the note that they are all written, together
        steps[-1] = Step([*steps[-1].writes[:-1], done])
    return steps or [Step([done])]


def pending_marks_plan(subject: Subject, pepper: bytes) -> list[Step]:
    """For a flagged subject whose flag stopped before every identifier was marked (the sweep
    finishes it): all its marks again (set additions: nothing is marked twice)."""
    if subject.status != "flagged" or not subject.marks_pending:
        return []
    return marks_plan(subject, flag_marks(subject, pepper))


# --- crowded links (issue 14) -------------------------------------------------------------------
def crowded_links(states: dict[LinkKey, LinkState]) -> set[LinkKey]:
    """The link items that stopped being evidence and being written: crowded past their kind's limit."""
    near, most = crowd_limit("email_near"), crowd_limit("device")
    return {
        key
        for key, state in states.items()
        if len(state.members) >= (near if key[0] in NEAR_DUPLICATE_KINDS else most)
        or len(state.spans) >= NEAR_SPANS_LIMIT  # one member's address changed over and over
    }


def farmed(key: LinkKey, state: LinkState) -> bool:
    """A crowded link still evidence when read: an identifier whose sharing is strong evidence
    (`GUARDED_JOINS`: an address, a device, a payout account) most of whose members the program
    removed is a farm's, not a crowd's. Without it, a farm that gave up its first two hundred
    accounts on one device had every later one pass with no device signal, and a removal's block
    on the device stopped no one. Flags alone do not make a farm: a fingerprint an SDK sends for
    every browser flags its first accounts too (three on one device), and their approvals withdraw
    those marks. Still not written: no more members."""
    return key[0] in GUARDED_JOINS and 2 * len(state.removed) > len(state.members)


def links_to_join(
    me: str,
    states: dict[LinkKey, LinkState],
    crowds: set[LinkKey] | None = None,
    flag: bool = False,
    spans: dict[LinkKey, str] | None = None,
) -> list[LinkKey]:
    """The link items an event adds its subject to: none that is crowded, and none that names the
    subject already (members only ever grow, so what the snapshot saw stays true at commit), unless
    the event flags and the write carries the flag's mark the item lacks (a mark is taken away only
    with a new version of the subject, which the write expects), or the item lacks the event's
    span entry (`spans`: an `email_near` key's `<member> <block>`; another address of the subject
    under the same key). Near-duplicate `email_near` marks go in the later marks steps, never in a
    rewrite of a key that names the subject."""
    skip = crowded_links(states) if crowds is None else crowds
    spans = spans or {}
    return [
        key
        for key, state in states.items()
        if key not in skip
        and (
            me not in state.members
            or (flag and key[0] != "email_near" and me not in state.flagged)
            or (key in spans and spans[key] not in state.spans)
        )
    ]


# Identifiers whose sharing is strong evidence on its own (SPEC 5.2: the same e-mail address, a
# device, a payout account): an event joining one expects the members it read.
GUARDED_JOINS = frozenset({"email", "device", "payout"})


def guarded_joins(me: str, states: dict[LinkKey, LinkState], links: list[LinkKey]) -> dict[LinkKey, int]:
    """Of the links an event joins, those whose sharing is strong evidence, each with the count of
    members the event read: its write stands only if no one joined meanwhile. Two sign-ups with one
    address scored at the same moment each read the other's absence; unguarded, both were allowed
    and neither ever named the other. Guarded, the later write is refused, its event reads again and
    sees the first. Members only ever join, so an unchanged count is an unchanged set. Busy kinds
    (an IP, a look-alike key) are left unguarded: their signals are weak and concurrent joins common."""
    return {
        key: len(states[key].members)
        for key in links
        if key[0] in GUARDED_JOINS and me not in states[key].members
    }


def network_to_join(
    network: dict[str, LinkKey],
    local: dict[str, LinkKey],
    skip: set[LinkKey],
    states: dict[LinkKey, NetworkState],
    marks: dict[str, str],
) -> list[LinkKey]:
    """The network items an event writes: those that lack one of the subject's `marks` (its flag or
    removal mark while it is flagged or removed: `{"flagged": mark}`), never those whose identifier
    is crowded in the program (a value many people share is no one's, and would be one hot item for
    the whole platform). An unmarked subject's event writes none: the network signal reads marks
    only, so an identifier's use alone is not worth a write (issue 15: two items per sign-up)."""
    keys = dict.fromkeys(key for role, key in network.items() if local.get(role) not in skip)
    return [
        key for key in keys if any(mark not in getattr(states[key], name) for name, mark in marks.items())
    ]
