"""A partner that gave an address or a payout account after another partner, scored before that
partner's event arrived (`linked_earlier`; an order tester's B1, SPEC 4): on the plain in-memory
store, the same decisions whichever order the events come in. The DynamoDB path, through the real
handlers and the outbox relay: tests/integration/test_a_partner_linked_to_an_earlier_event.py."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from functions.score.engine import Engine, _events
from functions.shared.domain.identity import LOCAL_PEPPER, email_keys
from functions.shared.domain.linked_earlier import (
    REVIEW_ID_PREFIX,
    REVIEW_TYPE,
    REVIEWS_PER_EVENT,
    later_joiners,
    review_bodies,
    review_id,
)
from functions.shared.domain.links import SINCE_KEPT, join_entries, moves_back
from functions.shared.domain.model import LinkState, evolve
from functions.shared.domain.removal import removal_plan
from tests.integration.scoring_support import signup
from tests.support import sample
from tests.unit.test_detection import PROGRAM, make_engine, reasons, score

OWNERS = "honest.owner@gmail.com"
IBAN = "GB33BUKB20201555555555"
T1, T2 = "2026-11-02T09:00:00Z", "2026-11-02T10:00:00Z"


def change(partner_id: str, at: str, **fields: str) -> dict[str, Any]:
    event = copy.deepcopy(sample("account.updated", id=f"change-{partner_id}-{at}", occurred_at=at))
    event["partner"] = {"id": partner_id, **fields}
    event["activity"] = "payout_update" if "payout_account" in fields else "email_change"
    event["session"] = {"ip": "81.2.69.170", "device_fingerprint": f"fp-{partner_id}"}
    return event


def reviews_waiting(engine: Engine) -> list[Any]:
    later = datetime.now(UTC) + timedelta(hours=1)
    return [e for e in engine.repository.outbox(PROGRAM, later, 100) if e.type == REVIEW_TYPE]


def run(order: list[dict[str, Any]]) -> tuple[Engine, dict[str, dict[str, Any]]]:
    """Each event scored in `order`, then every review they recorded (twice: delivered at least
    once); each event's decision by id."""
    engine = make_engine()
    decisions = {event["id"]: score(engine, event) for event in order}
    for review in reviews_waiting(engine) * 2:
        stored = engine.repository.get_event(PROGRAM, review.event_id)
        decisions[review.event_id] = engine.score(stored).decision
    return engine, decisions


def outcome(engine: Engine, partner_id: str) -> tuple[str, str | None, list[tuple[str, str]]]:
    subject = engine.repository.get_subject(PROGRAM, "partner", partner_id)
    if subject.active_case_id is None:
        return subject.status, None, []
    case = engine.repository.get_case(PROGRAM, subject.active_case_id)
    return subject.status, case.flagged_at.isoformat(), [(r.code, r.detail) for r in case.reasons]


def test_who_copied_an_address_is_flagged_whichever_sign_up_arrives_first():
    owner = signup("O", email=OWNERS, device="fp-O", ip="81.2.69.180", at=T1)
    copier = signup(
        "F", email="first.copier@gmail.com", device="fp-F", ip="81.2.69.170", at="2026-11-02T08:00:00Z"
    )
    copied = change("F", T2, email=OWNERS)

    in_time, _ = run([copier, owner, copied])
    late_owner, decisions = run([copier, copied, owner])

    assert "email_duplicate" not in reasons(decisions[owner["id"]])  # it gave the address first
    assert decisions[copied["id"]]["action"] == "allow"  # no one had it when it was scored
    for engine in (in_time, late_owner):
        assert outcome(engine, "O") == ("active", None, [])
        assert outcome(engine, "F") == (
            "flagged",
            "2026-11-02T10:00:00+00:00",  # from when it gave the address, as in time order
            [("email_duplicate", "e-mail address also used by partner O")],
        )
    review = late_owner.repository.get_event(
        PROGRAM, review_id(owner["id"], "F", ("email", email_keys(OWNERS).normalized))
    )
    assert (review.status, review.decision["action"]) == ("scored", "flag")
    assert review.body["earlier"] == {
        "subject_type": "partner",
        "subject_id": "O",
        "event_id": owner["id"],
        "flagged_at": None,  # the owner is not flagged: the review reads no flag of it
    }
    assert in_time.repository.outbox(PROGRAM, datetime.now(UTC) + timedelta(hours=1), 100) == []


def test_a_partner_that_gave_the_address_first_and_arrives_first_records_no_review():
    engine, _ = run([signup("O", email=OWNERS, at=T1), signup("F", email=OWNERS, at=T2)])

    assert reviews_waiting(engine) == []
    assert outcome(engine, "F")[0] == "flagged"


def test_a_payout_account_given_later_is_reviewed_as_of_its_own_time():
    # three partners paid into one account: the third, in time order, is `cluster`ed
    first = signup("P1", at="2026-11-02T08:00:00Z", payout=IBAN, ip="81.2.69.181")
    second = signup("P2", at=T1, payout=IBAN, ip="81.2.69.182")
    third = change("P3", T2, payout_account=IBAN)
    p3_joined = signup("P3", at="2026-11-01T08:00:00Z", ip="81.2.69.183")

    in_time, _ = run([p3_joined, first, second, third])
    late, _ = run([p3_joined, third, second, first])

    assert outcome(late, "P3")[:2] == outcome(in_time, "P3")[:2] == ("flagged", "2026-11-02T10:00:00+00:00")
    assert outcome(late, "P1")[0] == outcome(late, "P2")[0] == "active"  # there before it
    assert [code for code, _ in outcome(late, "P3")[2]] == [code for code, _ in outcome(in_time, "P3")[2]]


def test_a_device_farm_flags_the_same_accounts_from_the_same_times_in_either_order():
    # four partners on one phone, an hour apart: in time order the third and the fourth are flagged
    farm = [
        signup(f"D{n}", device="fp-farm", ip=f"81.2.69.{190 + n}", at=f"2026-11-02T{8 + n:02}:00:00Z")
        for n in range(4)
    ]

    in_time, _ = run(farm)
    reversed_, _ = run(farm[::-1])

    expected = [
        ("active", None),
        ("active", None),
        ("flagged", "2026-11-02T10:00:00+00:00"),
        ("flagged", "2026-11-02T11:00:00+00:00"),
    ]
    for engine in (in_time, reversed_):
        assert [outcome(engine, f"D{n}")[:2] for n in range(4)] == expected
    assert ("device_shared", "device fingerprint also used by partner D0, partner D1") in outcome(
        reversed_, "D2"
    )[2]


def test_a_device_keeps_its_partners_join_times_and_not_its_customers():
    state = LinkState(members=frozenset({"partner:p0"}))
    device, at = ("device", "fp-till"), datetime(2026, 11, 2, 9, tzinfo=UTC)

    assert join_entries("partner:p1", {device: state}, (), at) == {
        device: "2026-11-02T09:00:00+00:00 partner:p1"
    }
    assert join_entries("customer:c1", {device: state}, (), at) == {}
    assert join_entries("customer:c1", {KEY: state}, (), at) == {KEY: "2026-11-02T09:00:00+00:00 customer:c1"}


def test_the_same_review_delivered_again_is_scored_once():
    owner = signup("O", email=OWNERS, at=T1)
    engine, _ = run([change("F", T2, email=OWNERS), owner])  # `run` scores each review twice
    stored = engine.repository.get_event(
        PROGRAM, review_id(owner["id"], "F", ("email", email_keys(OWNERS).normalized))
    )

    assert engine.score(stored).already_scored
    f = engine.repository.get_subject(PROGRAM, "partner", "F")
    assert engine.repository.get_case(PROGRAM, f.active_case_id or "").flags == 1
    flagged = [d for kind, d in engine.publisher.published if kind == "PartnerFlagged"]
    assert [d["subject"]["id"] for d in flagged] == ["F"]


# --- what a late event may not do (a reviewer's findings) -------------------------------------------
def removed_and_blocked(engine: Engine) -> None:
    """R copies A's address at 09:00, is flagged, and the team removes it, blocking it."""
    score(engine, signup("A", email="shared.person@gmail.com", device="fp-a", at="2026-11-02T08:00:00Z"))
    score(engine, signup("R", email="shared.person@gmail.com", device="fp-r", at="2026-11-02T09:00:00Z"))
    r = engine.repository.get_subject(PROGRAM, "partner", "R")
    case = engine.repository.get_case(PROGRAM, r.active_case_id or "")
    for step in removal_plan(case, r, [], LOCAL_PEPPER.encode(), True, "Ann", datetime.now(UTC)).steps:
        engine.repository.apply(step)


@pytest.mark.parametrize("at", ["2026-11-02T08:30:00Z", "2026-11-01T10:00:00Z", "2001-01-01T00:00:00Z"])
@pytest.mark.parametrize("given", [{"device": "fp-r"}, {"email": "shared.person@gmail.com"}])
def test_a_sign_up_dated_before_a_removed_partner_came_is_still_its_blocked_reapply(at, given):
    engine = make_engine()
    removed_and_blocked(engine)

    decided = score(engine, signup("N", ip="81.2.69.173", at=at, **given))

    assert decided["action"] == "flag" and "blocked_reapply" in reasons(decided)


def test_an_old_sign_up_carrying_todays_address_is_judged_in_arrival_order_not_as_first():
    # an SQL export's shape: F took H's address in October; its 2024 sign-up is sent with it
    owner = signup("H", email=OWNERS, at="2026-06-01T09:00:00Z")
    copier = signup("F", email=OWNERS, at="2024-01-01T09:00:00Z")

    engine, decisions = run([owner, copier])

    assert reasons(decisions[copier["id"]])["email_duplicate"] == "e-mail address also used by partner H"
    assert outcome(engine, "H")[0] == "active" and reviews_waiting(engine) == []


def test_logins_sent_before_their_sign_ups_let_the_third_on_the_phone_through_no_more():
    # three sign-ups on one phone an hour apart; the first two partners' logins from it, later,
    # are sent before every sign-up
    signups = [
        signup(p, device="fp-farm", ip=f"81.2.69.{180 + n}", at=f"2026-11-02T{8 + n:02}:00:00Z")
        for n, p in enumerate("ABC")
    ]
    logins = [change(p, f"2026-11-02T{11 + n:02}:00:00Z") for n, p in enumerate("AB")]
    for n, login in enumerate(logins):
        login["session"] = {"ip": f"81.2.69.{190 + n}", "device_fingerprint": "fp-farm"}

    in_time, _ = run([*signups, *logins])
    late, _ = run([*logins, signups[2], signups[0], signups[1]])

    assert outcome(late, "C")[:2] == outcome(in_time, "C")[:2] == ("flagged", "2026-11-02T10:00:00+00:00")
    # and A and B are not flagged from their sign-ups, on partners that came after them. In time
    # order their logins, after C's flag, read it; sent first, they are not judged again when C's
    # flag comes (left: docs/design.md)
    assert [outcome(in_time, p)[1] for p in "AB"] == [
        "2026-11-02T11:00:00+00:00",
        "2026-11-02T12:00:00+00:00",
    ]
    assert [outcome(late, p)[:2] for p in "AB"] == [("active", None)] * 2


def test_a_review_flags_from_the_time_of_the_link_that_tells_and_reads_no_later_flag():
    # L shares E's phone from 09:00; E is flagged at 18:00 for an address it copied; E's sign-up, on
    # the phone since 08:00, arrives last
    a = signup("A", email="a.owner@gmail.com", ip="81.2.69.170", at="2026-11-02T07:00:00Z")
    e = signup("E", device="fp-d", ip="81.2.69.171", at="2026-11-02T08:00:00Z")
    shares = signup("L", device="fp-d", ip="81.2.69.172", at="2026-11-02T09:00:00Z")
    copies = change("E", "2026-11-02T18:00:00Z", email="a.owner@gmail.com")
    copies["session"] = {"ip": "81.2.69.173", "device_fingerprint": "fp-e2"}

    in_time, _ = run([a, e, shares, copies])
    late, _ = run([a, shares, copies, e])

    assert outcome(late, "E")[0] == outcome(in_time, "E")[0] == "flagged"
    assert outcome(late, "L")[:2] == outcome(in_time, "L")[:2] == ("active", None)


def test_a_chain_of_earlier_events_walks_no_account_back_past_an_owner():
    # O has had the address for thirteen days; F takes it, then sends changes each 23 hours earlier
    # than the last (each within a day of the one before)
    owner = signup("O", email=OWNERS, ip="81.2.69.180", at="2026-10-20T09:00:00Z")
    first = signup("F", email="f.first@gmail.com", ip="81.2.69.170", at="2026-10-01T09:00:00Z")
    took = datetime(2026, 11, 2, 9, tzinfo=UTC)
    walk = [change("F", (took - timedelta(hours=23 * n)).isoformat(), email=OWNERS) for n in range(15)]

    engine, _ = run([owner, first, *walk])

    assert outcome(engine, "O")[:2] == ("active", None)
    assert outcome(engine, "F")[0] == "flagged"
    link = engine.repository._links[(PROGRAM, "email", email_keys(OWNERS).normalized)]  # noqa: SLF001
    assert len([e for e in link.since if e.endswith(" partner:F")]) <= SINCE_KEPT


def test_a_time_moves_back_within_a_day_of_its_first_and_a_few_times_only():
    first = datetime(2026, 11, 2, 9, tzinfo=UTC)
    state = LinkState(members=frozenset({"partner:F"}), since=frozenset({f"{first.isoformat()} partner:F"}))

    assert moves_back(state, "partner:F", first - timedelta(hours=23))
    assert not moves_back(state, "partner:F", first - timedelta(hours=25))  # history: as it arrives
    assert not moves_back(state, "partner:F", first + timedelta(hours=1))  # later: its time stays
    assert not moves_back(state, "partner:O", first - timedelta(hours=1))  # not on it: it joins
    moved = evolve(
        state,
        since=state.since | {f"{(first - timedelta(hours=n)).isoformat()} partner:F" for n in (1, 2, 3, 4)},
    )
    earlier = first - timedelta(hours=5)
    assert not moves_back(moved, "partner:F", earlier)  # `SINCE_KEPT` entries, but for
    assert moves_back(moved, "partner:F", earlier, signup=True)  # the place kept for its sign-up
    full = evolve(moved, since=moved.since | {f"{earlier.isoformat()} partner:F"})
    assert not moves_back(full, "partner:F", first - timedelta(hours=6), signup=True)


def test_a_flag_that_rests_on_partners_a_day_later_reaches_no_earlier_partner_by_a_review():
    # A and B on one phone two hours apart; C and E on it a day later. A's sign-up, sent last, is
    # judged with C and E (more than a day after it: in arrival order) and flagged, as before;
    # B, reviewed, must not read that flag as from A's time
    phone = [
        signup(p, device="fp-phone", ip=f"81.2.69.{10 + n}", at=(AT + timedelta(hours=h)).isoformat())
        for n, (p, h) in enumerate((("A", 0), ("B", 2), ("C", 26), ("E", 27)))
    ]
    engine, _ = run([phone[1], phone[2], phone[3], phone[0]])

    assert outcome(engine, "B")[:2] == ("active", None)


def test_a_flag_of_its_own_reaches_the_partner_after_it_whatever_came_a_day_later():
    # A is flagged on its own (a throwaway inbox, a country unlike its IP's) on a phone; B comes to
    # the phone an hour later, C thirty hours later; A's sign-up is sent last: its flag does not rest
    # on C, so B's review reads it, as B's sign-up in time order did (a third reviewer's finding)
    phone = [
        signup(
            "A",
            email="a.throw@mailinator.com",
            country="US",
            device="fp-phone",
            ip="81.2.69.10",
            at=AT.isoformat(),
        ),
        signup("B", device="fp-phone", ip="81.2.69.11", at=(AT + timedelta(hours=1)).isoformat()),
        signup("C", device="fp-phone", ip="81.2.69.12", at=(AT + timedelta(hours=30)).isoformat()),
    ]
    in_time, _ = run(phone)
    late, _ = run([phone[1], phone[2], phone[0]])

    assert outcome(late, "B")[:2] == outcome(in_time, "B")[:2] == ("flagged", "2026-11-02T10:00:00+00:00")


def test_a_partners_logins_sent_newest_first_leave_its_sign_up_the_place_to_date_it():
    # P's five logins from its phone are sent newest first, then two housemates' sign-ups, then
    # P's: its time moves back at each, the last place kept for its sign-up, and R, the third on
    # the phone, is flagged from its own sign-up as in time order (a third reviewer's finding)
    p = signup("P", device="fp-phone", ip="81.2.69.10", at=AT.isoformat())
    logins = [change("P", (AT + timedelta(hours=h)).isoformat()) for h in (20, 15, 10, 5, 1)]
    for login in logins:
        login["session"] = {"ip": "81.2.69.10", "device_fingerprint": "fp-phone"}
    q = signup("Q", device="fp-phone", ip="81.2.69.11", at=(AT + timedelta(hours=3)).isoformat())
    r = signup("R", device="fp-phone", ip="81.2.69.12", at=(AT + timedelta(hours=4)).isoformat())

    late, _ = run([*logins, q, r, p])

    assert outcome(late, "R")[:2] == ("flagged", "2026-11-02T13:00:00+00:00")
    assert outcome(late, "Q")[:2] == ("active", None)


# --- who is reviewed (the rule alone) ------------------------------------------------------------
AT = datetime(2026, 11, 2, 9, tzinfo=UTC)
KEY = ("email", "honest.owner@gmail.com")


def joined(**members: str) -> LinkState:
    """A link whose members gave it at the times given (`<member>=<hh:mm>`, ``: before times were kept)."""
    keys = {name.replace("_", ":", 1): at for name, at in members.items()}
    return LinkState(
        members=frozenset(keys),
        since=frozenset(f"2026-11-02T{at}:00+00:00 {member}" for member, at in keys.items() if at),
    )


def test_only_partners_that_gave_it_after_the_event_are_found():
    state = joined(
        partner_late="10:00",
        partner_flagged="10:30",
        partner_gone="12:00",
        partner_same="09:00",
        partner_early="08:00",
        customer_late="11:00",
        partner_old="",
    )
    state = evolve(state, removed=frozenset({"partner:gone"}), flagged=frozenset({"partner:flagged"}))
    next_day = evolve(state, since=state.since | {"2026-11-03T09:00:01+00:00 partner:next"})

    found = later_joiners("partner:O", AT, {KEY: next_day}, crowds=set())

    # not one after `LATE_WITHIN` (history sent out of order: arrival order)
    assert found == {
        ("late", KEY): datetime(2026, 11, 2, 10, tzinfo=UTC),
        ("flagged", KEY): datetime(2026, 11, 2, 10, 30, tzinfo=UTC),
    }


def test_an_earlier_event_of_a_partner_on_the_link_reviews_those_between_its_two_times():
    state = evolve(
        joined(partner_before="10:00", partner_after="12:00"),
        members=frozenset({"partner:before", "partner:after", "partner:O"}),
    )
    on_it_at_11 = evolve(state, since=state.since | {"2026-11-02T11:00:00+00:00 partner:O"})

    assert later_joiners("partner:O", AT, {KEY: on_it_at_11}, set()) == {
        ("before", KEY): datetime(2026, 11, 2, 10, tzinfo=UTC)
    }
    # its time on the link moves back, so `join_entries` gives it one
    assert join_entries("partner:O", {KEY: on_it_at_11}, (), AT) == {
        KEY: "2026-11-02T09:00:00+00:00 partner:O"
    }
    a_day_later = evolve(state, since=state.since | {"2026-11-03T11:00:00+00:00 partner:O"})
    assert later_joiners("partner:O", AT, {KEY: a_day_later}, set()) == {}  # history: its time stays
    assert join_entries("partner:O", {KEY: a_day_later}, (), AT) == {}


def test_none_for_a_customer_a_link_naming_the_partner_already_or_a_crowded_link():
    state = joined(partner_late="10:00")
    assert later_joiners("customer:c", AT, {KEY: state}, set()) == {}
    assert later_joiners("partner:late", AT, {KEY: state}, set()) == {}  # on it already: judged before
    named = LinkState(members=state.members | {"partner:O"}, since=state.since)
    assert later_joiners("partner:O", AT, {KEY: named}, set()) == {}  # on it before times were kept
    assert later_joiners("partner:O", AT, {KEY: state}, {KEY}) == {}
    ip = ("ip", "81.2.69.1")
    assert later_joiners("partner:O", AT, {ip: state}, set()) == {}  # no join times kept, weak alone


def test_the_reviews_of_one_event_are_bounded_those_not_flagged_first():
    found = {(f"p{n:02}", KEY): AT + timedelta(minutes=n) for n in range(REVIEWS_PER_EVENT + 3)}
    flagged = {"partner:p00", "partner:p01"}

    bodies = review_bodies("evt-1", ("partner", "O"), found, flagged)

    assert len(bodies) == REVIEWS_PER_EVENT
    assert [b["partner_id"] for b in bodies][:2] == ["p02", "p03"]
    assert all(b["id"].startswith(REVIEW_ID_PREFIX) and b["type"] == REVIEW_TYPE for b in bodies)
    assert bodies[0]["occurred_at"] == "2026-11-02T09:02:00+00:00"
    assert bodies[0]["links"] == [{"kind": "email", "value": KEY[1]}]


@pytest.mark.parametrize("taken", [REVIEW_ID_PREFIX + "x", "linked_removal_x"])
def test_an_integration_cannot_send_an_event_under_a_reviews_id(taken):
    body = signup("O", email=OWNERS, at=T1)
    body["id"] = taken
    with pytest.raises(ValidationError, match="a prefix the system keeps"):
        _events.validate_python(body, context={"ignored": []})


# --- any order of one kind's sharing, the same flags as time order (a property) ----------------------
SHARED = {"email": {"email": OWNERS}, "device": {"device": "fp-shared"}, "payout": {"payout": IBAN}}


@st.composite
def lives(draw: st.DrawFn, kind: str) -> list[dict[str, Any]]:
    """Three to six partners signing up four hours apart in any order (no burst of sign-ups: a
    velocity count is by the hour, and reads the sign-ups received, not those dated before), some
    with the shared identifier, some giving it in a change one to three hours after their sign-up:
    each event at an instant of its own (one instant is read by both: no order of its own), all
    within `links.LATE_WITHIN` of each other."""
    partners = draw(st.integers(3, 6))
    slots = draw(st.permutations(range(partners)))
    events: list[dict[str, Any]] = []
    for n in range(partners):
        pid, at = f"Q{n}", AT + timedelta(hours=4 * slots[n], minutes=n)
        shares = draw(st.sampled_from(["at sign-up", "later", "never"]))
        given = SHARED[kind] if shares == "at sign-up" else {}
        events.append(signup(pid, ip=f"81.2.70.{n + 1}", at=at.isoformat(), **given))
        if shares == "later":
            later = (at + timedelta(minutes=draw(st.integers(60, 180)), seconds=n + 1)).isoformat()
            fields = (
                {"email": OWNERS} if kind == "email" else {"payout_account": IBAN} if kind == "payout" else {}
            )
            event = change(pid, later, **fields)
            event["session"] = {
                "ip": f"81.2.71.{n + 1}",  # an IP keeps no times: one of its own
                "device_fingerprint": "fp-shared" if kind == "device" else f"fp-{pid}",
            }
            events.append(event)
    return events


def scored_until_quiet(order: list[dict[str, Any]]) -> dict[str, tuple[str, str | None]]:
    """Each event scored in `order`, the reviews each records scored before the next event (as the
    queue takes them at once); each partner's status and its case's flag time."""
    engine = make_engine()
    for event in order:
        score(engine, event)
        while waiting := reviews_waiting(engine):
            for review in waiting:
                engine.score(engine.repository.get_event(PROGRAM, review.event_id))
    return {e["partner"]["id"]: outcome(engine, e["partner"]["id"])[:2] for e in order}


@pytest.mark.parametrize("kind", sorted(SHARED))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_any_order_flags_the_same_partners_from_the_same_times_as_time_order(kind, data):
    events = data.draw(lives(kind))
    in_time = sorted(events, key=lambda e: datetime.fromisoformat(e["occurred_at"]))
    order = data.draw(st.permutations(events))

    assert scored_until_quiet(order) == scored_until_quiet(in_time)
