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
# # 06 · GA collaboration (paper stage 5): the strategist's intents steer the GA tactician
# The trained strategist reads a program's static features and answers N times (Best-of-N); the
# valid answers are evaluated, the best ones seed the GA, and the GA mutates by sampling passes
# from Eq. 4 with the answers' intents and the efficacy prior. Every evaluation, LLM answers
# included, counts toward one budget per program.

# %% tags=["parameters"]
profile = "default"

# %%
import json

import pandas as pd
from IPython.display import Image

from ecco_lib.benchmarks import cap_per_suite, resolve, resolve_all
from ecco_lib.config import load_profile, output_root
from ecco_lib.experiments import (best_so_far, paired_differences, run_methods, settings_sweep, suite_scores,
                                  sweep_summary, write_table)
from ecco_lib.plots import plot_best_so_far, plot_paired_differences, plot_pass_distribution
from ecco_lib.search import IntentGuidedSampler, Objective, make_optimizer
from ecco_lib.strategist import program_features
from ecco_lib.tactician import choose_adapter, compare_intent_rules

cfg = load_profile(profile)
search, inf = cfg["search"], cfg["inference"]
out, figures = output_root() / "results" / "inference", output_root() / "figures"
ev = cfg.evaluator()
ecco, ecco_settings = make_optimizer("ecco", search["methods"])
ga, _ = make_optimizer("ga", search["methods"])
pd.DataFrame([ecco_settings]).T.rename(columns={0: "ecco setting"})

# %% [markdown]
# Which trained strategist `ecco` uses, chosen on the **train** split as `ecco` uses it: each candidate's Best-of-N
# (mean I_O3, nothing valid = 0) and cost (median new tokens per program); the cheapest wins unless a costlier one
# beats it with its whole paired 95 % interval above 0 (`minus_choice`, pp; written to `results/models/strategist.json`).

# %%
tune = inf["tuning"]
train = cap_per_suite(resolve_all(tune["programs"], cache=ev.cache, split=tune["split"]), tune["per_suite"])
choice = choose_adapter(train, ev, settings=search["methods"], seeds=tune["seeds"], seed=cfg.seed,
                        results_path=out / "adapter_choice_cells.csv", trace_path=out / "adapter_choice_trace.csv")
write_table(choice, out / "adapter_choice.csv")
choice.drop(columns=["adapter"]).round(3)

# %% [markdown]
# The settings above were chosen on the **train** split: each variant changes one setting of `ecco`, all at the
# same budget and seeds as the baselines (`inference.tuning.baselines`); mean I_O3 and the paired difference against
# `ga` (bootstrap interval).

# %%
sweep, sweep_trace = settings_sweep(train, "ecco", tune["variants"], budget=search["budget"], seeds=tune["seeds"],
                                    evaluator=ev, settings=search["methods"], baselines=tune["baselines"],
                                    results_path=out / "tuning_results.csv", trace_path=out / "tuning_trace.csv")
tuning = sweep_summary(sweep, baseline="ga", seed=cfg.seed)
write_table(tuning, out / "tuning_summary.csv")
tuning.assign(**{c: 100 * tuning[c] for c in ("mean_i_o3", "mean_difference", "ci_low", "ci_high")}).round(2)

# %%
Image(filename=str(plot_paired_differences(tuning, figures / "inference_tuning.png",
                                           title=f"train split, {len(train)} programs, seeds {tune['seeds']}")))

# %% [markdown]
# One test program walked through: its static features (what the strategist sees) ...

# %%
program = resolve(inf["walkthrough"], cache=ev.cache)[0]
features = program_features(program)
pd.Series(features).to_frame(program.uri).T

# %% [markdown]
# ... the strategist's N answers, each parsed and evaluated (every valid distinct answer costs one evaluation) ...

# %%
walk = ecco.optimize(program, Objective(program, ev, search["budget"]), cfg.seed)
answers = pd.DataFrame(walk.extra["answers"])
answers.drop(columns=["text"]).assign(text=answers["text"].str.slice(0, 80))

# %% [markdown]
# ... the reasoning of the best-scoring answer and the intents taken from it:

# %%
print(walk.extra["reasoning"])
pd.Series(walk.extra["intents"] or {}, name=f"intents ({walk.extra['intent_rule']})").sort_values(ascending=False)

# %% [markdown]
# The mutation distribution of Eq. 4 with those intents, next to the uniform one (the plain GA's).

# %%
sampler = IntentGuidedSampler(walk.extra["intents"], ecco.prior, ecco.config.eps)
sampler.describe()

# %%
Image(filename=str(plot_pass_distribution(sampler, figures / "inference_eq4_distribution.png")))

# %% [markdown]
# The GA's convergence on this program with and without the strategist (same budget, same seed).

# %%
plain = ga.optimize(program, Objective(program, ev, search["budget"]), cfg.seed)
walk_rows = pd.DataFrame([{**r.as_row(), "status": "ok"} for r in (walk, plain)])
walk_trace = pd.DataFrame([{**t, "method": r.method, "program": r.program, "seed": r.seed, "budget": r.budget}
                           for r in (walk, plain) for t in r.trace])
Image(filename=str(plot_best_so_far(best_so_far(walk_rows, walk_trace), figures / "inference_walkthrough.png",
                                    title=f"{program.uri}, seed {cfg.seed}")))

# %% [markdown]
# The test split: every method at the same budget over the profile's seeds (resumable; cells cached).

# %%
programs = cap_per_suite(resolve_all(inf["programs"], cache=ev.cache, split=inf["split"]), inf["per_suite"])
results, trace = run_methods(programs, inf["methods"], budget=search["budget"], seeds=inf["seeds"], evaluator=ev,
                             settings=search["methods"], results_path=out / "results.csv",
                             trace_path=out / "trace.csv")
results.groupby("method")[["evaluations", "seconds", "compile_seconds", "method_seconds"]].mean().round(2)

# %% [markdown]
# Best-so-far I_O3 against evaluations spent: mean over programs and seeds, 95 % bootstrap band.

# %%
curves = best_so_far(results, trace)
Image(filename=str(plot_best_so_far(curves, figures / "inference_best_so_far.png")))

# %% [markdown]
# Mean I_O3 (%) per suite and method (`average` = unweighted mean of suite means, the paper's headline).

# %%
(100 * suite_scores(results, by="method")).round(2)

# %% [markdown]
# Each method against `ga` on the same (program, seed) cells: mean paired difference of I_O3
# (percentage points), stratified bootstrap interval, wins / ties / losses.

# %%
differences = paired_differences(results, baseline="ga", seed=cfg.seed)
write_table(differences, out / "paired_vs_ga.csv")
differences.assign(**{c: 100 * differences[c] for c in ("mean_difference", "ci_low", "ci_high")}).round(2)

# %% [markdown]
# Which part found the final best sequence of each `ecco` search (an LLM answer or the GA), and
# the intent rule that applied (`best` falls back to `mean` when no answer was valid).

# %%
extras = results[results["method"] == "ecco"]["extra"].map(json.loads)
pd.DataFrame({"found_by": extras.map(lambda e: e.get("found_by")), "intent_rule": extras.map(lambda e: e["intent_rule"]),
              "parsed": extras.map(lambda e: e["parsed"]), "valid_evaluated": extras.map(lambda e: e["valid_evaluated"])}
             ).value_counts().to_frame("searches")

# %% [markdown]
# The other intent rule: `mean` (the mean over parsed answers) against `best` for the same answers —
# how far apart the two Eq. 4 mutation distributions are (total variation; 0 = identical).

# %%
rules = compare_intent_rules(list(extras), ecco.prior, ecco.config.eps)
rules.describe(include="all").round(3)

# %%
ev.close()
