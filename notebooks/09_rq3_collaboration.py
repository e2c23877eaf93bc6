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
# # 09 · RQ3: the strategist with the tactician, against the LLM alone
# Does the GA add to the strategist's answers, and do the final sequences still follow the
# strategist's intents? The cells are the ones notebooks 06 and 07 ran on the test split (same
# budget, same seeds); a finished cell is read back, never recomputed.

# %% tags=["parameters"]
profile = "default"

# %%
import json

from IPython.display import Image, Markdown

from ecco_lib import collaboration
from ecco_lib.atomic import write_json
from ecco_lib.comparison import in_points, method_intervals, paired_against, table1
from ecco_lib.config import load_profile, output_root
from ecco_lib.experiments import best_so_far, status_counts, write_table
from ecco_lib.plots import plot_best_so_far, plot_intent_alignment, plot_paired_differences

cfg = load_profile(profile)
root = output_root()
out, figures = root / "results" / "rq3", root / "figures"
ev = cfg.evaluator()
results, trace = collaboration.rq3_cells(cfg, ev, root)
status_counts(results, by="method")

# %% [markdown]
# Mean I_O3 (%) per suite and the unweighted average, in the paper's layout.

# %%
per_suite = table1(results)
write_table(per_suite.reset_index(), out / "per_suite.csv")
per_suite.round(2)

# %% [markdown]
# Each method's headline with a 95 % bootstrap interval, beside the paper's RQ3 figures (LLVM 10, its suites).

# %%
intervals = method_intervals(results, seed=cfg.seed)
write_table(intervals, out / "headline_intervals.csv")
side = collaboration.beside_paper(intervals)
write_table(side.reset_index(), out / "beside_paper.csv")
side.round(2)

# %% [markdown]
# `ecco` minus each alternative on the same (program, seed) cells: mean paired difference (percentage points),
# bootstrap interval, and `ecco`'s wins / ties / losses.

# %%
paired = paired_against(results, "ecco", seed=cfg.seed)
write_table(paired, out / "paired_ecco.csv")
Image(filename=str(plot_paired_differences(paired.assign(method="ecco - " + paired["baseline"]),
                                           figures / "rq3_paired_ecco.png", baseline="the alternative",
                                           title="ECCO minus the LLM alone and the ablations, same cells")))

# %%
in_points(paired)

# %% [markdown]
# Best I_O3 so far against evaluations spent: where the LLM-alone curves stop, the tactician keeps improving.

# %%
curves = best_so_far(results, trace)
Image(filename=str(plot_best_so_far(curves, figures / "rq3_best_so_far.png")))

# %% [markdown]
# Do the final sequences follow the intents? Total variation distance between the intents and the category mass
# of `ecco`'s final best sequence, against `ga`'s final best for the same intents and a uniform draw (chance).

# %%
alignment = collaboration.intent_alignment(results, "ecco", "ga")
write_table(alignment, out / "intent_alignment.csv")
alignment_summary = collaboration.alignment_summary(alignment, seed=cfg.seed)
write_table(alignment_summary, out / "intent_alignment_summary.csv")
display(alignment_summary.round(3))
Image(filename=str(plot_intent_alignment(alignment, figures / "rq3_intent_alignment.png")))

# %% [markdown]
# Which part found the final best sequence: an LLM answer as it was sampled, or the GA (which starts from the
# answers in `ecco` and `ecco-uniform`).

# %%
found = collaboration.found_by(results, ["ecco", "ecco-uniform"])
write_table(found, out / "found_by.csv")
found

# %% [markdown]
# Worked examples: the cells where `ecco` gained most over `ga`, with the intents, the reasoning of the answer
# that led, and the final sequence's category mass.

# %%
examples = collaboration.worked_examples(results, "ecco", "ga", count=cfg["rq3"]["examples"])
write_json(out / "worked_examples.json", examples)
for example in examples:
    display(Markdown(f"**{example['program']}** (seed {example['seed']}): ecco {100 * example['i_o3_ecco']:.2f} % vs "
                     f"ga {100 * (example['i_o3_ga'] or 0):.2f} %, found by {example['found_by']}  \n"
                     f"intents: {json.dumps(example['intents'])}  \nfinal sequence: `{example['sequence']}`  \n"
                     f"category mass: {json.dumps({k: round(v, 2) for k, v in example['category_mass'].items()})}"))
    print(example["reasoning"])

