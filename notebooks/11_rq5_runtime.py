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
# # 11 · RQ5 (ours): do the cycle gains run faster?
# llvm-mca scores the module as straight-line code. Here every method's best sequence from RQ1 (no new search) is
# built for this machine and run against the -O3 build: interleaved rounds, pinned to one core, CPU time per run,
# the median speed-up with a bootstrap interval. The -O3 build timed against itself shows the noise.

# %% tags=["parameters"]
profile = "default"

# %%
from IPython.display import Image, Markdown

from ecco_lib.benchmarks import cap_per_suite, resolve_all
from ecco_lib.config import load_profile, output_root
from ecco_lib.experiments import run_methods, write_table
from ecco_lib.plots import plot_runtime
from ecco_lib.runtime import compare_objectives, quiet_core, runtime_summary, time_methods
from ecco_lib.summary import claims_table, write_summary

cfg = load_profile(profile)
root = output_root()
out = root / "results" / "rq5"
ev = cfg.evaluator()
search, rq1, rq5 = cfg["search"], cfg["rq1"], cfg["rq5"]
programs = cap_per_suite(resolve_all(rq1["programs"], cache=ev.cache, split=rq1["split"]), rq1["per_suite"])
results, _ = run_methods(programs, rq1["methods"], budget=search["budget"], seeds=rq1["seeds"], evaluator=ev,
                         settings=search["methods"], results_path=root / "results" / "rq1" / "results.csv",
                         trace_path=root / "results" / "rq1" / "trace.csv")
ev.close()
print(f"{sum(p.runnable for p in programs)} runnable programs, runs pinned to core {quiet_core()}")

# %% [markdown]
# Build and time every best sequence (per program: each method's build and -O3 twice, interleaved).

# %%
runs, builds, table = time_methods(programs, results, rounds=rq5["rounds"], seed=cfg.seed, timeout_s=rq5["timeout_s"])
write_table(runs, out / "runs.csv")
write_table(builds, out / "builds.csv")
write_table(table, out / "speedups.csv")
builds[builds["status"] != "ok"]

# %% [markdown]
# Per method: median speed-up over -O3, faster / same / slower programs, cycle "improvements" that run slower,
# and the rank correlation between I_O3 and the measured speed-up. `-O3 (again)` is the noise.

# %%
summary = runtime_summary(table)
write_table(summary, out / "summary.csv")
summary.round(3)

# %% [markdown]
# Speed-up against I_O3, one point per (method, program): a metric that predicted speed would rise to the right.

# %%
Image(filename=str(plot_runtime(table, root / "figures" / "rq5_runtime.png")))

# %% [markdown]
# What optimizing the real thing gives: `ecco` and `ga` searched again with the measured run time of the checked build
# as the objective (a small budget), their winners re-timed against the cycle-objective winners and -O3.

# %%
ev = cfg.evaluator()
runnable = [p for p in programs if p.runnable]
runtime_results, _ = run_methods(runnable, rq5["search_methods"], budget=rq5["search_budget"], seeds=rq1["seeds"][:1],
                                 evaluator=ev, settings=search["methods"], measure="runtime",
                                 results_path=out / "runtime_search.csv", trace_path=out / "runtime_search_trace.csv")
ev.close()
objectives = compare_objectives(runnable, results, runtime_results, rounds=rq5["rounds"], seed=cfg.seed,
                                timeout_s=rq5["timeout_s"])
write_table(objectives, out / "objectives.csv")
objectives.groupby("label")[["speedup"]].median().join(
    objectives.groupby("label")["verdict"].value_counts().unstack(fill_value=0)).round(3)

# %% [markdown]
# The headline numbers of RQ1–RQ5 as data (`results/summary.json`) and the README's claims table rendered from them.

# %%
summary = write_summary(root)
Markdown(claims_table(summary))
