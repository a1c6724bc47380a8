"""`fraudctl run` exits 1 when a job's report says something failed: a cron job or a script reads
the exit status, not the report's fields."""

from __future__ import annotations

from fraudctl.jobs import failures


def test_what_a_report_says_failed_is_counted_whichever_job_wrote_it():
    sweep = {"subjects": 3, "held": 2, "failed": [{"subject": "partner/p1", "error": "throttled"}]}
    cycle = {"totals": {"approved": 1, "declined": 0, "withdrawn": 0, "waiting": 2, "failed": 2}}

    assert failures(sweep) == 1
    assert failures(cycle) == 2
    assert failures({**sweep, "failed": []}) == 0
    assert failures({"relayed": 5, "notifications": 0}) == 0  # the outbox relay fails by raising
