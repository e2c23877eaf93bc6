"""Algorithm 1, evidence records and the efficacy prior, on real programs with the real metric."""

from __future__ import annotations

import json
import math

import pytest

from conftest import REPO
from ecco_lib import features
from ecco_lib.errors import BadEvidenceError, EccoError
from ecco_lib.evidence import (CorePassPruner, EfficacyPrior, EvidenceRecord, load_evidence, process_programs,
                               reevaluate, save_evidence)
from ecco_lib.llvm import Evaluator, Pipeline
from ecco_lib.llvm.steps import run_opt
from ecco_lib.search import GAConfig

SMALL = GAConfig(population=6, generations=3, budget=14, min_length=4, max_length=12)


@pytest.fixture(scope="module")
def outcomes(embedded_programs, evaluator):
    programs = [p for p in embedded_programs if p.split == "train"][:2]
    return programs, process_programs(programs, evaluator, SMALL, seed=1, sequences=2)


def test_pruning_invariants(embedded_programs, evaluator):
    program = embedded_programs[2]
    sequence = ["instnamer", "mem2reg", "strip-dead-prototypes", "instcombine", "instnamer", "simplifycfg",
                "loop-rotate", "licm", "gvn", "name-anon-globals"]
    result = CorePassPruner(evaluator).prune(program, sequence)
    assert result.cycles_core <= result.cycles_original and len(result.core) < len(sequence)
    assert "instnamer" not in result.core and "strip-dead-prototypes" not in result.core
    for removal in result.removals:
        assert removal["cycles_without"] <= removal["cycles_with"]
    for i in range(len(result.core)):  # fixpoint: every remaining pass is needed
        row = evaluator.evaluate(program, Pipeline(passes=result.core[:i] + result.core[i + 1:]))
        assert not row.ok or row.cycles > result.cycles_core
    assert evaluator.evaluate(program, Pipeline(passes=result.core)).cycles == result.cycles_core


def test_evidence_is_internally_consistent(outcomes, evaluator):
    programs, results = outcomes
    for program, outcome in zip(programs, results):
        assert outcome.evidence, program.uri
        for ev in outcome.evidence:
            assert isinstance(ev, EvidenceRecord)
            core, passes, c = list(ev.core), ev.passes, ev.cycles
            assert [p["pass"] for p in passes] == core and c["core"] <= c["searched"]
            assert passes[0]["performance"]["cycles_before"] == c["input"]
            assert passes[-1]["performance"]["cycles_after"] == c["core"]
            for a, b in zip(passes, passes[1:]):
                assert a["performance"]["cycles_after"] == b["performance"]["cycles_before"]
            assert sum(p["performance"]["marginal_gain"] for p in passes) == pytest.approx((c["input"] - c["core"]) / c["O3"])
            assert all(p["performance"]["removal_loss"] > 0 for p in passes)
            for s in ev.synergy:
                assert s["synergy"] == pytest.approx(s["gain_pair"] - s["gain_first"] - s["gain_second"])
            assert len(ev.features) == 56 and ev.features == features.autophase(program.ir)
            first = core[:1]
            after = features.autophase(run_opt(program.ir, Pipeline(passes=tuple(first)).opt_text, 60)["ir"])
            expected = {k: after[k] - ev.features[k] for k in after if after[k] != ev.features[k]}
            assert passes[0]["features_delta"] == expected
            assert ev.metric["cpu"] == "sapphirerapids" and ev.llvm_version.startswith("19.")


def test_evidence_reevaluates_from_scratch(outcomes, tmp_path):
    programs, results = outcomes
    evidences = [e for o in results for e in o.evidence]
    with Evaluator(cache=False, jobs=2) as fresh:
        check = reevaluate(evidences, {p.uri: p for p in programs}, fresh)
    assert check["matches"].all()


def test_evidence_files_round_trip(outcomes, tmp_path):
    _, results = outcomes
    original = [e for o in results for e in o.evidence]
    paths = save_evidence(results, tmp_path)
    assert len(paths) == len(original) == len(set(paths))
    key = lambda e: json.dumps(e.to_dict(), sort_keys=True)  # noqa: E731
    assert sorted(load_evidence(tmp_path), key=key) == sorted(original, key=key)
    saved = json.loads(paths[0].read_text())
    assert list(saved)[0] == "schema_version" and saved["schema_version"] == EvidenceRecord.schema_version == 1
    assert EvidenceRecord.from_dict(saved) == EvidenceRecord.load(paths[0])


def test_record_round_trips_through_dict_and_file(outcomes, tmp_path):
    record = outcomes[1][0].evidence[0]
    data = record.to_dict()
    assert list(data) == ["schema_version", "program", "suite", "input_hash", "features", "function_properties",
                          "structure", "cycles", "search", "pruning", "passes", "synergy", "metric", "llvm_version"]
    again = EvidenceRecord.from_dict(data)
    assert again == record and again.core == record.core == tuple(record.pruning["core"])
    data["passes"][0]["performance"]["removal_loss"] = -1.0  # copies: neither side sees the other's changes
    assert again.passes[0]["performance"]["removal_loss"] == record.passes[0]["performance"]["removal_loss"] > 0
    assert EvidenceRecord.load(record.save(tmp_path / "sub" / "record.json")) == record


def test_files_without_a_version_are_version_1(outcomes, tmp_path):
    record = outcomes[1][0].evidence[0]
    unversioned = record.to_dict()
    del unversioned["schema_version"]
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(unversioned, indent=1) + "\n")
    assert EvidenceRecord.load(path) == record
    committed = sorted((REPO / "results" / "dataset" / "evidence").glob("*/*.json"))  # the pipeline's own files
    assert committed
    assert [r.program for r in load_evidence(REPO / "results" / "dataset" / "evidence")] == \
        [json.loads(p.read_text())["program"] for p in committed]


@pytest.mark.parametrize("change, message", [
    ({"schema_version": 2}, "schema_version 2 is not supported (this version reads 1)"),
    ({"schema_version": "1"}, "schema_version '1' is not supported"),
    ({"cycles_per_pass": {}}, "unknown key(s) cycles_per_pass"),
])
def test_unknown_versions_and_keys_are_rejected_in_one_line(outcomes, tmp_path, change, message):
    data = {**outcomes[1][0].evidence[0].to_dict(), **change}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(BadEvidenceError) as caught:
        EvidenceRecord.load(path)
    assert isinstance(caught.value, EccoError) and "\n" not in str(caught.value)
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value)
    del data["synergy"]
    with pytest.raises(BadEvidenceError, match=r"missing key\(s\) synergy"):
        EvidenceRecord.from_dict({**data, "schema_version": 1})
    path.write_text("{oops")
    with pytest.raises(BadEvidenceError, match="not JSON"):
        EvidenceRecord.load(path)


@pytest.mark.slow
def test_threads_do_not_change_results(embedded_programs, tmp_path):
    program = [p for p in embedded_programs if p.split == "train"][3]
    runs = []
    for threads in (1, 2):
        with Evaluator(cache=tmp_path / f"t{threads}", jobs=2) as ev:
            runs.append(process_programs([program], ev, SMALL, seed=4, sequences=1, threads=threads)[0])
    assert runs[0].search.best == runs[1].search.best and runs[0].evidence == runs[1].evidence


def test_prior_from_evidence(outcomes, tmp_path):
    _, results = outcomes
    evidences = [e for o in results for e in o.evidence]
    prior = EfficacyPrior.from_evidence(evidences)
    occurrences = sum(len(e.passes) for e in evidences)
    assert prior.passes["count"].sum() == occurrences
    assert (prior.passes["weight"] >= prior.floor).all() and len(prior.passes) == 118
    seen = prior.passes[prior.passes["count"] > 0]
    for name, row in seen.iterrows():
        gains = [p["performance"]["marginal_gain"] for e in evidences for p in e.passes if p["pass"] == name]
        assert row["mean_gain"] == pytest.approx(sum(gains) / len(gains))
    star = prior.star_passes(5, min_count=1)
    assert list(star["mean_gain"]) == sorted(star["mean_gain"], reverse=True)
    loaded = EfficacyPrior.load(prior.save(tmp_path / "prior.json"))
    assert loaded.passes.round(12).equals(prior.passes.round(12))
    assert math.isclose(loaded.categories["count"].sum(), occurrences)
