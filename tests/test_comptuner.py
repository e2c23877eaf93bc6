"""The ``comptuner`` baseline: budget, determinism, bounded mask decoding, failed compilations, and a
slot order derived from the train split's evidence only, once."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ecco_lib.baselines import comptuner, offline
from ecco_lib.baselines.comptuner import (CompTunerConfig, CompTunerSearch, bound_lengths, expected_improvement,
                                          forest_targets)
from ecco_lib.errors import EccoError
from ecco_lib.llvm import Evaluator
from ecco_lib.llvm.passes import SEARCH_PASSES
from ecco_lib.search import TRACE_KEY, Objective, get_method, make_optimizer

from ecco_lib.baselines.offline import training_evidence

from conftest import FailingEvaluator, leaky_evidence

BUDGET = 16


def _key(trace):
    return [tuple(row[c] for c in TRACE_KEY) for row in trace]


def _is_a_decoding(sequence: tuple[str, ...], slots: list[str], config: CompTunerConfig) -> bool:
    """``sequence`` is the passes of some slots in slot order (a subsequence), within the length bounds."""
    remaining = iter(slots)
    return config.min_length <= len(sequence) <= config.max_length and all(name in remaining for name in sequence)


def test_spends_the_budget_exactly_and_traces_identically_cold_and_warm(program, training_root, tmp_path):
    runs = []
    for _ in ("cold", "warm"):
        with Evaluator(cache=tmp_path / "cache", jobs=2) as ev:
            optimizer, _ = make_optimizer("comptuner")
            runs.append(optimizer.optimize(program, Objective(program, ev, BUDGET), seed=3))
    cold, warm = runs
    for result in runs:
        assert result.evaluations == BUDGET == len(result.trace) == len({row["sequence"] for row in result.trace})
        assert result.extra["phase1_evaluations"] == BUDGET // 2
        assert result.extra["pso_iterations"] + result.extra["fallbacks"] == BUDGET - BUDGET // 2
        assert result.extra["offline_evaluations"] == 0
        assert result.found and result.best_cycles == min(row["cycles"] for row in result.trace if row["status"] == "ok")
    assert not any(row["cached"] for row in cold.trace) and all(row["cached"] for row in warm.trace)
    assert _key(cold.trace) == _key(warm.trace) and cold.best == warm.best
    assert cold.extra["offline_reused"] is False and warm.extra["offline_reused"] is True
    slots, config = optimizer.offline().model["slots"], optimizer.config
    assert all(_is_a_decoding(tuple(row["sequence"].split(",")), slots, config) for row in cold.trace)


def test_mask_decoding_respects_the_length_bounds(training_root):
    config = CompTunerConfig()
    rng = np.random.default_rng(0)
    masks = np.vstack([np.zeros((1, config.slots), bool), np.ones((1, config.slots), bool),
                       rng.random((300, config.slots)) < rng.random((300, 1))])  # densities 0..1
    bounded = bound_lengths(masks, rng, config.min_length, config.max_length)
    counts, before = bounded.sum(axis=1), masks.sum(axis=1)
    assert counts.min() == config.min_length and counts.max() == config.max_length
    inside = (before >= config.min_length) & (before <= config.max_length)
    assert inside.any() and (~inside).sum() > 50
    assert (bounded[inside] == masks[inside]).all()  # a mask within bounds is left alone
    over, under = before > config.max_length, before < config.min_length
    assert (bounded[over] <= masks[over]).all() and (bounded[under] >= masks[under]).all()  # only switched off / on
    optimizer = CompTunerSearch()
    slots = optimizer.offline().model["slots"]
    run = comptuner._Run(config, tuple(slots), None, "test")
    for mask in bounded[:50]:
        sequence = run.decode(mask)
        assert len(sequence) == mask.sum() and _is_a_decoding(sequence, slots, config)
    random_masks = run.random_masks(500)
    assert ((random_masks.sum(axis=1) >= 5) & (random_masks.sum(axis=1) <= 30)).all()


def test_failed_compilations_cost_infinity_and_the_search_goes_on(program, training_root, evaluator):
    failing = FailingEvaluator(evaluator, lambda passes: "licm" in passes)
    result = make_optimizer("comptuner")[0].optimize(program, Objective(program, failing, BUDGET), seed=2)
    statuses = [row["status"] for row in result.trace]
    assert result.evaluations == BUDGET and "opt-error" in statuses and "ok" in statuses
    assert all(row["cost"] == math.inf for row in result.trace if row["status"] != "ok")
    assert result.found and "licm" not in result.best
    everything = FailingEvaluator(evaluator, lambda passes: True)
    nothing = make_optimizer("comptuner")[0].optimize(program, Objective(program, everything, BUDGET), seed=2)
    assert nothing.evaluations == BUDGET and not nothing.found and set(nothing.status_counts()) == {"opt-error"}


def test_the_forest_learns_a_finite_penalty_for_failures_never_the_input():
    targets = forest_targets([100.0, math.inf, 300.0], cycles_o3=1000, penalty=1.5)
    assert targets.tolist() == [100.0, 450.0, 300.0]
    assert forest_targets([math.inf, math.inf], cycles_o3=1000, penalty=1.5).tolist() == [1500.0, 1500.0]
    assert forest_targets([math.inf], cycles_o3=None, penalty=1.5).tolist() == [1.5]


def test_expected_improvement_prefers_low_and_uncertain_predictions():
    ei = expected_improvement(np.array([90.0, 110.0, 110.0, 90.0, 110.0]), np.array([5.0, 5.0, 20.0, 0.0, 0.0]), 100.0)
    assert ei[0] > ei[2] > ei[1] > 0  # below the best beats above it; uncertainty helps above it
    assert ei[3] == 10.0 and ei[4] == 0.0  # no spread: the plain improvement


def test_the_slot_order_is_the_training_consensus(training_root):
    model = CompTunerSearch().offline().model
    slots, occurrence = model["slots"], model["occurrence"]
    assert len(slots) == 48 and set(slots) <= set(SEARCH_PASSES)
    assert slots.count("instcombine") >= 2 and slots.count("simplifycfg") >= 2  # repeats allowed
    assert model["position"] == sorted(model["position"]) and slots != sorted(slots, key=SEARCH_PASSES.index)
    for name, j in zip(slots, occurrence):  # a pass's j-th slot comes with its first j - 1
        assert sorted(o for s, o in zip(slots, occurrence) if s == name)[:j] == list(range(1, j + 1))
    assert min(model["support"]) > 0 and max(model["support"]) == model["support"][slots.index("instcombine")]
    assert model["programs"] == len({r.program for r in training_evidence()})


def test_the_offline_order_reads_only_train_programs_and_is_derived_once(training_root, monkeypatch):
    derivations = []
    derive = comptuner.consensus_slots
    monkeypatch.setattr(comptuner, "consensus_slots", lambda records, slots: derivations.append(
        {r.program for r in records}) or derive(records, slots))
    first = CompTunerSearch().offline()
    assert not first.reused and first.evaluations == 0 and first.path.parent == training_root / "results" / "baselines"
    assert len(derivations) == 1 and derivations[0] and not derivations[0] & offline.test_split_uris()
    assert set(first.programs) == derivations[0]
    stored = json.loads(first.path.read_text())
    assert stored["model"]["slots"] == first.model["slots"] and not set(stored["programs"]) & offline.test_split_uris()
    second = CompTunerSearch().offline()
    assert second.reused and second.key == first.key and second.model == first.model and len(derivations) == 1
    narrower = CompTunerSearch(CompTunerConfig(slots=40, max_length=30)).offline()
    assert not narrower.reused and len(narrower.model["slots"]) == 40 and len(derivations) == 2


def test_the_offline_stage_refuses_test_split_evidence(training_root, tmp_path):
    leaky_evidence(tmp_path / "leaky")
    with pytest.raises(EccoError, match="test-split"):
        CompTunerSearch(CompTunerConfig(evidence=str(tmp_path / "leaky"))).offline()
    assert not (training_root / "results" / "baselines").exists()


def test_settings_are_validated_and_the_method_is_registered(training_root):
    assert get_method("comptuner").learns_offline
    assert "TOSEM 2024" in CompTunerSearch.description
    with pytest.raises(EccoError, match="inconsistent comptuner settings"):
        make_optimizer("comptuner", {"comptuner": {"max_length": 60}})  # more than the 48 slots
    with pytest.raises(EccoError, match="fewer than slots"):
        CompTunerSearch(CompTunerConfig(slots=400, max_length=30)).offline()
