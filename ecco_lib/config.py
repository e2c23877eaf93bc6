"""Profiles: every budget, seed, model and metric setting of a run, in ``configs/<name>.yaml``.

``smoke`` (CI, minutes), ``default`` (2-core CPU, about an hour), ``full`` (GPU, paper scale).
A profile may also be given as a path to a YAML file of the same shape. :func:`load_profile`
validates the sections the evaluator uses (``seed``, ``execution``, ``metric``, ``check``,
``benchmarks``, ``o_levels``), so a bad profile is one line before any work.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, fields
from typing import Mapping, get_args, get_type_hints
from pathlib import Path

import yaml

from ecco_lib.errors import EccoError
from ecco_lib.llvm.metric import CheckSettings, MetricSettings

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO_ROOT / "configs"
PROFILES = ("smoke", "default", "full")


def output_root() -> Path:
    """Where notebooks write ``results/`` and ``figures/``: ``$ECCO_OUTPUT_ROOT``, else the repository."""
    return Path(os.environ.get("ECCO_OUTPUT_ROOT") or REPO_ROOT)


@dataclass(frozen=True)
class Profile:
    """A loaded profile; ``data`` is the YAML mapping, the properties are typed views of it."""

    name: str
    data: dict

    def __getitem__(self, key: str):
        if key not in self.data:
            raise EccoError(f"profile '{self.name}' has no section '{key}'")
        return self.data[key]

    @property
    def seed(self) -> int:
        return int(self.data["seed"])

    @property
    def metric(self) -> MetricSettings:
        return settings_from(MetricSettings, self["metric"])

    @property
    def check_settings(self) -> CheckSettings:
        """The check section's limits (repeats, run timeout in s), whether or not it is enabled:
        ``--check`` on a profile with checks off still honours them."""
        section = {k: v for k, v in (self.data.get("check") or {}).items() if k != "enabled"}
        return settings_from(CheckSettings, section)

    @property
    def check(self) -> CheckSettings | None:
        """:attr:`check_settings` when the profile enables checks, else None."""
        return self.check_settings if (self.data.get("check") or {}).get("enabled", False) else None

    def evaluator(self, **overrides):
        """An :class:`~ecco_lib.llvm.evaluate.Evaluator` configured by this profile."""
        from ecco_lib.llvm.evaluate import Evaluator

        ex = self["execution"]
        check = self.check
        kwargs = dict(metric=self.metric, jobs=ex.get("jobs"), executor=ex.get("executor", "local"),
                      ray_address=ex.get("ray_address"), cache=ex.get("cache_dir"),
                      timeout_s=float(ex.get("timeout_s", 300)), check=check is not None,
                      check_settings=check, seed=self.seed, progress=True)
        kwargs.update(overrides)
        return Evaluator(**kwargs)

    def programs(self, cache=None):
        """The profile's benchmark programs (``benchmarks.programs`` URIs, ``per_suite`` cap)."""
        from ecco_lib.benchmarks import cap_per_suite, resolve_all

        spec = self["benchmarks"]
        return cap_per_suite(resolve_all(spec["programs"], cache=cache, split=spec.get("split")),
                             spec.get("per_suite"))


def load_profile(name_or_path: str | Path = "default", overrides: dict | None = None) -> Profile:
    """Load ``configs/<name>.yaml`` or a YAML path; ``overrides`` are merged (nested dicts too).

    A profile may start with ``extends: PARENT`` (a profile name or a path, resolved beside the
    child first, then in ``configs/``): it then states only what differs from the parent, and
    every key it sets must exist in the parent (so a typo is one line, not a silently ignored
    setting). Lists replace the parent's list; mappings merge key by key."""
    path = _profile_path(name_or_path)
    data = _resolved(path, ())
    if overrides:
        data = _merge(data, overrides)
    profile = Profile(name=str(data.get("name", path.stem)), data=data)
    validate_profile(profile, str(path))
    return profile


def _profile_path(name_or_path: str | Path, beside: Path | None = None) -> Path:
    path = Path(name_or_path)
    if not path.suffix:
        candidates = [d / f"{name_or_path}.yaml" for d in ([beside] if beside else []) + [CONFIG_DIR]]
        path = next((c for c in candidates if c.is_file()), candidates[-1])
    elif beside is not None and not path.is_absolute() and (beside / path).is_file():
        path = beside / path
    if not path.is_file():
        raise EccoError(f"unknown profile '{name_or_path}' (known: {', '.join(PROFILES)}, or a YAML path)")
    return path


def _read_yaml(path: Path) -> dict:
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise EccoError(f"profile {path}: malformed YAML{where}: {problem}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EccoError(f"profile {path}: cannot read it: {exc}") from None
    if not isinstance(data, dict):
        raise EccoError(f"profile {path}: expected a mapping of sections, got {type(data).__name__}")
    return data


def _resolved(path: Path, chain: tuple[Path, ...]) -> dict:
    """The profile at ``path`` with its ``extends`` chain merged in (parent first)."""
    if path.resolve() in chain:
        names = " -> ".join(p.name for p in (*chain, path.resolve()))
        raise EccoError(f"profile {path}: 'extends' forms a cycle ({names})")
    data = _read_yaml(path)
    parent_name = data.pop("extends", None)
    if parent_name is None:
        return data
    if not isinstance(parent_name, str) or not parent_name:
        raise EccoError(f"profile {path}: extends = {parent_name!r} (must be a profile name or a YAML path)")
    parent = _resolved(_profile_path(parent_name, beside=path.parent), (*chain, path.resolve()))
    unknown = _unknown_keys(parent, data)
    if unknown:
        raise EccoError(f"profile {path}: key '{unknown[0]}' is not in the profile it extends ({parent_name}); "
                        f"check its spelling")
    return _merge(parent, data)


def _unknown_keys(parent: dict, child: dict, prefix: str = "") -> list[str]:
    """Dotted keys of ``child`` absent from ``parent`` (free-form mappings, where the parent has
    none or an empty one, admit any key)."""
    unknown = []
    for key, value in child.items():
        if key == "name" and not prefix:
            continue
        if key not in parent:
            unknown.append(prefix + str(key))
        elif isinstance(value, dict) and isinstance(parent[key], dict) and parent[key]:
            unknown.extend(_unknown_keys(parent[key], value, f"{prefix}{key}."))
    return unknown


_EXECUTION_KEYS = {"executor": (str,), "ray_address": (str, type(None)), "jobs": (int, type(None)),
                   "cache_dir": (str, type(None)), "timeout_s": (int, float)}


def validate_profile(profile: Profile, origin: str) -> None:
    """Raise :class:`EccoError` (one line naming the key) unless the evaluator's sections are
    present and well typed. (The metric's triple and CPU are checked against llc-19 when an
    evaluator is made: :func:`ecco_lib.llvm.toolchain.check_target`.)"""
    def fail(message: str):
        raise EccoError(f"profile {origin}: {message}")

    for section, kind in (("seed", int), ("execution", dict), ("metric", dict), ("check", dict),
                          ("benchmarks", dict), ("o_levels", list)):
        if section not in profile.data:
            fail(f"missing section '{section}'")
        value = profile.data[section]
        if not isinstance(value, kind) or isinstance(value, bool):
            fail(f"section '{section}' must be a {kind.__name__}, got {value!r}")
    execution = profile.data["execution"]
    for key, value in execution.items():
        if key not in _EXECUTION_KEYS:
            fail(f"unknown execution key '{key}' (known: {', '.join(_EXECUTION_KEYS)})")
        if not isinstance(value, _EXECUTION_KEYS[key]) or isinstance(value, bool):
            fail(f"execution.{key} = {value!r} has the wrong type")
    if execution.get("executor", "local") not in ("local", "ray"):
        fail(f"execution.executor = {execution['executor']!r} (known: local, ray)")
    if execution.get("jobs") is not None and execution["jobs"] < 1:
        fail(f"execution.jobs = {execution['jobs']} (must be a positive integer or null)")
    if not execution.get("timeout_s", 300) > 0:
        fail(f"execution.timeout_s = {execution['timeout_s']} (must be positive, in seconds)")
    enabled = profile.data["check"].get("enabled", False)
    if not isinstance(enabled, bool):
        fail(f"check.enabled = {enabled!r} (must be true or false)")
    try:
        profile.metric
        profile.check_settings
    except EccoError as exc:
        fail(str(exc))
    from ecco_lib.llvm.pipeline import O_LEVELS

    bad = [level for level in profile.data["o_levels"] if level not in O_LEVELS]
    if bad or not profile.data["o_levels"]:
        fail(f"o_levels = {profile.data['o_levels']!r} (known: {', '.join(O_LEVELS)})")


def _merge(base: dict, extra: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def settings_from(cls, section: Mapping | None):
    """An instance of the settings dataclass ``cls`` from a profile section; unknown keys raise."""
    section = dict(section or {})
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(section) - set(known))
    if unknown:
        raise EccoError(f"unknown {cls.__name__} key(s) {', '.join(unknown)} (known: {', '.join(known)})")
    hints = get_type_hints(cls)
    values = {}
    for name, value in section.items():
        default = known[name].default
        optional = type(None) in get_args(hints[name])  # annotated "<type> | None"
        if optional and value is None:
            values[name] = None
            continue
        if optional:
            kind = next(arg for arg in get_args(hints[name]) if arg is not type(None))
        else:
            kind = type(default)
        try:
            if kind is tuple and isinstance(value, str):
                raise TypeError
            values[name] = kind(value)
            if kind is int and float(value) != values[name]:
                raise ValueError
        except (TypeError, ValueError):
            raise EccoError(f"{cls.__name__}.{name} = {value!r} is not of type {kind.__name__}") from None
    return cls(**values)
