"""RQ3's interpretability measures on hand-built result rows (no search needed)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ecco_lib.collaboration import (alignment_summary, category_mass, found_by, intent_alignment,
                                    total_variation, uniform_mass, worked_examples)
from ecco_lib.errors import EccoError
from ecco_lib.llvm.passes import CATEGORIES


def _row(method, program, sequence, i_o3, intents=None, found=None, seed=0):
    extra = {"intents": intents, "found_by": found, "reasoning": f"why {program}"} if method != "ga" else {}
    return {"method": method, "program": program, "suite": program.split("/")[2], "seed": seed,
            "sequence": sequence, "i_o3": i_o3, "extra": json.dumps(extra)}


def _results():
    return pd.DataFrame([
        _row("ecco", "ecco://a/p1", "sroa,mem2reg", 0.30, {"memory-to-register": 0.8, "interprocedural": 0.0}, "ga"),
        _row("ga", "ecco://a/p1", "licm,loop-unroll", 0.20),
        _row("ecco", "ecco://b/p2", "licm,sroa", 0.10, {"loop-transformation": 1.0}, "llm"),
        _row("ga", "ecco://b/p2", "licm,loop-unroll", 0.15),
        _row("ecco", "ecco://b/p3", "inline,gvn", 0.12, {"interprocedural": 0.5, "redundancy-elimination": 0.5}, "ga"),
        _row("ga", "ecco://b/p3", "inline,instcombine", 0.12),
    ])


def test_category_mass_is_a_distribution_over_every_category():
    mass = category_mass("sroa,mem2reg,licm,sroa")
    assert set(mass) == set(CATEGORIES) and sum(mass.values()) == pytest.approx(1.0)
    assert mass["memory-to-register"] == 0.75 and mass["loop-transformation"] == 0.25
    assert sum(uniform_mass().values()) == pytest.approx(1.0)
    with pytest.raises(EccoError):
        category_mass("")


def test_total_variation_is_zero_for_the_same_shape_and_one_for_disjoint_mass():
    assert total_variation({"vectorization": 2.0}, {"vectorization": 0.5}) == 0.0
    assert total_variation({"vectorization": 1.0}, {"dead-code": 1.0}) == 1.0
    with pytest.raises(EccoError):
        total_variation({"vectorization": 0.0}, {"dead-code": 1.0})


def test_intent_alignment_measures_each_method_against_the_same_intents():
    table = intent_alignment(_results()).set_index("program")
    assert table.loc["ecco://a/p1", "tv_method"] == 0.0 and table.loc["ecco://a/p1", "tv_control"] == 1.0
    assert table.loc["ecco://b/p2", "tv_method"] == 0.5 and table.loc["ecco://b/p2", "tv_control"] == 0.0
    assert table.loc["ecco://b/p3", "tv_method"] == 0.0 and table.loc["ecco://b/p3", "tv_control"] == 0.5
    assert list(table["closer"]) == [True, False, True]
    summary = alignment_summary(table.reset_index(), resamples=2000).iloc[0]
    assert summary["closer"] == 2 and summary["gap"] == pytest.approx((1.0 - 0.5 + 0.5) / 3)
    assert summary["gap_ci_low"] <= summary["gap"] <= summary["gap_ci_high"]


def test_cells_without_intents_are_left_out_and_duplicates_refused():
    rows = _results()
    rows.loc[0, "extra"] = json.dumps({"intents": None})
    assert list(intent_alignment(rows)["program"]) == ["ecco://b/p2", "ecco://b/p3"]
    with pytest.raises(EccoError, match="several cells"):
        intent_alignment(pd.concat([rows, rows.iloc[[1]]]))
    empty = alignment_summary(intent_alignment(rows.iloc[[1, 3]])).iloc[0]  # no intents at all
    assert empty["cells"] == 0 and pd.isna(empty["gap"])


def test_found_by_and_worked_examples():
    counts = found_by(_results(), ["ecco"]).iloc[0]
    assert (counts["cells"], counts["llm"], counts["ga"], counts["none"]) == (3, 1, 2, 0)
    examples = worked_examples(_results(), count=2)
    assert [e["program"] for e in examples] == ["ecco://a/p1", "ecco://b/p3"]  # largest gain first
    assert examples[0]["gain"] == pytest.approx(0.10) and examples[0]["reasoning"] == "why ecco://a/p1"
    assert examples[0]["category_mass"] == {"memory-to-register": 1.0}
