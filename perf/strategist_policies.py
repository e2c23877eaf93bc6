"""Issue 11's policy comparison for several strategists: each one's Best-of-N (``ecco-no-ga``)
against ``rio``, ``prior-top-n`` and ``knn`` at the same N evaluations, on the embedded test split
and on held-out csmith programs (the validation split), with the generation cost per program.

    python perf/strategist_policies.py [--profile default] [--strategists chosen sft-no-reasoning]
                                       [--validation 7] [--n 8]

A strategist is ``chosen`` (notebook 06's adapter), ``base`` or a run under ``results/models/``
(``make reproduce`` trains ``sft-full``, ``sft-no-evidence``, ``sft-no-reasoning``, ``grpo-full``).
Cells go to ``results/perf/strategist_policies/`` (resumable, like every ``run_methods`` table);
the paired table, one row per (strategist, split, policy) with the strategist's median generation
seconds and new tokens per program (0 s where the answers came from the sample cache), to
``results/perf/strategist_policies.csv``. Run it on an otherwise idle machine after ``make
reproduce``; it never touches what the notebooks write.
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from ecco_lib import training_ablation as rq2
from ecco_lib.config import load_profile, output_root
from ecco_lib.experiments import write_table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--strategists", nargs="+", default=[rq2.CHOSEN])
    parser.add_argument("--validation", type=int, default=7, help="held-out csmith programs (0: test split only)")
    parser.add_argument("--n", type=int, default=None, help="answers per program (default: the profile's rq2.policy_n)")
    args = parser.parse_args(argv)
    profile = load_profile(args.profile)
    n = args.n or profile["rq2"]["policy_n"][0]
    root = output_root()
    out = root / "results" / "perf" / "strategist_policies"
    tables = []
    with profile.evaluator() as ev:
        splits = {"test": None}
        if args.validation:
            splits["validation"] = rq2.validation_split(profile, ev, args.validation)
        for strategist in args.strategists:
            for split, programs in splits.items():
                cells, _ = rq2.policy_cells(profile, ev, root, n, programs=programs, split=split,
                                            strategist=strategist, out=out)
                cost = rq2.generation_cost(cells)
                table = rq2.policy_table(cells, seed=profile.seed).assign(
                    strategist=strategist, split=split, n=n, programs=cells["program"].nunique(),
                    generation_s=cost["generation_seconds"].median(), new_tokens=cost["new_tokens"].median())
                tables.append(table)
                print(table.round(2).to_string(index=False), flush=True)
    table = pd.concat(tables, ignore_index=True)
    first = ["strategist", "split", "n", "programs"]
    write_table(table[first + [c for c in table.columns if c not in first]],
                root / "results" / "perf" / "strategist_policies.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
