"""The ``comptuner`` baseline: CompTuner (Zhu, Hao, Chen, ACM TOSEM 2024; official code
``zhumxxx/CompTuner``, CompTuner.py), adapted to ordered LLVM pass sequences as BASELINES.md says.

A configuration is an on/off *mask* over ``slots`` ordered slots; its sequence is the passes of
the slots switched on, in slot order; every mask is brought into [``min_length``, ``max_length``]
slots on (random slots switched off or on) before it is used, so decoding respects the bounds.

Offline (reads the train split's evidence, evaluates nothing): the *consensus slot order*. Each
training program contributes its best searched sequence; the slot (pass p, occurrence j) has
support = the share of programs whose sequence holds p at least j times (so repeats are allowed
and a pass gets as many slots as it typically occurs) and position = the median normalized
position (0 = first, 1 = last) of the j-th occurrence of p in those sequences. The ``slots``
best-supported slots (ties: fewer occurrences, then registry order), sorted by position, are the
order.

Per program, nothing else is learned from other programs. Phase 1 (half the budget), active
learning: two random masks, then each round a random forest fitted on every evaluation so far
ranks ``candidates`` random masks by expected improvement (EI of minimizing cycles, from the
per-tree mean and std) and the best unseen one is evaluated; when the forest's relative error on
it exceeds ``error_threshold``, one more candidate drawn with probability proportional to its EI
gap to the best EI (as the original) is evaluated. Phase 2 (the rest), binary PSO whose
particles are the phase-1 points (velocities uniform in ±``velocity_limit``, sigmoid transfer,
one random factor per particle and term, as the original); each iteration every particle's
personal best is updated by the forest's prediction, the particle the forest predicts best
(if already seen, the next best unseen) is evaluated; when it does not improve the global best,
the swarm is regrouped by cosine similarity to it: particles more similar than average double
the social factor, the others the cognitive one. As in the original, the forest is not refitted
in phase 2. Failed compilations cost +inf for the search; the forest sees
``failure_penalty`` × the worst ``ok`` cycles observed (1.5 × C_O3 while none compiled).
"""

from __future__ import annotations

import math
import statistics
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ecco_lib.baselines.offline import (LearnsFromEvidence, OfflineModel, evidence_digest, offline_model,
                                        training_evidence)
from ecco_lib.errors import EccoError
from ecco_lib.evidence import EvidenceRecord
from ecco_lib.llvm.passes import SEARCH_PASSES
from ecco_lib.search.objective import Objective, OptimizationResult, PassSequence
from ecco_lib.search.optimizer import Method, register

#: The original's ``RandomForestRegressor(random_state=456)``; ours is 456 xor the run's seed hash.
ORIGINAL_FOREST_SEED = 456
#: Random masks drawn per budget unit before a search that finds only seen sequences gives up.
_DRAWS_PER_EVALUATION = 50
#: Consecutive PSO moves whose particles are all seen before one random unseen mask is evaluated.
_IDLE_MOVES = 20


@dataclass(frozen=True)
class CompTunerConfig:
    """``slots`` = M, the mask width (the consensus order's length); masks switch on between
    ``min_length`` and ``max_length`` slots. Phase 1: ``candidates`` random masks ranked per round
    (the paper: 30,000) by a forest of ``trees`` trees; ``error_threshold`` = the relative error
    (|true - predicted| / true cycles) above which one extra candidate is evaluated;
    ``failure_penalty`` × the worst ok cycles is what the forest learns for a failed compilation.
    Phase 2: PSO ``inertia`` w, ``cognitive`` c1, ``social`` c2, velocities clipped to
    ±``velocity_limit``. ``evidence``: the training evidence directory (None = results/dataset/
    evidence under the output root)."""

    slots: int = 48
    min_length: int = 5
    max_length: int = 30
    candidates: int = 3000
    trees: int = 50
    error_threshold: float = 0.05
    failure_penalty: float = 1.5
    inertia: float = 0.6
    cognitive: float = 2.0
    social: float = 2.0
    velocity_limit: float = 10.0
    evidence: str | None = None

    def __post_init__(self):
        if not (1 <= self.min_length <= self.max_length <= self.slots and self.candidates >= 1 and self.trees >= 1
                and self.error_threshold >= 0 and self.failure_penalty >= 1 and self.inertia >= 0
                and self.cognitive >= 0 and self.social >= 0 and self.velocity_limit > 0):
            raise EccoError(f"inconsistent comptuner settings: {self}")


def consensus_slots(records: Sequence[EvidenceRecord], slots: int) -> dict:
    """The offline model (plain JSON): ``slots`` pass names in consensus order with each slot's
    ``support`` (share of programs) and median normalized ``position``, and ``programs``."""
    best: dict[str, EvidenceRecord] = {}
    for record in records:  # each program's best searched sequence (ties: the first record)
        if record.program not in best or record.cycles["searched"] < best[record.program].cycles["searched"]:
            best[record.program] = record
    allowed = set(SEARCH_PASSES)
    holders: Counter = Counter()  # (pass, j) -> programs holding the pass at least j times
    positions: dict[tuple[str, int], list[float]] = {}
    for program in sorted(best):
        sequence = best[program].search["sequence"]
        seen: Counter = Counter()
        for i, name in enumerate(sequence):
            if name in allowed:
                seen[name] += 1
                slot = (name, seen[name])
                holders[slot] += 1
                positions.setdefault(slot, []).append(i / max(len(sequence) - 1, 1))
    if len(holders) < slots:
        raise EccoError(f"comptuner: the training evidence holds only {len(holders)} distinct (pass, occurrence) "
                        f"slots, fewer than slots = {slots}: lower slots")
    rank = {p: i for i, p in enumerate(SEARCH_PASSES)}
    chosen = sorted(holders, key=lambda s: (-holders[s], s[1], rank[s[0]]))[:slots]
    median = {s: statistics.median(positions[s]) for s in chosen}
    chosen.sort(key=lambda s: (median[s], -holders[s], rank[s[0]], s[1]))
    return {"slots": [name for name, _ in chosen], "occurrence": [j for _, j in chosen],
            "support": [holders[s] / len(best) for s in chosen], "position": [median[s] for s in chosen],
            "programs": len(best)}


def bound_lengths(masks: np.ndarray, rng: np.random.Generator, low: int, high: int) -> np.ndarray:
    """A copy of the boolean ``masks`` (rows) with between ``low`` and ``high`` slots on: random
    on-slots switched off, or random off-slots switched on; rows within bounds are unchanged."""
    masks = masks.copy()
    keys = rng.random(masks.shape)
    count = masks.sum(axis=1)
    over, under = count > high, count < low
    if over.any():
        rank = np.where(masks[over], keys[over], np.inf).argsort(axis=1).argsort(axis=1)
        masks[over] &= rank < high
    if under.any():
        rank = np.where(~masks[under], keys[under], np.inf).argsort(axis=1).argsort(axis=1)
        masks[under] |= rank < (low - count[under])[:, None]
    return masks


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float) -> np.ndarray:
    """EI of minimizing below ``best``; where ``std`` is 0 it is ``max(best - mean, 0)``."""
    from scipy.stats import norm

    gap = best - mean
    safe = np.where(std > 0, std, 1.0)
    z = gap / safe
    return np.where(std > 0, gap * norm.cdf(z) + safe * norm.pdf(z), np.maximum(gap, 0.0))


def forest_targets(costs: Sequence[float], cycles_o3: int | None, penalty: float) -> np.ndarray:
    """What the forest learns: cycles, and ``penalty`` × the worst ok cycles for a failure
    (× C_O3 while none compiled; all 1.0 when neither exists) — never the input's cycles."""
    ok = [c for c in costs if math.isfinite(c)]
    failed = penalty * (max(ok) if ok else cycles_o3 if cycles_o3 else 1.0)
    return np.array([c if math.isfinite(c) else failed for c in costs], dtype=float)


class _Forest:
    """A scikit-learn random forest (``n_jobs=1``) over masks, with per-tree predictions."""

    def __init__(self, masks: list[np.ndarray], targets: np.ndarray, trees: int, random_state: int):
        from sklearn.ensemble import RandomForestRegressor

        self.model = RandomForestRegressor(n_estimators=trees, random_state=random_state, n_jobs=1)
        self.model.fit(np.array(masks, dtype=np.float32), targets)

    def per_tree(self, masks: np.ndarray) -> np.ndarray:
        """(trees, rows) predicted cycles."""
        features = np.ascontiguousarray(masks, dtype=np.float32)
        return np.stack([tree.predict(features, check_input=False) for tree in self.model.estimators_])

    def mean(self, masks: np.ndarray) -> np.ndarray:
        return self.per_tree(masks).mean(axis=0)


class CompTunerSearch(LearnsFromEvidence):
    """Deterministic for a given seed (one numpy generator and one forest seed per program and
    seed; the cache does not matter)."""

    name = "comptuner"
    description = ("random-forest active learning by expected improvement, then forest-guided binary PSO, over "
                   "on/off masks of a learned slot order (CompTuner, Zhu, Hao, Chen, ACM TOSEM 2024)")

    def __init__(self, config: CompTunerConfig = CompTunerConfig()):
        self.config = config
        self._offline: OfflineModel | None = None

    def offline(self, evaluator=None) -> OfflineModel:
        """The consensus slot order (derived once per settings and evidence content; cached on disk
        and here). It evaluates nothing, so ``evaluator`` is not used."""
        if self._offline is None:
            cfg = self.config
            records = training_evidence(cfg.evidence)
            inputs = {"evidence": evidence_digest(records), "passes": list(SEARCH_PASSES), "settings": {"slots": cfg.slots}}
            self._offline = offline_model(self.name, inputs,
                                          lambda: (consensus_slots(records, cfg.slots), 0, [r.program for r in records]))
        return self._offline

    def optimize(self, program, objective: Objective, seed: int) -> OptimizationResult:
        offline = self.offline()
        run = _Run(self.config, tuple(offline.model["slots"]), objective, f"{self.name}:{seed}:{program.uri}")
        run.search()
        return objective.result(self.name, seed, extra={**offline.cost(), **run.stats})


class _Run:
    """One CompTuner search of one objective: the evaluated masks and their costs (+inf = failed)."""

    def __init__(self, config: CompTunerConfig, slots: PassSequence, objective: Objective, seed_text: str):
        self.cfg, self.slots, self.objective = config, slots, objective
        seed_hash = zlib.crc32(seed_text.encode())
        self.rng = np.random.default_rng(seed_hash)
        self.forest_seed = ORIGINAL_FOREST_SEED ^ seed_hash
        self.masks: list[np.ndarray] = []
        self.costs: list[float] = []
        self.draws = 0
        self.stats = {"forest_seed": self.forest_seed, "phase1_evaluations": 0,
                      "error_extras": 0, "pso_iterations": 0, "regroups": 0, "idle_moves": 0, "fallbacks": 0}

    # -- masks ------------------------------------------------------------------------------------
    def decode(self, mask: np.ndarray) -> PassSequence:
        return tuple(name for name, on in zip(self.slots, mask) if on)

    def unseen(self, mask: np.ndarray) -> bool:
        return self.objective.seen(self.decode(mask)) is None

    def random_masks(self, rows: int) -> np.ndarray:
        """``rows`` uniform random masks (each slot on with probability 1/2, as the original), bounded."""
        self.draws += rows
        cfg = self.cfg
        return bound_lengths(self.rng.random((rows, cfg.slots)) < 0.5, self.rng, cfg.min_length, cfg.max_length)

    def random_unseen(self) -> np.ndarray | None:
        """A random mask whose sequence is not evaluated yet (None when the draws run out)."""
        while self.draws < _DRAWS_PER_EVALUATION * self.objective.budget:
            (mask,) = self.random_masks(1)
            if self.unseen(mask):
                return mask
        return None

    def evaluate(self, masks: list[np.ndarray]) -> list[float]:
        """Evaluate the masks' sequences in one batch; returns their costs (all must be unseen and fit)."""
        evaluations = self.objective.evaluate([self.decode(m) for m in masks])
        for mask, evaluation in zip(masks, evaluations):
            self.masks.append(mask.copy())
            self.costs.append(evaluation.cost)
        return [e.cost for e in evaluations]

    def fit(self) -> _Forest:
        targets = forest_targets(self.costs, self.objective.cycles_O3, self.cfg.failure_penalty)
        return _Forest(self.masks, targets, self.cfg.trees, self.forest_seed)

    # -- the two phases ---------------------------------------------------------------------------
    def search(self) -> None:
        budget = self.objective.budget
        phase1 = max(budget // 2, min(budget, 2))
        self.active_learning(phase1)
        self.stats["phase1_evaluations"] = self.objective.used
        if not self.objective.exhausted and self.masks:
            self.swarm(self.fit())

    def active_learning(self, phase1: int) -> None:
        """Phase 1: two random masks, then EI-ranked candidates (plus an extra one on a large error)."""
        first: list[np.ndarray] = []
        while len(first) < min(2, phase1):
            mask = self.random_unseen()
            if mask is None:
                return
            if all(self.decode(mask) != self.decode(m) for m in first):
                first.append(mask)
        self.evaluate(first)
        while self.objective.used < phase1:
            forest = self.fit()
            candidates = self.random_masks(self.cfg.candidates)
            predictions = forest.per_tree(candidates)
            mean = predictions.mean(axis=0)
            best = float(forest_targets(self.costs, self.objective.cycles_O3, self.cfg.failure_penalty).min())
            ei = expected_improvement(mean, predictions.std(axis=0), best)
            pick = next((i for i in np.argsort(-ei, kind="stable") if self.unseen(candidates[i])), None)
            if pick is None:
                mask = self.random_unseen()
                if mask is None:
                    return
                self.evaluate([mask])
                continue
            (cost,) = self.evaluate([candidates[pick]])
            error = abs(cost - mean[pick]) / cost if math.isfinite(cost) else math.inf
            if error > self.cfg.error_threshold and self.objective.used < phase1:
                extra = self.draw_by_gap(candidates, ei)
                if extra is not None:
                    self.evaluate([extra])
                    self.stats["error_extras"] += 1

    def draw_by_gap(self, candidates: np.ndarray, ei: np.ndarray) -> np.ndarray | None:
        """An unseen candidate drawn with probability proportional to ``max(ei) - ei`` (uniform
        when all are equal), redrawn while seen, as many tries as there are candidates."""
        gap = ei.max() - ei
        weights = gap / gap.sum() if gap.sum() > 0 else None
        for _ in range(len(candidates)):
            index = self.rng.choice(len(candidates), p=weights)
            if self.unseen(candidates[index]):
                return candidates[index]
        return None

    def swarm(self, forest: _Forest) -> None:
        """Phase 2: binary PSO over the phase-1 points, one evaluation per iteration."""
        cfg = self.cfg
        position = np.array(self.masks, dtype=bool)
        velocity = self.rng.uniform(-cfg.velocity_limit, cfg.velocity_limit, position.shape)
        personal, personal_cost = position.copy(), np.array(self.costs, dtype=float)
        g = int(np.argmin(personal_cost))
        leader, leader_cost = position[g].copy(), float(personal_cost[g])
        everyone = np.ones(len(position), dtype=bool)
        self.move(position, velocity, personal, leader, everyone, cfg.cognitive, cfg.social)
        idle = 0
        while not self.objective.exhausted:
            predicted = forest.mean(position)
            better = predicted < personal_cost
            personal[better], personal_cost[better] = position[better], predicted[better]
            pick = next((i for i in np.argsort(predicted, kind="stable") if self.unseen(position[i])), None)
            if pick is None:
                idle += 1
                self.stats["idle_moves"] += 1
                if idle >= _IDLE_MOVES:
                    mask = self.random_unseen()
                    if mask is None:
                        return
                    self.evaluate([mask])
                    self.stats["fallbacks"] += 1
                    idle = 0
                self.move(position, velocity, personal, leader, everyone, cfg.cognitive, cfg.social)
                continue
            idle = 0
            self.stats["pso_iterations"] += 1
            evaluated = position[pick].copy()
            (cost,) = self.evaluate([evaluated])
            if cost < leader_cost:
                leader, leader_cost = evaluated, cost
                self.move(position, velocity, personal, leader, everyone, cfg.cognitive, cfg.social)
            else:
                self.stats["regroups"] += 1
                similarity = _cosine(position, evaluated)
                others = np.arange(len(position)) != pick
                near = similarity > (similarity[others].mean() if others.any() else similarity.mean())
                self.move(position, velocity, personal, leader, near, cfg.cognitive, 2 * cfg.social)
                self.move(position, velocity, personal, leader, ~near, 2 * cfg.cognitive, cfg.social)

    def move(self, position: np.ndarray, velocity: np.ndarray, personal: np.ndarray, leader: np.ndarray,
             rows: np.ndarray, cognitive: float, social: float) -> None:
        """Update, in place, the velocity and position of the particles in ``rows`` (one random
        factor per particle and term), then bound their lengths."""
        count = int(rows.sum())
        if count == 0:
            return
        cfg = self.cfg
        x = position[rows].astype(float)
        a, b = self.rng.random((count, 1)), self.rng.random((count, 1))
        v = cfg.inertia * velocity[rows] + cognitive * a * (personal[rows] - x) + social * b * (leader - x)
        velocity[rows] = np.clip(v, -cfg.velocity_limit, cfg.velocity_limit)
        moved = self.rng.random((count, cfg.slots)) < 1 / (1 + np.exp(-velocity[rows]))
        position[rows] = bound_lengths(moved, self.rng, cfg.min_length, cfg.max_length)


def _cosine(masks: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Cosine similarity of every row of ``masks`` to ``reference`` (masks are never empty)."""
    x, r = masks.astype(float), reference.astype(float)
    return x @ r / (np.linalg.norm(x, axis=1) * np.linalg.norm(r))


register(Method("comptuner", CompTunerConfig, CompTunerSearch, learns_offline=True,
                source="Zhu, Hao, Chen, ACM TOSEM 2024"))
