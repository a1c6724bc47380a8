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


def test_a_revocation_says_when_the_edge_cache_was_not_flushed_and_why(monkeypatch):
    # against the console's or a custom domain's address the flush was skipped without a word
    from fraudctl.cli import _flush_edge_cache
    from fraudctl.config import Target

    elsewhere = _flush_edge_cache(
        Target(local=False, api_url="https://fraud.example.com", function_prefix="x-")
    )
    assert "not flushed, FRAUD_API_URL is not the stack's ApiUrl" in elsewhere

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")  # nothing listens: the flush fails
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    api = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"
    failed = _flush_edge_cache(Target(local=False, api_url=api, function_prefix="x-"))
    assert "flushing the authorizer cache failed (EndpointConnectionError)" in failed
