"""The ``pdcat`` baseline: budget, determinism, learned order and rules, failed compilations, and an
offline stage that reads only the train split's evidence and trains once."""

from __future__ import annotations

import json
import random

import pytest

from ecco_lib.baselines import offline, pdcat
from ecco_lib.baselines.pdcat import ORDER_RULES, PDCATConfig, PDCATSearch, constrained_order, violations
from ecco_lib.errors import EccoError
from ecco_lib.llvm import Evaluator
from ecco_lib.llvm.passes import SEARCH_PASSES
from ecco_lib.search import TRACE_KEY, Objective, get_method, make_optimizer

from conftest import EVIDENCE, FailingEvaluator, leaky_evidence

BUDGET = 20


def _key(trace):
    return [tuple(row[c] for c in TRACE_KEY) for row in trace]


def _follows_the_model(sequence: tuple[str, ...], model: dict, config: PDCATConfig) -> bool:
    rank = {p: i for i, p in enumerate(model["order"])}
    common = tuple(model["common"])
    rest = sequence[len(common):]
    return (sequence[: len(common)] == common and config.min_length <= len(sequence) <= config.max_length
            and len(set(sequence)) == len(sequence) and set(sequence) <= set(SEARCH_PASSES)
            and [rank[p] for p in rest] == sorted(rank[p] for p in rest) and not violations(sequence))


def test_spends_the_budget_exactly_and_traces_identically_cold_and_warm(program, training_root, tmp_path):
    runs = []
    for _ in ("cold", "warm"):
        with Evaluator(cache=tmp_path / "cache", jobs=2) as ev:
            optimizer, _ = make_optimizer("pdcat")
            runs.append(optimizer.optimize(program, Objective(program, ev, BUDGET), seed=4))
    cold, warm = runs
    for result in runs:
        assert result.evaluations == BUDGET == len(result.trace) == len({row["sequence"] for row in result.trace})
        assert result.extra["offline_evaluations"] == 0 and result.extra["updates"] == BUDGET // 10
        assert result.found and result.best_cycles == min(row["cycles"] for row in result.trace if row["status"] == "ok")
    assert not any(row["cached"] for row in cold.trace) and all(row["cached"] for row in warm.trace)
    assert _key(cold.trace) == _key(warm.trace) and cold.best == warm.best
    assert cold.extra["offline_reused"] is False and warm.extra["offline_reused"] is True
    model, config = optimizer.offline().model, optimizer.config
    assert all(_follows_the_model(tuple(row["sequence"].split(",")), model, config) for row in cold.trace)


def test_sampled_sequences_follow_the_learned_order_and_length(training_root):
    optimizer = PDCATSearch()
    model = optimizer.offline().model
    assert model["common"] == []  # on the committed evidence no pass is in >= 90 % of the best sequences
    assert model["order"] != sorted(model["order"], key=SEARCH_PASSES.index)  # learned, not the registry's order
    preferences = {p: optimizer._clip(model["preferences"][p]) for p in model["order"]}
    assert preferences["instcombine"] > 0.5 > preferences["reg2mem"]  # frequent in the top sequences vs rare
    rng = random.Random(0)
    samples = [optimizer._sample(rng, model["order"], preferences, 0) for _ in range(300)]
    assert all(_follows_the_model(s, model, optimizer.config) for s in samples)
    lengths = {len(s) for s in samples}
    assert min(lengths) >= 5 and max(lengths) <= 30 and len(lengths) > 5


def test_the_order_obeys_the_rules_even_against_the_positions():
    positions = {p: 0.5 for p in SEARCH_PASSES}
    for first, then, _ in ORDER_RULES:  # every rule's second pass ranked first by position
        positions[first], positions[then] = 0.9, 0.1
    order = constrained_order(positions)
    assert sorted(order) == sorted(SEARCH_PASSES)
    assert all(order.index(first) < order.index(then) for first, then, _ in ORDER_RULES)
    assert order.index("reg2mem") + 1 in (order.index("mem2reg"), order.index("sroa"))  # released at once
    free = [p for p in order if not any(p in rule[:2] for rule in ORDER_RULES)]
    assert free == [p for p in SEARCH_PASSES if p in free] and violations(order) == []
    assert violations(("sroa", "instcombine", "reg2mem")) == [("reg2mem", "sroa")]
    assert violations(("indvars", "loop-unroll", "indvars")) == [("indvars", "loop-unroll")]


def test_a_common_prefix_is_kept_and_violators_are_rejected(program, training_root, evaluator):
    optimizer, _ = make_optimizer("pdcat", {"pdcat": {"common_threshold": 0.7}})
    model = optimizer.offline().model
    assert model["common"] == [p for p in model["order"] if p in {"instcombine", "simplifycfg", "sroa"}]
    model["preferences"]["reg2mem"] = 0.5  # after the common sroa, reg2mem breaks a rule in half the draws
    result = optimizer.optimize(program, Objective(program, evaluator, 10), seed=1)
    assert result.evaluations == 10 and result.extra["rejected"] > 0
    assert result.extra["common_set"] == model["common"]
    assert all(_follows_the_model(tuple(row["sequence"].split(",")), model, optimizer.config) for row in result.trace)


def test_failed_compilations_cost_infinity_and_the_search_goes_on(program, training_root, evaluator):
    failing = FailingEvaluator(evaluator, lambda passes: "instcombine" in passes)
    result = make_optimizer("pdcat")[0].optimize(program, Objective(program, failing, BUDGET), seed=2)
    statuses = [row["status"] for row in result.trace]
    assert result.evaluations == BUDGET and "opt-error" in statuses and "ok" in statuses
    assert all(row["cost"] == float("inf") for row in result.trace if row["status"] != "ok")
    assert result.found and "instcombine" not in result.best


def test_the_offline_stage_refuses_test_split_evidence(training_root, tmp_path):
    leaky_evidence(tmp_path / "leaky")
    with pytest.raises(EccoError, match="test-split"):
        PDCATSearch(PDCATConfig(evidence=str(tmp_path / "leaky"))).offline()
    assert not (training_root / "results" / "baselines").exists()


def test_the_offline_model_lists_only_train_programs_and_is_trained_once(training_root, monkeypatch):
    trainings = []
    learn = pdcat.learn
    monkeypatch.setattr(pdcat, "learn", lambda records, config: trainings.append(config) or learn(records, config))
    first = PDCATSearch().offline()
    assert not first.reused and first.evaluations == 0 and first.path.parent == training_root / "results" / "baselines"
    assert first.programs and not set(first.programs) & offline.test_split_uris()
    assert len(first.programs) == first.model["programs"] == len({r.program for r in offline.training_evidence(EVIDENCE)})
    stored = json.loads(first.path.read_text())
    assert stored["programs"] == list(first.programs) and not set(stored["programs"]) & offline.test_split_uris()
    second = PDCATSearch().offline()
    assert second.reused and second.key == first.key and second.model == first.model
    assert second.cost()["offline_reused"] is True and second.cost()["offline_evaluations"] == 0
    assert len(trainings) == 1
    other = PDCATSearch(PDCATConfig(top="searched")).offline()
    assert other.key != first.key and not other.reused and other.model["top_sequences"] < first.model["top_sequences"]
    assert len(trainings) == 2


def test_settings_are_validated_and_the_method_is_registered():
    assert get_method("pdcat").learns_offline
    assert "FSE 2025" in PDCATSearch.description
    with pytest.raises(EccoError, match="choose one of"):
        PDCATConfig(top="best")
    with pytest.raises(EccoError, match="inconsistent pdcat settings"):
        make_optimizer("pdcat", {"pdcat": {"p_min": 0.5, "p_max": 0.4}})
