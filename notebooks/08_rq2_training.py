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
