"""`make run`: the whole system on this machine.

The AWS stand-in runs in a process of its own (`aws_process`): DynamoDB from the local engine
(`local_system.dynamodb`), SQS, EventBridge and KMS from moto. The functions, which run in this
process, reach it over a private socket, and its server on loopback serves the same tables and
backends to everything outside (fraudctl, the AWS CLI, the tests); the
tables, queue and bus are created from the code's own definitions; a demo program gets one key per
role; the API serves the real Lambda handlers on http://127.0.0.1:8080; a poller feeds the score
function and a scheduler runs the scheduled functions. Ctrl-C stops it all.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import signal
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEMO_ROLES = ("admin", "fraud", "viewer", "integration")


def _local_aws_environment() -> None:
    # moto accepts any credentials; never reuse real ones against it
    os.environ["AWS_ACCESS_KEY_ID"] = "local"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "local"  # noqa: S105 (moto)
    os.environ["AWS_SESSION_TOKEN"] = "local"  # noqa: S105 (moto)
    os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    # the functions' clients keep AWS's own endpoints, which moto's mock answers in this process
    for name in [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")]:
        del os.environ[name]
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "FraudManagement")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_DEV", "false")
    # metrics are CloudWatch's business (EMF lines on stdout); locally they only drown the console
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    # and in the processes it starts (the workers, the AWS stand-in), which inherit the environment
    os.environ.setdefault("PYTHONWARNINGS", "ignore:No application metrics to publish")


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value >= 0.01:  # 0 (or 1e-300) ran the schedule back to back; NaN compares false
        raise argparse.ArgumentTypeError(f"{text!r} is less than 0.01 seconds")
    if value > threading.TIMEOUT_MAX:  # `inf`: the schedule's thread ended in an OverflowError
        raise argparse.ArgumentTypeError(f"{text!r} is more seconds than a wait can take")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not 1 or more")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_system", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("LOCAL_API_PORT", "8080")),
        help="the API's and the console's port (default 8080; LOCAL_API_PORT, which `make run` passes on)",
    )
    parser.add_argument(
        "--aws-port",
        type=int,
        default=int(os.environ.get("LOCAL_AWS_PORT", "4566")),
        help="the AWS stand-in's port (default 4566, LocalStack's too; LOCAL_AWS_PORT, which `make run` "
        "passes on)",
    )
    parser.add_argument(
        "--hold-sweep-seconds",
        type=_positive_seconds,
        default=os.environ.get("LOCAL_HOLD_SWEEP_SECONDS", "900"),
    )
    parser.add_argument(
        "--dispute-cycle-seconds",
        type=_positive_seconds,
        default=os.environ.get("LOCAL_DISPUTE_CYCLE_SECONDS"),  # a text: argparse reads it by its type
        help="the dispute cycle's interval (default: at 00:00 UTC on the 1st of each month, as deployed; "
        "`fraudctl run dispute-cycle` runs it now)",
    )
    parser.add_argument(
        "--relay-seconds", type=_positive_seconds, default=os.environ.get("LOCAL_RELAY_SECONDS", "60")
    )
    parser.add_argument(
        "--visibility-timeout", type=int, default=int(os.environ.get("LOCAL_VISIBILITY_TIMEOUT", "5"))
    )
    parser.add_argument(
        "--batch-window-seconds",
        type=float,
        default=float(os.environ.get("LOCAL_BATCH_WINDOW_SECONDS", "0")),
        help="how long the scoring queue's poller waits for a batch to fill once a message is there "
        "(default 0: it scores what is queued at once; the deployed mapping waits up to 1 s)",
    )
    parser.add_argument(
        "--score-consumers",
        type=_positive_int,
        default=_positive_int(os.environ.get("LOCAL_SCORE_CONSUMERS", "1")),
        help="how many batches of the scoring queue are scored at once, as the deployed mapping runs "
        "several environments (default 1: in arrival order, so a replay decides the same every time; "
        "more exercise concurrent scoring, but do not score faster on two cores: the CPU is the limit)",
    )
    parser.add_argument(
        "--rate-limit-per-key",
        type=float,
        default=float(os.environ["LOCAL_RATE_LIMIT_PER_KEY"])
        if "LOCAL_RATE_LIMIT_PER_KEY" in os.environ
        else None,
        help="requests per second one API key may send, averaged over a minute (default: infra's "
        "rateLimitPerKey default, 4000)",
    )
    parser.add_argument(
        "--authorizer-cache-seconds",
        type=float,
        default=float(os.environ["LOCAL_AUTHORIZER_CACHE_SECONDS"])
        if "LOCAL_AUTHORIZER_CACHE_SECONDS" in os.environ
        else None,
        help="how long the edge keeps an authorizer answer per key, as API Gateway does (default: "
        "the deployed 60 s); a revocation through the API flushes it at once",
    )
    args = parser.parse_args(argv)

    _local_aws_environment()
    from local_system.children import SWITCH_INTERVAL_SECONDS, keep_long_lived_objects_out_of_full_collections

    # local_system/children.py says why, for both
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    keep_long_lived_objects_out_of_full_collections()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log drowns ours
    import boto3
    from werkzeug.serving import make_server

    from functions.shared import tenancy
    from functions.shared.clock import SystemClock
    from functions.shared.config import Settings
    from functions.shared.runtime import build_repository, use_local_authorizer_cache
    from local_system.aws_process import AwsProcess
    from local_system.edge import RATE_LIMIT_PER_KEY, LocalAuthorizer, RateLimiter
    from local_system.http_adapter import LocalApiGateway
    from local_system.provision import provision
    from local_system.workers import Workers, WorkerSettings

    # the AWS stand-in (the DynamoDB engine, moto for the rest) runs in a process of its own
    # (local_system/aws_process.py): its half of each event's work runs on another core than the
    # functions' half. It serves the functions' calls over a private socket, and everything outside
    # over its server on --aws-port.
    try:
        aws = AwsProcess(args.aws_port)
    except RuntimeError as error:  # its own line says why (moto's: a port in use); no traceback
        print(
            f"local system: the AWS stand-in did not start ({error}). If port {args.aws_port} is in use, "
            "stop what holds it or give another: --aws-port, or LOCAL_AWS_PORT=4567 make run",
            file=sys.stderr,
        )
        return 1
    atexit.register(aws.close)  # however this process ends short of being killed, the stand-in's ends too
    aws.route_calls()  # before any client: it applies to the sessions created after it
    aws_url = f"http://127.0.0.1:{args.aws_port}"
    os.environ["AWS_ENDPOINT_URL"] = aws_url  # what the socket does not carry goes to moto's server, not AWS

    def client(name: str) -> Any:
        return boto3.client(name, region_name="us-east-1")

    resources = provision(client, visibility_timeout=args.visibility_timeout)
    os.environ.update(resources.environment())
    # one moto server does every function's work on this machine: the sweep's threads would only
    # queue there, and take the cores from everything else (functions/hold_sweep/settings.py)
    os.environ.setdefault("HOLD_SWEEP_WORKERS", "2")
    from local_system.webhooks import local_retry_seconds, provision_webhooks

    webhooks_env = provision_webhooks(client, resources.event_bus_name, retry_seconds=local_retry_seconds())
    os.environ.update(webhooks_env)  # SPEC 6: the webhooks queue, its rule on the bus, the secrets' key

    repository = build_repository(Settings.from_env())
    clock = SystemClock()
    program = tenancy.create_program(repository, clock, "Demo partner program", program_id="demo")
    keys = {
        role: tenancy.create_key(repository, clock, program.program_id, role, f"Demo {role}")[1]
        for role in DEMO_ROLES
    }
    keys["security"] = tenancy.create_key(repository, clock, None, "security", "Platform security")[1]

    # the queue consumers and the schedules run in a process of their own (local_system/workers.py),
    # as the functions behind them have their own environments in AWS
    settings = WorkerSettings(
        batch_window_seconds=args.batch_window_seconds,
        score_consumers=args.score_consumers,
        relay_seconds=args.relay_seconds,
        hold_sweep_seconds=args.hold_sweep_seconds,
        dispute_cycle_seconds=args.dispute_cycle_seconds,
    )
    workers = Workers(settings, aws.environment())
    atexit.register(workers.close)
    web_root = ROOT / "web" / "dist"
    cache_seconds = args.authorizer_cache_seconds
    authorizer = LocalAuthorizer() if cache_seconds is None else LocalAuthorizer(cache_seconds)
    use_local_authorizer_cache(authorizer.flush)  # a revocation flushes it, as deployed
    gateway = LocalApiGateway(
        web_root if web_root.is_dir() else None,
        rate_limiter=RateLimiter(args.rate_limit_per_key or RATE_LIMIT_PER_KEY),
        authorizer=authorizer,
    )
    try:
        server = make_server("127.0.0.1", args.port, gateway, threaded=True)
    except (OSError, SystemExit):  # werkzeug says the port is in use and exits: say how to pick another
        print(
            f"local system: the API did not start on port {args.port}. If it is in use, stop what holds it "
            "or give another: --port, or LOCAL_API_PORT=8081 make run",
            file=sys.stderr,
        )
        return 1
    stopped = threading.Event()

    def stop(*_: Any) -> None:
        if not stopped.is_set():
            stopped.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    # before the banner: whoever reads "Ctrl-C stops it" may send it at once
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    failed: list[str] = []

    def watch() -> None:
        """A child that dies stops the whole system, loudly: an API that accepts events nothing
        will score (the workers gone) or keep (the stand-in gone) must not look as if it runs. A
        stop asked for meanwhile (a signal to the whole group ends the children too) is no failure."""
        children = (("AWS stand-in", aws.child), ("workers", workers))
        while not stopped.wait(1.0):
            if all(child.process.poll() is None for _, child in children):
                continue
            if stopped.wait(0.5):
                return
            dead = [
                f"{name} (exit {child.process.poll()})"
                for name, child in children
                if child.process.poll() is not None
            ]
            failed.extend(dead)
            print(
                f"local system: stopped unexpectedly: {', '.join(dead)}; stopping everything. Start it "
                "again: it starts empty (its data is kept in memory)",
                file=sys.stderr,
                flush=True,
            )
            stop()
            return

    threading.Thread(target=watch, daemon=True).start()

    print(f"Fraud management, local system: API on http://127.0.0.1:{args.port}", flush=True)
    if web_root.is_dir():
        print(f"  web console: http://127.0.0.1:{args.port}/ (sign in with a key below)")
    else:
        print("  web console: not built (`make web`, which `make run` does)")
    print(f"  program: {program.program_id} ({program.name})")
    for role, key in keys.items():
        print(f"  {role:<12} key: {key}")
    print("For fraudctl, in another shell:")
    print(
        f"  export AWS_ENDPOINT_URL={aws_url} TABLE_NAME={resources.table_name} FRAUD_API_URL=http://127.0.0.1:{args.port}"
    )
    print("Ctrl-C stops it.", flush=True)

    try:
        server.serve_forever()
    finally:
        workers.close()
        aws.close()
        print("Stopped.", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
