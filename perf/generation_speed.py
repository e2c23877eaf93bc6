"""Strategist generation cost against the compiler: N sampled answers per program (tokens/s,
seconds) beside 100 compiler evaluations of the same program (issue 11's target: the answers take
less wall time than the evaluations).

    python perf/generation_speed.py [--profile default] [--n 8] [--threads 2] [--per-suite 1] [--budget 100]
                                    [--dtype float32|bfloat16]

The strategist is ``ecco``'s (``search.methods.ecco``: model, adapter, temperature, top-p,
max_new_tokens, batch size), sampled without any cache; the evaluations are ``rio`` at
``--budget`` on a fresh cache (every one compiled) with the profile's workers, after the
generation (never beside it). ``--dtype bfloat16`` casts the loaded (adapter-merged) weights to
bfloat16 before generating, a measurement only: the pipeline generates in float32. One row per
program; the medians are printed and everything is written to ``results/perf/generation_speed.csv``
(float32) or ``generation_speed_<dtype>.csv``. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import pandas as pd
import torch

from ecco_lib.benchmarks import cap_per_suite, resolve_all
from ecco_lib.config import load_profile, output_root
from ecco_lib.experiments import write_table
from ecco_lib.search import Objective, make_optimizer
from ecco_lib.strategist import Strategist, use_threads
from ecco_lib.tactician import resolve_adapter


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--n", type=int, default=None, help="answers per program (default: the profile's ecco n)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: the profile's)")
    parser.add_argument("--per-suite", type=int, default=1)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32",
                        help="weights' dtype during generation (default: float32, as in the pipeline)")
    args = parser.parse_args(argv)
    profile = load_profile(args.profile)
    cfg = profile["search"]["methods"]["ecco"]
    n, threads = args.n or cfg["n"], args.threads or cfg["torch_threads"]
    adapter = resolve_adapter(cfg["adapter"])
    strategist = Strategist.from_pretrained(cfg["model"], adapter, max_new_tokens=cfg["max_new_tokens"])
    strategist.model.to(getattr(torch, args.dtype))

    rows = []
    with tempfile.TemporaryDirectory(prefix="ecco-perf-") as tmp, \
            profile.evaluator(cache=tmp, check=False, progress=False) as ev:
        programs = cap_per_suite(resolve_all(["ecco://"], cache=ev.cache, split="test"), args.per_suite)
        rio, _ = make_optimizer("rio", profile["search"]["methods"])
        for program in programs:
            with use_threads(threads):
                start = time.perf_counter()
                samples = strategist.sample([program], n=n, temperature=cfg["temperature"], top_p=cfg["top_p"],
                                            seed=0, batch_size=cfg["batch_size"])[0]
                generation = time.perf_counter() - start
            tokens = sum(s.new_tokens for s in samples)
            start = time.perf_counter()
            result = rio.optimize(program, Objective(program, ev, args.budget), seed=0)
            compiling = time.perf_counter() - start
            rows.append({"program": program.uri, "answers": n, "new_tokens": tokens, "torch_threads": threads,
                         "generation_s": generation, "tokens_per_s": tokens / generation,
                         "evaluations": result.evaluations, "evaluations_s": compiling,
                         "ratio": generation / compiling, "adapter": str(adapter.name if adapter else None),
                         "dtype": args.dtype,
                         "load_1min": os.getloadavg()[0]})
            print(f"{program.uri}: {n} answers {generation:.1f} s ({tokens / generation:.0f} tokens/s), "
                  f"{result.evaluations} evaluations {compiling:.1f} s", flush=True)
    table = pd.DataFrame(rows)
    name = "generation_speed.csv" if args.dtype == "float32" else f"generation_speed_{args.dtype}.csv"
    write_table(table, output_root() / "results" / "perf" / name)
    print(f"\nmedian over {len(table)} programs: {n} answers {table['generation_s'].median():.1f} s, "
          f"{args.budget} evaluations {table['evaluations_s'].median():.1f} s, ratio {table['ratio'].median():.2f} "
          f"(target < 1), {table['tokens_per_s'].median():.0f} tokens/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
