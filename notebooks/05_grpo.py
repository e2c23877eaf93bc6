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
# # 05 · GRPO with a compiler-measured reward (paper stage 4, part 2)
# Starting from the full-variant SFT adapter, GRPO samples groups of answers for training programs
# and rewards each with a format reward plus `alpha * (C_O3 - C_gen) / C_O3`, measured by the
# evaluation engine. Then the greedy answers on the held-out programs again: base → SFT → GRPO.

# %% tags=["parameters"]
profile = "default"
force = False  # True: retrain even when a finished run with the same inputs exists (`ecco reproduce --force 04`)

# %%
import pandas as pd
from IPython.display import Image

from ecco_lib.benchmarks import cap_per_suite, resolve, spread_over_suites
from ecco_lib.config import load_profile, output_root
from ecco_lib.experiments import write_table
from ecco_lib.plots import plot_stages, plot_training_curves
from ecco_lib.strategist import evaluate_strategist, resolve_model, summarize_outputs
from ecco_lib.train import GRPOSettings, grpo, reward_trend, rewards_per_visit

cfg = load_profile(profile)
tr = cfg["training"]
results, models = output_root() / "results" / "training", output_root() / "results" / "models"
base = resolve_model(tr["model"])
ev = cfg.evaluator(check=False)
variant = tr["variants"][0]
train_programs = spread_over_suites(resolve("ecco://", split="train", cache=ev.cache), tr["grpo_programs"])
held_out = cap_per_suite(resolve("ecco://", split="test", cache=ev.cache), tr["eval_per_suite"])
[p.uri for p in train_programs]

# %%
run = grpo(base, models / f"sft-{variant}" / "adapter", train_programs, ev, GRPOSettings.from_profile(tr["grpo"]),
           models / f"grpo-{variant}", force=force)
write_table(run.log, results / "grpo_log.csv")
write_table(run.completions, results / "grpo_completions.csv")
grpo_run = pd.DataFrame([{"run": f"grpo-{variant}", "seconds": run.seconds, "seconds_per_step": run.seconds_per_step,
                          "reused": run.reused}])
write_table(grpo_run, results / "grpo_run.csv")
grpo_run

# %% [markdown]
# Every reward component per step (trl's group means): format, cycles, and their sum.

# %%
Image(filename=str(plot_training_curves(
    run.log, {"reward": "total reward", "rewards/format_reward/mean": "format reward",
              "rewards/cycle_reward/mean": "cycle reward"}, output_root() / "figures" / "grpo_reward.png")))

# %% [markdown]
# Each program's reward at each visit (the steps that sampled it): a program compared with itself.

# %%
visits = rewards_per_visit(run.completions)
Image(filename=str(plot_training_curves(
    visits, {"reward": "total reward", "format_reward": "format reward", "cycle_reward": "cycle reward"},
    output_root() / "figures" / "grpo_reward_per_program.png", hue="program", x="visit", xlabel="visit")))

# %% [markdown]
# Did the reward go up over the run? Per step (first vs second half, least-squares slope), and per program:
# its reward at its last visit minus at its first.

# %%
reward_trend(run.completions)

# %% [markdown]
# What the sampled completions were: statuses of their sequences.

# %%
run.completions.groupby("step")["status"].value_counts().unstack(fill_value=0)

# %% [markdown]
# Greedy answers on the held-out programs: before SFT, after SFT, after GRPO.

# %%
after = evaluate_strategist(base, run.adapter_dir, held_out, ev, variant=variant,
                            max_new_tokens=tr["max_new_tokens"], batch_size=tr["generation_batch_size"],
                            engine=tr["engine"], gguf_type=tr["gguf_type"])
earlier = pd.read_csv(results / "eval_sft.csv")
rows = pd.concat([earlier[earlier["stage"].isin(["base", f"sft-{variant}"])], after.assign(stage=f"grpo-{variant}")],
                 ignore_index=True)
write_table(rows, results / "eval_grpo.csv")
stages = pd.DataFrame({stage: summarize_outputs(t, tr["max_new_tokens"])
                       for stage, t in rows.groupby("stage", sort=False)}).T
stages

# %% [markdown]
# The same as a figure: answer-quality rates and mean I_O3 per stage.

# %%
Image(filename=str(plot_stages(stages, output_root() / "figures" / "strategist_stages.png")))

# %%
ev.close()
