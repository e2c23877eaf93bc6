"""Measured run time of the embedded programs on this machine: DESIGN.md promises each runs "in
well under a second", so every optimized build can be checked and timed.

    python perf/embedded_runtime.py [--programs ecco://] [--levels O0 O3] [--repeats 3] [--jobs N]

Per program and level: the checked build's median wall time over ``--repeats`` runs (seconds),
its status, and whether it is under 1 s. Fresh cache (nothing reused). Rows record the 1-minute
load average: other jobs inflate the times. Prints a table and writes
``results/perf/embedded_runtime.csv``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import pandas as pd

from ecco_lib.benchmarks import resolve_all
from ecco_lib.config import output_root
from ecco_lib.experiments import write_table
from ecco_lib.llvm import CheckSettings, EvaluationCache, Evaluator, Pipeline


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--programs", nargs="+", default=["ecco://"])
    parser.add_argument("--levels", nargs="+", default=["O0", "O3"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="ecco-perf-") as tmp:
        cache = EvaluationCache(tmp)
        programs = resolve_all(args.programs, cache=cache)
        with Evaluator(cache=cache, jobs=args.jobs, check=True, progress=True,
                       check_settings=CheckSettings(repeats=args.repeats)) as ev:
            rows = ev.evaluate_many([(p, Pipeline.of_level(level)) for p in programs for level in args.levels])
    table = pd.DataFrame([{"program": r.program, "pipeline": r.pipeline, "status": r.status, "checked": r.checked,
                           "runtime_s": r.runtime_s, "under_1s": r.runtime_s is not None and r.runtime_s < 1.0,
                           "load_1min": os.getloadavg()[0]} for r in rows])
    write_table(table, output_root() / "results" / "perf" / "embedded_runtime.csv")
    print(table.round(3).to_string(index=False))
    slow = table[~table["under_1s"]]
    print(f"\n{len(slow)} of {len(table)} builds not under 1 s (or not measured)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
