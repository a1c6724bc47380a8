"""`python -m evaluation` (what `make evaluate` runs): generate, replay, report.

Exit status 1 when a target is missed (recall >= 0.95 on every fraud pattern, <= 1% false flags on
ordinary traffic), so CI can run it as it is."""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

from evaluation.generator import Scale, generate
from evaluation.replay import BACKENDS, Replay, replay
from evaluation.report import as_json, render, summarize


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7, help="the traffic is a function of the seed")
    parser.add_argument(
        "--scale", choices=("small", "medium", "full"), default="full", help="how much traffic (default full)"
    )
    parser.add_argument(
        "--backend",
        choices=sorted(BACKENDS),
        default="memory",
        help="http: the local system over HTTP; moto: the same app in process on moto; "
        "memory: the same app on the in-memory storage (default: fastest)",
    )
    parser.add_argument(
        "--verify-on",
        choices=sorted(BACKENDS),
        default=None,
        help="replay the same traffic through this backend too and check every decision is the same",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON here")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message="No application metrics to publish")

    started = time.monotonic()
    traffic = generate(args.seed, Scale.named(args.scale))
    events = len(traffic.events)
    if not args.quiet:
        print(
            f"generated {events} events for {len(traffic.programs)} programs (seed {args.seed}, "
            f"{args.scale}) in {time.monotonic() - started:.1f} s; replaying through {args.backend}",
            file=sys.stderr,
            flush=True,
        )
    result = replay(traffic, args.backend, show_progress=not args.quiet)
    summary = summarize(result)
    print(f"evaluation: seed {args.seed}, scale {args.scale}, backend {args.backend}")
    print(render(summary, result))
    if args.json:
        args.json.write_text(json.dumps(as_json(summary, result), indent=2))
    same = True
    if args.verify_on:
        other = replay(traffic, args.verify_on, show_progress=not args.quiet)
        differences = compare(result, other)
        same = not differences
        print(
            f"verify: {len(result.outcomes) - len(differences)}/{len(result.outcomes)} decisions the same "
            f"through {args.verify_on} ({other.seconds:.0f} s) as through {args.backend}"
        )
        for line in differences[:10]:
            print("  differs: " + line)
    return 0 if summary.meets_targets() and not summary.unscored and same else 1


def compare(first: Replay, second: Replay) -> list[str]:
    """Events decided differently (score, action, reasons, or whether a case was opened)."""
    found = []
    for a, b in zip(first.outcomes, second.outcomes, strict=True):
        if a.decision != b.decision or (a.case_id is None) != (b.case_id is None):
            found.append(f"{a.step.body['id']} ({a.step.label.pattern}): {a.decision} / {b.decision}")
    removals = [outcome for _, outcome in first.removals], [outcome for _, outcome in second.removals]
    if removals[0] != removals[1]:
        found.append(f"removals: {removals[0]} / {removals[1]}")
    return found


if __name__ == "__main__":
    sys.exit(main())
