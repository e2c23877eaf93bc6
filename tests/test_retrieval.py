"""The retrieval policies ``prior-top-n`` and ``knn``: their rankings from the training evidence,
leave-one-out on training programs, the budget and ``n``, and no test-split evidence."""

from __future__ import annotations

import shutil
from collections import Counter

import pytest

from ecco_lib.baselines.retrieval import FrequencyPrior, NearestPrograms, RetrievalConfig
from ecco_lib.benchmarks import resolve
from ecco_lib.errors import EccoError
from ecco_lib.evidence import load_evidence
from ecco_lib.llvm.passes import SEARCH_PASSES
from ecco_lib.search import Objective, make_optimizer

from conftest import EVIDENCE, leaky_evidence


def _most_common_core():
    records = load_evidence(EVIDENCE)
    holders = Counter()
    for sequence in {(r.input_hash, ",".join(r.core)) for r in records if set(r.core) <= set(SEARCH_PASSES)}:
        holders[sequence[1]] += 1
    top = max(holders.values())
    return {s for s, c in holders.items() if c == top}, records


def test_prior_top_n_is_one_list_led_by_the_most_common_core_sequence(program, training_root, session_cache):
    policy = FrequencyPrior()
    other = resolve("ecco://telecom/rsynth", cache=session_cache)[0]
    ranking = policy.ranking(program)
    assert ranking == policy.ranking(other) and len(ranking) == len(set(ranking))
    leaders, _ = _most_common_core()
    assert ranking[0] in leaders
    assert all(set(s.split(",")) <= set(SEARCH_PASSES) for s in ranking)


def test_training_programs_are_left_out_of_their_own_ranking(training_root, session_cache):
    _, records = _most_common_core()
    counts = Counter()
    for uri, core in {(r.program, ",".join(r.core)) for r in records}:
        counts[core] += 1
    own = next(r for r in records if counts[",".join(r.core)] == 1 and set(r.core) <= set(SEARCH_PASSES))
    train_program = resolve(own.program, cache=session_cache)[0]
    assert train_program.ir_hash == own.input_hash
    assert ",".join(own.core) not in FrequencyPrior().ranking(train_program)
    ranking, neighbours, distances = NearestPrograms().ranking(train_program)
    assert own.program not in [e["uri"] for e in neighbours] and ",".join(own.core) not in ranking
    assert list(distances) == sorted(distances) and distances[0] > 0


def test_knn_starts_with_the_nearest_programs_best_sequence(program, training_root):
    ranking, neighbours, _ = NearestPrograms().ranking(program)
    assert ranking[0] == next(iter(neighbours[0]["sequences"]))
    second = next(iter(neighbours[1]["sequences"]))
    assert ranking.index(second) <= 1 or second == ranking[0]


@pytest.mark.parametrize("method", ["prior-top-n", "knn"])
def test_spends_n_or_the_budget_and_repeats_exactly(method, program, training_root, evaluator):
    runs = [make_optimizer(method, {method: {"n": 3}})[0].optimize(program, Objective(program, evaluator, 10), seed=s)
            for s in (0, 1)]
    assert [r.evaluations for r in runs] == [3, 3] and runs[0].best == runs[1].best
    assert not runs[0].extra["ran_out"] and runs[0].extra["offline_evaluations"] == 0
    capped = make_optimizer(method)[0].optimize(program, Objective(program, evaluator, 4), seed=0)
    assert capped.evaluations == 4 and capped.extra["requested"] == 4


def test_a_small_evidence_set_runs_out_before_the_budget(program, tmp_path, evaluator, monkeypatch):
    monkeypatch.setenv("ECCO_OUTPUT_ROOT", str(tmp_path))
    directory = tmp_path / "evidence"
    for source in sorted(EVIDENCE.glob("*/*.json"))[:2]:
        (directory / source.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(source, directory / source.parent.name / source.name)
    result = FrequencyPrior(RetrievalConfig(evidence=str(directory))).optimize(program, Objective(program, evaluator, 10), 0)
    assert result.evaluations == result.extra["candidates"] <= 2 and result.extra["ran_out"]


def test_test_split_evidence_and_bad_settings_are_refused(program, tmp_path, monkeypatch):
    monkeypatch.setenv("ECCO_OUTPUT_ROOT", str(tmp_path))
    leaky = leaky_evidence(tmp_path / "leaky")
    with pytest.raises(EccoError, match="test-split"):
        NearestPrograms(RetrievalConfig(evidence=str(leaky))).ranking(program)
    with pytest.raises(EccoError, match="sources"):
        RetrievalConfig(sources="everything")
    with pytest.raises(EccoError, match="n must be"):
        RetrievalConfig(n=0)
