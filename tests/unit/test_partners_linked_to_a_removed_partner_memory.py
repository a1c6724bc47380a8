"""A partner linked to a removed partner (`linked_removal`), on the plain in-memory store: the same
domain rule as on DynamoDB (`tests/integration/test_partners_linked_to_a_removed_partner.py`), the
removal through the cases service and the review through the score function's service."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from functions.cases import service as cases_service
from functions.hold_sweep.service import sweep
from functions.score import service as score_service
from functions.shared.clock import FixedClock
from functions.shared.domain.identity import usable_device
from functions.shared.domain.linked_removal import (
    EARLIEST,
    REVIEWS_PER_CALL,
    partners_to_review,
    reaches_back,
    review_id,
)
from functions.shared.domain.model import LinkState, Reward, Subject
from functions.shared.domain.rewards import flag_holds
from functions.shared.domain.writes import MarkLink, Step
from functions.shared.messaging import InMemoryPublisher, InMemoryQueue, scoring_message
from functions.shared.runtime import Dependencies
from tests.unit.test_detection import PROGRAM, make_engine, score

IBAN = "GB29NWBK60161331926819"


def signup(partner_id: str, at: str, email: str, device: str, payout: str | None = None) -> dict:
    partner = {"id": partner_id, "name": f"Partner {partner_id}", "email": email, "country": "GB"}
    if payout:
        partner["payout_account"] = payout
    return {
        "id": f"signup-{partner_id}",
        "type": "partnership.created",
        "occurred_at": at,
        "partner": partner,
        "session": {"ip": f"81.2.69.{len(partner_id) * 7}", "device_fingerprint": device},
    }


def test_a_partner_on_a_removed_partners_payout_account_is_flagged_on_the_memory_store():
    engine = make_engine()
    repository = engine.repository
    # A is paid into the account first, B gives it after (a payout account is typed: B, there
    # first, would be no one's evidence), then A takes C's address and is flagged
    score(engine, signup("p-a", "2026-11-02T08:00:00+00:00", "aye@example.com", "fp-a", IBAN))
    score(engine, signup("p-b", "2026-11-02T09:00:00+00:00", "bee@example.com", "fp-b", IBAN))
    score(engine, signup("p-c", "2026-11-02T10:00:00+00:00", "sea@example.com", "fp-c"))
    change = signup("p-a", "2026-11-03T09:00:00+00:00", "sea@example.com", "fp-a")
    change.update(id="change-p-a", type="account.updated", activity="email_change")
    flagged = score(engine, change)
    assert flagged["action"] == "flag"
    queue = InMemoryQueue()
    deps = Dependencies(
        repository, InMemoryPublisher(), FixedClock(datetime(2026, 11, 21, tzinfo=UTC)), queue
    )
    a_case = repository.get_subject(PROGRAM, "partner", "p-a").flag_case_id or ""

    cases_service.remove_partner(deps, PROGRAM, a_case, False, "Ann")
    cases_service.remove_partner(deps, PROGRAM, a_case, False, "Ann")  # asked again: done, nothing new
    assert sorted(queue.sent) == sorted([(PROGRAM, review_id(a_case, p)) for p in ("p-b", "p-c")])
    for program_id, event_id in [*queue.sent, *queue.sent]:  # each delivered twice
        score_service.take_message(deps, scoring_message(program_id, event_id))

    b = repository.get_subject(PROGRAM, "partner", "p-b")
    assert b.status == "flagged"
    case = repository.get_case(PROGRAM, b.active_case_id or "")
    assert [(r.code, r.detail) for r in case.reasons] == [
        ("cluster", "payout account also used by partner p-a (removed)")
    ]
    assert case.flags == 1
    flagged_b = [d for kind, d in deps.publisher.published if kind == "PartnerFlagged"]
    assert {d["subject"]["id"] for d in flagged_b} == {"p-b", "p-c"} and len(flagged_b) == 2
    review = repository.get_event(PROGRAM, review_id(a_case, "p-b"))
    assert (review.status, review.case_id) == ("scored", case.case_id)


def test_who_a_removal_reviews():
    removed = Subject(PROGRAM, "partner", "p-a", devices=frozenset({"fp-a"}), ips=frozenset({"1.2.3.4"}))
    me, b, c = "partner:p-a", "partner:p-b", "partner:p-c"
    crowd = frozenset(f"partner:p-{n}" for n in range(250))
    states = {
        ("device", "fp-a"): LinkState(members=frozenset({me, b, "customer:c-1"}), removed=frozenset({me})),
        ("ip", "1.2.3.4"): LinkState(members=frozenset({me, c}), removed=frozenset({me})),
    }
    assert partners_to_review(removed, states) == {"p-b": [("device", "fp-a")]}  # not an IP, no customer
    crowded = {("device", "fp-a"): LinkState(members=crowd | {me}, removed=frozenset({me}))}
    assert partners_to_review(removed, crowded) == {}
    farm = {("device", "fp-a"): LinkState(members=crowd | {me}, removed=frozenset(list(crowd)[:130]) | {me})}
    assert len(partners_to_review(removed, farm)) == 120  # a farm's: its members left
    # flagged already on a link where another partner was removed before: that removal reviewed it
    before = {
        ("device", "fp-a"): LinkState(
            members=frozenset({me, b, c, "partner:p-x"}),
            removed=frozenset({me, "partner:p-x"}),
            flagged=frozenset({b}),
        )
    }
    assert partners_to_review(removed, before) == {"p-c": [("device", "fp-a")]}


def test_a_reviews_holds_reach_back_to_the_sign_up_but_never_before_an_approval():
    signed_up = datetime(2026, 11, 2, 9, tzinfo=UTC)
    approved = datetime(2026, 12, 1, tzinfo=UTC)
    review = datetime(2026, 12, 3, 10, tzinfo=UTC)
    partner = Subject(PROGRAM, "partner", "p-b", signup_at=signed_up)
    assert reaches_back(partner, review) == signed_up
    assert reaches_back(None, review) == EARLIEST  # never seen signing up: all of its rewards
    # its dispute approved: from the approval on (the security team judged it up to then)
    assert reaches_back(replace(partner, approved_at=approved, flagged_at=signed_up), review) == approved
    # approved before approvals were dated (active again after a flag): from the review itself
    assert reaches_back(replace(partner, flagged_at=signed_up), review) == review
    # flagged again since: its flag from the approval on, as the approval left it
    flagged = replace(partner, status="flagged", approved_at=approved, flagged_at=review)
    assert reaches_back(flagged, review) == approved


def test_what_an_approval_released_no_flag_of_its_partner_holds_again_whatever_its_date():
    signed_up = datetime(2026, 11, 2, 9, tzinfo=UTC)
    released = Reward(
        PROGRAM, "r-released", "p-b", Decimal("5"), "USD", "pending", datetime(2026, 12, 1, 0, 3, tzinfo=UTC),
        "transaction", case_id="case-approved", released=True,
    )  # fmt: skip
    unseen = replace(released, reward_id="r-unseen", case_id=None, released=False)
    assert flag_holds("partner", signed_up, [released, unseen], signed_up) == [unseen]
    # a customer's flag holds the customer's rewards whatever their time, released or not
    assert flag_holds("customer", signed_up, [released, unseen]) == [released, unseen]
    # held and released again since (its customer's case): still what its partner's approval released
    assert flag_holds("partner", signed_up, [replace(released, case_id="case-customer")], signed_up) == []


def _a_shared_with_450(queue: InMemoryQueue) -> tuple[Dependencies, str]:
    """A on 3 devices, each shared with 150 other partners (450 to review: not a crowd), and C on
    its address: the dependencies (the reviews sent to `queue`, not scored) and A's case."""
    engine = make_engine()
    repository = engine.repository
    score(engine, signup("p-c", "2026-11-02T10:00:00+00:00", "sea@example.com", "fp-c"))
    score(engine, signup("p-a", "2026-11-03T09:00:00+00:00", "sea@example.com", "fp-x-0"))
    for n in (1, 2):
        login = signup("p-a", f"2026-11-03T10:0{n}:00+00:00", "sea@example.com", f"fp-x-{n}")
        login.update(id=f"login-{n}", type="account.updated", activity="login")
        del login["partner"]["name"], login["partner"]["country"]
        score(engine, login)
    for n in range(3):
        device = usable_device(f"fp-x-{n}")
        members = frozenset(f"partner:p-{n}-{k}" for k in range(150))
        repository.apply(Step([MarkLink(PROGRAM, ("device", device or ""), {"members": members})]))
    deps = Dependencies(
        repository, InMemoryPublisher(), FixedClock(datetime(2026, 11, 21, tzinfo=UTC)), queue
    )
    return deps, repository.get_subject(PROGRAM, "partner", "p-a").flag_case_id or ""


def test_a_removal_of_a_partner_with_hundreds_linked_goes_on_by_its_retries():
    # Given A on 3 devices, each shared with 150 other partners (450 to review: not a crowd)
    queue = InMemoryQueue()
    deps, a_case = _a_shared_with_450(queue)
    repository = deps.repository

    # When it is removed, and asked again: REVIEWS_PER_CALL new reviews each time, each answered as
    # removed (what the team asked for; the sweep would go on with the rest as these asks do)
    sent = []
    for _ in range(2):
        removed = cases_service.remove_partner(deps, PROGRAM, a_case, False, "Ann")
        assert removed.removed_at is not None
        sent.append(len(queue.sent))
        assert repository.get_subject(PROGRAM, "partner", "p-a").removal_pending  # under way
    cases_service.remove_partner(deps, PROGRAM, a_case, False, "Ann")  # the last 51: done

    # Then each partner is reviewed once, and the removal is done
    assert sent == [REVIEWS_PER_CALL, 2 * REVIEWS_PER_CALL]
    assert len(queue.sent) == len(set(queue.sent)) == 451  # C and the 450
    assert not repository.get_subject(PROGRAM, "partner", "p-a").removal_pending


def test_the_hold_sweep_says_the_removals_it_finished_and_the_reviews_it_left():
    # Given A's removal asked once: 200 of its 451 reviews recorded, the rest left
    queue = InMemoryQueue()
    deps, a_case = _a_shared_with_450(queue)
    cases_service.remove_partner(deps, PROGRAM, a_case, False, "Ann")
    assert len(queue.sent) == REVIEWS_PER_CALL

    # When a sweep runs out of time after one more pass, and the next has all it needs
    short = sweep(deps, time_left=lambda: 0 if len(queue.sent) > REVIEWS_PER_CALL else 1000)
    full = sweep(deps)

    # Then each run's report says so (an operator's find: it said nothing of removals, and
    # `left: 0` while a removal's reviews were left)
    left = 451 - 2 * REVIEWS_PER_CALL
    assert (short.removals_finished, short.reviews_left) == (0, left)
    assert (full.removals_finished, full.reviews_left) == (1, 0)
    assert len(queue.sent) == len(set(queue.sent)) == 451
