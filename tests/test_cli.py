"""The `ecco` command line as a user runs it: exit codes, one-line errors, JSON, cached reruns."""

from __future__ import annotations

import csv
import json

import pytest

from conftest import run_cli


def _one_line_error(proc, fragment: str) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ecco: error:"), proc.stderr
    assert fragment in lines[0] and "Traceback" not in proc.stderr


@pytest.fixture(scope="module")
def text_file_named_ll(tmp_path_factory):
    path = tmp_path_factory.mktemp("bad") / "x.ll"
    path.write_text("this is not LLVM IR\n")
    return path


@pytest.mark.parametrize("args, fragment", [
    (["evaluate", "{bad}"], "not valid LLVM IR"),
    (["evaluate", "missing.ll"], "no such file"),
    (["evaluate", "{small}", "--passes", "mem2reg,notapass"], "unknown pass 'notapass'"),
    (["evaluate", "{small}", "--passes", "function(mem2reg"], "malformed sequence"),
    (["evaluate", "{small}", "--level", "O7"], "unknown optimization level"),
    (["evaluate", "ecco://nosuchsuite"], "unknown embedded suite 'nosuchsuite'"),
    (["evaluate", "benchmark://nosuch-v0/x"], "nosuch-v0"),
    (["evaluate", "gopher://x"], "unknown URI scheme"),
    (["evaluate", "{small}", "--profile", "nosuchprofile"], "unknown profile"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_is_exit_2_and_one_line(args, fragment, text_file_named_ll, small_ll):
    args = [a.format(bad=text_file_named_ll, small=small_ll) for a in args]
    _one_line_error(run_cli(*args), fragment)


def test_missing_toolchain_is_exit_2_and_one_line(tmp_path, small_ll):
    proc = run_cli("evaluate", str(small_ll), env={"ECCO_LLVM_BIN": str(tmp_path)})
    _one_line_error(proc, "lacks opt")


def test_wrong_llvm_version_is_named(tmp_path, small_ll):
    fake = tmp_path / "opt"
    fake.write_text("#!/bin/sh\necho 'LLVM version 14.0.6'\n")
    fake.chmod(0o755)
    import os

    from ecco_lib.llvm import find_toolchain
    from ecco_lib.llvm.toolchain import TOOLS

    tc = find_toolchain()
    for tool in TOOLS:
        if tool != "opt":
            os.symlink(getattr(tc, tool.replace("-", "_")), tmp_path / tool)
    _one_line_error(run_cli("evaluate", str(small_ll), env={"ECCO_LLVM_BIN": str(tmp_path)}), "is LLVM 14.0.6")


def test_empty_sequence_is_valid(small_ll):
    proc = run_cli("evaluate", str(small_ll), "--passes", "", "--json", "--no-check")
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)
    assert row["status"] == "ok" and row["pipeline"] == "" and row["cycles"] > 0


def test_suites_and_passes_listings():
    proc = run_cli("suites", "--json")
    suites = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 0 and len(suites) == 7
    assert all(len(s["programs"]) >= 6 for s in suites)
    proc = run_cli("passes", "--json")
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 118


@pytest.mark.slow
def test_baselines_rerun_is_served_from_the_cache(tmp_path):
    """The rerun evaluates nothing (every row ``cached``); how much faster that is on this machine
    is measured by perf/evaluator_throughput.py (cold vs cached), not asserted here."""
    env = {"ECCO_CACHE_DIR": str(tmp_path / "cache")}
    out = tmp_path / "o.csv"

    def rows() -> list[dict]:
        with open(out) as f:
            return list(csv.DictReader(f))

    first = run_cli("baselines", "ecco://linalg", "--csv", str(out), "--no-check", env=env)
    assert first.returncode == 0, first.stderr
    assert {r["cached"] for r in rows()} == {"False"}
    second = run_cli("baselines", "ecco://linalg", "--csv", str(out), "--no-check", env=env)
    assert second.returncode == 0 and "average" in second.stdout
    assert len(rows()) == 6 * 7 and {r["status"] for r in rows()} == {"ok"}
    assert {r["pipeline"] for r in rows()} == {"O0", "O1", "O2", "O3", "Os", "Oz"}
    assert {r["cached"] for r in rows()} == {"True"}
