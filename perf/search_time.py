"""Search time per program: each method at one budget, split into compiling and the method itself.

    python perf/search_time.py [--programs URI...] [--methods ga rio] [--budget 100] [--profile default] [--check]

Default workload: one embedded test program per suite, the profile's method settings, seed 0,
a fresh cache (so every evaluation is compiled), the profile's workers; ``--check`` adds the
differential build-and-run of every candidate. Prints one row per (method, program) plus the
mean per method, and updates ``results/perf/search_time.csv`` (rows of the methods run are
replaced, other methods' rows kept).
"""

from __future__ import annotations

import argparse
import sys
import tempfile

import pandas as pd

from ecco_lib.benchmarks import resolve_all
from ecco_lib.config import load_profile, output_root
from ecco_lib.experiments import write_table
from ecco_lib.search import Objective, make_optimizer


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--programs", nargs="+", default=None)
    parser.add_argument("--methods", nargs="+", default=["ga", "rio"])
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--profile", default="default")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    profile = load_profile(args.profile)
    sections = (profile.data.get("search") or {}).get("methods") or {}

    rows = []
    with tempfile.TemporaryDirectory(prefix="ecco-perf-") as tmp, \
            profile.evaluator(cache=tmp, check=args.check, progress=False) as ev:
        programs = resolve_all(args.programs or ["ecco://"], cache=ev.cache, split=None if args.programs else "test")
        if not args.programs:
            programs = list({p.suite: p for p in programs}.values())
        for method in args.methods:
            optimizer, _ = make_optimizer(method, sections)
            for program in programs:
                result = optimizer.optimize(program, Objective(program, ev, args.budget), profile.seed)
                rows.append({"method": method, "program": program.uri, "evaluations": result.evaluations,
                             "seconds": result.seconds, "compile_seconds": result.compile_seconds,
                             "method_seconds": result.method_seconds, "evals_per_s": result.evaluations / result.seconds,
                             "i_o3": result.i_o3, "jobs": ev.jobs, "check": args.check})
                print(f"{method:<5} {program.uri:<32} {result.seconds:6.1f} s ({result.method_seconds:.2f} s in the method)",
                      flush=True)
    table = pd.DataFrame(rows)
    path = output_root() / "results" / "perf" / "search_time.csv"
    if path.exists():
        kept = pd.read_csv(path)
        table = pd.concat([kept[~kept["method"].isin(args.methods)], table], ignore_index=True)
    write_table(table, path)
    summary = table.groupby("method")[["seconds", "compile_seconds", "method_seconds", "evals_per_s", "i_o3"]].mean()
    print(summary.round(3).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
