"""The dispute cycle's run id on its own invocation's lines alone: appended to the module's logger,
it stayed there after its invocation, on every line of whatever ran next in the process (a warm
Lambda's next invocation; under `make run`, every function: a load tester found a scoring poller's
error labelled with an unrelated cycle's run). It is the cycle's thread's now, and gone when the
invocation ends."""

from __future__ import annotations

import threading

from functions.disputes import service
from functions.shared.observability import logger
from local_system.lambda_runtime import invoke
from local_system.scheduler import scheduled_event


def test_the_cycles_run_id_is_on_its_lines_alone_and_gone_when_it_ends(aws, monkeypatch):
    seen: dict[str, object] = {}
    elsewhere: dict[str, object] = {}
    cycle_pass = service._cycle_pass

    def looking(*args, **kwargs):  # what a line logged in the run, and on another thread, carries
        seen.update(logger.thread_safe_get_current_keys())
        other = threading.Thread(target=lambda: elsewhere.update(logger.thread_safe_get_current_keys()))
        other.start()
        other.join()
        return cycle_pass(*args, **kwargs)

    monkeypatch.setattr(service, "_cycle_pass", looking)

    invoke("functions.disputes.cycle.lambda_handler", scheduled_event("dispute-cycle"))

    assert "dispute_cycle_run" in seen and "dispute_cycle_run" not in elsewhere
    assert "dispute_cycle_run" not in logger.get_current_keys()
    assert "dispute_cycle_run" not in logger.thread_safe_get_current_keys()
