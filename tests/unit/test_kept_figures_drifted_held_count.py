"""A case whose held count an older version kept one too high (a hold that no longer is) still
ends: a removal's mop-up and an approval wait on the index (`changes.INDEX_WAITS`), then end with
the count left as it is, said in the log (`changes.ending_empty`); without it, neither could ever
end."""

from __future__ import annotations

import pytest

from functions.cases import service as cases
from functions.disputes import service as disputes
from functions.shared import changes
from functions.shared.changes import carry_out
from functions.shared.domain.writes import Step, UpdateCase
from functions.shared.errors import StorageUnavailable
from tests.unit.test_kept_figures_recounted import fresh


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    monkeypatch.setattr(changes, "INDEX_WAITS", (0.0, 0.0))  # the index here is never behind


def _case_with_a_hold_that_no_longer_is(w):
    """A flagged partner's open case whose kept count says 1 while nothing is held under it: what
    the previous version's race left (the reward overridden away under another case)."""
    repo = w.deps.repository
    w.do(("flag_partner", 0, 0))
    x = repo.get_subject(w.P, "partner", "p").active_case_id
    assert x
    carry_out(repo, [Step([UpdateCase(w.P, x, held=1, hold_micros={"USD": 20_000_000})])], w.deps.publisher)
    assert repo.get_case(w.P, x).held_count == 1
    assert [r for r in w.all_rewards() if r.status == "on_hold"] == []
    return x


def test_a_case_whose_count_the_old_version_left_one_too_high_can_still_be_removed():
    w = fresh()
    x = _case_with_a_hold_that_no_longer_is(w)
    finished = False
    for _ in range(3):  # the client retries, as the 503 asks
        try:
            cases.remove_partner(w.deps, w.P, x, False, "teammate")
            finished = True
            break
        except StorageUnavailable:
            continue
    subject = w.deps.repository.get_subject(w.P, "partner", "p")
    assert finished and not subject.marks_pending, "the removal can never finish: every retry is a 503"


def test_a_case_whose_count_the_old_version_left_one_too_high_can_still_be_approved():
    w = fresh()
    x = _case_with_a_hold_that_no_longer_is(w)
    disputes.dispute(w.deps, w.P, x, "mistake", "teammate")
    disputes.record_verdict(w.deps, x, "approve", "ok", "security")
    for _ in range(2):  # this month's cycle, and next month's
        disputes.run_cycle(w.deps)
    assert w.deps.repository.get_case(w.P, x).status == "approved"
