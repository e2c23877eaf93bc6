"""Profiles: every budget, seed, model and metric setting of a run, in ``configs/<name>.yaml``.

``smoke`` (CI, minutes), ``default`` (2-core CPU, about an hour), ``full`` (GPU, paper scale).
A profile may also be given as a path to a YAML file of the same shape.
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
        return self.data[key]

    @property
    def seed(self) -> int:
        return int(self.data["seed"])

    @property
    def metric(self) -> MetricSettings:
        return MetricSettings(**self.data["metric"])

    @property
    def check(self) -> CheckSettings | None:
        check = self.data.get("check") or {}
        if not check.get("enabled", False):
            return None
        return CheckSettings(repeats=int(check["repeats"]), timeout_s=float(check["timeout_s"]))

    def evaluator(self, **overrides):
        """An :class:`~ecco_lib.llvm.evaluate.Evaluator` configured by this profile."""
        from ecco_lib.llvm.evaluate import Evaluator

        ex = self.data["execution"]
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

        spec = self.data["benchmarks"]
        return cap_per_suite(resolve_all(spec["programs"], cache=cache, split=spec.get("split")),
                             spec.get("per_suite"))


def load_profile(name_or_path: str | Path = "default", overrides: dict | None = None) -> Profile:
    """Load ``configs/<name>.yaml`` or a YAML path; ``overrides`` are merged (nested dicts too)."""
    path = Path(name_or_path)
    if not path.suffix:
        path = CONFIG_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        raise EccoError(f"unknown profile '{name_or_path}' (known: {', '.join(PROFILES)}, or a YAML path)")
    with open(path) as f:
        data = yaml.safe_load(f)
    if overrides:
        data = _merge(data, overrides)
    return Profile(name=data.get("name", path.stem), data=data)


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
        if default is None:  # an optional setting, annotated "<type> | None"
            if value is None:
                values[name] = None
                continue
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
