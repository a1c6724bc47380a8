"""A relay sends waiting work once per copy's life in its queue (`relays.RelaySchedule`): runs of the
schedule, whatever their phase, send it in its first run past `after` and then once in each
`copy_lifetime`; the relays sent one more copy at every run while the ones before were still queued."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.loyalty.runs import WORKFLOW_RELAY
from functions.outbox_relay.service import SCORING_RELAY
from functions.shared.relays import RelaySchedule

SINCE = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("schedule", [SCORING_RELAY, WORKFLOW_RELAY], ids=["events", "workflow runs"])
@given(phase=st.floats(0, 1, exclude_max=True), windows=st.integers(1, 60))
def test_runs_of_the_schedule_send_waiting_work_once_per_copy_lifetime(
    schedule: RelaySchedule, phase: float, windows: int
):
    first = SINCE + phase * schedule.every
    runs = [
        first + n * schedule.every for n in range(int(windows * schedule.copy_lifetime / schedule.every) + 2)
    ]
    sent = [run for run in runs if schedule.due(SINCE, run)]

    assert all(run - SINCE > schedule.after for run in sent)
    assert sent and sent[0] - SINCE <= schedule.after + schedule.every  # its first run past the wait
    assert all(later - earlier == schedule.copy_lifetime for earlier, later in zip(sent, sent[1:]))
    assert len(sent) >= windows


def test_work_is_sent_in_the_first_run_past_the_wait_even_a_run_exactly_a_schedule_apart():
    # the outbox reads work waiting strictly longer than `after`: a run at `after` exactly finds
    # nothing, and the next, `every` later, must send it (it missed the first window)
    relay = WORKFLOW_RELAY
    assert not relay.due(SINCE, SINCE + relay.after)
    assert relay.due(SINCE, SINCE + relay.after + relay.every)
    assert not relay.due(SINCE, SINCE + relay.after + relay.copy_lifetime)
    assert relay.due(SINCE, SINCE + relay.after + relay.copy_lifetime + relay.every)
