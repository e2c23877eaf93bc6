"""The ``grace`` baseline: budget, determinism, failed compilations, the -O3 fallback, and an offline
stage that reads only the train split, is reproducible and trains once."""

from __future__ import annotations

import dataclasses
import json
import random

import pytest

from ecco_lib.baselines import grace
from ecco_lib.baselines.grace import GRACEConfig, GRACESearch, evidence_ranking, mutate
from ecco_lib.baselines.offline import test_split_uris as split_test_uris, training_evidence
from ecco_lib.errors import EccoError
from ecco_lib.llvm import Evaluator
from ecco_lib.search import TRACE_KEY, Objective, get_method, make_optimizer

from conftest import EVIDENCE, FailingEvaluator, evidence_root, leaky_evidence

BUDGET = 20
#: A tiny offline stage: 10 training programs, 3 clusters, 2 candidates per cluster on 2 judges.
TINY = GRACEConfig(programs=10, clusters=3, augmentations=1, steps=50, coreset_budget=2, coreset_members=2,
                   coreset_population=2)
#: Tinier still, for the tests that train several times.
TINIER = dataclasses.replace(TINY, programs=6, clusters=2)


@pytest.fixture(scope="module")
def shared_root(tmp_path_factory):
    """One output root for the module, so the TINY model is trained once for several tests."""
    with pytest.MonkeyPatch.context() as mp:
        yield evidence_root(tmp_path_factory.mktemp("grace-root"), mp)


class RecordingEvaluator(FailingEvaluator):
    """Records the URI of every program it evaluates; fails nothing."""

    def __init__(self, inner: Evaluator):
        super().__init__(inner, lambda passes: False)
        self.programs: list[str] = []

    def evaluate_many(self, pairs, progress=None):
        pairs = list(pairs)
        self.programs += [prog.uri for prog, _ in pairs]
        return super().evaluate_many(pairs, progress)


def _key(trace):
    return [tuple(row[c] for c in TRACE_KEY) for row in trace]


@pytest.mark.slow
def test_spends_the_budget_exactly_and_traces_identically_cold_and_warm(program, training_root, tmp_path):
    runs = []
    for _ in ("cold", "warm"):
        with Evaluator(cache=tmp_path / "cache", jobs=2) as ev:
            optimizer = GRACESearch(TINY)
            runs.append(optimizer.optimize(program, Objective(program, ev, BUDGET), seed=4))
            model = optimizer.offline(ev).model
    cold, warm = runs
    for result in runs:
        assert result.evaluations == BUDGET == len(result.trace) == len({row["sequence"] for row in result.trace})
        assert result.found and result.best_cycles == min(row["cycles"] for row in result.trace if row["status"] == "ok")
        assert result.extra["beat_o3"] == (result.best_cycles < result.cycles_O3)
        assert result.extra["cluster_evaluations"] + result.extra["mutants"] == BUDGET
        assert result.extra["offline_evaluations"] == model["cost"]["coreset_evaluations"] > 0
    assert not any(row["cached"] for row in cold.trace) and all(row["cached"] for row in warm.trace)
    assert _key(cold.trace) == _key(warm.trace) and cold.best == warm.best
    assert cold.extra["offline_reused"] is False and warm.extra["offline_reused"] is True
    # the first evaluations are the clusters' top sequences, nearest centre first; every pass comes from the coreset
    tops = [",".join(model["clusters"][c]["coreset"][0]["sequence"]) for c in range(len(model["clusters"]))]
    first = [row["sequence"] for row in cold.trace[: cold.extra["cluster_evaluations"]]]
    assert sorted(first) == sorted(set(tops)) and first[0] == tops[cold.extra["nearest_cluster"]]
    assert all(set(row["sequence"].split(",")) <= set(model["pass_pool"]) for row in cold.trace)


@pytest.mark.slow
def test_failed_compilations_cost_infinity_and_the_search_goes_on(program, shared_root, evaluator):
    optimizer = GRACESearch(TINY)
    optimizer.offline(evaluator)  # trained on the real evaluator; only the test-time search sees failures
    failing = FailingEvaluator(evaluator, lambda passes: "instcombine" in passes)
    result = optimizer.optimize(program, Objective(program, failing, BUDGET), seed=2)
    statuses = [row["status"] for row in result.trace]
    assert result.evaluations == BUDGET and "opt-error" in statuses and "ok" in statuses
    assert all(row["cost"] == float("inf") for row in result.trace if row["status"] != "ok")
    assert result.found and "instcombine" not in result.best


@pytest.mark.slow
def test_when_nothing_compiles_the_budget_is_still_spent_and_o3_is_not_substituted(program, shared_root, evaluator):
    optimizer = GRACESearch(TINY)
    optimizer.offline(evaluator)
    result = optimizer.optimize(program, Objective(program, FailingEvaluator(evaluator, lambda passes: True), BUDGET),
                                seed=0)
    assert result.evaluations == BUDGET and {row["status"] for row in result.trace} == {"opt-error"}
    assert not result.found and result.best == () and result.best_cycles == float("inf") and result.i_o3 is None
    assert result.cycles_O3 and result.extra["beat_o3"] is False


@pytest.mark.slow
def test_spent_parents_give_way_and_pool_inserts_fill_the_budget(program, shared_root, evaluator):
    optimizer = GRACESearch(TINY)
    offline = optimizer.offline(evaluator)
    model = json.loads(json.dumps(offline.model))
    for cluster in model["clusters"]:  # a one-pass coreset: no GRACE mutation can change it
        cluster["coreset"] = [{"sequence": ["sroa"], "score": 0.0, "scored_by": "evidence"}]
    model["pass_pool"] = ["gvn", "sroa"]
    optimizer._offline = dataclasses.replace(offline, model=model)
    result = optimizer.optimize(program, Objective(program, evaluator, BUDGET), seed=0)
    assert result.evaluations == BUDGET == len({row["sequence"] for row in result.trace})
    assert result.extra["cluster_evaluations"] == 1 and result.extra["pool_inserts"] is True
    assert all(set(row["sequence"].split(",")) <= {"gvn", "sroa"} for row in result.trace)


@pytest.mark.slow
def test_the_offline_stage_reads_only_train_programs_and_is_reproducible(training_root, tmp_path, evaluator, monkeypatch):
    import torch

    loaded = []
    load = grace.load_training_program
    monkeypatch.setattr(grace, "load_training_program", lambda uri, cache=None: loaded.append(uri) or load(uri, cache))
    recording = RecordingEvaluator(evaluator)
    threads = torch.get_num_threads()
    first = GRACESearch(TINIER).offline(recording)
    assert torch.get_num_threads() == threads
    assert loaded and recording.programs and first.evaluations == len(recording.programs)
    assert set(recording.programs) <= set(loaded) == set(first.programs)
    assert not (set(loaded) | set(recording.programs) | set(first.programs)) & split_test_uris()
    assert first.model["cost"]["feature_runs"] >= TINIER.programs * TINIER.augmentations
    stored = json.loads(first.path.read_text())
    assert stored["model"] == first.model and not set(stored["programs"]) & split_test_uris()

    evidence_root(tmp_path / "again", monkeypatch)  # same inputs, another output root: trained again, identically
    again = GRACESearch(TINIER).offline(evaluator)
    assert not again.reused and again.key == first.key and again.model == first.model
    reseeded = GRACESearch(dataclasses.replace(TINIER, offline_seed=1)).offline(evaluator)
    assert reseeded.key != first.key and reseeded.model["layers"] != first.model["layers"]


def test_the_offline_stage_refuses_test_split_evidence(training_root, tmp_path, evaluator):
    leaky_evidence(tmp_path / "leaky")
    with pytest.raises(EccoError, match="test-split"):
        GRACESearch(dataclasses.replace(TINIER, evidence=str(tmp_path / "leaky"))).offline(evaluator)
    assert not (training_root / "results" / "baselines").exists()


@pytest.mark.slow
def test_a_second_build_reuses_the_cached_model(training_root, evaluator, monkeypatch):
    trainings = []
    learn = grace.learn
    monkeypatch.setattr(grace, "learn",
                        lambda records, config, ev: trainings.append(config) or learn(records, config, ev))
    first = GRACESearch(TINIER).offline(evaluator)
    second = GRACESearch(dataclasses.replace(TINIER, batch=3)).offline(evaluator)  # a test-time setting only
    assert not first.reused and second.reused and second.key == first.key and second.model == first.model
    assert second.cost()["offline_evaluations"] == first.evaluations and len(trainings) == 1
    assert first.path.parent == training_root / "results" / "baselines"


def test_mutations_keep_the_bounds_and_the_passes():
    config = GRACEConfig(min_length=3, max_length=6)
    rng = random.Random(0)
    parent = ("sroa", "gvn", "instcombine", "licm", "sroa")
    children = [mutate(rng, parent, config) for _ in range(300)]
    assert all(c is None or (3 <= len(c) <= 5 and set(c) <= set(parent) and c != parent) for c in children)
    assert {len(c) for c in children if c} == {4, 5} and len(set(children)) > 20
    grown = [mutate(rng, parent, config, ("dce",)) for _ in range(300)]
    assert any(c and len(c) == 6 and "dce" in c for c in grown)
    assert mutate(rng, ("sroa", "sroa", "sroa"), config) is None  # nothing to remove, swap, replace or shuffle


def test_the_evidence_ranking_is_by_recorded_improvement_over_o3():
    import dataclasses

    from ecco_lib.llvm.passes import SEARCH_PASSES

    records = training_evidence(EVIDENCE)[:20]
    outside = dataclasses.replace(records[0], pruning={**records[0].pruning,
                                                       "core": [*records[0].core, "insert-gcov-profiling"]},
                                  cycles={**records[0].cycles, "core": 1})  # the best I_O3, with a runtime-only pass
    ranking = evidence_ranking([*records, outside], GRACEConfig())
    assert all(set(s) <= set(SEARCH_PASSES) for s, _ in ranking) and outside.core not in dict(ranking)
    records = [r for r in records if set(r.core) <= set(SEARCH_PASSES)]
    scores = [score for _, score in ranking]
    assert scores == sorted(scores, reverse=True) and len(ranking) >= len({r.core for r in records})
    best = max(records, key=lambda r: (r.cycles["O3"] - r.cycles["core"]) / r.cycles["O3"])
    assert ranking[0][1] == pytest.approx((best.cycles["O3"] - best.cycles["core"]) / best.cycles["O3"])
    short = evidence_ranking(records, GRACEConfig(max_length=5))
    assert short and all(len(s) <= 5 for s, _ in short) and len(short) < len(ranking)


def test_settings_are_validated_and_the_method_is_registered():
    assert get_method("grace").learns_offline
    assert "2510.13176" in GRACESearch.description
    with pytest.raises(EccoError, match="inconsistent grace settings"):
        make_optimizer("grace", {"grace": {"min_length": 8, "max_length": 4}})
    with pytest.raises(EccoError, match="inconsistent grace settings"):
        GRACEConfig(programs=1)
