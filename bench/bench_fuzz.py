"""Longer fuzz run of tests/test_fuzz.py: hostile text in content fields and bodies, built for real.

    .venv/bin/python bench/bench_fuzz.py [--examples 500] [--seed N]

Prints how many inputs built, how many were content errors, the slowest build, and any failure
(a crash, a build over the bound, or a script in a page) with the input that caused it.
"""
from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import seed as fixed_seed  # noqa: E402

from fuzz_site import BOUND_SECONDS, build_with, field, text  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=500)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    outcomes: collections.Counter[str] = collections.Counter()
    slowest = [0.0]

    @fixed_seed(args.seed)
    @settings(max_examples=args.examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(body=text, summary=field, name=field, title=field, condition=field)
    def one(body, summary, name, title, condition):
        with tempfile.TemporaryDirectory() as tmp:
            outcome, seconds, found = build_with(Path(tmp), body, summary, name, title, condition)
        outcomes[outcome] += 1
        slowest[0] = max(slowest[0], seconds)
        assert seconds < BOUND_SECONDS, f"build took {seconds:.1f} s"
        assert not found, found[:5]

    started = time.perf_counter()
    try:
        one()
        status = "no failure"
    except Exception as exc:  # noqa: BLE001 - the report is the point
        status = f"FAILURE: {type(exc).__name__}: {exc}"
    print(f"seed {args.seed}: {sum(outcomes.values())} inputs in {time.perf_counter() - started:.0f} s; "
          f"built {outcomes['built']}, content errors {outcomes['content error']}; slowest build {slowest[0]:.2f} s")
    print(status)


if __name__ == "__main__":
    main()
