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
# # 08 · RQ2: what evidence-driven training contributes to the strategist
# The base model and every trained strategist (SFT on the full / no-evidence / no-reasoning variants, GRPO)
# in three decoding modes on the test split: one greedy answer (from notebooks 04 and 05), Best-of-N answers
# alone (`ecco-no-ga`) and with the GA (`ecco`), at the search budget and seeds. The profile's
# `rq2.strategists` says which strategists run the two search modes.

# %% tags=["parameters"]
profile = "default"

# %%
import pandas as pd
from IPython.display import Image

from ecco_lib import training_ablation as rq2
from ecco_lib.config import load_profile, output_root
from ecco_lib.experiments import status_counts, write_table
from ecco_lib.plots import plot_strategist_modes

cfg = load_profile(profile)
root = output_root()
out = root / "results" / "rq2"
ev = cfg.evaluator()
greedy = rq2.greedy_answers(root)
cells = rq2.search_cells(cfg, ev, root, cfg["rq2"]["strategists"])
status_counts(cells.assign(method=cells["strategist"] + " " + cells["method"]), by="method")

# %% [markdown]
# Per strategist and mode: programs, format validity, mean I_O3 with a 95 % bootstrap interval over programs
# (an answer or search without a valid sequence counts 0).

# %%
modes = rq2.mode_table(greedy, cells, seed=cfg.seed)
write_table(modes, out / "modes.csv")
modes.assign(**{c: 100 * modes[c] for c in ("mean_i_o3", "ci_low", "ci_high")}).round(2)

# %% [markdown]
# The same, one panel per decoding mode.

# %%
Image(filename=str(plot_strategist_modes(modes, root / "figures" / "rq2_modes.png")))

# %% [markdown]
# Beside the paper's RQ2 figures (its 1.5B / 3B / 7B Qwen2.5 students, LLVM 10): a reference, not a target.

# %%
side = rq2.beside_paper(modes, cfg['training']['model'])
write_table(side, out / "beside_paper.csv")
side.round(2)

# %% [markdown]
# The chosen strategist as a policy: its Best-of-N answers alone against N random sequences (`rio`), the N most
# common training core sequences (`prior-top-n`) and the nearest training programs' best sequences (`knn`), all
# at N evaluations on the same cells, on the test split and (`rq2.validation` > 0) on held-out generated programs.
# If it cannot beat `knn`, it has learned nothing program-specific.

# %%
splits = {"test": None}
if cfg["rq2"]["validation"]:
    splits["validation"] = rq2.validation_split(cfg, ev, cfg["rq2"]["validation"])
policies = []
for split, split_programs in splits.items():
    for n in cfg["rq2"]["policy_n"]:
        cells_n, _ = rq2.policy_cells(cfg, ev, root, n, programs=split_programs, split=split)
        policies.append(rq2.policy_table(cells_n, seed=cfg.seed).assign(split=split, n=n))
policies = pd.concat(policies, ignore_index=True)
write_table(policies, root / "results" / "strategist" / "policy_table.csv")
policies.round(2)

# %% [markdown]
# What the answers cost per program (seconds of generation; 0 when they came from the cache) beside the compile
# seconds of the same cell.

# %%
cost = rq2.generation_cost(rq2.policy_cells(cfg, ev, root, cfg["rq2"]["policy_n"][0])[0])
write_table(cost, root / "results" / "strategist" / "generation_cost.csv")
cost.describe().round(2)
