"""The artifact's packaging promises: two commands, one setup path for CI, Docker and conda."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import REPO


def test_readme_starts_with_the_two_commands():
    text = (REPO / "README.md").read_text()
    first_block = re.search(r"```bash\n(.*?)```", text, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.splitlines() if line.strip()]
    assert commands == ["make reproduce", "make test"]


def test_ci_runs_the_readme_test_command():
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_dockerfile_passes_hadolint_and_uses_the_setup_target():
    hadolint = Path(sys.executable).parent / "hadolint"
    proc = subprocess.run([str(hadolint), str(REPO / "Dockerfile")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "make setup" in dockerfile and "LLVM_APT_VERSION=" in dockerfile


def test_environment_yml_installs_through_the_setup_target():
    text = (REPO / "environment.yml").read_text()
    env = yaml.safe_load(text)
    assert "python=3.11.7" in env["dependencies"] and "make setup" in text


def test_torch_is_pinned_to_the_cpu_build_and_installed_first():
    makefile = (REPO / "Makefile").read_text()
    assert makefile.index("torch==2.13.0") < makefile.index("-r requirements.txt")
    pins = [l for l in (REPO / "requirements.txt").read_text().splitlines() if l and not l.startswith("#")]
    assert all("==" in l for l in pins) and not any(l.startswith("torch") for l in pins)


def test_profiles_load_and_differ_only_where_intended():
    from ecco_lib.config import PROFILES, load_profile

    profiles = {name: load_profile(name) for name in PROFILES}
    assert {p.metric for p in profiles.values()} == {profiles["default"].metric}
    assert profiles["smoke"]["benchmarks"]["per_suite"] == 2


def test_module_entry_point_prints_help():
    proc = subprocess.run([sys.executable, "-m", "ecco_lib", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "evaluate" in proc.stdout and "reproduce" in proc.stdout
