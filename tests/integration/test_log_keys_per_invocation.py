"""Each function's log says only its own invocation's keys (powertools' `clear_state`): the dispute
cycle's run id (`dispute_cycle_run`, appended in its run) stayed on the module's logger after its
invocation, on every line of whatever ran next in the process (a warm Lambda's next invocation;
under `make run`, every function: a load tester found a scoring poller's error labelled with an
unrelated cycle's run)."""

from __future__ import annotations

from functions.shared.observability import logger
from local_system.lambda_runtime import invoke
from local_system.scheduler import scheduled_event


def test_a_key_one_invocation_appends_is_gone_at_the_next(aws):
    invoke("functions.disputes.cycle.lambda_handler", scheduled_event("dispute-cycle"))
    assert "dispute_cycle_run" in logger.get_current_keys()  # as its run left it

    invoke("functions.hold_sweep.handler.lambda_handler", scheduled_event("hold-sweep"))

    assert "dispute_cycle_run" not in logger.get_current_keys()
    assert (
        logger.get_current_keys()["function_name"] == "hold_sweep"
        or "function_name" in logger.get_current_keys()
    )
