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
# # 01 · Benchmarks and the -O levels under the paper's metric
# Every benchmark program of the profile at -O0/-O1/-O2/-O3/-Os/-Oz, scored as
# `I_O3 = (C_O3 - C) / C_O3` with llvm-mca cycles (positive = fewer estimated cycles than -O3).

# %% tags=["parameters"]
profile = "default"

# %%
from IPython.display import Image

from ecco_lib.config import load_profile, output_root
from ecco_lib.experiments import (o_level_table, program_inventory, runtime_agreement, status_counts,
                                  suite_scores, write_table)
from ecco_lib.plots import plot_o_levels

cfg = load_profile(profile)
ev = cfg.evaluator()
programs = cfg.programs(cache=ev.cache)

# %% [markdown]
# The programs of this profile, per suite and split.

# %%
program_inventory(programs)

# %%
table = o_level_table(programs, ev, cfg["o_levels"])
write_table(table, output_root() / "results" / "o_levels.csv")
ev.close()

# %% [markdown]
# Outcome of every evaluation: a failure is a status, never a number.

# %%
status_counts(table)

# %% [markdown]
# Mean I_O3 (%) per suite and level; `average` is the paper's headline aggregation (unweighted mean of suites).

# %%
(100 * suite_scores(table)).round(2)

# %% [markdown]
# Per program and suite (last panel: suite means with 95 % bootstrap intervals).

# %%
Image(filename=str(plot_o_levels(table, output_root() / "figures" / "o_levels.png", seed=cfg.seed)))

# %% [markdown]
# Does the metric agree with reality? Spearman correlation, per level, between the estimated cycle
# change and the measured runtime change relative to -O3 (runnable programs, checked builds only).

# %%
runtime_agreement(table)
