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
# # 04 · Supervised fine-tuning of the strategist (paper stage 4, part 1)
# LoRA SFT (trl + peft, loss on the assistant turn only) on each CoT dataset variant of notebook 03,
# with identical budgets (the RQ2 ablations), then greedy answers on held-out embedded test programs:
# how often they parse and name valid passes, and the I_O3 of their sequences, before and after SFT.

# %% tags=["parameters"]
profile = "default"
force = False  # True: retrain even when a finished run with the same inputs exists (`ecco reproduce --force 04`)

# %%
import pandas as pd
import torch
from IPython.display import Image

from ecco_lib.benchmarks import cap_per_suite, resolve
from ecco_lib.config import load_profile, output_root
from ecco_lib.dataset import read_jsonl
from ecco_lib.experiments import write_table
from ecco_lib.plots import plot_training_curves
from ecco_lib.strategist import evaluate_strategist, resolve_model, summarize_outputs
from ecco_lib.train import SFTSettings, sft_jobs, train_sft_jobs

cfg = load_profile(profile)
tr = cfg["training"]
torch.set_num_threads(tr["torch_threads"])
results, models = output_root() / "results" / "training", output_root() / "results" / "models"
base = resolve_model(tr["model"])
ev = cfg.evaluator(check=False)
held_out = cap_per_suite(resolve("ecco://", split="test", cache=ev.cache), tr["eval_per_suite"])
settings = SFTSettings.from_profile(tr["sft"])
jobs = sft_jobs(tr["model"], tr["variants"], tr["size_models"])
generation = dict(max_new_tokens=tr["max_new_tokens"], batch_size=tr["generation_batch_size"], engine=tr["engine"],
                  gguf_type=tr["gguf_type"])
[p.uri for p in held_out]

# %% [markdown]
# The base model before any training (scored against the full response format).

# %%
outputs = {"base": evaluate_strategist(base, None, held_out, ev, variant="full", **generation)}
summarize_outputs(outputs["base"], tr["max_new_tokens"])

# %% [markdown]
# One SFT run per dataset variant (and per extra model size, on the full variant), same settings and budget.

# %%
samples = {j.name: read_jsonl(output_root() / "results" / "dataset" / f"cot_{j.variant}.jsonl") for j in jobs}
runs = train_sft_jobs(jobs, samples, settings, models, workers=tr["sft_workers"], threads=tr["sft_threads"],
                      force=force)
log = pd.concat([runs[j.name].log.assign(run=j.name, variant=j.variant) for j in jobs], ignore_index=True)
write_table(log, results / "sft_log.csv")
sft_runs = pd.DataFrame([{"run": v, "seconds": r.seconds, "seconds_per_step": r.seconds_per_step, "reused": r.reused}
                         for v, r in runs.items()])
write_table(sft_runs, results / "sft_runs.csv")
sft_runs

# %% [markdown]
# Training loss per variant.

# %%
Image(filename=str(plot_training_curves(log, {"loss": "SFT loss"}, output_root() / "figures" / "sft_loss.png",
                                        hue="run")))

# %% [markdown]
# Greedy answers of each SFT model on the held-out programs (each scored against its own variant's format).

# %%
for j in jobs:
    outputs[j.name] = evaluate_strategist(j.model, runs[j.name].adapter_dir, held_out, ev, variant=j.variant,
                                          **generation)
rows = pd.concat([t.assign(stage=stage) for stage, t in outputs.items()], ignore_index=True)
write_table(rows, results / "eval_sft.csv")
pd.DataFrame({stage: summarize_outputs(t, tr["max_new_tokens"]) for stage, t in outputs.items()}).T

# %% [markdown]
# One answer of the full-variant model.

# %%
print(outputs[jobs[0].name]["text"].iloc[0])

# %%
ev.close()
