"""The tool used by a hostile (or careless) user: files it must not write, inputs it must refuse
with one line, limits it must keep, processes it must not leave behind. Real LLVM 19 tools."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ecco_lib.atomic import atomic_path, check_writable
from ecco_lib.config import load_profile
from ecco_lib.errors import BadProgramError, EccoError
from ecco_lib.experiments import suite_scores, write_table
from ecco_lib.llvm import REGISTRY, EvaluationCache, Evaluator, MetricSettings, Pipeline
from ecco_lib.llvm import steps
from ecco_lib.report import summary_lines

from conftest import REPO, SMALL_C, run_cli

#: A checked program that also writes a file into its working directory.
WRITER_C = SMALL_C.replace('    printf("checksum %08x\\n", h);',
                           '    FILE *f = fopen("ecco-probe.txt", "w");\n    if (f) { fprintf(f, "%u\\n", h); fclose(f); }\n'
                           '    printf("checksum %08x\\n", h);')
assert "fopen" in WRITER_C


def _one_line_error(proc, fragment: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ecco: error:"), proc.stderr
    assert fragment in lines[0] and "Traceback" not in proc.stderr, lines[0]


def _profile(tmp_path: Path, name: str = "p", **changes) -> Path:
    """The smoke profile (merged with the default it extends) with ``section.key`` -> value changes
    (``None`` deletes), as a self-contained YAML file."""
    data = load_profile("smoke").data
    for dotted, value in changes.items():
        *parents, key = dotted.split("__")
        node = data
        for parent in parents:
            node = node[parent]
        if value is None:
            del node[key]
        else:
            node[key] = value
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _opt_entries(cache_dir: Path) -> int:
    return EvaluationCache(cache_dir).counts()["opt"] if cache_dir.exists() else 0


@pytest.mark.slow
# -- scratch directories -----------------------------------------------------------------------------
def test_every_registry_pass_with_check_leaves_the_working_directory_empty(tmp_path):
    """insert-gcov-profiling makes opt write <function>.gcno into its cwd, and the checked program
    writes ecco-probe.txt into its own: neither may land in the caller's directory."""
    source = _write(tmp_path / "src" / "writer.c", WRITER_C)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = {"ECCO_CACHE_DIR": str(tmp_path / "cache")}
    proc = run_cli("evaluate", str(source), "--passes", "insert-gcov-profiling", "--check", "--json", env=env, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] in ("ok", "link-error")  # gcov counters need libgcov
    assert sorted(os.listdir(cwd)) == []
    sweep = (
        "import json, sys\n"
        "from ecco_lib.benchmarks import resolve\n"
        "from ecco_lib.llvm import REGISTRY, Evaluator, MetricSettings, Pipeline\n"
        "program = resolve(sys.argv[1])[0]\n"
        "with Evaluator(MetricSettings(mca_iterations=10), cache=False, jobs=2, check=True) as ev:\n"
        "    rows = ev.evaluate_many([(program, Pipeline.of_passes([p.name])) for p in REGISTRY])\n"
        "print(json.dumps({r.pipeline: [r.status, r.checked] for r in rows}))\n")
    proc = subprocess.run([sys.executable, "-c", sweep, str(source)], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **env, "PYTHONPATH": str(REPO)}, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    outcome = json.loads(proc.stdout)
    assert len(outcome) == len(REGISTRY) and sum(checked for _, checked in outcome.values()) > 100
    assert sorted(os.listdir(cwd)) == []


# -- checks that could not run -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def macos_ll(tmp_path_factory, small_ll) -> Path:
    """The small program with CompilerGym mibench's x86_64-apple-macosx triple: measurable, not linkable."""
    text = small_ll.read_text().splitlines()
    text = [('target triple = "x86_64-apple-macosx10.15.0"' if l.startswith("target triple") else l) for l in text]
    path = tmp_path_factory.mktemp("mac") / "mac.ll"
    path.write_text("\n".join(text) + "\n")
    return path


def test_an_unchecked_ok_row_is_labelled_and_counted(macos_ll, small_c, tmp_path):
    env = {"ECCO_CACHE_DIR": str(tmp_path / "cache")}
    proc = run_cli("evaluate", str(macos_ll), "--check", "--json", env=env)
    row = json.loads(proc.stdout)
    assert (row["status"], row["checked"]) == ("ok", False) and "no check" in row["error"] and row["cycles"] > 0
    proc = run_cli("evaluate", str(macos_ll), str(small_c), "--check", env=env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    mac = next(l for l in lines if "mac.ll" in l and "O3" in l)
    small = next(l for l in lines if "small.c" in l and "O3" in l)
    assert "ok (unchecked)" in mac and "unchecked" not in small
    assert any(l.startswith("1 of 2 ok rows unchecked") and "link" in l for l in lines), proc.stdout
    proc = run_cli("baselines", str(macos_ll), "--check", "--levels", "O0,O3", env=env)
    assert proc.returncode == 0, proc.stderr
    assert any(l.startswith("2 of 2 ok rows unchecked") for l in proc.stdout.splitlines()), proc.stdout


def test_summaries_say_how_many_rows_they_dropped():
    rows = pd.DataFrame([
        {"program": "a", "suite": "s", "pipeline": "O3", "status": "ok", "i_o3": 0.0, "checked": True, "error": None},
        {"program": "a", "suite": "s", "pipeline": "x", "status": "ok", "i_o3": 0.1, "checked": False,
         "error": "no check: the -O0 reference build failed"},
        {"program": "b", "suite": "s", "pipeline": "x", "status": "timeout", "i_o3": None, "checked": False,
         "error": "opt exceeded 1 s"},
        {"program": "b", "suite": "s", "pipeline": "O3", "status": "llc-error", "i_o3": None, "checked": False,
         "error": "boom"},
    ])
    table = suite_scores(rows)
    assert table.attrs["dropped"] == {"llc-error": 1, "timeout": 1} and table.attrs["unchecked"] == 1
    assert summary_lines(rows.to_dict("records")) == [
        "2 of 4 rows not ok, left out of the means: 1 llc-error, 1 timeout",
        "1 of 2 ok rows unchecked: the differential check could not run "
        "(e.g. a: no check: the -O0 reference build failed)"]


# -- result files ---------------------------------------------------------------------------------------
def test_csv_to_a_device_fifo_or_directory_is_refused_before_the_run(tmp_path, small_ll):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    cache = tmp_path / "cache"
    for target, fragment in ((fifo, "not a regular file"), (tmp_path, "is a directory"),
                             (tmp_path / "afile" / "out.csv", "cannot write")):
        if target.name == "out.csv":
            target.parent.write_text("a file, not a directory\n")
        proc = run_cli("baselines", str(small_ll), "--no-check", "--csv", str(target),
                       env={"ECCO_CACHE_DIR": str(cache)})
        _one_line_error(proc, fragment)
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and tmp_path.is_dir()
    assert _opt_entries(cache) == 0, "the run started before the output target was checked"
    with pytest.raises(EccoError, match="not a regular file"):
        write_table(pd.DataFrame({"a": [1]}), fifo)
    with pytest.raises(EccoError, match="not a regular file"):
        check_writable(os.devnull)


def test_csv_through_a_symlink_writes_the_file_it_points_to(tmp_path, small_ll):
    real = tmp_path / "data" / "o.csv"
    real.parent.mkdir()
    link = tmp_path / "o.csv"
    link.symlink_to(real)
    proc = run_cli("baselines", str(small_ll), "--no-check", "--levels", "O3", "--csv", str(link),
                   env={"ECCO_CACHE_DIR": str(tmp_path / "cache")})
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert pd.read_csv(real)["pipeline"].tolist() == ["O3"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "data", "o.csv"]  # no temporary files left


def test_written_files_get_normal_permissions(tmp_path, small_ll):
    """mkstemp's 0600 is not what a result file should have: 0666 minus the umask for a new file,
    the existing mode for a replaced one."""
    old = os.umask(0o022)
    try:
        proc = run_cli("baselines", str(small_ll), "--no-check", "--levels", "O3", "--csv", str(tmp_path / "o.csv"),
                       env={"ECCO_CACHE_DIR": str(tmp_path / "cache")})
        fresh = write_table(pd.DataFrame({"a": [1]}), tmp_path / "new.csv")
        os.umask(0o077)
        private = write_table(pd.DataFrame({"a": [1]}), tmp_path / "private.csv")
    finally:
        os.umask(old)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE((tmp_path / "o.csv").stat().st_mode) == 0o644
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644 and stat.S_IMODE(private.stat().st_mode) == 0o600
    fresh.chmod(0o640)
    with atomic_path(fresh) as tmp:
        tmp.write_text("x\n")
    assert fresh.read_text() == "x\n" and stat.S_IMODE(fresh.stat().st_mode) == 0o640


# -- long sequences -------------------------------------------------------------------------------------------
def test_a_4300_pass_sequence_evaluates_through_a_response_file(small_ll, tmp_path):
    sequence = ["rewrite-statepoints-for-gc", "loop-unswitch"] * 2150
    assert len(f"-passes={Pipeline.of_passes(sequence).opt_text}") > 131072  # the kernel's MAX_ARG_STRLEN
    proc = run_cli("evaluate", str(small_ll), "--passes", ",".join(sequence), "--json", "--no-check",
                   env={"ECCO_CACHE_DIR": str(tmp_path / "cache")})
    assert proc.returncode == 0, proc.stderr[-2000:]
    row = json.loads(proc.stdout)
    assert row["status"] == "ok" and row["cycles"] > 0, row["error"]


def test_a_tool_that_cannot_start_is_a_status_not_a_traceback(tmp_path):
    proc = steps._run([str(tmp_path / "no-such-tool"), "-version"], None, 5.0, tmp_path)
    assert proc.returncode == 127 and b"cannot start no-such-tool" in proc.stderr


# -- the cache --------------------------------------------------------------------------------------------------------
def test_a_corrupt_cache_is_one_line_and_cache_clear_repairs_it(tmp_path, small_ll):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "evaluations-v1.sqlite").write_bytes(os.urandom(4096) + b"not sqlite" * 100)
    env = {"ECCO_CACHE_DIR": str(cache)}
    for args in (["evaluate", str(small_ll), "--no-check"], ["baselines", str(small_ll), "--no-check"],
                 ["cache", "info"]):
        _one_line_error(run_cli(*args, env=env), "evaluations-v1.sqlite")
    proc = run_cli("cache", "clear", env=env)
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("evaluate", str(small_ll), "--no-check", "--json", env=env)
    assert proc.returncode == 0 and json.loads(proc.stdout)["status"] == "ok", proc.stderr
    assert run_cli("cache", "clear", env=env).returncode == 0 and EvaluationCache(cache).counts()["opt"] == 0


def test_an_unusable_cache_directory_is_one_line(tmp_path, small_ll):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for directory in (blocker, blocker / "cache"):
        for args in (["evaluate", str(small_ll), "--no-check"], ["cache", "info"], ["cache", "clear"]):
            _one_line_error(run_cli(*args, env={"ECCO_CACHE_DIR": str(directory)}), "cache")


# -- bad options and profiles ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("changes, fragment", [
    ("metric: [unclosed\n", "malformed YAML"),
    ({"metric": None}, "missing section 'metric'"),
    ({"execution": 5}, "section 'execution' must be a dict"),
    ({"check__timeout_s": "soon"}, "timeout_s = 'soon' is not of type float"),
    ({"execution__jobs": 0}, "execution.jobs = 0"),
    ({"metric__cpu": "nosuchcpu"}, "'nosuchcpu' is not a CPU of target"),
    ({"metric__triple": "nosuch-unknown-none"}, "unknown target triple"),
    ({"metric__bogus": 1}, "unknown MetricSettings key"),
])
def test_a_bad_profile_is_one_line(tmp_path, small_ll, changes, fragment):
    if isinstance(changes, str):
        path = _write(tmp_path / "bad.yaml", changes)
    else:
        path = _profile(tmp_path, **changes)
    cache = tmp_path / "cache"
    _one_line_error(run_cli("evaluate", str(small_ll), "--profile", str(path), env={"ECCO_CACHE_DIR": str(cache)}),
                    fragment)
    assert _opt_entries(cache) == 0


@pytest.mark.parametrize("args, fragment", [
    (["evaluate", "{small}", "--jobs", "-1"], "--jobs: expected a positive integer"),
    (["evaluate", "{small}", "--jobs", "0"], "--jobs: expected a positive integer"),
    (["baselines", "{small}", "--levels", ""], "--levels is empty"),
    (["baselines", "{small}", "--levels", "O3,"], "unknown optimization level ''"),
    (["evaluate", "{small}", "--level", ""], "unknown optimization level ''"),
])
def test_bad_options_are_one_line(small_ll, args, fragment):
    _one_line_error(run_cli(*[a.format(small=small_ll) for a in args]), fragment)


def test_an_unknown_cpu_is_refused_once_up_front(small_program):
    with pytest.raises(EccoError, match="'znver99' is not a CPU of target"):
        Evaluator(MetricSettings(cpu="znver99"), cache=False)
    with pytest.raises(EccoError, match="llc_opt"):
        MetricSettings(llc_opt="O7")


@pytest.mark.parametrize("spelling", [["--passes", "-mem2reg,-licm"], ["--passes=-mem2reg,-licm"],
                                      ["--passes", "-mem2reg"]])
def test_legacy_pass_names_with_a_leading_dash_parse(small_ll, spelling):
    proc = run_cli("evaluate", str(small_ll), *spelling, "--json", "--no-check")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["pipeline"] == ",".join(p.lstrip("-") for p in spelling[-1].split("=")[-1].split(","))


# -- limits of checked programs -------------------------------------------------------------------------------------------
def test_check_honours_the_profiles_run_time_limit(tmp_path):
    """The profile has checks off: ``--check`` must still use its check.timeout_s (1 s here), not 20 s."""
    source = _write(tmp_path / "slow.c", "#include <stdio.h>\n#include <unistd.h>\n"
                                        "int main(void) { sleep(4); puts(\"done\"); return 0; }\n")
    profile = _profile(tmp_path, check__enabled=False, check__timeout_s=1, check__repeats=1)
    start = time.monotonic()
    proc = run_cli("evaluate", str(source), "--check", "--json", "--profile", str(profile),
                   env={"ECCO_CACHE_DIR": str(tmp_path / "cache")})
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)
    assert (row["status"], row["checked"]) == ("ok", False) and "exceeded 1 s" in row["error"], row
    assert time.monotonic() - start < 60  # a bound against a hang, not a speed claim


def test_host_builds_use_the_tool_time_limit(small_program):
    result = steps.run_executable(small_program.ir, "O0", 1, 20.0, 0.001)
    assert result == {"status": "timeout", "error": "llc (host build) exceeded 0.001 s"}


def test_huge_program_output_is_cut_and_never_held_in_memory(tmp_path):
    """A program printing 150 MB: the check stops it past 16 MiB (``unchecked``); the driver's
    peak RSS (about 90 MB for Python, pandas and the tools) stays far below the output size."""
    source = _write(tmp_path / "chatty.c", "#include <stdio.h>\n#include <string.h>\n"
                                          "int main(void) { static char line[1 << 20]; memset(line, 'x', sizeof line);\n"
                                          "  for (int i = 0; i < 150; i++) fwrite(line, 1, sizeof line, stdout);\n"
                                          "  return 0; }\n")
    driver = ("import resource, subprocess, sys\n"
              "proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
              "print(proc.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
              "print(proc.stdout, end='')\nprint(proc.stderr, end='', file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", driver, sys.executable, "-m", "ecco_lib", "evaluate", str(source),
                           "--check", "--json", "--jobs", "1", "--no-cache"], capture_output=True, text=True,
                          cwd=REPO, timeout=600)
    first, row = proc.stdout.split("\n", 1)
    code, peak_kib = map(int, first.split())
    assert code == 0, proc.stderr
    row = json.loads(row)
    assert (row["status"], row["checked"]) == ("ok", False), row
    assert "printed more than 16 MiB" in row["error"]
    assert peak_kib < 200 * 1024, f"driver peak RSS {peak_kib} KiB"


# -- inputs that are not programs --------------------------------------------------------------------------------------------
def test_optnone_ir_warns_once_per_program(tmp_path, small_c):
    ir = tmp_path / "optnone.ll"
    subprocess.run(["clang-19", "-O0", "-emit-llvm", "-S", str(small_c), "-o", str(ir)], check=True)
    proc = run_cli("evaluate", str(ir), str(ir), "--no-check", "--json", env={"ECCO_CACHE_DIR": str(tmp_path / "c")})
    assert proc.returncode == 0, proc.stderr
    warnings = [l for l in proc.stderr.splitlines() if l.startswith("ecco: warning:")]
    assert len(warnings) == 1 and "optnone" in warnings[0] and str(ir) in warnings[0], proc.stderr


@pytest.mark.parametrize("content", ["", "; only a comment\n", "declare i32 @puts(ptr)\n@g = global i32 1\n"])
def test_ir_without_function_definitions_is_bad_input(tmp_path, content):
    path = _write(tmp_path / "nothing.ll", content)
    _one_line_error(run_cli("evaluate", str(path), "--no-check"), "no function definitions")
    from ecco_lib.benchmarks import resolve

    with pytest.raises(BadProgramError, match="no function definitions"):
        resolve(str(path))


def test_hidden_files_and_folders_are_not_programs(tmp_path, small_c):
    (tmp_path / "crypto").mkdir()
    (tmp_path / "crypto" / "hash.c").write_text(small_c.read_text())
    _write(tmp_path / ".git" / "objects" / "junk.ll", "not IR\n")
    _write(tmp_path / "crypto" / ".hash.c.swp.c", "not C {\n")
    _write(tmp_path / ".hidden_prog.c", "not C {\n")
    from ecco_lib.benchmarks import resolve

    assert [(p.suite, p.name) for p in resolve(str(tmp_path))] == [("crypto", "hash")]


# -- no orphans ------------------------------------------------------------------------------------------------------------------
def _marked(marker: str, exclude: int) -> dict[int, tuple[str, int]]:
    """Processes whose environment carries ``marker``: pid -> (executable, parent pid)."""
    found = {}
    needle = f"ECCO_TEST_MARKER={marker}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == exclude:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle not in f.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                exe = f.read().split(b"\0")[0].decode(errors="replace")
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                found[int(entry)] = (exe, int(fields[1]))
        except (OSError, IndexError):
            continue
    return found


def test_kill_9_of_the_driver_leaves_no_worker_or_tool_running(tmp_path):
    marker = uuid.uuid4().hex
    sequence = ",".join(["loop-unroll", "instcombine", "gvn", "licm", "sroa"] * 40)
    driver = subprocess.Popen([sys.executable, "-m", "ecco_lib", "evaluate", "ecco://linalg", "--passes", sequence,
                               "--jobs", "2", "--no-cache", "--check"], cwd=tmp_path,
                              env={**os.environ, "ECCO_TEST_MARKER": marker, "PYTHONPATH": str(REPO)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, seen = time.monotonic() + 120, {}
        while time.monotonic() < deadline and driver.poll() is None:
            seen = _marked(marker, driver.pid)
            workers = {pid for pid, (_, parent) in seen.items() if parent == driver.pid}
            if len(workers) >= 2 and any(parent in workers for _, parent in seen.values()):
                break  # both pool workers are up and at least one runs a tool
            time.sleep(0.05)
        assert driver.poll() is None, "the run ended before the workers were seen; make it longer"
        assert len({pid for pid, (_, parent) in seen.items() if parent == driver.pid}) >= 2, seen
    finally:
        driver.kill()
        driver.wait()
    deadline = time.monotonic() + 5
    while (left := _marked(marker, driver.pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in left:  # do not leave them running for the rest of the session either
        os.kill(pid, signal.SIGKILL)
    assert not left, f"still running 5 s after kill -9: {left}"
