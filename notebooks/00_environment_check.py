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
# # 00 · Environment check
# The toolchain, the metric and the action space this run uses, and one evaluation checked
# against running `opt-19 | llc-19 | llvm-mca-19` by hand.

# %% tags=["parameters"]
profile = "default"

# %%
import pandas as pd

from ecco_lib.config import load_profile
from ecco_lib.experiments import action_space_summary, environment_report, sanity_check

cfg = load_profile(profile)

# %% [markdown]
# Toolchain, Python stack and the metric settings recorded with every result row.

# %%
pd.Series(environment_report(cfg), name="value").to_frame()

# %% [markdown]
# The action space: LLVM 19 counterparts of CompilerGym's 124 passes, by category and pass-manager level.

# %%
registry, dropped = action_space_summary()
registry

# %% [markdown]
# CompilerGym passes that LLVM 19 no longer has.

# %%
dropped

# %% [markdown]
# One embedded program under -O0, -O3, -Oz, no passes and a short sequence: every row must be `ok`,
# match the hand-run cycles, and (for runnable programs) print the same checksum as the -O0 build.

# %%
with cfg.evaluator() as ev:
    sanity = sanity_check(ev)
sanity
