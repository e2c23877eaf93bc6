"""The artifact's packaging promises: two commands, one setup path for CI, Docker and conda."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
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


def test_smoke_and_full_state_only_what_differs_from_default():
    from ecco_lib.config import load_profile

    for name in ("smoke", "full"):
        raw = yaml.safe_load((REPO / "configs" / f"{name}.yaml").read_text())
        assert raw["extends"] == "default" and "metric" not in raw and "o_levels" not in raw
    default, smoke = load_profile("default").data, load_profile("smoke").data
    assert smoke["metric"] == default["metric"] and smoke["search"]["budget"] == 12
    assert smoke["search"]["methods"]["ga"]["elite"] == default["search"]["methods"]["ga"]["elite"]
    assert smoke["search"]["methods"]["ga"]["population"] == 6
    assert smoke["inference"]["tuning"]["variants"] == [{}, {"eps": 0.3}]  # lists replace, never merge
    assert load_profile("full")["execution"]["executor"] == "ray"


@pytest.mark.parametrize("child, fragment", [
    ("extends: default\nsearch: {budjet: 5}\n", "key 'search.budjet' is not in the profile it extends"),
    ("extends: nowhere\n", "unknown profile 'nowhere'"),
    ("extends: [default]\n", "extends = ['default']"),
    ("extends: b\n", "'extends' forms a cycle"),
])
def test_extends_errors_are_one_line(tmp_path, child, fragment):
    from ecco_lib.config import load_profile
    from ecco_lib.errors import EccoError

    (tmp_path / "a.yaml").write_text(child)
    (tmp_path / "b.yaml").write_text("extends: a\n")
    with pytest.raises(EccoError) as err:
        load_profile(tmp_path / "a.yaml")
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_extends_resolves_beside_the_child_then_configs(tmp_path):
    from ecco_lib.config import load_profile

    (tmp_path / "base.yaml").write_text("extends: smoke\nsearch: {budget: 7}\n")
    (tmp_path / "mine.yaml").write_text("extends: base\nname: mine\nsearch: {seeds: [3]}\n")
    profile = load_profile(tmp_path / "mine.yaml")
    assert profile.name == "mine" and profile["search"]["budget"] == 7 and profile["search"]["seeds"] == [3]
    assert profile["search"]["methods"]["ga"]["population"] == 6  # from smoke, through base


def test_module_entry_point_prints_help():
    proc = subprocess.run([sys.executable, "-m", "ecco_lib", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "evaluate" in proc.stdout and "reproduce" in proc.stdout
