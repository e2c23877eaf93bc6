"""Comparison statistics over method results: paired differences with stratified bootstrap
intervals, and best-so-far curves on a common evaluation axis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecco_lib.experiments import best_so_far, paired_differences


def _results(shift: float) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for suite in ("a", "b"):
        for p in range(4):
            for seed in (0, 1):
                base = rng.uniform(0.1, 0.3)
                rows.append({"method": "ga", "program": f"{suite}{p}", "suite": suite, "seed": seed, "i_o3": base})
                rows.append({"method": "new", "program": f"{suite}{p}", "suite": suite, "seed": seed,
                             "i_o3": base + shift + (0.02 if suite == "a" else 0.0)})
    return pd.DataFrame(rows)


def test_paired_differences_are_exact_and_intervals_cover_them():
    table = paired_differences(_results(0.05), baseline="ga").set_index("suite")
    assert table.loc["a", "mean_difference"] == pytest.approx(0.07)
    assert table.loc["b", "mean_difference"] == pytest.approx(0.05)
    assert table.loc["average", "mean_difference"] == pytest.approx(0.06)  # mean of suite means
    assert (table["wins"] == [8, 8, 16]).all() and (table["losses"] == 0).all()
    for suite in ("a", "b", "average"):
        assert table.loc[suite, "ci_low"] <= table.loc[suite, "mean_difference"] <= table.loc[suite, "ci_high"]


def test_no_difference_gives_ties_and_a_zero_interval():
    table = paired_differences(_results(0.0).assign(i_o3=lambda t: t["i_o3"].where(t["suite"] == "b", 0.2)),
                               baseline="ga").set_index("suite")
    assert table.loc["b", "ties"] == 8 and table.loc["b", "mean_difference"] == 0


def test_a_search_without_a_valid_sequence_counts_as_zero_and_is_reported():
    results = _results(0.05)
    results.loc[(results["method"] == "new") & (results["program"] == "a0"), "i_o3"] = None
    table = paired_differences(results, baseline="ga").set_index("suite")
    assert table.loc["average", "missing"] == 2 and table.loc["a", "losses"] == 2


def test_best_so_far_spans_the_budget_and_never_decreases():
    results = pd.DataFrame([{"method": "m", "program": "p", "suite": "s", "seed": 0, "cycles_O3": 100}])
    trace = pd.DataFrame([{"method": "m", "program": "p", "seed": 0, "budget": 5, "evaluation": i, "best_cycles": c}
                          for i, c in ((1, None), (2, 90), (3, 80))])
    curve = best_so_far(results, trace)
    assert list(curve["evaluation"]) == [1, 2, 3, 4, 5]
    assert np.isnan(curve["i_o3"].iloc[0]) and list(curve["i_o3"].iloc[1:]) == pytest.approx([0.1, 0.2, 0.2, 0.2])


def test_one_program_per_suite_resamples_programs_and_says_so():
    results = _results(0.05)
    results = results[results["program"].isin(["a0", "b0", "b1"]) & (results["program"] != "b1")]
    table = paired_differences(results, baseline="ga").set_index("suite")
    assert table.loc["a", "ci_method"] == "none" and np.isnan(table.loc["a", "ci_low"])
    assert table.loc["average", "ci_method"] == "programs"
    assert table.loc["average", "ci_low"] <= table.loc["average", "mean_difference"] <= table.loc["average", "ci_high"]
