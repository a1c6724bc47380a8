"""Observability: the lazy Tracer (no X-Ray SDK at import or invocation unless subsegments are asked
for), and metrics switched off that stay off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

HANDLERS = (
    "functions.ingest.handler",
    "functions.score.handler",
    "functions.cases.handler",
    "functions.loyalty.handler",
    "functions.outbox_relay.handler",
    "functions.disputes.cycle",
)


def _run(code: str, **env: str) -> str:
    environment = {
        k: v for k, v in os.environ.items() if k not in ("TRACE_SUBSEGMENTS", "POWERTOOLS_TRACE_DISABLED")
    }
    environment.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", **env})
    done = subprocess.run(  # noqa: S603 (this interpreter, our code)
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
    )
    return done.stdout.strip()


def test_handlers_import_and_run_without_the_xray_sdk() -> None:
    # Given every kind of handler imported, and a handler decorated as they are, run once
    out = _run(
        f"""
        import sys
        import {", ".join(HANDLERS)}
        from functions.shared.observability import tracer

        @tracer.capture_lambda_handler
        def handler(event, context):
            return event["n"] + 1

        print(handler({{"n": 41}}, None), "aws_xray_sdk" in sys.modules)
        """
    )

    # Then it answered, and the X-Ray SDK was never imported
    assert out == "42 False"


def test_subsegments_when_asked_load_the_powertools_tracer_at_first_invocation() -> None:
    out = _run(
        """
        import sys
        from functions.shared.observability import tracer

        @tracer.capture_lambda_handler
        def handler(event, context):
            return event["n"] + 1

        before = "aws_xray_sdk" in sys.modules
        first, second = handler({"n": 1}, None), handler({"n": 2}, None)
        print(before, first, second, "aws_xray_sdk" in sys.modules, type(tracer.powertools()).__name__)
        """,
        TRACE_SUBSEGMENTS="true",
        AWS_XRAY_CONTEXT_MISSING="IGNORE_ERROR",
    )

    assert out == "False 2 3 True Tracer"


def test_powertools_disabled_tracing_wins_over_subsegments() -> None:
    out = _run(
        """
        import sys
        from functions.shared.observability import tracer

        @tracer.capture_lambda_handler
        def handler(event, context):
            return "ran"

        print(handler({}, None), "aws_xray_sdk" in sys.modules)
        """,
        TRACE_SUBSEGMENTS="true",
        POWERTOOLS_TRACE_DISABLED="true",
    )

    assert out == "ran False"


def test_metrics_switched_off_print_nothing_however_many(monkeypatch, capsys):
    # off (the local system), Powertools kept every value and printed the set at a metric's 100th:
    # `make run` printed a line of metrics every hundred events
    from aws_lambda_powertools.metrics import MetricUnit

    from functions.shared.observability import metrics

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    for _ in range(250):
        metrics.add_metric(name="EventsAccepted", unit=MetricUnit.Count, value=1)
    metrics.flush_metrics()

    assert capsys.readouterr().out == ""

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")  # on, as deployed: every value is sent
    for _ in range(150):
        metrics.add_metric(name="EventsAccepted", unit=MetricUnit.Count, value=1)
    metrics.flush_metrics()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sum(len(line["EventsAccepted"]) for line in lines) == 150
