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
# # 02 · Evidence-driven dataset construction (paper stages 1–2)
# Training programs → a GA finds sequences that beat -O3 → Algorithm 1 prunes them to their core
# passes → evidence for every core pass (structural, feature, performance, synergy) → the global
# pass-efficacy prior g(v) the tactician will load.

# %% tags=["parameters"]
profile = "default"

# %%
from IPython.display import Image

from ecco_lib.config import load_profile, output_root
from ecco_lib.corpus import training_programs
from ecco_lib.evidence import (EfficacyPrior, failure_table, process_programs, pruning_table, reevaluate,
                               save_evidence, search_summary, search_table)
from ecco_lib.experiments import write_table
from ecco_lib.plots import plot_prior, plot_pruning, plot_search
from ecco_lib.search import config_from

cfg = load_profile(profile)
ds = cfg["dataset"]
out = output_root() / "results" / "dataset"
ev = cfg.evaluator(check=False)

# %% [markdown]
# The training corpus: the embedded train split plus csmith programs that compile, run in time,
# survive -O3 unchanged and are not duplicates (the embedded test split never enters).

# %%
programs, corpus = training_programs(embedded_train=ds["embedded_train"], generated=ds["generated"], seed=cfg.seed,
                                     evaluator=cfg.evaluator(check=True), limit=ds["train_limit"],
                                     max_ir_instructions=ds["max_ir_instructions"], run_timeout_s=ds["run_timeout_s"])
corpus.summary() if corpus else f"{len(programs)} embedded training programs"

# %% [markdown]
# Search, pruning and evidence for every training program (threads share one process pool and cache).

# %%
outcomes = process_programs(programs, ev, config_from(ds["search"]), seed=cfg.seed,
                            sequences=ds["sequences_per_program"])
table = search_table(outcomes, programs)
prunes = pruning_table(outcomes)
write_table(table, out / "search.csv")
write_table(prunes, out / "pruning.csv")
len(programs), sum(len(o.evidence) for o in outcomes)

# %% [markdown]
# Steps that could not be completed are recorded, never fatal (e.g. an LLVM crash on one sequence).

# %%
failures = failure_table(outcomes)
write_table(failures, out / "failures.csv")
f"{len(failures)} failed steps in {failures['program'].nunique()} of {len(programs)} programs", failures

# %% [markdown]
# Every evidence record is re-evaluated from scratch, without the cache; a record whose cycles do
# not reproduce (opt output that varies from run to run) is dropped before anything uses it.

# %%
with cfg.evaluator(check=False, cache=False) as fresh:
    check = reevaluate([e for o in outcomes for e in o.evidence], {p.uri: p for p in programs}, fresh)
reproducible = set(check.loc[check["matches"], ["program", "core"]].itertuples(index=False, name=None))
for o in outcomes:
    o.evidence = [e for e in o.evidence if (e.program, ",".join(e.core)) in reproducible]
evidences = [e for o in outcomes for e in o.evidence]
save_evidence(outcomes, out / "evidence")
f"{check['matches'].sum()} of {len(check)} core sequences reproduce their cycles exactly", check[~check["matches"]]

# %% [markdown]
# How often, and by how much, the searched sequences beat -O3 and -Oz (fractions; `all` = over programs).

# %%
search_summary(table).round(3)

# %%
Image(filename=str(plot_search(table, output_root() / "figures" / "dataset_search.png")))

# %% [markdown]
# Algorithm 1: lengths before and after pruning (paper: 18.5 → 4.5); cycles never get worse.

# %%
assert (prunes["cycles_after"] <= prunes["cycles_before"]).all()
prunes[["length_before", "length_after", "cycles_before", "cycles_after", "sweeps", "evaluations"]].describe().round(2)

# %%
Image(filename=str(plot_pruning(prunes, output_root() / "figures" / "dataset_pruning.png")))

# %% [markdown]
# Every remaining core pass is needed: removing any one of them makes the cycles worse.

# %%
losses = [p["performance"]["removal_loss"] for e in evidences for p in e.passes]
assert all(loss > 0 for loss in losses)
len(losses), min(losses)

# %% [markdown]
# The global efficacy prior g(v) (mean marginal gain per pass over all evidence) and the star passes.

# %%
prior = EfficacyPrior.from_evidence(evidences)
prior.save(out / "efficacy_prior.json")
prior.star_passes(12).round(4)

# %%
prior.categories.round(4)

# %%
Image(filename=str(plot_prior(prior, output_root() / "figures" / "dataset_prior.png")))

# %%
ev.close()
