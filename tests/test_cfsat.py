"""The cfsat baseline (CFSAT, CGO 2025, "Random" variant): exact budget, determinism cold vs warm,
failed compilations, fallback to the next cluster, a deterministic offline model, no test-split
program offline, and a cached offline model on the second build. Real LLVM 19 throughout."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from ecco_lib.baselines import cfsat
from ecco_lib.baselines.cfsat import CFSATConfig, CFSATSearch, evidence_pairs
from ecco_lib.baselines.offline import test_split_uris as held_out_uris, training_evidence
from ecco_lib.benchmarks import resolve
from ecco_lib.errors import EccoError
from ecco_lib.llvm import Evaluator
from ecco_lib.search import TRACE_KEY, Objective, get_method, make_optimizer

REPO = Path(__file__).resolve().parent.parent
COMMITTED = REPO / "results" / "dataset" / "evidence"
TEST_PROGRAM = "ecco://nas/is"  # the smallest embedded test-split program
EVIDENCE_ONLY = CFSATConfig(measure_programs=0)  # no offline evaluation (the measured stage has its own test)


class RecordingEvaluator:
    """A real :class:`Evaluator` that records every program it is asked to evaluate and, with
    ``fail``, turns the rows of matching pass pipelines into ``opt-error``."""

    def __init__(self, inner: Evaluator, fail=None):
        self.inner, self.fail = inner, fail
        self.programs: list[str] = []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def evaluate(self, program, pipeline):
        return self.evaluate_many([(program, pipeline)])[0]

    def evaluate_many(self, pairs, **kwargs):
        pairs = list(pairs)
        self.programs += [program.uri for program, _ in pairs]
        rows = self.inner.evaluate_many(pairs, **kwargs)
        if self.fail is None:
            return rows
        return [dataclasses.replace(row, status="opt-error", cycles=None, error="injected failure")
                if pipe.level is None and self.fail(pipe.passes) else row for (_, pipe), row in zip(pairs, rows)]


@pytest.fixture(scope="module")
def test_program(session_cache):
    program = resolve(TEST_PROGRAM, cache=session_cache)[0]
    assert program.split == "test"
    return program


def embedded_subset(directory: Path) -> Path:
    """The committed evidence of the embedded train programs only (no csmith: quick to load)."""
    for path in sorted(COMMITTED.glob("*/*.json")):
        if path.parent.name != "csmith":
            (directory / path.parent.name).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, directory / path.parent.name / path.name)
    return directory


def trace_key(result) -> list[tuple]:
    return [tuple(row[k] for k in TRACE_KEY) for row in result.trace]


def test_registered_and_settings_are_validated():
    assert get_method("cfsat").learns_offline
    optimizer, settings = make_optimizer("cfsat", {"cfsat": {"clusters": 5}})
    assert isinstance(optimizer, CFSATSearch) and settings["clusters"] == 5
    for bad in ({"min_length": 6, "max_length": 5}, {"clusters": 0}, {"walks": 0}, {"measure_programs": -1}):
        with pytest.raises(EccoError, match="inconsistent cfsat settings"):
            CFSATConfig(**bad)
    with pytest.raises(EccoError, match="needs an evaluator"):
        CFSATSearch(CFSATConfig(evidence=str(COMMITTED), measure_programs=1)).offline()


@pytest.mark.slow
def test_exact_budget_same_trace_cold_and_warm_and_cached_offline_model(training_root, test_program, tmp_path):
    budget = 20
    with Evaluator(cache=tmp_path / "cache", jobs=2) as ev:
        cold = CFSATSearch(EVIDENCE_ONLY).optimize(test_program, Objective(test_program, ev, budget), seed=0)
        second = CFSATSearch(EVIDENCE_ONLY)  # a second build: reads the model cached on disk
        warm = second.optimize(test_program, Objective(test_program, ev, budget), seed=0)
    assert cold.evaluations == len(cold.trace) == budget
    assert len({row["sequence"] for row in cold.trace}) == budget
    assert not any(row["cached"] for row in cold.trace) and all(row["cached"] for row in warm.trace)
    assert trace_key(cold) == trace_key(warm)
    assert cold.extra["offline_reused"] is False and warm.extra["offline_reused"] is True
    assert cold.extra["offline_key"] == warm.extra["offline_key"] and cold.extra["offline_evaluations"] == 0
    # the predicted cluster's candidates, in their stored order
    model = second.offline().model
    predicted = cold.extra["predicted_cluster"]
    assert 0 < cold.extra["cluster_probability"] <= 1 and cold.extra["clusters_used"][0] == predicted
    expected = [",".join(s) for s in model["clusters"][predicted]["candidates"]][:budget]
    assert [row["sequence"] for row in cold.trace] == expected


def test_runs_out_of_a_cluster_and_continues_with_the_next_most_probable(training_root, test_program, evaluator):
    search = CFSATSearch(dataclasses.replace(EVIDENCE_ONLY, walks=3))
    result = search.optimize(test_program, Objective(test_program, evaluator, 8), seed=0)
    assert result.evaluations == len(result.trace) == 8
    used = result.extra["clusters_used"]
    assert len(used) >= 3 and used[0] == result.extra["predicted_cluster"]
    clusters = search.offline().model["clusters"]
    expected = list(dict.fromkeys(",".join(s) for c in used for s in clusters[c]["candidates"]))[:8]
    assert [row["sequence"] for row in result.trace] == expected


def test_a_failed_compilation_is_a_status_not_a_crash(training_root, test_program, evaluator):
    failing = RecordingEvaluator(evaluator, fail=lambda passes: len(passes) % 2 == 1)
    result = CFSATSearch(EVIDENCE_ONLY).optimize(test_program, Objective(test_program, failing, 20), seed=0)
    statuses = result.status_counts()
    assert result.evaluations == 20 and statuses.get("opt-error", 0) > 0 and statuses.get("ok", 0) > 0
    assert result.found and len(result.best) % 2 == 0


def test_the_offline_model_is_deterministic_and_follows_its_graphs(tmp_path, monkeypatch):
    models = []
    for root in ("a", "b"):
        monkeypatch.setenv("ECCO_OUTPUT_ROOT", str(tmp_path / root))
        offline = CFSATSearch(dataclasses.replace(EVIDENCE_ONLY, evidence=str(COMMITTED))).offline()
        assert not offline.reused and offline.path.is_relative_to(tmp_path / root)
        models.append(json.loads(offline.path.read_text()))
    assert models[0]["key"] == models[1]["key"] and models[0]["model"] == models[1]["model"]
    model, cfg = models[0]["model"], EVIDENCE_ONLY
    records = training_evidence(COMMITTED)
    assert {tuple(p) for p in model["vocabulary"]} == {p for r in records for p in evidence_pairs(r)}
    assert len(model["clusters"]) == cfg.clusters and sorted(model["labels"]) == sorted(
        c for c, cluster in enumerate(model["clusters"]) for _ in cluster["members"])
    for cluster in model["clusters"]:
        edges = {(a, b) for a, b, w in cluster["edges"] if w > 0}
        walks = [tuple(s) for s in cluster["candidates"]]
        assert len(set(walks)) == len(walks) <= cfg.walks
        for walk in walks:
            assert cfg.min_length <= len(walk) <= cfg.max_length and all(step in edges for step in zip(walk, walk[1:]))


def test_evidence_holding_a_test_split_program_is_refused(tmp_path):
    directory = embedded_subset(tmp_path / "evidence")
    leak = json.loads(next(directory.glob("*/*.json")).read_text())
    leak["program"] = TEST_PROGRAM
    (directory / "nas").mkdir(exist_ok=True)
    (directory / "nas" / "nas_is__0.json").write_text(json.dumps(leak))
    with pytest.raises(EccoError, match="test-split"):
        CFSATSearch(dataclasses.replace(EVIDENCE_ONLY, evidence=str(directory))).offline()


def test_the_measured_phase_1_reads_training_programs_only_and_is_counted(tmp_path, monkeypatch, evaluator):
    monkeypatch.setenv("ECCO_OUTPUT_ROOT", str(tmp_path / "out"))
    directory = embedded_subset(tmp_path / "evidence")
    loaded: list[str] = []

    def recording_load(uri, cache=None):
        loaded.append(uri)
        return resolve(uri, cache=cache)[0]

    monkeypatch.setattr(cfsat, "load_training_program", recording_load)
    settings = CFSATConfig(evidence=str(directory), clusters=3, walks=5, measure_programs=1, measure_passes=3)
    recording = RecordingEvaluator(evaluator)
    offline = CFSATSearch(settings).offline(recording)
    training = {r.program for r in training_evidence(directory)}
    assert len(loaded) == 1 and set(loaded) <= training and set(recording.programs) == set(loaded)
    assert not set(loaded + recording.programs + list(offline.programs)) & held_out_uris()
    assert offline.model["measured_programs"] == loaded
    assert offline.evaluations == len(recording.programs) and 2 + 3 <= offline.evaluations <= 2 + 3 + 3 * 3
    again = CFSATSearch(settings).offline(RecordingEvaluator(evaluator))
    assert again.reused and again.evaluations == offline.evaluations and again.model == offline.model
