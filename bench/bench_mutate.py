"""Longer run of tests/mutate_site.py on the example site: mistakes made at random (values of other kinds, YAML
syntax typed in, broken theme overrides), each site built for real (website and newsletters, in memory).

    .venv/bin/python bench/bench_mutate.py [--sites 300] [--kind values|characters|themes] [--first-seed 0] [--pdf]

--pdf builds the brochures instead (printed by Chromium: seconds a site that gets past the content check).

Prints, per kind, how many sites built, how many ended in a content error or another reported error, and every
internal error with the seed that makes it again (tests/mutate_site.mutated_site) and the end of its traceback.
"""
from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from mutate_site import KINDS, mutated_site, outcome  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=300, help="sites per kind")
    parser.add_argument("--kind", choices=KINDS, action="append", help="only this kind (repeatable)")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--pdf", action="store_true", help="build the brochures, not the website and newsletters")
    args = parser.parse_args()
    failed = 0
    for kind in args.kind or KINDS:
        counts: collections.Counter[str] = collections.Counter()
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            for seed in range(args.first_seed, args.first_seed + args.sites):
                site = mutated_site(Path(tmp) / "site", kind, seed, REPO)
                try:
                    counts[outcome(site, ("pdf",) if args.pdf else ("site", "mail"))] += 1
                except Exception:  # noqa: BLE001 - what this looks for: sitegen's internal error
                    counts["internal error"] += 1
                    failed += 1
                    print(f"{kind} seed {seed}: internal error\n{traceback.format_exc()[-1500:]}", flush=True)
        print(f"{kind:<11} {sum(counts.values())} sites in {time.perf_counter() - started:.0f} s: "
              + ", ".join(f"{n} {what}" for what, n in sorted(counts.items())), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
