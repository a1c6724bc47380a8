"""`make bench`: the figures quoted in closing notes. Medians over repeated runs; ratios only between
figures measured in the same run (the machine is shared and noisy).

`make bench` runs every suite; `make bench SUITES="ingest loyalty"` runs some. A suite is a module of
this package with a `run()` that prints its section.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

SUITES = ("ingest", "scoring", "hold_sweep", "loyalty", "local", "sync_decision")


def main(names: list[str]) -> None:
    for name in names or SUITES:
        if importlib.util.find_spec(f"benchmarks.{name}") is None:
            continue
        print(f"== {name}", flush=True)
        importlib.import_module(f"benchmarks.{name}").run()


if __name__ == "__main__":
    main(sys.argv[1:])
