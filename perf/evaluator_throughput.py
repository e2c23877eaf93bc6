"""Evaluator throughput on the embedded suite: cold, cached, and the bare tool floor.

    python perf/evaluator_throughput.py [--programs ecco://] [--sequences 2] [--jobs N]

Workload: every program at -O3 plus ``--sequences`` random registry sequences of 10-30 passes
(seeded). *cold*: a fresh cache, ``jobs`` workers. *cached*: the same workload again. *floor*:
the literal ``opt-19 | llc-19 | llvm-mca-19`` commands of DESIGN.md (files, default views), in
``jobs`` threads, no cache, nothing else (no ``.text`` size, no IR count). Prints a table
and writes ``results/perf/evaluator_throughput.csv``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import pandas as pd

from ecco_lib.benchmarks import resolve_all
from ecco_lib.config import output_root
from ecco_lib.experiments import write_table
from ecco_lib.llvm import REGISTRY, EvaluationCache, Evaluator, MetricSettings, Pipeline
from ecco_lib.llvm.steps import by_hand_cycles


def workload(programs, sequences: int, seed: int):
    rng = random.Random(seed)
    names = [p.name for p in REGISTRY]
    pipelines = [Pipeline.of_level("O3")] + [
        Pipeline.of_passes([rng.choice(names) for _ in range(rng.randint(10, 30))]) for _ in range(sequences)]
    return [(p, pipe) for p in programs for pipe in pipelines]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--programs", nargs="+", default=["ecco://"])
    parser.add_argument("--sequences", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="ecco-perf-") as tmp:
        cache = EvaluationCache(tmp)
        programs = resolve_all(args.programs, cache=cache)
        pairs = workload(programs, args.sequences, args.seed)
        rows = []
        with Evaluator(cache=cache, jobs=args.jobs, progress=True) as ev:
            for phase in ("cold", "cached"):
                start = time.perf_counter()
                results = ev.evaluate_many(pairs, desc=phase)
                seconds = time.perf_counter() - start
                ok = sum(r.ok for r in results)
                rows.append({"mode": phase, "evaluations": len(pairs), "ok": ok, "seconds": seconds})
        metric = MetricSettings()
        start = time.perf_counter()
        with ThreadPoolExecutor(args.jobs) as pool:
            floor = list(pool.map(lambda pair: _floor(pair, metric), pairs))
        rows.append({"mode": "floor (opt|llc|llvm-mca by hand)", "evaluations": len(pairs),
                     "ok": sum(c is not None for c in floor), "seconds": time.perf_counter() - start})

    table = pd.DataFrame(rows)
    table["evals_per_s"] = table["evaluations"] / table["seconds"]
    table["jobs"] = args.jobs
    table["programs"] = len(programs)
    write_table(table, output_root() / "results" / "perf" / "evaluator_throughput.csv")
    print(table.round(2).to_string(index=False))
    return 0


def _floor(pair, metric):
    program, pipeline = pair
    try:
        return by_hand_cycles(program.ir, pipeline.opt_text, metric)
    except Exception:  # a failing compile counts as "not ok" in the floor too
        return None


if __name__ == "__main__":
    sys.exit(main())
