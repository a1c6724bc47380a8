"""The workflows kept for a few seconds per environment (`loyalty.workflow_cache`): a change made in
this environment applies to its next earn, even when a concurrent earn's read overtook the change."""

from __future__ import annotations

from datetime import UTC, datetime

from functions.loyalty import workflow_cache
from functions.shared.clock import FixedClock
from functions.shared.messaging import InMemoryPublisher
from functions.shared.runtime import Dependencies
from functions.shared.storage.memory import InMemoryRepository


class _Store(InMemoryRepository):
    """A store whose list of workflows answers what it held before a change landed mid-read."""

    def __init__(self) -> None:
        super().__init__()
        self.versions = [("old",)]
        self.during_read = None

    def list_workflows(self, program_id):
        answer = self.versions[-1]
        if self.during_read:
            self.during_read()  # the change commits, and its environment forgets, after this read
            self.during_read = None
        return list(answer)


def test_a_read_overtaken_by_a_change_is_not_kept():
    store = _Store()
    deps = Dependencies(store, InMemoryPublisher(), FixedClock(datetime(2026, 12, 4, 9, tzinfo=UTC)))
    workflow_cache.forget("prg-cache")

    def change():
        store.versions.append(("old", "new"))
        workflow_cache.forget("prg-cache")

    store.during_read = change
    assert workflow_cache.program_workflows(deps, "prg-cache") == ("old",)  # the concurrent earn's read

    assert workflow_cache.program_workflows(deps, "prg-cache") == ("old", "new")  # not the stale one kept
    store.versions.append(("newest",))
    assert workflow_cache.program_workflows(deps, "prg-cache") == ("old", "new")  # kept for seconds as ever


def test_a_run_whose_workflow_this_environment_has_not_seen_yet_reads_the_list_again():
    """The earn's environment matched a workflow made seconds before; the runner's environment kept
    the list from before it was made, found nothing to run and took the run out: the action was
    lost (the end-to-end workflow test failed once in CI on it)."""
    from functions.loyalty import workflows
    from functions.shared.storage.port_loyalty import WorkflowRun
    from tests.unit.test_loyalty_rules import Loyalty

    loyalty = Loyalty()
    program_id = loyalty.program.program_id
    loyalty.earn("m1", 150)  # no workflow yet
    loyalty.workflow("big-earner", threshold=100, actions=[{"type": "suspend"}])
    # the runner's environment read the list just before the workflow was made
    before = loyalty.clock.now()
    workflow_cache._entries[program_id] = workflow_cache._Entry(loyalty.deps.repository, before, ())  # noqa: SLF001
    loyalty.clock.advance(seconds=1)
    run = WorkflowRun(program_id, "earn-after", "m1", "purchase", loyalty.clock.now())

    workflows.run_due(loyalty.deps, loyalty.program, run, workflows.receipt())

    assert loyalty.view("m1")["status"] == "suspended"


def test_a_run_naming_a_workflow_its_runner_has_not_seen_reads_the_list_again_beside_one_it_knows():
    """A runner whose kept list held another matching workflow ran that one alone: the workflow
    made seconds before the earn was missed and the run taken out (the end-to-end workflow test
    failed in CI on it, its kept list holding another test's workflow). The run now names the
    workflows its earn matched, and a list lacking one is read again."""
    from functions.loyalty import workflows
    from functions.shared.storage.port_loyalty import WorkflowRun
    from tests.unit.test_loyalty_rules import Loyalty

    loyalty = Loyalty()
    program_id = loyalty.program.program_id
    loyalty.workflow("old-warning", threshold=1000)  # matches every earn, never fires here
    kept = workflow_cache.program_workflows(loyalty.deps, program_id)  # what the runner read
    before = loyalty.clock.now()
    loyalty.earn("m1", 150)
    loyalty.workflow("big-earner", threshold=100, actions=[{"type": "suspend"}])
    workflow_cache._entries[program_id] = workflow_cache._Entry(loyalty.deps.repository, before, kept)  # noqa: SLF001
    loyalty.clock.advance(seconds=1)
    run = WorkflowRun(
        program_id, "earn-after", "m1", "purchase", loyalty.clock.now(), ("old-warning", "big-earner")
    )

    workflows.run_due(loyalty.deps, loyalty.program, run, workflows.receipt())

    assert loyalty.view("m1")["status"] == "suspended"
