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
# # 10 · RQ4: is the strategist's reasoning faithful to what the compiler does?
# The paper asked five LLM judges. Here every claim an answer makes about its own passes — the effect of a pass,
# its importance, which pass it enables — is checked against the evidence measured by running that answer's
# sequence on its program, beside the same claims attached to random passes of the sequence (chance) and the
# evidence teacher's own text for `ecco`'s final sequences (a reference the check must score fully supported).

# %% tags=["parameters"]
profile = "default"

# %%
from IPython.display import Image, Markdown

from ecco_lib.benchmarks import cap_per_suite, resolve_all
from ecco_lib.config import load_profile, output_root
from ecco_lib.experiments import run_methods, write_table
from ecco_lib.faithfulness.judges import agreement, judges_from_profile
from ecco_lib.faithfulness.review import answers_to_review, evidence_verdicts, judge_all, rates_table, review
from ecco_lib.plots import plot_faithfulness
from ecco_lib.teachers import EvidenceTeacher

cfg = load_profile(profile)
root = output_root()
out = root / "results" / "rq4"
ev = cfg.evaluator(check=False)
rq1 = cfg["rq1"]
programs = {p.uri: p for p in cap_per_suite(resolve_all(rq1["programs"], cache=ev.cache, split=rq1["split"]),
                                            rq1["per_suite"])}
cells, _ = run_methods(list(programs.values()), ["ecco"], budget=cfg["search"]["budget"], seeds=rq1["seeds"],
                       evaluator=ev, settings=cfg["search"]["methods"],
                       results_path=root / "results" / "inference" / "results.csv",
                       trace_path=root / "results" / "inference" / "trace.csv")  # notebook 06's cells
answers = answers_to_review(root, cells)
answers = answers[answers["program"].isin(programs)].reset_index(drop=True)
answers.groupby("source", sort=False).size().rename("answers")

# %% [markdown]
# Every answer parsed into claims and checked (per answer, then per claim with the measurement that decided it).

# %%
teacher = EvidenceTeacher(seed=cfg.seed, concise=cfg["dataset"]["teacher"].get("concise", False))
best = cells[cells["sequence"].notna()]
references = {r.program: r.sequence.split(",") for r in best.itertuples() if r.program in programs}
measured = {}  # (program, sequence) -> evidence, shared with the judges below
per_answer, claims = review(answers, programs, ev, seed=cfg.seed, chance_draws=cfg["rq4"]["chance_draws"],
                            teacher=teacher, references=references, measured=measured)
write_table(per_answer, out / "answers.csv")
write_table(claims, out / "claims.csv")
per_answer.groupby(["source", "parse", "evidence"]).size().rename("answers").reset_index()

# %% [markdown]
# Per source: claims, verdicts, the supported share of checkable claims (95 % bootstrap interval over answers),
# chance, and the share of reasoning the parser could not read (reported, not dropped).

# %%
rates = rates_table(per_answer, seed=cfg.seed)
write_table(rates, out / "rates.csv")
display(rates.round(3))
Image(filename=str(plot_faithfulness(rates[rates["claims"] > 0], root / "figures" / "rq4_faithfulness.png")))

# %% [markdown]
# One of `ecco`'s answers claim by claim, with the measurement that decided each.

# %%
shown = claims[claims["source"] == "ecco"]
shown[shown["answer"] == shown["answer"].min()][["pass", "kind", "value", "text", "verdict", "measurement"]] \
    if len(shown) else Markdown("No `ecco` answer made a checkable claim.")

# %% [markdown]
# LLM judges (`rq4.judges` in the profile): each judge reads an answer beside the measured evidence.

# %%
specs = judges_from_profile(cfg["rq4"]["judges"])
if specs:
    judgements = judge_all(answers, per_answer, programs, specs, ev, measured)
    write_table(judgements, out / "judgements.csv")
    write_table(agreement(judgements, evidence_verdicts(per_answer)), out / "agreement.csv")
    display(judgements.groupby(["judge", "status"]).size().rename("answers").reset_index())
    display(agreement(judgements, evidence_verdicts(per_answer)))
else:
    display(Markdown("No judge is configured (`rq4.judges` is empty): offline, the evidence check above is the only "
                     "rating, and no judge's verdict is invented."))

