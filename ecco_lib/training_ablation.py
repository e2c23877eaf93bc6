"""RQ2 (notebook 08): what evidence-driven training (and model size) contributes to the strategist.

Three decoding modes per strategist (the base model and every trained run), on RQ1's test programs:

- ``greedy``: one greedy answer per program, read from notebooks 04 and 05 (``eval_sft.csv``,
  ``eval_grpo.csv``; nothing is regenerated): format validity and I_O3;
- ``best-of-n``: the ``ecco-no-ga`` method (the strategist's N sampled answers alone);
- ``with-ga``: the ``ecco`` method (the answers seed and steer the GA), same budget and seeds.

The two search modes run through :func:`~ecco_lib.experiments.run_methods`; the strategist notebook
06 chose (``chosen``) reuses notebook 06's cells, the others are written to ``results/rq2/``. In
every mode an answer or a search that yields nothing valid counts 0 (as -O3). Scores are fractions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ecco_lib.errors import EccoError
from ecco_lib.tactician import ADAPTER_CHOICE, NO_ADAPTER

#: The paper's RQ2 figures (I_O3 %, LLVM 10, its suites): greedy answers of the 1.5B student per
#: training variant, and Best-of-32 without the GA per model size (full variant).
PAPER_RQ2 = pd.DataFrame([
    {"mode": "greedy", "strategist": "sft-no-reasoning", "model": "1.5B", "paper (LLVM 10, %)": 1.27},
    {"mode": "greedy", "strategist": "sft-no-evidence", "model": "1.5B", "paper (LLVM 10, %)": 3.52},
    {"mode": "greedy", "strategist": "sft-full", "model": "1.5B", "paper (LLVM 10, %)": 4.38},
    {"mode": "best-of-n", "strategist": "sft-full", "model": "1.5B", "paper (LLVM 10, %)": 19.02},
    {"mode": "best-of-n", "strategist": "sft-full", "model": "3B", "paper (LLVM 10, %)": 19.13},
    {"mode": "best-of-n", "strategist": "sft-full", "model": "7B", "paper (LLVM 10, %)": 19.43},
])
MODES = ("greedy", "best-of-n", "with-ga")
#: Policies the strategist's Best-of-N is measured against at the same number of evaluations N:
#: N random sequences, the N most common training core sequences, the N nearest programs' best.
POLICIES = ("rio", "prior-top-n", "knn")
CHOSEN = "chosen"


def chosen_strategist(root: Path) -> str:
    """The run name notebook 06 chose (``sft-full`` or ``grpo-full``), from its committed table
    ``results/inference/adapter_choice.csv`` (else ``results/models/strategist.json``)."""
    table = root / "results" / "inference" / "adapter_choice.csv"
    if table.is_file():
        choice = pd.read_csv(table)
        chosen = choice.loc[choice["chosen"].astype(bool), "candidate"]
        if len(chosen) == 1:
            return str(chosen.iloc[0])
    path = root / ADAPTER_CHOICE
    if not path.is_file():
        raise EccoError(f"{path} is missing: run notebook 06 first (`ecco reproduce --only 06`)")
    return json.loads(path.read_text())["candidate"]


def greedy_answers(root: Path) -> pd.DataFrame:
    """Notebooks 04/05's greedy answers on the held-out test programs, one row per (strategist,
    program): ``strategist`` (``base``, ``sft-<variant>``, ``grpo-full``), ``parses``, ``status``,
    ``i_o3`` (0 unless the answer evaluated ``ok``)."""
    frames = []
    for name in ("eval_sft.csv", "eval_grpo.csv"):
        path = root / "results" / "training" / name
        if not path.is_file():
            raise EccoError(f"{path} is missing: run notebooks 04 and 05 first")
        frames.append(pd.read_csv(path, keep_default_na=False, na_values=[""]))
    rows = pd.concat(frames, ignore_index=True).drop_duplicates(["stage", "program"], keep="last")
    ok = rows["status"] == "ok"
    return pd.DataFrame({"strategist": rows["stage"], "program": rows["program"], "suite": rows["suite"],
                         "parses": rows["parses"].astype(bool), "status": rows["status"],
                         "i_o3": rows["i_o3"].where(ok).astype(float).fillna(0.0)}).reset_index(drop=True)


def rq1_programs(profile, evaluator) -> list:
    """RQ1's programs (``rq1.programs`` on ``rq1.split``, ``rq1.per_suite`` per suite)."""
    from ecco_lib.benchmarks import cap_per_suite, resolve_all

    rq1 = profile["rq1"]
    return cap_per_suite(resolve_all(rq1["programs"], cache=evaluator.cache, split=rq1["split"]), rq1["per_suite"])


def strategist_settings(profile, strategist: str) -> dict:
    """A copy of the profile's method settings with ``ecco``'s adapter set for ``strategist``:
    ``chosen`` leaves it as the profile has it (notebook 06's choice), ``base`` = no adapter,
    else a run name under ``results/models/``."""
    settings = {m: dict(s) for m, s in profile["search"]["methods"].items()}
    if strategist != CHOSEN:
        settings["ecco"]["adapter"] = NO_ADAPTER if strategist == "base" else strategist
    return settings


def search_cells(profile, evaluator, root: Path, strategists: Sequence[str]) -> pd.DataFrame:
    """``ecco-no-ga`` and ``ecco`` with each strategist of ``strategists`` (run names, ``base``, or
    ``chosen``) on RQ1's programs and seeds, at the search budget; one row per cell with a
    ``strategist`` column (``chosen`` rows are renamed to the run notebook 06 chose)."""
    from ecco_lib.experiments import run_methods

    programs = rq1_programs(profile, evaluator)
    chosen = chosen_strategist(root)
    tables = []
    for name in dict.fromkeys(strategists):
        settings = strategist_settings(profile, name)
        out = root / "results" / ("inference" if name == CHOSEN else "rq2")  # chosen: notebook 06's cells
        results, _ = run_methods(programs, ["ecco-no-ga", "ecco"], budget=profile["search"]["budget"],
                                 seeds=profile["rq1"]["seeds"],
                                 evaluator=evaluator, settings=settings, results_path=out / "results.csv",
                                 trace_path=out / "trace.csv")
        tables.append(results.assign(strategist=chosen if name == CHOSEN else name))
    cells = pd.concat(tables, ignore_index=True)
    return cells.drop_duplicates(["strategist", "method", "program", "seed"], keep="first").reset_index(drop=True)


def _interval(values: np.ndarray, seed: int, resamples: int = 10_000) -> tuple[float, float]:
    """95 % bootstrap interval of the mean (scipy); a constant sample is its own interval, fewer
    than two values have none (NaN)."""
    from scipy.stats import bootstrap

    if len(values) and np.all(values == values[0]):
        return float(values[0]), float(values[0])
    if len(values) < 2:
        return float("nan"), float("nan")
    ci = bootstrap((values,), np.mean, n_resamples=resamples, method="percentile",
                   random_state=np.random.default_rng(seed)).confidence_interval
    return float(ci.low), float(ci.high)


def mode_table(greedy: pd.DataFrame, cells: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """One row per (strategist, mode): programs, format validity (greedy: the share of answers that
    parse; search modes: the share of sampled answers that parse), mean I_O3 over programs (each
    program's mean over seeds) with a 95 % bootstrap interval over programs (scipy)."""
    rows = []
    for strategist, group in greedy.groupby("strategist", sort=False):
        per_program = group.groupby("program")["i_o3"].mean().to_numpy()
        low, high = _interval(per_program, seed)
        rows.append({"strategist": strategist, "mode": "greedy", "programs": len(per_program),
                     "format_valid": float(group["parses"].mean()), "mean_i_o3": float(per_program.mean()),
                     "ci_low": low, "ci_high": high})
    for (strategist, method), group in cells.groupby(["strategist", "method"], sort=False):
        scores = group.assign(i_o3=group["i_o3"].fillna(0.0)).groupby("program")["i_o3"].mean().to_numpy()
        extras = [json.loads(e) for e in group["extra"]]
        answers = sum(len(e.get("answers", [])) for e in extras)
        low, high = _interval(scores, seed)
        rows.append({"strategist": strategist, "mode": "best-of-n" if method == "ecco-no-ga" else "with-ga",
                     "programs": len(scores), "format_valid": sum(e.get("parsed", 0) for e in extras) / answers
                     if answers else float("nan"), "mean_i_o3": float(scores.mean()), "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)


def beside_paper(table: pd.DataFrame, model: str) -> pd.DataFrame:
    """Our (strategist, mode) rows in percent (``model``: the profile's student) next to the
    paper's figures for the same row, one column per paper model size (NaN where it has none)."""
    paper = PAPER_RQ2.pivot_table(index=["mode", "strategist"], columns="model", values="paper (LLVM 10, %)")
    paper.columns = [f"paper {c} (LLVM 10, %)" for c in paper.columns]
    ours = table.set_index(["mode", "strategist"])[["mean_i_o3"]].mul(100)
    ours.columns = [f"ours {model} (LLVM 19, %)"]
    return ours.join(paper, how="outer").reset_index().sort_values(["mode", "strategist"]).reset_index(drop=True)


def policy_cells(profile, evaluator, root: Path, n: int, programs=None, split: str = "test",
                 strategist: str = CHOSEN, out: Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A strategist's Best-of-``n`` (``ecco-no-ga`` with ``n`` answers) and each of
    :data:`POLICIES` at a budget of ``n`` evaluations, on ``programs`` (default: RQ1's test
    programs) and RQ1's seeds, written to ``<out>/<split>_policies.csv`` (``out`` default:
    ``results/strategist``; resumable; the answers come from the sampled-text cache when notebook 06
    sampled the same ``n``). ``strategist``: ``chosen`` (notebook 06's adapter), ``base`` or a
    run name under ``results/models/``; any other than ``chosen`` adds ``_<strategist>`` to the
    file names."""
    from ecco_lib.experiments import run_methods

    programs = rq1_programs(profile, evaluator) if programs is None else programs
    settings = strategist_settings(profile, strategist)
    settings["ecco"]["n"] = n
    stem = split if strategist == CHOSEN else f"{split}_{strategist}"
    out = out or root / "results" / "strategist"
    return run_methods(programs, ["ecco-no-ga", *POLICIES], budget=n, seeds=profile["rq1"]["seeds"], evaluator=evaluator,
                       settings=settings, results_path=out / f"{stem}_policies.csv",
                       trace_path=out / f"{stem}_policies_trace.csv")


def validation_split(profile, evaluator, count: int) -> list:
    """``count`` held-out csmith programs disjoint from the training evidence and the embedded
    suite (:func:`ecco_lib.corpus.validation_programs`, the dataset section's filters)."""
    from ecco_lib.baselines.offline import training_evidence
    from ecco_lib.corpus import validation_programs

    ds = profile["dataset"]
    return validation_programs(count, profile.seed, evaluator=evaluator,
                               training_hashes={r.input_hash for r in training_evidence()},
                               max_ir_instructions=ds["max_ir_instructions"], run_timeout_s=ds["run_timeout_s"])


def policy_table(results: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """The strategist's Best-of-N minus each policy on the same (program, seed) cells at the same
    N: mean paired difference of I_O3 (percentage points) with its bootstrap interval, the
    strategist's wins / ties / losses, and both means (%)."""
    from ecco_lib.comparison import paired_against

    paired = paired_against(results, "ecco-no-ga", list(POLICIES), seed=seed)
    means = results.assign(i_o3=results["i_o3"].fillna(0.0)).groupby("method")["i_o3"].mean().mul(100)
    table = paired.assign(**{c: 100 * paired[c] for c in ("mean_difference", "ci_low", "ci_high")})
    table["strategist (%)"] = means["ecco-no-ga"]
    table["policy (%)"] = table["baseline"].map(means)
    return table.rename(columns={"baseline": "policy", "mean_difference": "difference (pp)"})[
        ["policy", "strategist (%)", "policy (%)", "difference (pp)", "ci_low", "ci_high", "wins", "ties", "losses"]]


def generation_cost(results: pd.DataFrame) -> pd.DataFrame:
    """Per program, from ``ecco-no-ga`` rows: ``sampled_seconds``, the wall seconds generating its
    answers took when they were sampled (NaN for cells from before this was recorded),
    ``generation_seconds``, those of this cell (~0 when the answers came from the sample cache),
    and the cell's compile seconds."""
    rows = []
    for row in results[results["method"] == "ecco-no-ga"].to_dict("records"):
        extra = json.loads(row["extra"]) if isinstance(row["extra"], str) else {}
        rows.append({"program": row["program"], "seed": row["seed"], "answers": len(extra.get("answers", [])),
                     "new_tokens": extra.get("new_tokens"), "sampled_seconds": extra.get("sampled_seconds"),
                     "generation_seconds": extra.get("generation_seconds"),
                     "compile_seconds": row["compile_seconds"]})
    return pd.DataFrame(rows)
