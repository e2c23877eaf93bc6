"""The intent-guided pass sampler of the paper's collaborative inference (Eq. 4).

Over the pass set ``V`` (default :data:`~ecco_lib.llvm.passes.SEARCH_PASSES`) a pass ``v`` is drawn with

    P(v) = eps/|V| + (1 - eps) * w[c(v)] * g(v) / sum_u w[c(u)] * g(u)

where ``c(v)`` is the pass's category (:func:`~ecco_lib.llvm.passes.lookup`), ``w`` the strategist's
intent weight per category and ``g(v)`` the global efficacy prior. Invariants: ``0 < eps <= 1``, so
every pass has probability >= eps/|V| > 0; the probabilities sum to 1 (within 1e-12).

The prior ``g``:

- an :class:`~ecco_lib.evidence.EfficacyPrior`: ``g(v)`` is its ``weight`` column
  (``max(mean_gain, 0) + floor``, unitless, > 0 for every pass, measured or not);
- a plain mapping pass -> g(v) (tests, ablations): values must be finite and >= 0; keys are
  resolved like pass names (legacy names work); keys outside ``V`` are ignored.
- Either kind must give a value for *every* pass of ``V``: a missing pass is an
  :class:`~ecco_lib.errors.EccoError` (a stale prior is not silently completed). A prior that is
  0 on every pass of ``V`` is an error too (Eq. 4 is undefined).

The intents ``w`` (category -> finite weight >= 0; an unknown category, a negative or a non-finite
weight is an :class:`~ecco_lib.errors.EccoError`) and the edge cases, recorded in
:attr:`IntentGuidedSampler.case`:

- ``"eq4"``: the intents put mass on at least one *reachable* category (one whose passes in ``V``
  have total prior mass > 0). Mass on unreachable categories -- e.g. ``instrumentation``, whose
  passes are all outside ``SEARCH_PASSES`` -- is dropped and the rest renormalized to sum 1;
  ``dropped_intent_mass`` is the dropped fraction of the given mass (0 when nothing was dropped)
  and ``dropped_categories`` names them.
- ``"no-intents"``: intents None, empty, or all weights 0. ``w`` is uniform over the reachable
  categories, so Eq. 4 samples by the prior alone, mixed with eps (uniform over *all* categories
  gives the same distribution: unreachable ones carry no prior mass). ``dropped_intent_mass`` is 0.
- ``"intents-without-reachable-mass"``: the intents give positive weight only to unreachable
  categories. All of it is dropped (``dropped_intent_mass`` = 1) and ``w`` is uniform as in
  ``"no-intents"``.
"""

from __future__ import annotations

import itertools
import math
import numbers
import random
from typing import TYPE_CHECKING, Mapping, Sequence

from ecco_lib.errors import EccoError
from ecco_lib.llvm.passes import CATEGORIES, SEARCH_PASSES, lookup

if TYPE_CHECKING:
    from ecco_lib.evidence import EfficacyPrior

#: The values of :attr:`IntentGuidedSampler.case`, each explained in the module docstring.
CASES = ("eq4", "no-intents", "intents-without-reachable-mass")


def _finite_non_negative(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise EccoError(f"{what} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise EccoError(f"{what} must be finite and >= 0, got {value!r}")
    return value


def _prior_values(prior, passes: tuple[str, ...]) -> dict[str, float]:
    """g(v) for every pass of ``passes`` (canonical names), validated."""
    from ecco_lib.evidence import EfficacyPrior  # here: ecco_lib.evidence imports ecco_lib.search

    if isinstance(prior, EfficacyPrior):
        table = {str(name): value for name, value in prior.passes["weight"].items()}
        source = "efficacy prior"
    elif isinstance(prior, Mapping):
        table = {}
        for name, value in prior.items():
            canonical = lookup(str(name)).name
            if canonical in table:
                raise EccoError(f"prior names pass '{canonical}' twice (as '{name}' and another alias)")
            table[canonical] = value
        source = "prior mapping"
    else:
        raise EccoError(f"prior must be an EfficacyPrior or a mapping pass -> g(v), got {type(prior).__name__}")
    missing = [p for p in passes if p not in table]
    if missing:
        raise EccoError(f"{source} has no value for {len(missing)} pass(es) of the search space: "
                        f"{', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}")
    values = {p: _finite_non_negative(table[p], f"prior g({p})") for p in passes}
    if math.fsum(values.values()) <= 0:
        raise EccoError("prior is 0 on every pass of the search space: Eq. 4 is undefined")
    return values


class IntentGuidedSampler:
    """A :class:`~ecco_lib.search.samplers.PassSampler` drawing passes by Eq. 4 (module docstring).

    Attributes (read-only after construction): ``passes`` (V, canonical names, in the given order),
    ``eps``, ``prior`` (pass -> g(v)), ``case`` (one of :data:`CASES`), ``category_weights`` (the
    effective w: reachable category -> weight, sum 1), ``dropped_intent_mass`` (fraction of the given
    intent mass in [0, 1]) and ``dropped_categories`` (categories whose positive weight was dropped).
    """

    def __init__(self, intents: Mapping[str, float] | None, prior: "EfficacyPrior | Mapping[str, float]",
                 eps: float, passes: Sequence[str] = SEARCH_PASSES):
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not 0 < float(eps) <= 1:
            raise EccoError(f"eps must satisfy 0 < eps <= 1, got {eps!r}")
        self.eps = float(eps)
        names = tuple(lookup(str(p)).name for p in passes)
        if not names:
            raise EccoError("the pass set of the intent-guided sampler is empty")
        if len(set(names)) != len(names):
            duplicate = next(p for p in names if names.count(p) > 1)
            raise EccoError(f"pass '{duplicate}' appears twice in the pass set")
        self.passes = names
        self.prior = _prior_values(prior, names)

        weights: dict[str, float] = {}
        for category, weight in (intents or {}).items():
            if category not in CATEGORIES:
                raise EccoError(f"unknown category '{category}' in intents (known: {', '.join(CATEGORIES)})")
            weights[category] = _finite_non_negative(weight, f"intent weight of '{category}'")
        mass: dict[str, float] = {}
        for p in names:
            category = lookup(p).category
            mass[category] = mass.get(category, 0.0) + self.prior[p]
        reachable = [c for c in CATEGORIES if mass.get(c, 0.0) > 0]
        given = math.fsum(weights.values())
        kept = {c: w for c, w in weights.items() if c in reachable and w > 0}
        self.dropped_categories = tuple(c for c, w in weights.items() if w > 0 and c not in kept)
        if given == 0:
            self.case, self.dropped_intent_mass = "no-intents", 0.0
        elif not kept:
            self.case, self.dropped_intent_mass = "intents-without-reachable-mass", 1.0
        else:
            self.case = "eq4"
            self.dropped_intent_mass = math.fsum(weights[c] for c in self.dropped_categories) / given
        if kept:
            total = math.fsum(kept.values())
            self.category_weights = {c: kept[c] / total for c in CATEGORIES if c in kept}
        else:
            self.category_weights = {c: 1.0 / len(reachable) for c in reachable}

        scores = [self.category_weights.get(lookup(p).category, 0.0) * self.prior[p] for p in names]
        z = math.fsum(scores)
        n = len(names)
        self._probabilities = {p: self.eps / n + (1.0 - self.eps) * s / z for p, s in zip(names, scores)}
        self._cum_weights = list(itertools.accumulate(self._probabilities.values()))

    def probabilities(self) -> dict[str, float]:
        """P(v) of Eq. 4 for every pass of V (a new dict, in V's order; sums to 1 within 1e-12)."""
        return dict(self._probabilities)

    def sample(self, rng: random.Random) -> str:
        """One pass drawn from :meth:`probabilities` with one ``rng.random()`` call (deterministic per rng state)."""
        return rng.choices(self.passes, cum_weights=self._cum_weights)[0]

    def describe(self, top: int = 10) -> dict:
        """A results-table summary: ``eps, case, dropped_intent_mass, dropped_categories`` and
        ``top_passes``, the ``top`` most probable passes as ``(pass, probability)`` (ties in V's order)."""
        order = sorted(range(len(self.passes)), key=lambda i: (-self._probabilities[self.passes[i]], i))
        return {"eps": self.eps, "case": self.case, "dropped_intent_mass": self.dropped_intent_mass,
                "dropped_categories": list(self.dropped_categories),
                "top_passes": [(self.passes[i], self._probabilities[self.passes[i]]) for i in order[:top]]}
