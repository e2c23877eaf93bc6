"""The ``cfsat`` baseline: synergistic search spaces (Pan et al., "Towards Efficient Compiler
Auto-tuning: Leveraging Synergistic Search Spaces", CGO 2025; printed "CFAST" in the ECCO paper),
its "Random" variant, adapted to ordered LLVM pass sequences and llvm-mca cycles as BASELINES.md says.

Phase 1 (offline, train split). A pass ``b`` is *useful* when alone it lowers the cycles; an
ordered pair ``(a, b)`` is *synergistic* when ``a -> b`` beats ``b`` alone; its value is the gain
of ``a -> b`` (a fraction of C_O3). From the evidence: each adjacent core pair ``(A, B)`` after its
prefix ``P`` with ``gain_second > 0`` (B useful) and ``gain_pair > gain_second``. Optionally, on
``measure_programs`` training programs drawn with a fixed seed, the paper's own measurement over a
pool of the ``measure_passes`` passes most frequent in the evidence's cores: the input, -O3, every
pool pass alone, then every ``(a, b)`` with ``a`` in the pool and ``b`` useful
(``2 + M + useful x M`` evaluations per program, counted as offline evaluations).

Phase 2. Each training program's pair-gain vector over the pair vocabulary (every pair
synergistic for some training program; a program's value is its largest, 0 when not synergistic)
is L2-normalised (gains differ by orders of magnitude between programs; raw vectors put 114 of
the 128 committed training programs in one cluster) and clustered with KMeans
(``random_state=0``). Per cluster, the synergy graph has an edge ``a -> b`` weighted by the
cluster members' mean (raw) value of the pair; ``walks``
random walks (head drawn by its outgoing weight, each step by edge weight, target length uniform
in [``min_length``, ``max_length``], stopped early at a dead end, kept from ``min_length`` on,
distinct, fixed seed per cluster) are the cluster's candidate sequences.

Phase 3. A random forest (``random_state=0``) predicts the cluster from the log1p-scaled
Autophase features of the input; label = the program's own KMeans cluster (the paper's target,
softmax(best gain of each cluster's candidates / 0.002), would cost clusters x walks evaluations
per training program). The model JSON keeps
the training matrix and labels; the forest is refit from them (deterministic, ~0.5 s) once per
optimizer.

Test time: the predicted cluster's candidates in their stored order, batched; when they run out
before the budget, the next most probable cluster's, and so on. The candidates are fixed offline,
so the trace does not depend on the seed.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ecco_lib.baselines.offline import (LearnsFromEvidence, OfflineModel, evidence_digest, load_training_program,
                                        offline_model, training_evidence)
from ecco_lib.errors import EccoError
from ecco_lib.evidence import EvidenceRecord
from ecco_lib.features import AUTOPHASE_FEATURES, autophase
from ecco_lib.llvm.pipeline import Pipeline
from ecco_lib.llvm.passes import SEARCH_PASSES
from ecco_lib.search.objective import Objective, OptimizationResult, PassSequence
from ecco_lib.search.optimizer import Method, register

Pair = tuple[str, str]
#: Walk attempts per wanted walk before a cluster whose graph has few distinct walks gives up.
_ATTEMPTS_PER_WALK = 50


@dataclass(frozen=True)
class CFSATConfig:
    """``clusters``: KMeans k (capped at the number of distinct pair-gain vectors), ``n_init``
    its restarts; ``walks`` candidate sequences per cluster, ``min_length``..``max_length``
    passes; ``trees`` of the cluster classifier; ``batch`` sequences evaluated in parallel at a
    time (it does not change the trace); ``measure_programs`` training programs on which Phase 1
    is also measured over the ``measure_passes`` passes most frequent in the evidence's cores
    (0 = evidence only; 8 x 16 passes on the committed evidence: 1,024 evaluations, ~3 min cold
    on 2 loaded cores); ``evidence``: the training evidence directory (None =
    results/dataset/evidence under the output root)."""

    clusters: int = 12
    n_init: int = 10
    walks: int = 100
    min_length: int = 4
    max_length: int = 30
    trees: int = 200
    batch: int = 20
    measure_programs: int = 8
    measure_passes: int = 16
    evidence: str | None = None

    def __post_init__(self):
        if not (self.clusters >= 1 and self.n_init >= 1 and self.walks >= 1 and 1 <= self.min_length <= self.max_length
                and self.trees >= 1 and self.batch >= 1 and self.measure_programs >= 0 and self.measure_passes >= 1):
            raise EccoError(f"inconsistent cfsat settings: {self}")


def evidence_pairs(record: EvidenceRecord) -> dict[Pair, float]:
    """The record's synergistic ordered pairs (``gain_second > 0`` and ``gain_pair >
    gain_second``) with their ``gain_pair`` (largest over repeats); passes outside the search
    space are left out."""
    allowed = set(SEARCH_PASSES)
    pairs: dict[Pair, float] = {}
    for s in record.synergy:
        pair = (s["first"], s["second"])
        if set(pair) <= allowed and s["gain_second"] > 0 and s["gain_pair"] > s["gain_second"]:
            pairs[pair] = max(pairs.get(pair, s["gain_pair"]), s["gain_pair"])
    return pairs


def measurement_pool(records: Sequence[EvidenceRecord], size: int) -> list[str]:
    """The ``size`` passes most frequent in the records' cores (ties: by name)."""
    allowed = set(SEARCH_PASSES)
    counts = Counter(p for r in records for p in r.core if p in allowed)
    return sorted(counts, key=lambda p: (-counts[p], p))[:size]


def measure_pairs(program, evaluator, pool: Sequence[str]) -> tuple[dict[Pair, float], int]:
    """The paper's Phase 1 on one program over ``pool``: (synergistic pairs -> gain of the pair
    over the input as a fraction of C_O3, evaluations spent). Failed evaluations count and make
    no pair."""
    singles = [Pipeline(passes=()), Pipeline.of_level("O3")] + [Pipeline(passes=(p,)) for p in pool]
    rows = evaluator.evaluate_many([(program, s) for s in singles], progress=False)
    spent = len(rows)
    base, o3 = rows[0], rows[1]
    if not (base.ok and o3.ok):
        return {}, spent
    alone = {p: r.cycles for p, r in zip(pool, rows[2:]) if r.ok}
    useful = [p for p in pool if p in alone and alone[p] < base.cycles]
    pairs = [(a, b) for b in useful for a in pool]
    rows = evaluator.evaluate_many([(program, Pipeline(passes=pair)) for pair in pairs], progress=False)
    spent += len(rows)
    return ({pair: (base.cycles - r.cycles) / o3.cycles for pair, r in zip(pairs, rows)
             if r.ok and r.cycles < alone[pair[1]]}, spent)


def random_walks(edges: Sequence[tuple[str, str, float]], count: int, min_length: int, max_length: int,
                 rng: random.Random) -> list[PassSequence]:
    """Up to ``count`` distinct weighted random walks over ``edges`` ``(a, b, weight > 0)``, in
    the order found; fewer when ``_ATTEMPTS_PER_WALK * count`` attempts do not find more."""
    out: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for a, b, w in edges:
        out[a].append((b, w))
    heads = sorted(out)
    if not heads:
        return []
    head_weights = [sum(w for _, w in out[h]) for h in heads]
    found: dict[PassSequence, None] = {}
    for _ in range(_ATTEMPTS_PER_WALK * count):
        if len(found) >= count:
            break
        length = rng.randint(min_length, max_length)
        node = rng.choices(heads, head_weights)[0]
        walk = [node]
        while len(walk) < length and out[node]:
            node = rng.choices([b for b, _ in out[node]], [w for _, w in out[node]])[0]
            walk.append(node)
        if len(walk) >= min_length:
            found.setdefault(tuple(walk))
    return list(found)


def learn(records: Sequence[EvidenceRecord], config: CFSATConfig,
          measured: dict[str, dict[Pair, float]]) -> dict:
    """The offline model (plain JSON) from training evidence and measured pairs (program URI ->
    pairs): the pair ``vocabulary``, training ``programs`` with their raw Autophase ``features``
    and cluster ``labels``, and per cluster its ``members``, weighted ``edges`` and ``candidates``."""
    from sklearn.cluster import KMeans

    by_program: dict[str, dict[Pair, float]] = defaultdict(dict)
    features: dict[str, list[int]] = {}
    for record in records:
        features.setdefault(record.program, [int(record.features[f]) for f in AUTOPHASE_FEATURES])
        pairs = by_program[record.program]
        for pair, gain in evidence_pairs(record).items():
            pairs[pair] = max(pairs.get(pair, gain), gain)
    for uri, found in measured.items():
        for pair, gain in found.items():
            by_program[uri][pair] = max(by_program[uri].get(pair, gain), gain)
    programs = sorted(by_program)
    vocabulary = sorted({pair for pairs in by_program.values() for pair in pairs})
    if not vocabulary:
        raise EccoError("cfsat: the training evidence holds no synergistic pass pair (a -> b beating b alone): "
                        "nothing to build a synergy graph from")
    column = {pair: j for j, pair in enumerate(vocabulary)}
    vectors = np.zeros((len(programs), len(vocabulary)))
    for i, uri in enumerate(programs):
        for pair, gain in by_program[uri].items():
            vectors[i, column[pair]] = gain
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    directions = vectors / np.where(norms > 0, norms, 1.0)
    k = min(config.clusters, len(np.unique(directions, axis=0)))
    labels = KMeans(n_clusters=k, n_init=config.n_init, random_state=0).fit_predict(directions).tolist()
    clusters = []
    for c in range(k):
        rows = [i for i, label in enumerate(labels) if label == c]
        mean = vectors[rows].mean(axis=0)
        edges = [(a, b, float(mean[column[(a, b)]])) for a, b in vocabulary if mean[column[(a, b)]] > 0]
        walks = random_walks(edges, config.walks, config.min_length, config.max_length,
                             random.Random(f"cfsat:walks:{c}"))
        clusters.append({"members": [programs[i] for i in rows], "edges": [list(e) for e in edges],
                         "candidates": [list(w) for w in walks]})
    return {"vocabulary": [list(p) for p in vocabulary], "programs": programs,
            "features": [features[uri] for uri in programs], "labels": labels, "clusters": clusters,
            "measured_programs": sorted(measured)}


class CFSATSearch(LearnsFromEvidence):
    """Deterministic: the candidates are fixed offline and the cluster prediction is a
    deterministic function of the program, so the seed and the cache do not change the trace."""

    name = "cfsat"
    description = ("synergistic search spaces: pass-pair synergies clustered into per-cluster synergy graphs, "
                   "random walks as candidates, the program's cluster predicted from Autophase features "
                   "('Random' variant; Pan et al., CGO 2025, the paper's CFAST)")

    def __init__(self, config: CFSATConfig = CFSATConfig()):
        self.config = config
        self._offline: OfflineModel | None = None
        self._classifier = None
        self._lock = threading.Lock()  # run_methods may call optimize from several threads

    def offline(self, evaluator=None) -> OfflineModel:
        """The offline model (trained once per settings and evidence content, cached on disk and
        here). ``evaluator`` runs the Phase-1 measurement; needed only when ``measure_programs > 0``."""
        with self._lock:
            if self._offline is None:
                self._offline = self._build(evaluator)
            return self._offline

    def _build(self, evaluator) -> OfflineModel:
        cfg = self.config
        records = training_evidence(cfg.evidence)
        pool = measurement_pool(records, cfg.measure_passes) if cfg.measure_programs else []
        if cfg.measure_programs and evaluator is None:
            raise EccoError("cfsat: measure_programs > 0 needs an evaluator for the offline measurement")
        from sklearn import __version__ as sklearn_version

        inputs = {"evidence": evidence_digest(records), "passes": list(SEARCH_PASSES), "sklearn": sklearn_version,
                  "settings": {"clusters": cfg.clusters, "n_init": cfg.n_init, "walks": cfg.walks,
                               "min_length": cfg.min_length, "max_length": cfg.max_length,
                               "measure_programs": cfg.measure_programs, "measure_pool": pool},
                  "metric": evaluator.metric.fingerprint() if cfg.measure_programs else None}

        def train():
            uris = sorted({r.program for r in records})
            chosen = random.Random("cfsat:measure").sample(uris, min(cfg.measure_programs, len(uris)))
            measured, spent = {}, 0
            for uri in sorted(chosen):
                program = load_training_program(uri, cache=evaluator.cache)
                measured[uri], evaluations = measure_pairs(program, evaluator, pool)
                spent += evaluations
            return learn(records, cfg, measured), spent, uris

        return offline_model(self.name, inputs, train)

    def classifier(self, offline: OfflineModel):
        """The random forest refit from the model's training matrix (once per optimizer)."""
        with self._lock:
            if self._classifier is None:
                from sklearn.ensemble import RandomForestClassifier

                model = offline.model
                self._classifier = RandomForestClassifier(n_estimators=self.config.trees, random_state=0, n_jobs=1).fit(
                    np.log1p(np.array(model["features"], dtype=float)), model["labels"])
            return self._classifier

    def optimize(self, program, objective: Objective, seed: int) -> OptimizationResult:
        offline = self.offline(objective.evaluator)
        clusters = offline.model["clusters"]
        forest = self.classifier(offline)
        x = np.log1p(np.array([[autophase(program.ir)[f] for f in AUTOPHASE_FEATURES]], dtype=float))
        probability = dict(zip((int(c) for c in forest.classes_), forest.predict_proba(x)[0].tolist()))
        order = sorted(range(len(clusters)), key=lambda c: (-probability.get(c, 0.0), c))
        used: list[int] = []
        for c in order:
            if objective.exhausted:
                break
            pending = [tuple(s) for s in clusters[c]["candidates"] if objective.seen(s) is None]
            if pending:
                used.append(c)
            while pending and not objective.exhausted:
                take = min(self.config.batch, objective.remaining)
                objective.evaluate(pending[:take])
                pending = pending[take:]
        predicted = order[0]
        return objective.result(self.name, seed, extra={
            **offline.cost(), "predicted_cluster": predicted,
            "cluster_probability": round(probability.get(predicted, 0.0), 4),
            "clusters_used": used, "candidates_exhausted": not objective.exhausted})


register(Method("cfsat", CFSATConfig, CFSATSearch, learns_offline=True,
                source="Pan et al., CGO 2025 (printed CFAST)"))
