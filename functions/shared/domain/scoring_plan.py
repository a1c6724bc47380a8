"""The writes of one scored event (SPEC 4, 5): the decision, the profile, links and counts, the reward
where it belongs, and when it flags the case, the holds and the marks; the subject's lists of
holdable rewards kept with them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from functions.shared.domain import actors, holdables
from functions.shared.domain.cases import ACTIVE, TAKES_HOLDS, case_reasons
from functions.shared.domain.holdables import HOLDABLE, ListChange
from functions.shared.domain.marks import NOTHING, marks_not_named, marks_plan, network_marks, removed_marks
from functions.shared.domain.model import (
    Case,
    Holdables,
    LinkKey,
    Reason,
    Reward,
    StoredEvent,
    Subject,
    evolve,
)
from functions.shared.domain.plans import audit, notify
from functions.shared.domain.rewards import (
    flag_case_of,
    flag_holds,
    flagged_since,
    held_notice,
    hold_steps,
    hold_write,
    holdable,
    place_reward,
    totals,
)
from functions.shared.domain.velocity import Tally, recorded_by_another
from functions.shared.domain.writes import (
    MAX_STEP_ITEMS,
    AwaitTransaction,
    ClaimTransaction,
    CountUp,
    FlagMoved,
    ListRewards,
    MarkLink,
    MarkNetwork,
    PartnerArrival,
    PutCase,
    PutReward,
    RecordEvent,
    ScoreEvent,
    SpillIdentifier,
    Step,
    TieReward,
    UpdateCase,
    Write,
    WriteProfile,
)

# API rewards waiting on one transaction: tied by its claim in the claim's own step (a transaction's
# other writes, flag included, are some forty, well under `MAX_STEP_ITEMS`); a reward past them is
# tied to no customer by the claim, and its event's notes say so
WAITING_MOST = 25


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
    # when the event was received: its notifications wait in the outbox from then, or from its own
    # time when that is later (`Notification.created_at`, which the relay's alarm measures a wait
    # from: a backfill's events dated a year back, refused once by the bus, read as a year's wait)
    recorded_at: datetime | None = None
    seen: dict[LinkKey, int] = field(default_factory=dict)  # of `links`, the guarded joins (`guarded_joins`)
    # of `links`, a purchase's device, with `<time> <partner>` it was made through (`customers_of`)
    via: dict[LinkKey, str] = field(default_factory=dict)
    # of `links`, an address's or a payout account's, with `<time> <member>` as it joins (`join_entries`)
    since: dict[LinkKey, str] = field(default_factory=dict)
    # of its payout account's network items, those that learn their first giver from it, with that
    # giver's mark and tokens (`links.network_first`)
    network_first: dict[LinkKey, tuple[str, frozenset[str]]] = field(default_factory=dict)
    reward: Reward | None = None
    revenue: tuple[str, int] | None = None  # a transaction's (currency, micros) for its partner
    partner_id: str | None = None  # a transaction's partner, stored or not
    partner_revenue_kept: bool = False  # that partner, not stored, has revenue kept (`Snapshot`)
    # a purchase's large commission: the partner's version read, which its arrival expects and moves
    # on (`PartnerArrival.expect_version`: a payout change scored beside it is decided again)
    partner_version: int | None = None
    flag: bool = False
    new_case_id: str = ""
    reward_taken: bool = False  # the reward's id is already used: refuse the reward, score the event
    # a transaction's id, and the event that recorded it already (None: none did)
    transaction: tuple[str, str | None] | None = None
    # an API reward naming only a transaction no event recorded yet: that transaction's id (`awaits`)
    awaits: str | None = None
    # the API rewards waiting on the event's transaction (or on the one its reward `awaits`), as left
    waiting: tuple[Reward, ...] = ()
    notes: tuple[str, ...] = ()  # the event's optional values ignored as invalid (`IgnoredWhenInvalid`)
    # a flag's holds reach back to this time rather than the event's (`linked_removal.reaches_back`)
    flagged_from: datetime | None = None
    # the partners on its links that gave them after it, reviewed (`linked_earlier`): their events
    reviews: tuple[StoredEvent, ...] = ()


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


HELD_OR_ARCHIVED = ("on_hold", "archived")  # a reward under a case the event's decision names


def removed_by(subject: Subject) -> str | None:
    """The case that removed a removed partner (SPEC 3.2), which every later event of it names: an
    integration gating a payout on the decision is told the partner is not paid, not `allow` alone."""
    return subject.flag_case_id if subject.status == "removed" else None


def scoring_plan(
    given: ScoringInput,
    before: Subject | None,
    partner: Subject | None,
    subject_rewards: list[Reward],
    pepper: bytes,
    lists: ListsRead | None = None,
    customer: Subject | None = None,
) -> ScoringPlan:
    """The writes of one scored event: the decision, the profile, links, counters, the reward
    where it belongs, and, when it flags, the case (opened, or its reasons merged) with the holds
    and the marks on every identifier the subject ever used. The first step holds everything but
    what does not fit (more holds, more marks), which follows in further steps. With `lists`, the
    subject's (and partner's) lists of holdable rewards follow what the step does to rewards.
    `customer`: an API reward's customer as read (a flagged one holds the reward at arrival)."""
    program_id, profile, at = given.program_id, evolve(given.profile), given.occurred_at
    noticed = max(at, given.recorded_at) if given.recorded_at else at  # its notifications' time
    me = (profile.type, profile.id)
    notes = given.notes
    reward = evolve(given.reward) if given.reward else None
    revenue = given.revenue
    claim = None
    if given.transaction is not None:
        transaction_id, recorded_by = given.transaction
        if recorded_by_another(recorded_by, given.event_id):
            # the same transaction sent again under another event id (a retry that made a new one):
            # counted once, its commission once (SPEC 3.1: ids name what they name)
            refused = f", reward {reward.reward_id} refused" if reward is not None else ""
            notes += (
                f"transaction {transaction_id} already recorded by event {recorded_by}: "
                f"its revenue not counted again{refused}",
            )
            reward, revenue = None, None
        else:
            claim = ClaimTransaction(
                program_id, transaction_id, given.event_id, customer_id=profile.id, waiting=len(given.waiting)
            )
    # SPEC 4: the API rewards that named the transaction before it arrived are its customer's: the
    # claim ties them (whatever their status), and a flagged customer's case holds the holdable ones
    tied = [evolve(r, customer_id=profile.id) for r in given.waiting] if claim is not None else []
    if reward is not None and given.reward_taken:
        notes += (f"reward {reward.reward_id} refused: that reward id is already used",)
        reward = None
    awaits = given.awaits if reward is not None else None  # the transaction it waits for
    if reward is not None and awaits and len(given.waiting) >= WAITING_MOST:
        notes += (
            f"reward {reward.reward_id}: {len(given.waiting)} rewards already wait for transaction "
            f"{awaits}; this one is tied to no customer when it arrives (send its customer_id)",
        )
    removal_case = removed_by(profile)  # a removed partner's event: the case that removed it
    if removal_case is not None:
        would_flag = not given.flag and given.decision["action"] == "flag"
        opens = "no case opened, its rewards archived" if would_flag else "its rewards archived"
        notes += (f"partner removed (case {removal_case}): {opens}",)
    case_id = before.active_case_id if before else None
    opened = False
    reasons: tuple[Reason, ...] = ()
    flag_moved = None
    if given.flag:
        profile.flagged_at = flagged_since(profile, given.flagged_from or at)
        opened = case_id is None
        case_id = given.new_case_id if opened else case_id
        reasons = case_reasons(given.decision["reasons"], at)
        codes = tuple(r.code for r in reasons)
        if not opened and before is not None and before.case_flagged_at and at < before.case_flagged_at:
            # SPEC 4: its subject was flagged when the flagged event occurred, and this one, sent
            # late, occurred before the case's flag: the case is flagged from it
            flag_moved = FlagMoved(before.case_flagged_at, before.case_flag_codes, codes)
        if opened or flag_moved:
            profile.case_flagged_at, profile.case_flag_codes = at, codes
        profile.status, profile.active_case_id, profile.flag_case_id = "flagged", case_id, case_id
        if profile.type == "customer" and (before is None or before.status != "flagged"):
            profile.customer_marks = True  # a new flag marks every identifier, in the customer's form
    assert not given.flag or case_id is not None
    # where the event's own reward goes
    placement = None
    as_partner = partner if profile.type == "customer" else before
    if reward is not None:
        placement = place_reward(
            reward,
            partner=as_partner,
            customer=before if profile.type == "customer" else customer,
            flag=(profile.type, case_id, at) if given.flag and case_id else None,
        )
        reward.status, reward.case_id = placement.status, placement.case_id or reward.case_id
        if placement.archived and removal_case is None:  # a customer's event: its partner's
            notes += (
                f"reward {reward.reward_id} archived: partner {reward.partner_id} removed "
                f"(case {placement.case_id}), never paid",
            )
    to_hold = (
        [
            r
            for r in flag_holds(profile.type, profile.flagged_at or at, subject_rewards, profile.signup_at)
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
        or flag_case_of(profile)
        or (placement.case_id if placement is not None and placement.status in HELD_OR_ARCHIVED else None)
    )
    core = Step()
    core.add(ScoreEvent(program_id, given.event_id, given.decision, event_case, notes))
    core.add(*(RecordEvent(review) for review in given.reviews))  # before the holds take the room
    if claim is not None:
        core.add(claim, *(TieReward(program_id, r.reward_id, profile.id) for r in tied))
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
        if partner_key := given.via.get(key):
            marks = {**marks, "via": frozenset({partner_key})}
        if joined_at := given.since.get(key):
            marks = {**marks, "since": frozenset({joined_at})}
        seen = given.seen.get(key)
        if counted := riding.get(key):  # the count rides on the link's write (`velocity`)
            slots = frozenset({counted.slot})
            core.add(MarkLink(program_id, key, marks, NOTHING, slots, counted.stale, seen))
        else:
            core.add(MarkLink(program_id, key, marks, NOTHING, expect_members=seen))
    if given.network or given.network_first:  # marks: a flagged or removed subject's event alone
        ours = {
            name: frozenset({mark}) for name, mark in network_marks(profile, profile.status, pepper).items()
        }
        for key in dict.fromkeys([*given.network, *given.network_first]):
            marks = ours if key in given.network else {}
            giver, tokens = given.network_first.get(key, (None, frozenset()))
            core.add(MarkNetwork(key, marks, NOTHING, giver, tokens))
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
        if awaits and len(given.waiting) < WAITING_MOST:  # tied by the transaction's claim
            core.add(AwaitTransaction(program_id, awaits, holdables.entry(reward), WAITING_MOST))
        if profile.type == "customer":
            core.add(
                PartnerArrival(
                    program_id,
                    reward.partner_id,
                    expect_status=partner.status if partner else None,
                    expect_flag_case=partner.flag_case_id if partner else None,
                    currency=revenue[0] if revenue else None,
                    micros=revenue[1] if revenue else 0,
                    revenue_kept=given.partner_revenue_kept,
                    expect_version=given.partner_version if partner else None,
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
                # whose case holds it: the partner's, or else the customer's (the event's subject, or
                # an API reward's customer)
                holder = (
                    ("partner", reward.partner_id)
                    if as_partner is not None and placement.case_id == as_partner.flag_case_id
                    else ("customer", reward.customer_id or "")
                )
                core.add(
                    held_notice(program_id, placement.case_id, holder, [reward], noticed, given.event_id),
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
    elif revenue and profile.type == "customer" and (partner is not None or given.partner_id):
        core.add(  # a partner not stored yet: the revenue kept for its profile
            PartnerArrival(
                program_id,
                partner.id if partner else str(given.partner_id),
                expect_status=partner.status if partner else None,
                expect_flag_case=partner.flag_case_id if partner else None,
                currency=revenue[0],
                micros=revenue[1],
                reward=False,
                revenue_kept=given.partner_revenue_kept,
            )
        )
    # a subject renamed while a case is open on it: the case carries the name it is searched by
    renamed = (
        {"subject_name": profile.name} if before and profile.name and profile.name != before.name else {}
    )
    if renamed and not given.flag and profile.active_case_id:
        _change_case(core, program_id, profile.active_case_id, renamed)
    if (
        given.decision["reasons"]
        and not given.flag
        and profile.status == "flagged"
        and profile.active_case_id
        and profile.flagged_at is not None
        and at >= profile.flagged_at
    ):
        # SPEC 4: new signals on a flagged subject add reasons to its case, whether or not they would
        # flag on their own (the event names the case); an event that occurred before the flag, sent
        # late, adds none. They count in its reasons, not in its `flags`: a verdict stands until
        # another event flags the subject (`evidence_since_verdict`). No audit entry: they are
        # nobody's action, and a traveller's logins would bury the trail's. No condition on the
        # case's status: the profile's version guards it (a resolution or a removal changes the
        # profile first), and a case a profile was left naming must not stop its events
        _change_case(
            core, program_id, profile.active_case_id, {}, case_reasons(given.decision["reasons"], at)
        )
    steps = [core]
    held: list[Reward] = list(held_now)
    tie_case = case_id if given.flag else flag_case_of(profile)
    tied_holdable = [r for r in tied if holdable(r)]
    # held under a flagged customer's case, else listed as the customer's
    tied_holds, tied_listed = (tied_holdable, []) if tie_case else ([], tied_holdable)
    # one that was not holdable when it arrived may be by now (a dispute's approval released it while
    # it waited, naming no customer yet): the customer's list is marked, and a flag asks the index
    tied_unsure = [r for r in tied if not holdable(r)]
    if given.flag:
        assert case_id is not None
        room = (
            MAX_STEP_ITEMS - len(core) - 5
        )  # the case, its audit entry, two notifications, the marks' guard
        first, rest = to_hold[: max(room, 0)], to_hold[max(room, 0) :] + tied_holds  # tied: in steps after
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
                        flags=1,
                    )
                )
            )
        else:
            core.add(
                UpdateCase(
                    program_id,
                    case_id,
                    expect=ACTIVE,
                    changes={**renamed, **_flag_moved_to(flag_moved, at, given.event_id)},
                    held=len(in_case),
                    hold_micros=figures,
                    reasons=reasons,
                    flags=1,
                    flag_moved=flag_moved,
                )
            )
        detail = {"reasons": given.decision["reasons"], "event_id": given.event_id, "held": len(in_case)}
        if flag_moved is not None:
            detail["case_was_flagged_at"] = flag_moved.was_at
        core.add(
            audit(
                (program_id, case_id),
                "flagged" if opened else "reasons_added",
                actors.SYSTEM,
                at,
                detail,
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
                        "flagged_at": at,
                    },
                    noticed,
                    given.event_id,
                )
            )
        if in_case:
            core.add(held_notice(program_id, case_id, me, in_case, noticed, given.event_id))
        held += in_case
        steps += hold_steps((program_id, case_id), me, rest, actors.SYSTEM, at, given.event_id, noticed)
        held += rest
        if lists is not None:  # before the marks: the holds' list writes take room first
            _list_holdables(
                core, profile, reward, first, rest, subject_rewards, lists, tied_listed, tied_unsure
            )
    else:
        if tied_holds:  # a flagged customer's: held under its case as a flag's holds are
            assert tie_case is not None
            steps += hold_steps(
                (program_id, tie_case), me, tied_holds, actors.SYSTEM, at, given.event_id, noticed
            )
            held += tied_holds
        if lists is not None:
            _list_holdables(
                core, profile, reward, [], tied_holds, subject_rewards, lists, tied_listed, tied_unsure
            )
    if later_marks and len(core) + len(later_marks) <= MAX_STEP_ITEMS:
        # marks in one step (issue 15): the older identifiers' marks ride in the first step when
        # they fit, and the profile (written in it) is noted as fully marked
        core.add(*later_marks)
        profile.marks_pending = False  # the subject of the core's WriteProfile
    elif later_marks:
        steps += marks_plan(profile, later_marks)  # more than a step takes: the bounded fallback
    return ScoringPlan(steps, event_case, opened, held, reward, notes)


def _flag_moved_to(moved: FlagMoved | None, at: datetime, event_id: str) -> dict[str, Any]:
    """The case's changes when its flag moves back to the event's (none when it does not)."""
    return {"flagged_at": at, "flag_event_id": event_id} if moved is not None else {}


def _change_case(
    step: Step, program_id: str, case_id: str, changes: dict[str, Any], reasons: tuple[Reason, ...] = ()
) -> None:
    """`changes` (and `reasons` to merge) on a case in `step`: with the step's write of that case
    when it has one (a reward held under it, say; one write per item in a step), else in a write of
    its own."""
    for n, write in enumerate(step.writes):
        if isinstance(write, UpdateCase) and (write.program_id, write.case_id) == (program_id, case_id):
            step.writes[n] = replace(
                write, changes={**write.changes, **changes}, reasons=write.reasons + reasons
            )
            return
    step.add(UpdateCase(program_id, case_id, changes=changes, reasons=reasons))


# a partner flagged or removed already: its money held elsewhere is no news to it, and a mark on its
# list would only send its later flags to the index (each new reward of a flagged customer's)
JUDGED_ALREADY = ("flagged", "removed")


def held_elsewhere(rewards: list[Reward], partner_case: str | None) -> list[Reward]:
    """Of a partner's rewards on hold, those another subject's case holds (a flagged customer's):
    its list marks them (`holdables.change`'s `unknown`) while the partner is not flagged
    (`JUDGED_ALREADY`). A payout change received after such a reward, its money, then asks the
    index and sees it; listed nowhere, it was never seen, and the reward went back to `pending` for
    the partner once the customer's case was approved."""
    return [r for r in rewards if r.status == "on_hold" and r.case_id != partner_case]


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
    tied: tuple[Reward, ...] | list[Reward] = (),
    unsure: tuple[Reward, ...] | list[Reward] = (),
) -> None:
    """Keeps the lists of holdable rewards with the step (issue 15): the event's reward listed
    where it landed holdable (and the holdable rewards its transaction ties to the subject, a
    customer; those it ties that may have become holdable since they arrived, `unsure`, marked),
    the rewards held taken out, on the subject (its profile write), on
    the referring partner (its arrival), and on others when the step has room (else their stale
    entries are found out by the next flag, which then asks the index)."""
    arriving = [reward] if reward is not None and reward.status in HOLDABLE else []
    # a reward on hold at arrival (a flagged customer's case holds it) is no holdable one of its
    # partner's, but still its money: the partner's list marks it where another subject's case holds
    # it, so a payout change received later asks the index and sees it (`held_elsewhere`)
    on_hold = [reward] if reward is not None and reward.status == "on_hold" else []
    if not (arriving or on_hold or held or held_later or lists.found or tied or unsure):
        return  # nothing becomes holdable or leaves: no list changes (most events)
    mine = [
        r for r in arriving if (r.partner_id if profile.type == "partner" else r.customer_id) == profile.id
    ] + list(tied)
    own = holdables.change(
        lists.subject,
        arriving=mine,
        leaving=held + held_later,
        # held by the steps after this one (should they stop, the mark says so), and tied ones unsure
        unknown=[
            *held_later,
            *unsure,
            *(
                held_elsewhere(on_hold, profile.flag_case_id)
                if profile.type == "partner" and profile.status not in JUDGED_ALREADY
                else []
            ),
        ],
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
            theirs = [r for r in held if r.partner_id == write.partner_id]
            arrived = [r for r in on_hold if r.partner_id == write.partner_id]
            change = holdables.change(
                lists.partner,
                arriving=[r for r in arriving if r.partner_id == write.partner_id]
                if profile.type == "customer"
                else [],
                leaving=theirs,
                # a customer's rewards held under its case, now or at arrival, are marked there
                unknown=[*theirs, *held_elsewhere(arrived, write.expect_flag_case)]
                if profile.type == "customer" and write.expect_status not in JUDGED_ALREADY
                else [],
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
    must = {key for key, change in others.items() if change}  # a holdable arrival: never left out
    for r in held:  # the other side of each reward held: its entry taken out there too
        other = ("customer", r.customer_id or "") if profile.type == "partner" else ("partner", r.partner_id)
        if other[1] and other not in written:
            gone = others.get(other, ListChange())
            # a partner's money held under the customer's case: marked there (`held_elsewhere`)
            marked = frozenset({holdables.micros(r.created_at)}) if other[0] == "partner" else frozenset()
            others[other] = replace(
                gone, remove=gone.remove | {r.reward_id}, unlisted_add=gone.unlisted_add | marked
            )
    for (kind, subject_id), change in sorted(others.items()):
        if (kind, subject_id) in must or len(core) < MAX_STEP_ITEMS:
            core.add(ListRewards(profile.program_id, kind, subject_id, change))
