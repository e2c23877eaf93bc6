"""RQ3 (notebook 09): does the tactician add to the strategist, and do its final sequences still
follow the strategist's intents?

Inputs are :func:`ecco_lib.experiments.run_methods` tables; the cells come from the runs that
notebooks 06 (``ecco`` and its ablations, ``ga``) and 07 (``llm-direct``) already made on RQ1's
test programs, so this stage recomputes nothing when they are finished (:func:`rq3_cells`).
Scores are fractions.

Intent alignment, measured: the *category mass* of a sequence is the share of its passes in each
optimization category (:data:`ecco_lib.llvm.passes.CATEGORIES`); its distance to an intent vector
(weights normalised to sum 1) is the total variation distance, 0 (same distribution) to 1
(disjoint). ``ecco``'s final best sequence is compared with ``ecco``'s own intents, and the same
intents with the final best sequence of the ``ga`` (which never saw them) and with the mass of a
uniform draw from the search space (chance).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from math import nan
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ecco_lib.errors import EccoError
from ecco_lib.llvm.passes import CATEGORIES, SEARCH_PASSES, lookup


#: The paper's RQ3 figures (I_O3 %, LLVM 10, its suites): ECCO with the GA, Best-of-32 without it
#: (1.5B; RQ2 reports 19.02 / 19.13 / 19.43 % for 1.5B / 3B / 7B), direct prompting, the GA alone.
PAPER_RQ3 = {"ecco": 24.44, "ecco-no-ga": 19.02, "llm-direct": 16.25, "ga": 22.14}


def beside_paper(intervals: pd.DataFrame) -> pd.DataFrame:
    """Our headline I_O3 (%, with its interval) per method next to the paper's RQ3 figure."""
    table = intervals.set_index("method")[["mean", "ci_low", "ci_high"]].mul(100)
    table.columns = ["ours (LLVM 19, %)", "ci_low", "ci_high"]
    table["paper (LLVM 10, %)"] = [PAPER_RQ3.get(m, float("nan")) for m in table.index]
    return table


def rq3_cells(profile, evaluator, root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(results, trace) of ``rq3.methods`` on RQ1's test programs and seeds (``rq1`` section).

    Methods that notebook 06 runs (``inference.methods``) are read from ``results/inference/``,
    the others (``llm-direct``) from ``results/rq1/``, both through :func:`run_methods`, so
    finished cells are reused and only missing ones are computed (none, after ``make reproduce``
    ran 06 and 07 on the same programs)."""
    from ecco_lib.benchmarks import cap_per_suite, resolve_all
    from ecco_lib.experiments import run_methods

    search, inference, rq1 = profile["search"], profile["inference"], profile["rq1"]
    methods = list(profile["rq3"]["methods"])
    unknown = [m for m in methods if m not in inference["methods"] and m not in rq1["methods"]]
    if unknown:
        raise EccoError(f"rq3.methods: {', '.join(unknown)} is run by neither notebook 06 (inference.methods) "
                        f"nor notebook 07 (rq1.methods)")
    programs = cap_per_suite(resolve_all(rq1["programs"], cache=evaluator.cache, split=rq1["split"]),
                             rq1["per_suite"])
    sources = {"inference": [m for m in methods if m in inference["methods"]],
               "rq1": [m for m in methods if m not in inference["methods"]]}
    tables = []
    for source, chosen in sources.items():
        if chosen:
            out = root / "results" / source
            tables.append(run_methods(programs, chosen, budget=search["budget"], seeds=rq1["seeds"],
                                      evaluator=evaluator, settings=search["methods"],
                                      results_path=out / "results.csv", trace_path=out / "trace.csv"))
    return (pd.concat([t[0] for t in tables], ignore_index=True),
            pd.concat([t[1] for t in tables], ignore_index=True))


def category_mass(sequence: str | Sequence[str]) -> dict[str, float]:
    """Share of the passes of ``sequence`` (comma-separated or a list) in each category; sums to 1."""
    passes = sequence.split(",") if isinstance(sequence, str) else list(sequence)
    passes = [p for p in passes if p]
    if not passes:
        raise EccoError("category_mass of an empty sequence")
    counts = Counter(lookup(p).category for p in passes)
    return {c: counts.get(c, 0) / len(passes) for c in CATEGORIES}


def uniform_mass() -> dict[str, float]:
    """The expected category mass of a pass drawn uniformly from the search space (chance)."""
    return category_mass(SEARCH_PASSES)


def total_variation(p: Mapping[str, float], q: Mapping[str, float]) -> float:
    """Total variation distance of two category weightings, each normalised to sum 1 (0..1)."""
    sp, sq = sum(p.values()), sum(q.values())
    if sp <= 0 or sq <= 0:
        raise EccoError("total_variation needs two weightings with positive mass")
    return 0.5 * sum(abs(p.get(c, 0.0) / sp - q.get(c, 0.0) / sq) for c in CATEGORIES)


def _one_cell_each(results: pd.DataFrame) -> None:
    if results.duplicated(["method", "program", "seed"]).any():
        raise EccoError("results hold several cells per (method, program, seed), e.g. from older settings: "
                        "pass the table run_methods returns")


def _extra(row) -> dict:
    value = row["extra"]
    return json.loads(value) if isinstance(value, str) and value else {}


def intent_alignment(results: pd.DataFrame, method: str = "ecco", control: str = "ga") -> pd.DataFrame:
    """One row per (program, seed) where ``method`` produced intents and both methods found a
    sequence: the distance of ``method``'s final best sequence to its intents (``tv_method``), of
    ``control``'s final best to the same intents (``tv_control``), of a uniform draw (``tv_chance``),
    and whether ``method`` is closer (``closer``)."""
    _one_cell_each(results)
    chance = uniform_mass()
    control_best = results[results["method"] == control].set_index(["program", "seed"])["sequence"]
    rows = []
    for row in results[results["method"] == method].to_dict("records"):
        intents = _extra(row).get("intents")
        other = control_best.get((row["program"], row["seed"]))
        if not intents or sum(intents.values()) <= 0 or not isinstance(row["sequence"], str) \
                or not isinstance(other, str):
            continue
        tv_method = total_variation(intents, category_mass(row["sequence"]))
        tv_control = total_variation(intents, category_mass(other))
        rows.append({"program": row["program"], "suite": row["suite"], "seed": row["seed"], "method": method,
                     "control": control, "tv_method": tv_method, "tv_control": tv_control,
                     "tv_chance": total_variation(intents, chance), "closer": tv_method < tv_control,
                     "top_intent": max(intents, key=intents.get)})
    return pd.DataFrame(rows, columns=["program", "suite", "seed", "method", "control", "tv_method", "tv_control",
                                       "tv_chance", "closer", "top_intent"])


def alignment_summary(table: pd.DataFrame, confidence: float = 0.95, resamples: int = 10_000,
                      seed: int = 0) -> pd.DataFrame:
    """Mean distances (method, control, chance), the mean gap ``tv_control - tv_method`` (positive:
    the method's final sequences follow its intents more closely) with a bootstrap interval over
    programs (scipy; NaN with fewer than two programs), and how often the method is closer. With
    no measurable cell (no intents anywhere) one row of ``cells`` 0 and NaN distances."""
    from scipy.stats import bootstrap

    if table.empty:  # e.g. a model that never wrote well-formed intents: nothing to measure, said as such
        return pd.DataFrame([{"method": None, "control": None, "cells": 0, "programs": 0, "tv_method": nan,
                              "tv_control": nan, "tv_chance": nan, "gap": nan, "gap_ci_low": nan,
                              "gap_ci_high": nan, "closer": 0}])
    gap = (table["tv_control"] - table["tv_method"]).groupby(table["program"]).mean().to_numpy()
    low = high = float("nan")
    if len(gap) >= 2:
        ci = bootstrap((gap,), np.mean, confidence_level=confidence, n_resamples=resamples, method="percentile",
                       random_state=np.random.default_rng(seed)).confidence_interval
        low, high = float(ci.low), float(ci.high)
    return pd.DataFrame([{"method": table["method"].iloc[0], "control": table["control"].iloc[0],
                          "cells": len(table), "programs": len(gap),
                          "tv_method": table["tv_method"].mean(), "tv_control": table["tv_control"].mean(),
                          "tv_chance": table["tv_chance"].mean(), "gap": float(gap.mean()),
                          "gap_ci_low": low, "gap_ci_high": high, "closer": int(table["closer"].sum())}])


def found_by(results: pd.DataFrame, methods: Sequence[str] = ("ecco", "ecco-uniform")) -> pd.DataFrame:
    """Per method: in how many cells the final best sequence was an LLM answer (``llm``), found by
    the GA (``ga``), or nothing valid was found (``none``)."""
    _one_cell_each(results)
    rows = []
    for method in methods:
        cells = results[results["method"] == method]
        counts = Counter(_extra(r).get("found_by") or "none" for r in cells.to_dict("records"))
        rows.append({"method": method, "cells": len(cells), **{k: counts.get(k, 0) for k in ("llm", "ga", "none")}})
    return pd.DataFrame(rows)


def worked_examples(results: pd.DataFrame, method: str = "ecco", control: str = "ga", count: int = 3) -> list[dict]:
    """``count`` cells of ``method`` where it gained most over ``control`` (ties broken by program):
    the program, both scores, the intents (largest first), the reasoning of the answer that led,
    the final best sequence, who found it, and its category mass."""
    _one_cell_each(results)
    own = results[results["method"] == method].set_index(["program", "seed"])
    other = results[results["method"] == control].set_index(["program", "seed"])["i_o3"]
    gains = (own["i_o3"].fillna(0.0) - other.reindex(own.index).fillna(0.0)).sort_values(ascending=False, kind="stable")
    examples = []
    for key in list(gains.index)[:count]:
        row = own.loc[key]
        extra = json.loads(row["extra"]) if isinstance(row["extra"], str) else {}
        intents = extra.get("intents") or {}
        examples.append({"program": key[0], "seed": int(key[1]), f"i_o3_{method}": row["i_o3"],
                         f"i_o3_{control}": other.get(key), "gain": gains[key],
                         "intents": dict(sorted(intents.items(), key=lambda kv: -kv[1])),
                         "reasoning": extra.get("reasoning"), "sequence": row["sequence"],
                         "found_by": extra.get("found_by"),
                         "category_mass": {c: m for c, m in category_mass(row["sequence"]).items() if m}
                         if isinstance(row["sequence"], str) else {}})
    return examples
