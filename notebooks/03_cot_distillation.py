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
# # 03 · Chain-of-thought distillation (paper stage 3)
# A teacher sees the privileged evidence of notebook 02 but writes its reasoning as a prediction
# from the program's static features: features → which passes will matter and why → intents →
# sequence. Three dataset variants for the RQ2 ablations: full, without evidence, without reasoning.

# %% tags=["parameters"]
profile = "default"

# %%
from IPython.display import Image, Markdown

from ecco_lib.config import load_profile, output_root
from ecco_lib.dataset import build_samples, datasheet, plot_datasheet, write_jsonl
from ecco_lib.evidence import load_evidence
from ecco_lib.response import VARIANTS, parse_response
from ecco_lib.teachers import make_teacher

cfg = load_profile(profile)
ds = cfg["dataset"]
out = output_root() / "results" / "dataset"
evidences = load_evidence(out / "evidence")
teacher = make_teacher(ds["teacher"], seed=cfg.seed)
len(evidences), teacher.name

# %%
datasets = {variant: build_samples(evidences, teacher, variant) for variant in ds["variants"]}
for variant, samples in datasets.items():
    write_jsonl(samples, out / f"cot_{variant}.jsonl")
{variant: len(samples) for variant, samples in datasets.items()}

# %% [markdown]
# One sample of the full variant: the user prompt (static features only) and the teacher's response.

# %%
sample = datasets[ds["variants"][0]][0]
Markdown(f"**{sample['program']}**\n\n```\n{sample['messages'][1]['content']}\n```\n\n```\n{sample['messages'][2]['content']}\n```")

# %% [markdown]
# Every response parses with the one parser and round-trips exactly.

# %%
for variant, samples in datasets.items():
    for s in samples:
        parsed = parse_response(s["messages"][-1]["content"], require=VARIANTS[variant])
        assert parse_response(parsed.render(), require=VARIANTS[variant]) == parsed
"all responses parse and round-trip"

# %% [markdown]
# Datasheet: counts, lengths and the category distribution of the distilled sequences.

# %%
sheet = datasheet([s for samples in datasets.values() for s in samples])
sheet

# %%
Image(filename=str(plot_datasheet(datasets[ds["variants"][0]], output_root() / "figures" / "datasheet.png")))
