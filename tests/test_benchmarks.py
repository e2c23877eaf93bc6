"""Benchmarks: the embedded suite, differential checking, file and directory inputs."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from ecco_lib.benchmarks import cap_per_suite, embedded, resolve, spread_over_suites
from ecco_lib.errors import BadProgramError
from ecco_lib.llvm import EvaluationCache, Evaluator, Pipeline, find_toolchain
from ecco_lib.llvm.toolchain import TOOLS


def test_embedded_suite_shape_and_split(embedded_programs):
    per_suite = Counter(p.suite for p in embedded_programs)
    assert len(embedded.suites()) == 7 and set(per_suite) == set(embedded.suites())
    assert len(embedded_programs) >= 42 and min(per_suite.values()) >= 6
    on_disk = {f"{p.parent.name}/{p.stem}" for p in embedded.ROOT.glob("*/*.c")}
    assert on_disk == set(embedded.manifest()["split"])
    for suite in per_suite:
        splits = Counter(p.split for p in embedded_programs if p.suite == suite)
        assert splits["train"] >= 3 and splits["test"] >= 2, suite
    assert all(p.runnable and p.uri == f"ecco://{p.suite}/{p.name}" for p in embedded_programs)
    assert {s["mirrors"] for s in embedded.suites().values()} == {
        "blas", "cbench", "chstone", "mibench", "npb", "opencv", "tensorflow"}


@pytest.mark.slow
def test_o0_and_o3_builds_agree_for_every_embedded_program(embedded_programs, session_cache):
    with Evaluator(cache=session_cache, jobs=2, check=True) as ev:
        rows = ev.evaluate_many([(p, Pipeline.of_level("O3")) for p in embedded_programs])
    bad = [(r.program, r.status, r.error) for r in rows if not (r.ok and r.checked)]
    assert not bad
    assert all(r.runtime_s > 0 for r in rows)  # "well under a second" is measured by perf/embedded_runtime.py


def _corrupting_toolchain(directory: Path) -> Path:
    """A toolchain dir whose opt replaces the first character of every string constant it outputs."""
    tc = find_toolchain()
    for tool in TOOLS:
        if tool != "opt":
            os.symlink(getattr(tc, tool.replace("-", "_")), directory / tool)
    script = directory / "opt"
    script.write_text(f"""#!/bin/sh
case "$*" in
  *--version*) exec {tc.opt} "$@" ;;
  *-passes=verify*) exec {tc.opt} "$@" ;;
esac
{tc.opt} "$@" | {tc.opt} -passes=verify -S -o - - | sed 's/c"\\([A-Za-z%]\\)/c"#/g' | {tc.opt} -passes=verify -o - -
""")
    script.chmod(0o755)
    return directory


def test_corrupted_optimized_ir_is_reported_as_miscompile(tmp_path, monkeypatch):
    program = embedded.load(embedded.program_names("automotive")[0], EvaluationCache(tmp_path / "a"))
    monkeypatch.setenv("ECCO_LLVM_BIN", str(_corrupting_toolchain(tmp_path)))
    with Evaluator(cache=tmp_path / "b", jobs=1, check=True) as ev:
        row = ev.evaluate(program, Pipeline.of_level("O3"))
    assert row.status == "miscompile" and row.checked and row.cycles is None
    assert "differs from the -O0 build" in row.error


def test_directory_layouts(tmp_path, small_c, small_ll):
    (tmp_path / "crypto").mkdir()
    shutil.copy(small_c, tmp_path / "crypto" / "hash.c")
    shutil.copy(small_ll, tmp_path / "telecom_fold.ll")
    shutil.copy(small_c, tmp_path / "README.txt")
    programs = resolve(str(tmp_path))
    assert [(p.suite, p.name) for p in programs] == [("crypto", "hash"), ("telecom", "fold")]
    assert all(p.runnable for p in programs)
    assert resolve(str(small_ll))[0].ir == small_ll.read_bytes()


@pytest.mark.parametrize("content, message", [(b"hello\n", "not valid LLVM IR"), (b"BC\xc0\xde junk", "not valid LLVM IR")])
def test_non_ir_file_is_rejected_with_the_tool_message(tmp_path, content, message):
    path = tmp_path / "x.ll"
    path.write_bytes(content)
    with pytest.raises(BadProgramError, match=message):
        resolve(str(path))


@pytest.mark.parametrize("spec", ["ecco://nosuchsuite", "ecco://linalg/nosuchprogram", "ftp://x", "/no/such/file.c"])
def test_unknown_benchmarks_are_one_clear_error(spec):
    with pytest.raises(BadProgramError):
        resolve(spec)


def test_spread_over_suites_and_cap_per_suite():
    train = resolve("ecco://", split="train")
    suites = list(dict.fromkeys(p.suite for p in train))
    assert len(suites) == 7 and len(train) == 28
    four = spread_over_suites(train, 4)
    assert [p.suite for p in four] == suites[:4]
    nine = spread_over_suites(train, 9)
    assert [p.suite for p in nine] == suites + suites[:2]
    assert nine[7] == [p for p in train if p.suite == suites[0]][1]
    assert spread_over_suites(train, 100) == spread_over_suites(train, 28) and len(spread_over_suites(train, 100)) == 28
    assert spread_over_suites(train, 0) == []
    assert Counter(p.suite for p in cap_per_suite(train, 2)) == {s: 2 for s in suites}
    assert cap_per_suite(train, None) == train
