"""The training corpus: csmith:// programs and the filtered, deduplicated corpus (real csmith and LLVM 19)."""

from __future__ import annotations

import os
import shutil

import pytest

from conftest import run_cli
from ecco_lib import corpus
from ecco_lib.benchmarks import embedded, generated, resolve
from ecco_lib.errors import BadProgramError
from ecco_lib.llvm import EvaluationCache, Evaluator

#: csmith://1 terminates and prints a checksum (measured with generated.CSMITH_OPTIONS).
RUNNING_SEED = 1
#: Measured: with this seed generate(3) also rejects a too-large and a never-ending program.
CORPUS_SEED = 6


@pytest.fixture(scope="module")
def corpus_report(evaluator):
    """Three accepted programs, generated once through a non-checking evaluator (generate() must
    build its own checking one)."""
    assert not evaluator.check
    return corpus.generate(3, CORPUS_SEED, evaluator=evaluator, progress=False)


def test_csmith_uri_is_deterministic_cached_and_runs(tmp_path, session_cache):
    first = resolve(f"csmith://{RUNNING_SEED}", cache=EvaluationCache(tmp_path / "a"))
    second = resolve(f"csmith://{RUNNING_SEED}", cache=EvaluationCache(tmp_path / "b"))
    assert len(first) == len(second) == 1
    program = first[0]
    assert (program.uri, program.suite, program.name, program.split, program.runnable) == \
        (f"csmith://{RUNNING_SEED}", "csmith", str(RUNNING_SEED), "train", True)
    assert program.ir_hash == second[0].ir_hash and program.ir.startswith(b"BC")
    source = program.source
    assert source.startswith(str(tmp_path / "a" / "csmith")) and source.endswith(f"/{RUNNING_SEED}.c")
    assert f"--seed {RUNNING_SEED} " in open(source).read(600)
    mtime = os.stat(source).st_mtime_ns
    again = generated.load(RUNNING_SEED, EvaluationCache(tmp_path / "a"))
    assert again.source == source and os.stat(source).st_mtime_ns == mtime and again.ir_hash == program.ir_hash

    with Evaluator(cache=session_cache, jobs=1, check=True) as checker:
        row = checker.evaluate(program, "O3")
    assert row.ok and row.checked and row.cycles > 0, (row.status, row.error)


def test_source_key_covers_csmith_version_and_options(monkeypatch):
    csmith = generated.find_csmith()
    assert csmith.version.startswith("csmith ")
    key = csmith.key
    monkeypatch.setattr(generated, "CSMITH_OPTIONS", (*generated.CSMITH_OPTIONS, "--no-jumps"))
    assert csmith.key != key


def test_generate_accepts_distinct_checked_programs(corpus_report, session_cache):
    report = corpus_report
    hashes = {p.ir_hash for p in report.programs}
    assert len(report.programs) == 3 and len(hashes) == 3
    assert report.attempts == len(report.programs) + sum(report.rejected.values())
    assert report.rejected and set(report.rejected) <= set(corpus.REJECT_REASONS)
    assert all(p.suite == "csmith" and p.split == "train" and p.runnable for p in report.programs)
    sizes = report.ir_instructions
    assert set(sizes) == {p.uri for p in report.programs}
    assert all(0 < n <= corpus.DEFAULT_MAX_IR_INSTRUCTIONS for n in sizes.values())
    summary = report.summary()
    assert summary["accepted"] == 3 and summary["seed"] == CORPUS_SEED
    assert summary["ir_instructions_min"] == min(sizes.values())
    assert 0 < summary["acceptance_rate"] <= 1

    with Evaluator(cache=session_cache, jobs=2, check=True) as checker:
        rows = checker.evaluate_many([(p, "O3") for p in report.programs])
    assert all(r.ok and r.checked and r.cached for r in rows)  # generate() measured exactly these


def test_generate_rejects_a_program_already_in_the_corpus(corpus_report, evaluator):
    first, second = corpus_report.programs[:2]
    report = corpus.generate(1, CORPUS_SEED, evaluator=evaluator, known=[first], progress=False)
    assert [p.uri for p in report.programs] == [second.uri]
    assert report.rejected["duplicate"] == 1
    assert report.attempts == 1 + sum(report.rejected.values())


def test_known_hashes_exclude_programs_by_ir(corpus_report, evaluator):
    first, second = corpus_report.programs[:2]
    report = corpus.generate(1, CORPUS_SEED, evaluator=evaluator, known_hashes={first.ir_hash}, progress=False)
    assert [p.uri for p in report.programs] == [second.uri] and report.rejected["duplicate"] == 1


def test_validation_programs_are_their_own_stream_and_never_training_programs(evaluator):
    programs = corpus.validation_programs(2, 0, evaluator=evaluator, progress=False)
    assert len(programs) == 2 and {p.split for p in programs} == {"validation"}
    assert [p.uri for p in programs] == [p.uri for p in corpus.validation_programs(2, 0, evaluator=evaluator,
                                                                                    progress=False)]
    training = corpus.generate(2, 0, evaluator=evaluator, progress=False).programs
    assert not {p.ir_hash for p in programs} & {p.ir_hash for p in training}  # another seed stream
    excluded = corpus.validation_programs(1, 0, evaluator=evaluator, training_hashes={programs[0].ir_hash},
                                          progress=False)
    assert excluded[0].ir_hash not in {programs[0].ir_hash}
    embedded_hashes = {p.ir_hash for p in resolve("ecco://", evaluator.cache)}
    assert not {p.ir_hash for p in programs} & embedded_hashes


def test_absurd_run_timeout_rejects_everything_and_the_cap_stops(evaluator):
    report = corpus.generate(1, 11, evaluator=evaluator, max_ir_instructions=10**9, run_timeout_s=1e-6,
                             progress=False)
    assert report.programs == []
    assert report.attempts == corpus.ATTEMPTS_PER_PROGRAM
    assert report.rejected == {"run-timeout": corpus.ATTEMPTS_PER_PROGRAM}


def test_absurd_size_limit_rejects_everything_as_too_large(evaluator):
    report = corpus.generate(1, 11, evaluator=evaluator, max_ir_instructions=1, progress=False)
    assert report.programs == [] and report.rejected == {"too-large": corpus.ATTEMPTS_PER_PROGRAM}
    assert report.summary()["acceptance_rate"] == 0


def test_training_programs_are_train_split_plus_generated_without_test(evaluator, corpus_report):
    programs, report = corpus.training_programs(generated=3, seed=CORPUS_SEED, evaluator=evaluator,
                                                progress=False)
    uris = [p.uri for p in programs]
    train = {f"ecco://{key}" for key in embedded.program_names(split="train")}
    test = resolve("ecco://", evaluator.cache, split="test")
    assert train <= set(uris) and test
    assert not {p.uri for p in test} & set(uris)
    assert not {p.ir_hash for p in test} & {p.ir_hash for p in programs}
    assert len({p.ir_hash for p in programs}) == len(programs)
    # same seed, same corpus: generation is reproducible
    assert [p.uri for p in report.programs] == [p.uri for p in corpus_report.programs]
    assert uris[-3:] == [p.uri for p in report.programs]

    only_embedded, no_report = corpus.training_programs(evaluator=evaluator)
    assert no_report is None and {p.uri for p in only_embedded} == train


def test_training_programs_limit_takes_every_suite_first(evaluator):
    suites = sorted(embedded.suites())
    programs, _ = corpus.training_programs(limit=len(suites) + 1, evaluator=evaluator)
    assert [p.suite for p in programs] == [*suites, suites[0]] and all(p.split == "train" for p in programs)
    assert corpus.training_programs(limit=0, evaluator=evaluator)[0] == []
    with pytest.raises(corpus.CorpusError, match="limit must be >= 0"):
        corpus.training_programs(limit=-1, evaluator=evaluator)


def test_training_programs_refuse_a_leaked_test_program(evaluator, monkeypatch):
    monkeypatch.setattr(corpus, "resolve", lambda spec, cache, split: resolve(spec, cache))  # split ignored
    with pytest.raises(RuntimeError, match="embedded test programs in the training corpus"):
        corpus.training_programs(evaluator=evaluator)


@pytest.mark.parametrize("settings", [{"count": -1}, {"max_ir_instructions": 0}, {"run_timeout_s": 0}])
def test_invalid_generation_settings(settings, evaluator):
    with pytest.raises(corpus.CorpusError, match="need count >= 0"):
        corpus.generate(**{"count": 1, "seed": 0, "evaluator": evaluator, **settings})


@pytest.mark.parametrize("uri", ["csmith://", "csmith://abc", "csmith://-1", "csmith://1.5",
                                 f"csmith://{2**64}"])
def test_bad_csmith_uris(uri):
    with pytest.raises(BadProgramError) as info:
        resolve(uri)
    assert "\n" not in str(info.value) and "seed" in str(info.value).lower()


def test_bad_csmith_uri_on_the_command_line():
    proc = run_cli("evaluate", "csmith://abc")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "csmith://abc" in proc.stderr


def test_missing_csmith_or_header_names_the_packages(tmp_path, monkeypatch, evaluator):
    real = shutil.which("csmith")
    fake = tmp_path / "prefix" / "bin" / "csmith"  # a working csmith without <prefix>/include/csmith
    fake.parent.mkdir(parents=True)
    fake.write_text(f'#!/bin/sh\nexec {real} "$@"\n')
    fake.chmod(0o755)
    generated.find_csmith.cache_clear()
    try:
        monkeypatch.setenv("PATH", str(tmp_path / "empty"))
        with pytest.raises(generated.CsmithMissingError, match="csmith is not on PATH.*apt-get install csmith "
                                                               "libcsmith-dev"):
            resolve("csmith://1")
        monkeypatch.setenv("PATH", str(fake.parent))
        with pytest.raises(generated.CsmithMissingError, match="csmith.h is missing.*apt-get install csmith"):
            corpus.generate(1, 0, evaluator=evaluator, progress=False)
    finally:
        generated.find_csmith.cache_clear()
