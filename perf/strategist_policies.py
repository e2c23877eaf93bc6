"""Issue 11's policy comparison for several strategists: each one's Best-of-N (``ecco-no-ga``)
against ``rio``, ``prior-top-n`` and ``knn`` at the same N evaluations, on the embedded test split
and on held-out csmith programs (the validation split), with the generation cost per program.

    python perf/strategist_policies.py [--profile default] [--strategists chosen sft-no-reasoning]
                                       [--validation 7] [--n 8] [--with-ga chosen sft-no-reasoning]

A strategist is ``chosen`` (notebook 06's adapter), ``base`` or a run under ``results/models/``
(``make reproduce`` trains ``sft-full``, ``sft-no-evidence``, ``sft-no-reasoning``, ``sft-brief``, ``grpo-full``).
Cells go to ``results/perf/strategist_policies/`` (resumable, like every ``run_methods`` table);
the paired table, one row per (strategist, engine, split, policy) with the strategist's median
generation seconds and new tokens per program (0 s where the answers came from the sample cache), to
``results/perf/strategist_policies.csv``, keeping the rows of strategists and engines this run did
not measure (``chosen`` is written as the run it resolved to). Run it on an otherwise idle machine after ``make
reproduce``; it never touches what the notebooks write. ``--with-ga S...`` also runs ``ecco`` (the
GA steered by each strategist S) at the profile's search budget on the same programs and seeds, and
writes each one's mean I_O3 and its paired difference against the first S to
``results/perf/strategist_with_ga.csv``.
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
    parser.add_argument("--with-ga", nargs="+", default=[], metavar="S",
                        help="strategists (of --strategists) to also run ecco with at the search budget")
    args = parser.parse_args(argv)
    profile = load_profile(args.profile)
    n = args.n or profile["rq2"]["policy_n"][0]
    root = output_root()
    out = root / "results" / "perf" / "strategist_policies"
    tables, searches = [], []
    engine = profile["search"]["methods"]["ecco"].get("engine", "transformers")
    chosen = rq2.chosen_strategist(root) if rq2.CHOSEN in args.strategists else None

    def name(strategist: str) -> str:  # the run notebook 06 chose, not "chosen": it changes between runs
        return chosen if strategist == rq2.CHOSEN else strategist

    with profile.evaluator() as ev:
        splits = {"test": rq2.rq1_programs(profile, ev)}
        if args.validation:
            splits["validation"] = rq2.validation_split(profile, ev, args.validation)
        for strategist in args.strategists:
            for split, programs in splits.items():
                cells, _ = rq2.policy_cells(profile, ev, root, n, programs=programs, split=split,
                                            strategist=strategist, out=out)
                cost = rq2.generation_cost(cells)
                table = rq2.policy_table(cells, seed=profile.seed).assign(
                    strategist=name(strategist), engine=engine, split=split, n=n, programs=cells["program"].nunique(),
                    generation_s=cost["generation_seconds"].median(), new_tokens=cost["new_tokens"].median())
                tables.append(table)
                print(table.round(2).to_string(index=False), flush=True)
                if strategist in args.with_ga:
                    searches.append(with_ga(profile, ev, out, programs, strategist, split).assign(split=split))
    table = keep_other_rows(pd.concat(tables, ignore_index=True), root / "results" / "perf" / "strategist_policies.csv")
    first = ["strategist", "engine", "split", "n", "programs"]
    write_table(table[first + [c for c in table.columns if c not in first]],
                root / "results" / "perf" / "strategist_policies.csv")
    if searches:
        write_table(ga_table(pd.concat(searches, ignore_index=True), args.with_ga[0], profile.seed),
                    root / "results" / "perf" / "strategist_with_ga.csv")
    return 0


def keep_other_rows(table: pd.DataFrame, path) -> pd.DataFrame:
    """``table`` after the rows of ``path`` (an earlier run's table) for every (strategist, engine,
    split, n) this run did not measure: runs of other strategists or engines accumulate."""
    if not path.is_file():
        return table
    old = pd.read_csv(path)
    key = ["strategist", "engine", "split", "n"]
    measured = set(map(tuple, table[key].astype(str).values))
    old = old[[tuple(k) not in measured for k in old[key].astype(str).values]]
    return pd.concat([old, table], ignore_index=True)


def with_ga(profile, evaluator, out, programs, strategist: str, split: str) -> pd.DataFrame:
    """``ecco`` steered by ``strategist`` at the search budget on ``programs`` and RQ1's seeds
    (``<out>/<split>_<strategist>_ecco.csv``, resumable); ``method`` renamed ``ecco[<strategist>]``."""
    from ecco_lib.experiments import run_methods

    results, _ = run_methods(programs, ["ecco"], budget=profile["search"]["budget"], seeds=profile["rq1"]["seeds"],
                             evaluator=evaluator, settings=rq2.strategist_settings(profile, strategist),
                             results_path=out / f"{split}_{strategist}_ecco.csv",
                             trace_path=out / f"{split}_{strategist}_ecco_trace.csv")
    return results.assign(method=f"ecco[{strategist}]")


def ga_table(results: pd.DataFrame, reference: str, seed: int) -> pd.DataFrame:
    """Per split and strategist: mean I_O3 (%) of ``ecco`` and its paired difference (pp) against
    ``ecco`` steered by ``reference``."""
    from ecco_lib.comparison import paired_against

    rows = []
    for split, group in results.groupby("split", sort=False):
        means = group.assign(i_o3=group["i_o3"].fillna(0.0)).groupby("method")["i_o3"].mean().mul(100)
        for method, mean in means.items():
            row = {"split": split, "strategist": method[5:-1], "budget": int(group["budget"].iloc[0]),
                   "programs": group["program"].nunique(), "ecco (%)": mean}
            if method != f"ecco[{reference}]":
                paired = paired_against(group, method, baselines=[f"ecco[{reference}]"], seed=seed).iloc[0]
                row.update({"minus reference (pp)": 100 * paired["mean_difference"],
                            "ci_low": 100 * paired["ci_low"], "ci_high": 100 * paired["ci_high"],
                            **{k: paired[k] for k in ("wins", "ties", "losses")}})
            rows.append(row)
    return pd.DataFrame(rows)


if __name__ == "__main__":
    sys.exit(main())
