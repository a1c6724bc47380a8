"""The outbox relay sends a waiting event once per copy's life in the queue (`relay_due`): runs of
the schedule, whatever their phase, send it in its first run past `RELAY_AFTER` and then once in each
`COPY_LIFETIME`; it sent one more copy at every run while the ones before were still queued."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from functions.outbox_relay.service import COPY_LIFETIME, RELAY_AFTER, RUN_EVERY, relay_due

RECEIVED = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


@given(phase=st.integers(0, int(RUN_EVERY.total_seconds()) - 1), windows=st.integers(1, 100))
def test_runs_of_the_schedule_send_each_waiting_event_once_per_copy_lifetime(phase: int, windows: int):
    first = RECEIVED + timedelta(seconds=phase)
    runs = [first + n * RUN_EVERY for n in range(int(windows * COPY_LIFETIME / RUN_EVERY) + 2)]
    sent = [run for run in runs if relay_due(RECEIVED, run)]

    assert all(run - RECEIVED >= RELAY_AFTER for run in sent)
    assert sent and sent[0] - RECEIVED < RELAY_AFTER + RUN_EVERY  # its first run past the wait
    assert all(later - earlier == COPY_LIFETIME for earlier, later in zip(sent, sent[1:]))
    assert len(sent) >= windows


def test_an_event_younger_than_the_wait_is_not_sent():
    assert not relay_due(RECEIVED, RECEIVED + RELAY_AFTER - timedelta(seconds=1))
    assert relay_due(RECEIVED, RECEIVED + RELAY_AFTER)
