"""The ``pdcat`` baseline: Preference-Driven Compiler Auto-Tuning (FSE 2025, DOI 10.1145/3715756),
adapted to ordered LLVM pass sequences as BASELINES.md says.

Offline (reads the train split's evidence, evaluates nothing): each pass's *preference* is its
Laplace-smoothed frequency among the top sequences of every training program (each program
weighs the same); the *common set* is the passes present in at least ``common_threshold`` of the
programs' best searched sequences, kept as a fixed prefix; each pass's median normalized position
(0 = first, 1 = last) in those top sequences orders every sequence, made consistent with
:data:`ORDER_RULES`, LLVM's documented ordering requirements, which stand in for PDCAT's
constraints.

Online: each remaining pass is included with probability = its preference (so no repeats), the
length is brought into [``min_length``, ``max_length``], the passes are put in the learned order,
a sequence violating a rule is rejected, and batches are evaluated; every ``update_every``
evaluations the preferences move toward the pass frequencies of the best ``top_k`` sequences so
far (PBIL: ``p <- (1 - lr) p + lr freq``, clipped to [``p_min``, ``p_max``]).
"""

from __future__ import annotations

import heapq
import random
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Sequence

from ecco_lib.baselines.offline import (LearnsFromEvidence, OfflineModel, evidence_digest, offline_model,
                                        training_evidence)
from ecco_lib.errors import EccoError
from ecco_lib.evidence import EvidenceRecord
from ecco_lib.llvm.passes import SEARCH_PASSES
from ecco_lib.search.objective import Evaluation, Objective, OptimizationResult, PassSequence
from ecco_lib.search.optimizer import Method, register

#: Draws per budget unit before a search whose preferences keep proposing seen sequences gives up.
_DRAWS_PER_EVALUATION = 50
#: Normalized position of a pass that no top training sequence holds (the middle).
_UNSEEN_POSITION = 0.5

#: ``(first, then, why)``: when a sequence holds both, ``first`` must come before ``then``. From
#: LLVM's pass documentation (llvm/docs/Passes.rst). Loop passes need no loop-simplify/lcssa rule:
#: opt-19's loop adaptor puts every loop into simplified and LCSSA form before a loop pass runs;
#: runtime-only passes are already outside :data:`SEARCH_PASSES`.
ORDER_RULES: tuple[tuple[str, str, str], ...] = (
    ("indvars", "loop-reduce", "indvars 'should be followed by strength reduction'"),
    ("indvars", "loop-unroll", "loop-unroll 'works best when loops have been canonicalized by the indvars pass'"),
    ("reg2mem", "mem2reg", "reg2mem is 'the inverse of mem2reg': a later demotion would undo the promotion"),
    ("reg2mem", "sroa", "reg2mem is 'the inverse of mem2reg' (sroa promotes too)"),
    ("lower-invoke", "simplifycfg", "lower-invoke leaves dead landing pads 'removed by running simplifycfg afterwards'"),
)
TOP_SOURCES = ("pruning-path", "searched")


@dataclass(frozen=True)
class PDCATConfig:
    """``top``: which evidence sequences are a program's "top of its search": ``searched`` = its
    1–2 best searched sequences; ``pruning-path`` = those plus every sequence Algorithm 1
    evaluated on the way to the core (each no worse than the searched one). ``smoothing`` = the
    Laplace alpha of ``(count + alpha) / (programs + 2 alpha)``; ``common_threshold`` = the
    fraction of programs whose best searched sequence must hold a pass for it to be common.
    ``batch`` sequences are evaluated in parallel at a time (cut at update points);
    ``evidence``: the training evidence directory (None = results/dataset/evidence under the
    output root)."""

    top: str = "pruning-path"
    smoothing: float = 1.0
    common_threshold: float = 0.9
    min_length: int = 5
    max_length: int = 30
    batch: int = 10
    update_every: int = 10
    top_k: int = 5
    learning_rate: float = 0.1
    p_min: float = 0.02
    p_max: float = 0.98
    evidence: str | None = None

    def __post_init__(self):
        if self.top not in TOP_SOURCES:
            raise EccoError(f"PDCATConfig.top = {self.top!r}: choose one of {', '.join(TOP_SOURCES)}")
        if not (self.smoothing > 0 and 0 < self.common_threshold <= 1 and 1 <= self.min_length <= self.max_length
                and self.batch >= 1 and self.update_every >= 1 and self.top_k >= 1
                and 0 <= self.learning_rate <= 1 and 0 < self.p_min <= self.p_max < 1):
            raise EccoError(f"inconsistent pdcat settings: {self}")


def violations(sequence: Sequence[str]) -> list[tuple[str, str]]:
    """The :data:`ORDER_RULES` pairs ``(first, then)`` that ``sequence`` breaks (some ``then``
    before some ``first``)."""
    broken = []
    for first, then, _ in ORDER_RULES:
        if first in sequence and then in sequence:
            last_first = len(sequence) - 1 - list(reversed(sequence)).index(first)
            if sequence.index(then) < last_first:
                broken.append((first, then))
    return broken


def constrained_order(position: dict[str, float]) -> list[str]:
    """Every pass of :data:`SEARCH_PASSES` by ascending ``position`` (ties: registry order),
    except that :data:`ORDER_RULES` hold: a stable topological sort."""
    rank = {p: i for i, p in enumerate(SEARCH_PASSES)}
    before = defaultdict(list)
    waiting = {p: 0 for p in SEARCH_PASSES}
    for first, then, _ in ORDER_RULES:
        before[first].append(then)
        waiting[then] += 1
    ready = [(position[p], rank[p], p) for p in SEARCH_PASSES if waiting[p] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, _, p = heapq.heappop(ready)
        order.append(p)
        for q in before[p]:
            waiting[q] -= 1
            if waiting[q] == 0:
                heapq.heappush(ready, (position[q], rank[q], q))
    return order


def pruning_path(record: EvidenceRecord) -> list[PassSequence]:
    """The searched sequence and every sequence Algorithm 1 kept on the way to the core, in order."""
    current = list(record.pruning["original"])
    path = [tuple(current)]
    for removal in record.pruning["removals"]:
        at = removal["position"]
        if not 0 <= at < len(current) or current[at] != removal["pass"]:
            raise EccoError(f"evidence for {record.program}: pruning removal {removal} does not match its sequence")
        del current[at]
        path.append(tuple(current))
    if tuple(current) != record.core:
        raise EccoError(f"evidence for {record.program}: its pruning removals do not end at its core")
    return path


def learn(records: Sequence[EvidenceRecord], config: PDCATConfig) -> dict:
    """The offline model (plain JSON) from training evidence: ``preferences`` and median
    ``positions`` per pass, the constrained ``order``, the ``common`` prefix (in that order) and
    the ``common_presence`` of the most common passes."""
    by_program: dict[str, list[EvidenceRecord]] = defaultdict(list)
    for record in records:
        by_program[record.program].append(record)
    allowed = set(SEARCH_PASSES)
    count = defaultdict(float)  # sum over programs of the fraction of its top sequences holding the pass
    positions = defaultdict(list)
    presence = defaultdict(int)  # programs whose best searched sequence holds the pass
    tops = 0
    for program in sorted(by_program):
        group = by_program[program]
        found = [tuple(r.search["sequence"]) for r in group] if config.top == "searched" else \
            [s for r in group for s in pruning_path(r)]
        top = list(dict.fromkeys(s for s in found if s))
        tops += len(top)
        for sequence in top:
            for name in set(sequence) & allowed:
                count[name] += 1 / len(top)
            for i, name in enumerate(sequence):
                if name in allowed:
                    positions[name].append(i / max(len(sequence) - 1, 1))
        best = min(group, key=lambda r: r.cycles["searched"])
        for name in set(best.search["sequence"]) & allowed:
            presence[name] += 1
    programs, alpha = len(by_program), config.smoothing
    median = {p: statistics.median(positions[p]) if positions[p] else _UNSEEN_POSITION for p in SEARCH_PASSES}
    order = constrained_order(median)
    share = {p: presence[p] / programs for p in SEARCH_PASSES}
    return {"preferences": {p: (count[p] + alpha) / (programs + 2 * alpha) for p in SEARCH_PASSES},
            "positions": median, "order": order,
            "common": [p for p in order if share[p] >= config.common_threshold],
            "common_presence": dict(sorted(share.items(), key=lambda kv: (-kv[1], kv[0]))[:5]),
            "programs": programs, "top_sequences": tops}


class PDCATSearch(LearnsFromEvidence):
    """Deterministic for a given seed (one RNG per program and seed; the cache does not matter)."""

    name = "pdcat"
    description = ("preference-driven sampling: learned per-pass preferences, a fixed common prefix, "
                   "documented ordering rules, PBIL-style updates (Preference-Driven Compiler Auto-Tuning, FSE 2025)")

    def __init__(self, config: PDCATConfig = PDCATConfig()):
        self.config = config
        self._offline: OfflineModel | None = None

    def offline(self, evaluator=None) -> OfflineModel:
        """The offline model (trained once per settings and evidence content; cached on disk and
        here). It evaluates nothing, so ``evaluator`` is not used."""
        if self._offline is None:
            cfg = self.config
            records = training_evidence(cfg.evidence)
            inputs = {"evidence": evidence_digest(records), "passes": list(SEARCH_PASSES),
                      "rules": [r[:2] for r in ORDER_RULES],
                      "settings": {"top": cfg.top, "smoothing": cfg.smoothing, "common_threshold": cfg.common_threshold}}
            self._offline = offline_model(self.name, inputs,
                                          lambda: (learn(records, cfg), 0, [r.program for r in records]))
        return self._offline

    def optimize(self, program, objective: Objective, seed: int) -> OptimizationResult:
        cfg = self.config
        offline = self.offline()
        model = offline.model
        common = tuple(model["common"])
        if len(common) > cfg.max_length:
            raise EccoError(f"pdcat: the common set holds {len(common)} passes, more than max_length "
                            f"{cfg.max_length}: raise common_threshold")
        order = [p for p in model["order"] if p not in common]
        preferences = {p: self._clip(model["preferences"][p]) for p in order}
        rng = random.Random(f"{self.name}:{seed}:{program.uri}")
        evaluated: list[Evaluation] = []
        draws = rejected = updates = since_update = 0
        while not objective.exhausted and draws < _DRAWS_PER_EVALUATION * objective.budget:
            wanted = min(cfg.batch, objective.remaining, cfg.update_every - since_update)
            batch: list[PassSequence] = []
            while len(batch) < wanted and draws < _DRAWS_PER_EVALUATION * objective.budget:
                draws += 1
                sequence = common + self._sample(rng, order, preferences, len(common))
                if violations(sequence):
                    rejected += 1
                elif sequence not in batch and objective.seen(sequence) is None:
                    batch.append(sequence)
            evaluated += [e for e in objective.evaluate(batch) if e is not None]
            since_update += len(batch)
            if since_update >= cfg.update_every:
                updates += self._update(preferences, evaluated)
                since_update = 0
        return objective.result(self.name, seed, extra={
            **offline.cost(), "common_set": list(common), "draws": draws, "rejected": rejected, "updates": updates})

    def _clip(self, p: float) -> float:
        return min(max(p, self.config.p_min), self.config.p_max)

    def _sample(self, rng: random.Random, order: list[str], preferences: dict[str, float],
                prefix: int) -> PassSequence:
        """Passes drawn by preference, in ``order``; too many: a uniform subset is kept; too few:
        topped up by preference-weighted draws without replacement."""
        low, high = max(self.config.min_length - prefix, 0), self.config.max_length - prefix
        chosen = [p for p in order if rng.random() < preferences[p]]
        if len(chosen) > high:
            chosen = [chosen[i] for i in sorted(rng.sample(range(len(chosen)), high))]
        rest = [p for p in order if p not in chosen]
        while len(chosen) < low and rest:
            pick = rng.choices(rest, [preferences[p] for p in rest])[0]
            rest.remove(pick)
            chosen.append(pick)
        rank = {p: i for i, p in enumerate(order)}
        return tuple(sorted(chosen, key=rank.__getitem__))

    def _update(self, preferences: dict[str, float], evaluated: list[Evaluation]) -> int:
        """Move ``preferences`` toward the pass frequencies of the best ``top_k`` compiled
        sequences (1 if updated, 0 when none compiled yet)."""
        cfg = self.config
        best = sorted((e for e in evaluated if e.ok), key=lambda e: (e.cost, len(e.sequence), e.index))[: cfg.top_k]
        if not best:
            return 0
        for p in preferences:
            frequency = sum(p in e.sequence for e in best) / len(best)
            preferences[p] = self._clip((1 - cfg.learning_rate) * preferences[p] + cfg.learning_rate * frequency)
        return 1


register(Method("pdcat", PDCATConfig, PDCATSearch, learns_offline=True,
                source="Preference-Driven Compiler Auto-Tuning, FSE 2025, DOI 10.1145/3715756"))
