"""The long fuzz run: schemathesis against every operation of every spec, many examples per
operation and mode (the test suite runs a few), on an in-process mock. Prints how many
requests went out, the statuses, and every finding; exits 1 if there was one.

    python bench/fuzz_long.py [--examples 200] [--seed N | --random] [--family NAME ...]

Findings are what tests/robustness/test_fuzz.py asserts: an undocumented status or 5xx,
a body or content type the contract does not document, invalid input not refused, no
answer at all. Nothing reaches out: webhooks may only target this machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.robustness.fuzz import FAMILIES, fuzz  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=200, help="per operation and mode")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--random", action="store_true", help="a new random run each time")
    parser.add_argument("--family", action="append", choices=FAMILIES, help="default: all")
    args = parser.parse_args()
    families = args.family or list(FAMILIES)
    started = time.perf_counter()
    run = fuzz(families, args.examples, None if args.random else args.seed)
    seconds = time.perf_counter() - started
    print(f"families      {', '.join(families)}")
    print(f"operations    {len(run.per_operation)}")
    print(f"requests      {run.requests:,}")
    print(f"seconds       {seconds:.1f}")
    print("statuses      " + ", ".join(f"{k}: {v}" for k, v in sorted(run.statuses.items())))
    print(f"findings      {len(run.findings)}")
    if run.findings:
        print(run.summary(limit=50))
    return 1 if run.findings else 0


if __name__ == "__main__":
    sys.exit(main())
