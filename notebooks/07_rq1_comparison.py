# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 07 · RQ1: ECCO against every baseline of the paper's Table 1, at one budget
# Every method searches the same embedded **test** programs, over the same pass space, under the
# same metric, with the same number of distinct evaluations per program (failed, cached and LLM
# answers included). Learned baselines trained offline on the train split only; their offline cost
# is reported apart, never mixed into the budget.

# %% tags=["parameters"]
profile = "default"

# %%
import pandas as pd
from IPython.display import Image

from ecco_lib.benchmarks import cap_per_suite, resolve_all
from ecco_lib.comparison import (beside_paper, budget_audit, cost_table, in_points, method_intervals,
                                 paired_against, sample_efficiency, table1)
from ecco_lib.config import load_profile, output_root
from ecco_lib.experiments import best_so_far, run_methods, status_counts, write_table
from ecco_lib.plots import plot_best_so_far, plot_method_intervals, plot_paired_differences
from ecco_lib.search import describe_methods

cfg = load_profile(profile)
search, rq1 = cfg["search"], cfg["rq1"]
out, figures = output_root() / "results" / "rq1", output_root() / "figures"
ev = cfg.evaluator()
methods = pd.DataFrame(describe_methods(search["methods"])).set_index("method").loc[rq1["methods"]]
methods[["source", "learns_offline", "description"]]

# %% [markdown]
# Every method on every test program and seed (resumable: a finished cell is never recomputed).

# %%
programs = cap_per_suite(resolve_all(rq1["programs"], cache=ev.cache, split=rq1["split"]), rq1["per_suite"])
results, trace = run_methods(programs, rq1["methods"], budget=search["budget"], seeds=rq1["seeds"], evaluator=ev,
                             settings=search["methods"], results_path=out / "results.csv",
                             trace_path=out / "trace.csv")
print(f"{len(programs)} programs x {len(rq1['seeds'])} seeds x {len(rq1['methods'])} methods, budget {search['budget']}")
status_counts(results, by="method")

# %% [markdown]
# The equal-budget checks per method: no cell over its budget, every counted evaluation a distinct sequence in the
# trace, no evaluation outside the search space (all three must be 0); cells that found nothing valid and evaluations
# that failed are counted, never fatal.

# %%
audit = budget_audit(results, trace)
write_table(audit.reset_index(), out / "budget_audit.csv")
audit

# %% [markdown]
# Table 1 in the paper's layout: mean I_O3 (%) per suite (our suite, the paper's it mirrors), and the unweighted average.

# %%
ours = table1(results)
write_table(ours.reset_index(), out / "table1.csv")
ours.round(2)

# %% [markdown]
# Our average beside the paper's (LLVM 10 and its CompilerGym suites: a reference, not a target), with both rankings.

# %%
side = beside_paper(ours)
write_table(side.reset_index(), out / "table1_vs_paper.csv")
side.round(2)

# %% [markdown]
# Each method's headline with a 95 % bootstrap interval (programs resampled within suites).

# %%
intervals = method_intervals(results, seed=cfg.seed)
write_table(intervals, out / "headline_intervals.csv")
Image(filename=str(plot_method_intervals(intervals, figures / "rq1_headline.png",
                                         title=f"test split, {len(programs)} programs, seeds {rq1['seeds']}")))

# %% [markdown]
# ECCO against each baseline on the same (program, seed) cells: mean paired difference (percentage
# points), stratified bootstrap interval, and ECCO's wins / ties / losses.

# %%
paired = paired_against(results, "ecco", seed=cfg.seed)
write_table(paired, out / "paired_ecco.csv")
Image(filename=str(plot_paired_differences(paired.assign(method="ecco - " + paired["baseline"]),
                                           figures / "rq1_paired_ecco.png", baseline="the baseline",
                                           title="ECCO minus each baseline, same cells")))

# %%
in_points(paired)

# %% [markdown]
# Sample efficiency: the best I_O3 found so far against evaluations spent (mean over cells, 95 % band) ...

# %%
curves = best_so_far(results, trace)
Image(filename=str(plot_best_so_far(curves, figures / "rq1_best_so_far.png")))

# %% [markdown]
# ... and read off after a few budgets (headline I_O3 %, a search that stopped early keeps its best).

# %%
efficiency = sample_efficiency(curves, rq1["efficiency_at"])
write_table(efficiency.reset_index(), out / "sample_efficiency.csv")
efficiency.round(2)

# %% [markdown]
# What each method cost in this run: evaluations, wall seconds per search, seconds outside the compiler
# (per search and per evaluation), LLM generation, the offline training cost of the learned methods, and the
# share of evaluations served from the cache (cold-cache costs: `perf/search_time.py`, `perf/optimize_time.py`).

# %%
costs = cost_table(results, trace)
write_table(costs.reset_index(), out / "cost.csv")
costs.round(3)
