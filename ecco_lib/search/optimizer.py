"""The :class:`Optimizer` protocol and the registry of search methods (``ecco methods``).

A method is registered once with its settings dataclass; :func:`make_optimizer` builds it from a
profile's ``search.methods`` mapping (its own section, or the section of the method it is an
ablation of; defaults otherwise), so every caller — the CLI, the experiment runner, the notebooks
— gets the same method with the same, recorded settings.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol, runtime_checkable

from ecco_lib.config import settings_from
from ecco_lib.errors import EccoError
from ecco_lib.search.objective import Objective, OptimizationResult


@runtime_checkable
class Optimizer(Protocol):
    """A search method. ``optimize`` spends ``objective`` (never more than its budget: the
    Objective enforces it) and returns ``objective.result(name, seed, extra)``; same seed, same
    trace, whatever the cache holds."""

    name: str
    description: str  # one line, naming its source paper

    def optimize(self, program, objective: Objective, seed: int) -> OptimizationResult: ...


@dataclass(frozen=True)
class Method:
    """A registered method: how to build it from its settings dataclass. ``section`` names the
    ``search.methods`` entry it reads (default: its own name; ablations read their parent's)."""

    name: str
    settings: type
    build: Callable[[Any], Optimizer]
    defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # overrides of the dataclass defaults
    budget_fields: tuple[str, ...] = ()  # settings fields the Objective's budget replaces (not settable here)
    section: str | None = None
    uses: tuple[str, ...] = ()  # other methods whose settings it is built with (ecco uses the ga's)
    learns_offline: bool = False  # trains a model on the train split before it searches (ecco: the strategist)
    source: str = ""  # the paper the method comes from (``ecco methods`` shows it)

    def configure(self, section: Mapping | None = None):
        section = dict(section or {})
        if "budget" in section or set(section) & set(self.budget_fields):
            raise EccoError(f"method '{self.name}': the budget is set once for every method (search.budget or "
                            f"--budget), not in its settings")
        return settings_from(self.settings, {**self.defaults, **section})

    def settings_dict(self, settings) -> dict:
        return {k: v for k, v in dataclasses.asdict(settings).items() if k not in self.budget_fields}


_METHODS: dict[str, Method] = {}


def register(method: Method) -> Method:
    if method.name in _METHODS:
        raise ValueError(f"method '{method.name}' is registered twice")
    _METHODS[method.name] = method
    return method


def _register_baselines() -> None:
    """Import :mod:`ecco_lib.baselines` (its modules register the Table-1 baselines) on first use of
    the registry: importing it with :mod:`ecco_lib.search` would be circular (the evidence module
    needs the search package; the learned baselines need the evidence module)."""
    import ecco_lib.baselines  # noqa: F401


def method_names() -> list[str]:
    _register_baselines()
    return list(_METHODS)


def get_method(name: str) -> Method:
    _register_baselines()
    if name not in _METHODS:
        raise EccoError(f"unknown method '{name}' (known: {', '.join(_METHODS)})")
    return _METHODS[name]


def make_optimizer(name: str, sections: Mapping | None = None) -> tuple[Optimizer, dict]:
    """(the optimizer, its full settings as a plain dict) for method ``name``; ``sections`` is a
    profile's ``search.methods`` mapping (method name -> settings), None for the defaults."""
    method = get_method(name)
    settings = method.configure((sections or {}).get(method.section or method.name))
    used = {u: get_method(u).configure((sections or {}).get(u)) for u in method.uses}
    record = {**method.settings_dict(settings), **{u: get_method(u).settings_dict(s) for u, s in used.items()}}
    return method.build(settings, **used), record


def settings_fingerprint(settings: Mapping) -> str:
    """Stable text of a method's settings, recorded with every result row."""
    return json.dumps(settings, sort_keys=True, default=str)


def describe_methods(sections: Mapping | None = None) -> list[dict]:
    """One row per registered method: name, description, source paper, whether it learns
    offline, and its settings under ``sections``."""
    rows = []
    for name, method in {n: get_method(n) for n in method_names()}.items():
        optimizer, settings = make_optimizer(name, sections)
        rows.append({"method": name, "description": optimizer.description, "source": method.source,
                     "learns_offline": method.learns_offline, "settings": settings})
    return rows
