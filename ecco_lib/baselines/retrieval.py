"""Two policies that need no model, as honest floors for the strategist (issue 11; the paper has
neither): ``prior-top-n`` and ``knn``. Both read the train split's evidence and evaluate nothing
offline; online they evaluate a fixed ranking of training sequences until ``n`` candidates (or the
budget) are spent, so at budget N they answer "what would N guesses from the training data give".

- ``prior-top-n`` (:class:`FrequencyPrior`): the core sequences of the training evidence ranked by
  how many training programs have them, then by their mean I_O3 on those programs; the same list
  for every program.
- ``knn`` (:class:`NearestPrograms`): the training programs nearest to the program by Autophase
  features (``log1p`` counts, standardised with scikit-learn's ``StandardScaler``, Euclidean
  ``NearestNeighbors``); the best sequence of each neighbour, nearest first, then each one's
  second best, and so on.

A program that is itself in the training evidence (same IR hash) is left out of its own
ranking (leave-one-out), so tuning on the train split measures retrieval, not recall.
Sequences with a pass outside :data:`~ecco_lib.llvm.passes.SEARCH_PASSES` are skipped.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from ecco_lib.baselines.offline import LearnsFromEvidence, OfflineModel, evidence_digest, offline_model, training_evidence
from ecco_lib.errors import EccoError
from ecco_lib.llvm.passes import SEARCH_PASSES
from ecco_lib.search.objective import Objective, OptimizationResult
from ecco_lib.search.optimizer import Method, register

SOURCES = ("core", "core+searched")


@dataclass(frozen=True)
class RetrievalConfig:
    """``n``: candidates evaluated per program (None: as many as the budget allows); ``sources``:
    which evidence sequences are candidates (``core`` = Algorithm 1's core sequences, or also the
    searched ones); ``batch``: candidates evaluated in parallel at a time; ``evidence``: the
    training evidence directory (None = results/dataset/evidence under the output root)."""

    n: int | None = None
    sources: str = "core"
    batch: int = 8
    evidence: str | None = None

    def __post_init__(self):
        if self.sources not in SOURCES:
            raise EccoError(f"sources '{self.sources}' is not one of {', '.join(SOURCES)}")
        if (self.n is not None and self.n < 1) or self.batch < 1:
            raise EccoError(f"n must be >= 1 or null and batch >= 1 (got n={self.n}, batch={self.batch})")


def _candidates(record, sources: str) -> list[tuple[tuple[str, ...], float]]:
    """(sequence, cycles) of a record's candidate sequences, inside the search space."""
    found = [(record.core, record.cycles["core"])]
    if sources == "core+searched":
        found.append((tuple(record.search["sequence"]), record.cycles["searched"]))
    allowed = set(SEARCH_PASSES)
    return [(s, c) for s, c in found if s and set(s) <= allowed]


def _support(records, sources: str) -> dict:
    """Per training program (IR hash): its URI, Autophase features and its candidate sequences
    with their I_O3 on it, best first."""
    programs: dict[str, dict] = {}
    for record in records:
        entry = programs.setdefault(record.input_hash, {"uri": record.program, "features": record.features,
                                                        "sequences": {}})
        o3 = record.cycles["O3"]
        for sequence, cycles in _candidates(record, sources):
            gain = (o3 - cycles) / o3
            key = ",".join(sequence)
            entry["sequences"][key] = max(gain, entry["sequences"].get(key, -np.inf))
    for entry in programs.values():
        entry["sequences"] = dict(sorted(entry["sequences"].items(), key=lambda kv: (-kv[1], kv[0])))
    return dict(sorted(programs.items()))


def _spend(objective: Objective, ranking: list[str], config: RetrievalConfig) -> int:
    """Evaluate ``ranking`` (comma-separated sequences) in order, ``batch`` at a time, until ``n``
    were evaluated or the budget is spent; return how many were requested."""
    limit = len(ranking) if config.n is None else min(config.n, len(ranking))
    used = 0
    while used < limit and not objective.exhausted:
        chunk = ranking[used:min(limit, used + config.batch, used + objective.remaining)]
        objective.evaluate([tuple(s.split(",")) for s in chunk])
        used += len(chunk)
    return used


class _Retrieval(LearnsFromEvidence):
    def __init__(self, config: RetrievalConfig = RetrievalConfig()):
        self.config = config
        self._offline: OfflineModel | None = None

    def offline(self, evaluator=None) -> OfflineModel:
        """The training programs' candidate sequences (read from the evidence, nothing evaluated;
        cached on disk per evidence content and settings)."""
        if self._offline is None:
            records = training_evidence(self.config.evidence)
            inputs = {"evidence": evidence_digest(records), "passes": list(SEARCH_PASSES),
                      "settings": {"sources": self.config.sources}}
            self._offline = offline_model(self.name, inputs, lambda: ({"programs": _support(records, self.config.sources)},
                                                                      0, [r.program for r in records]))
        return self._offline

    def _others(self, program) -> dict:
        """The training programs other than ``program`` itself (leave-one-out by IR hash)."""
        return {h: e for h, e in self.offline().model["programs"].items() if h != program.ir_hash}


class FrequencyPrior(_Retrieval):
    name = "prior-top-n"
    description = ("the N most common core sequences of the training evidence (ties: higher mean I_O3), the same "
                   "for every program: a floor for any learned policy (ours, not in the paper)")

    def ranking(self, program) -> list[str]:
        """Sequences by (training programs holding them, mean I_O3 on those), most common first."""
        holders, gains = defaultdict(int), defaultdict(list)
        for entry in self._others(program).values():
            for sequence, gain in entry["sequences"].items():
                holders[sequence] += 1
                gains[sequence].append(gain)
        return sorted(holders, key=lambda s: (-holders[s], -float(np.mean(gains[s])), s))

    def optimize(self, program, objective: Objective, seed: int) -> OptimizationResult:
        ranking = self.ranking(program)
        used = _spend(objective, ranking, self.config)
        return objective.result(self.name, seed, extra={"candidates": len(ranking), "requested": used,
                                                        "ran_out": used == len(ranking) and not objective.exhausted,
                                                        **self.offline().cost()})


class NearestPrograms(_Retrieval):
    name = "knn"
    description = ("the best training sequences of the training programs nearest by Autophase features, nearest "
                   "first (retrieval; ours, not in the paper)")

    def neighbours(self, program) -> tuple[list[dict], np.ndarray]:
        """The training programs (entries) ordered by feature distance to ``program``, and the distances."""
        from sklearn.neighbors import NearestNeighbors
        from sklearn.preprocessing import StandardScaler

        from ecco_lib.features import AUTOPHASE_FEATURES, autophase

        others = list(self._others(program).values())
        if not others:
            raise EccoError("knn: no training program other than the one being optimized")
        train = np.log1p(np.array([[e["features"].get(f, 0) for f in AUTOPHASE_FEATURES] for e in others], float))
        features = autophase(program.ir)
        query = np.log1p(np.array([[features.get(f, 0) for f in AUTOPHASE_FEATURES]], float))
        scaler = StandardScaler().fit(train)
        index = NearestNeighbors(n_neighbors=len(others)).fit(scaler.transform(train))
        distances, order = index.kneighbors(scaler.transform(query))
        return [others[i] for i in order[0]], distances[0]

    def ranking(self, program) -> tuple[list[str], list[dict], np.ndarray]:
        neighbours, distances = self.neighbours(program)
        lists = [list(e["sequences"]) for e in neighbours]
        ranking = []
        for depth in range(max((len(x) for x in lists), default=0)):
            ranking += [x[depth] for x in lists if depth < len(x)]
        return list(dict.fromkeys(ranking)), neighbours, distances

    def optimize(self, program, objective: Objective, seed: int) -> OptimizationResult:
        ranking, neighbours, distances = self.ranking(program)
        used = _spend(objective, ranking, self.config)
        shown = min(len(neighbours), 8)
        return objective.result(self.name, seed, extra={
            "neighbours": [e["uri"] for e in neighbours[:shown]],
            "distances": [round(float(d), 4) for d in distances[:shown]], "candidates": len(ranking),
            "requested": used, "ran_out": used == len(ranking) and not objective.exhausted, **self.offline().cost()})


register(Method("prior-top-n", RetrievalConfig, FrequencyPrior, learns_offline=True,
                source="this artifact (issue 11): a frequency prior over the training evidence"))
register(Method("knn", RetrievalConfig, NearestPrograms, learns_offline=True,
                source="this artifact (issue 11): nearest training programs by Autophase features"))
