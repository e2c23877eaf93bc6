"""Time of one ``ecco`` search split into generation and compilation, against ``ga`` at the same budget.

    python perf/optimize_time.py [--programs URI...] [--budget 100] [--profile default] [--adapter DIR]
                                 [--torch-threads 1 2]

Default workload: one embedded test program per suite, the profile's ``ecco`` and ``ga`` settings,
seed 0, a fresh cache (every evaluation compiled, every answer generated). Generation is batched as
the profile says (``batch_size`` prompts, ``n`` answers each) on each of ``--torch-threads``
thread counts in turn (default: the profile's ``torch_threads``), each with its own fresh cache.
Prints one row per (method, threads, program) and the means; writes ``results/perf/optimize_time.csv``.
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
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--profile", default="default")
    parser.add_argument("--adapter", default=None)
    parser.add_argument("--torch-threads", type=int, nargs="+", default=None)
    args = parser.parse_args(argv)
    profile = load_profile(args.profile)
    sections = dict((profile.data.get("search") or {}).get("methods") or {})
    if args.adapter:
        sections["ecco"] = {**sections.get("ecco", {}), "adapter": args.adapter}

    rows = []
    for threads in args.torch_threads or [sections.get("ecco", {}).get("torch_threads", 1)]:
        with tempfile.TemporaryDirectory(prefix="ecco-perf-") as tmp, \
                profile.evaluator(cache=tmp, check=False, progress=False) as ev:
            rows += _measure(ev, args, profile, {**sections, "ecco": {**sections.get("ecco", {}), "torch_threads": threads}})
    table = pd.DataFrame(rows)
    write_table(table, output_root() / "results" / "perf" / "optimize_time.csv")
    columns = ["seconds", "generation_seconds", "compile_seconds", "other_seconds", "tokens_per_s", "i_o3"]
    print(table.groupby(["method", "torch_threads"], dropna=False)[columns].mean().round(3).to_string())
    return 0


def _measure(ev, args, profile, sections) -> list[dict]:
    """One row per (method, program): ``ecco`` then ``ga`` at ``args.budget`` on a fresh cache."""
    threads = sections["ecco"]["torch_threads"]
    programs = resolve_all(args.programs or ["ecco://"], cache=ev.cache, split=None if args.programs else "test")
    if not args.programs:
        programs = list({p.suite: p for p in programs}.values())
    rows = []
    for method in ("ecco", "ga"):
        optimizer, _ = make_optimizer(method, sections)
        for program in programs:
            result = optimizer.optimize(program, Objective(program, ev, args.budget), profile.seed)
            generation = result.extra.get("generation_seconds", 0.0)
            tokens = result.extra.get("new_tokens", 0)
            rows.append({"method": method, "torch_threads": threads if method == "ecco" else None,
                         "program": program.uri, "evaluations": result.evaluations,
                         "seconds": result.seconds, "compile_seconds": result.compile_seconds,
                         "generation_seconds": generation, "new_tokens": tokens,
                         "tokens_per_s": tokens / generation if generation else None,
                         "other_seconds": result.method_seconds - generation, "i_o3": result.i_o3})
            label = f"{method} ({threads} torch threads)" if method == "ecco" else method
            print(f"{label:<24} {program.uri:<32} {result.seconds:6.1f} s (generation {generation:.1f} s, "
                  f"compiling {result.compile_seconds:.1f} s)", flush=True)
    return rows


if __name__ == "__main__":
    sys.exit(main())
