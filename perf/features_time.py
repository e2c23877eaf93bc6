"""Cost of the static features on this machine: milliseconds per call of ``autophase`` (and of
``ir_structure``), which the GA and the environment compute after every pass.

    python perf/features_time.py [--programs ecco://linalg/level1_strided] [--repeats 7]

Per program: its size (IR instructions, lines of C), then the median and minimum wall time of
``--repeats`` calls after one warm-up call. The design target is about 20 ms for a ~300-line C
program; on a loaded machine it is higher (the 1-minute load average is recorded with each row).
Prints a table and writes ``results/perf/features_time.csv``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import pandas as pd

from ecco_lib.benchmarks import resolve_all
from ecco_lib.config import output_root
from ecco_lib.experiments import write_table
from ecco_lib.features import autophase, ir_structure
from ecco_lib.llvm import EvaluationCache


def _milliseconds(fn, ir: bytes, repeats: int) -> tuple[float, float]:
    fn(ir)  # warm-up: imports, parser caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(ir)
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times), min(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--programs", nargs="+", default=["ecco://linalg/level1_strided"])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)

    programs = resolve_all(args.programs, cache=EvaluationCache())
    rows = []
    for program in programs:
        size = autophase(program.ir)["TotalInsts"]
        lines = sum(1 for _ in open(program.source)) if program.source else None
        for name, fn in (("autophase", autophase), ("ir_structure", ir_structure)):
            median, fastest = _milliseconds(fn, program.ir, args.repeats)
            rows.append({"program": program.uri, "function": name, "ir_instructions": size, "c_lines": lines,
                         "median_ms": median, "min_ms": fastest, "repeats": args.repeats,
                         "load_1min": os.getloadavg()[0]})
    table = pd.DataFrame(rows)
    write_table(table, output_root() / "results" / "perf" / "features_time.csv")
    print(table.round(2).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
