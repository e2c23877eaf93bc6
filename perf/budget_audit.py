"""The equal-budget checks of RQ1 on every program of a split, not only the profile's sample.

    python perf/budget_audit.py [--profile default] [--split test] [--methods M ...] [--budget B]

Runs ``run_methods`` for each method (default: the profile's ``rq1.methods``) on every embedded
program of ``--split`` at the profile's budget and seed 0, into
``results/perf/budget_audit/{results,trace}.csv`` (resumable, like every comparison; evaluations
come from the shared cache), then prints :func:`ecco_lib.comparison.budget_audit` and writes it to
``results/perf/budget_audit.csv``. Exit code 1 when a cell is over its budget, its trace does
not match its count, or an evaluation names a pass outside the search space.
"""

from __future__ import annotations

import argparse
import sys

from ecco_lib.benchmarks import resolve_all
from ecco_lib.comparison import budget_audit
from ecco_lib.config import load_profile, output_root
from ecco_lib.experiments import run_methods, write_table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--split", default="test")
    parser.add_argument("--methods", nargs="+", default=None)
    parser.add_argument("--budget", type=int, default=None)
    args = parser.parse_args(argv)
    profile = load_profile(args.profile)
    search = profile["search"]
    out = output_root() / "results" / "perf"
    with profile.evaluator() as ev:
        programs = resolve_all(["ecco://"], cache=ev.cache, split=args.split)
        results, trace = run_methods(programs, args.methods or profile["rq1"]["methods"],
                                     budget=args.budget or search["budget"], seeds=[0], evaluator=ev,
                                     settings=search["methods"], results_path=out / "budget_audit" / "results.csv",
                                     trace_path=out / "budget_audit" / "trace.csv")
    audit = budget_audit(results, trace)
    write_table(audit.reset_index(), out / "budget_audit.csv")
    print(f"{len(programs)} {args.split} programs, budget {args.budget or search['budget']}, seed 0")
    print(audit.to_string())
    return 1 if (audit[["over_budget", "trace_mismatch", "outside_search_space"]] > 0).any().any() else 0


if __name__ == "__main__":
    sys.exit(main())
