"""The ``grace`` baseline (Pan et al., arXiv 2510.13176, GRACE), adapted to our train split and
ordered LLVM pass sequences as BASELINES.md says.

Offline (train split only, trained once per settings and evidence content):

1. *Embedding*: a two-layer MLP over standardized ``log1p`` Autophase counts, trained with a
   symmetric InfoNCE loss whose positive pair is a program and the same program after a short
   uniform random pass sequence (``augmentations`` per program, each a real ``opt-19`` run on a
   training program: counted as ``feature_runs``, not as cycles evaluations). Embeddings are
   L2-normalized; the trained weights are kept in the JSON model and every embedding (training
   and test) is computed from them in numpy.
2. *Clusters*: sklearn KMeans (``random_state=0``, ``n_init`` fixed) over the embeddings.
3. *Coreset* per cluster: an evolutionary search seeded with the members' evidence sequences
   (searched and core), each candidate scored by its mean I_O3 over up to ``coreset_members``
   members (the nearest to the centre) with the real evaluator; ``coreset_budget`` candidates per
   cluster, every evaluation (and each judge's -O3 reference) counted in ``evaluations``. With
   ``coreset_budget`` 0 nothing is evaluated: the coreset is the members' evidence sequences
   ranked by the I_O3 their evidence records.

Test time: the program's embedding orders the clusters by distance to their centres; the top
coreset sequence of each is evaluated (one batch of k), then the rest of the budget goes to
batches of mutants (remove a pass, swap two, replace one with another pass of the sequence,
shuffle a subsequence) of the best sequence so far. A parent whose mutants keep repeating is
dropped for the next best; when every parent is spent, inserting a pass of the coreset's pass
pool becomes a fifth mutation. The result's best is whatever compiled best (-O3 is never
substituted); ``extra["beat_o3"]`` says whether it beat -O3.
"""

from __future__ import annotations

import dataclasses
import math
import random
import zlib
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ecco_lib.baselines.offline import (LearnsFromEvidence, OfflineModel, evidence_digest, load_training_program,
                                        offline_model, training_evidence)
from ecco_lib.errors import EccoError
from ecco_lib.evidence import EvidenceRecord
from ecco_lib.features import AUTOPHASE_FEATURES, autophase
from ecco_lib.llvm import steps
from ecco_lib.llvm.evaluate import Evaluator
from ecco_lib.llvm.passes import SEARCH_PASSES
from ecco_lib.llvm.pipeline import Pipeline
from ecco_lib.search.objective import Evaluation, Objective, OptimizationResult, PassSequence
from ecco_lib.search.optimizer import Method, register

#: Draws per budget unit (test time) or per candidate (coreset search) before a search gives up.
_DRAWS_PER_EVALUATION = 100
#: Consecutive repeated mutants after which a parent counts as spent (test time).
_MISSES_PER_PARENT = 30
#: Random sequences tried per augmentation before the program itself stands in as its positive.
_AUGMENT_ATTEMPTS = 3
#: Longest subsequence the shuffle mutation reorders.
_SHUFFLE_SPAN = 6
#: Coreset search: tournament size and one-point crossover probability.
_TOURNAMENT = 2
_CROSSOVER_RATE = 0.5


@dataclass(frozen=True)
class GRACEConfig:
    """Offline: ``programs`` training programs (None = all; else evenly spaced over their sorted
    URIs), ``augmentations`` random sequences of 1..``augment_length`` passes per program, an MLP
    56 -> ``hidden`` -> ``embedding`` trained ``steps`` Adam steps (``learning_rate``, InfoNCE
    ``temperature``), ``clusters`` KMeans clusters (at most one per program) with ``n_init``
    restarts; per cluster ``coreset_budget`` candidate sequences (0 = no evaluation: evidence
    ranking) in generations of ``coreset_population``, each scored on ``coreset_members``
    members, ``coreset_size`` best kept; ``offline_seed`` seeds it all. Lengths stay in
    [``min_length``, ``max_length``] (1: evidence cores can be short). Test time: ``batch``
    mutants evaluated in parallel at a time. ``evidence``: the training evidence directory
    (None = results/dataset/evidence under the output root)."""

    programs: int | None = None
    augmentations: int = 2
    augment_length: int = 4
    hidden: int = 64
    embedding: int = 32
    steps: int = 200
    learning_rate: float = 0.01
    temperature: float = 0.1
    clusters: int = 12
    n_init: int = 10
    coreset_budget: int = 16
    coreset_members: int = 3
    coreset_population: int = 8
    coreset_size: int = 8
    min_length: int = 1
    max_length: int = 30
    batch: int = 10
    offline_seed: int = 0
    evidence: str | None = None

    def __post_init__(self):
        if not ((self.programs is None or self.programs >= 2) and self.augmentations >= 1 and self.augment_length >= 1
                and self.hidden >= 1 and self.embedding >= 1 and self.steps >= 1 and self.learning_rate > 0
                and self.temperature > 0 and self.clusters >= 1 and self.n_init >= 1 and self.coreset_budget >= 0
                and self.coreset_members >= 1 and self.coreset_population >= 2 and self.coreset_size >= 1
                and 1 <= self.min_length <= self.max_length and self.batch >= 1):
            raise EccoError(f"inconsistent grace settings: {self}")


def mutate(rng: random.Random, sequence: PassSequence, config: GRACEConfig,
           pool: Sequence[str] = ()) -> PassSequence | None:
    """One GRACE mutation of ``sequence``: remove a pass, swap two, replace one with another pass
    of the sequence, or shuffle a subsequence; with a ``pool``, inserting one of its passes is a
    fifth. Lengths stay within the configured bounds; None when the mutant equals ``sequence``."""
    s = list(sequence)
    distinct = sorted(set(s))
    ops = ["remove"] if len(s) > config.min_length else []
    if len(distinct) > 1:
        ops += ["swap", "replace", "shuffle"]
    if pool and len(s) < config.max_length:
        ops.append("insert")
    if not ops:
        return None
    op = rng.choice(ops)
    if op == "remove":
        del s[rng.randrange(len(s))]
    elif op == "swap":
        i, j = rng.sample(range(len(s)), 2)
        s[i], s[j] = s[j], s[i]
    elif op == "replace":
        i = rng.randrange(len(s))
        s[i] = rng.choice([p for p in distinct if p != s[i]])
    elif op == "shuffle":
        i = rng.randrange(len(s) - 1)
        j = rng.randint(i + 2, min(len(s), i + _SHUFFLE_SPAN))
        part = s[i:j]
        rng.shuffle(part)
        s[i:j] = part
    else:
        s.insert(rng.randint(0, len(s)), rng.choice(pool))
    child = tuple(s)
    return None if child == tuple(sequence) else child


def embed(model: dict, counts: np.ndarray) -> np.ndarray:
    """L2-normalized embeddings (rows) of Autophase count rows (shape (n, 56), vector order)."""
    x = (np.log1p(np.asarray(counts, dtype=np.float64)) - np.asarray(model["mean"])) / np.asarray(model["std"])
    first, second = model["layers"]
    h = np.maximum(x @ np.asarray(first["weight"]).T + np.asarray(first["bias"]), 0.0)
    z = h @ np.asarray(second["weight"]).T + np.asarray(second["bias"])
    return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)


def evidence_ranking(records: Sequence[EvidenceRecord], config: GRACEConfig) -> list[tuple[PassSequence, float]]:
    """The records' searched and core sequences within the length bounds and wholly inside
    :data:`SEARCH_PASSES` (a recorded I_O3 that needed another pass is no evidence for a sequence
    without it, so such a sequence is skipped, not trimmed), each with the best I_O3 its evidence
    records (on its own program), best first (ties: shorter, then by name)."""
    allowed = frozenset(SEARCH_PASSES)
    best: dict[PassSequence, float] = {}
    for r in records:
        for sequence, cycles in ((tuple(r.search["sequence"]), r.cycles["searched"]), (r.core, r.cycles["core"])):
            if config.min_length <= len(sequence) <= config.max_length and allowed.issuperset(sequence):
                i_o3 = (r.cycles["O3"] - cycles) / r.cycles["O3"]
                best[sequence] = max(best.get(sequence, -math.inf), i_o3)
    return sorted(best.items(), key=lambda item: (-item[1], len(item[0]), item[0]))


def select_programs(records: Sequence[EvidenceRecord], limit: int | None) -> dict[str, list[EvidenceRecord]]:
    """Records grouped by program URI (sorted); with ``limit``, that many programs evenly spaced."""
    by_program: dict[str, list[EvidenceRecord]] = defaultdict(list)
    for record in records:
        by_program[record.program].append(record)
    uris = sorted(by_program)
    if limit is not None and limit < len(uris):
        uris = [uris[i * len(uris) // limit] for i in range(limit)]
    return {u: by_program[u] for u in uris}


def _augmented_ir(program, uri: str, index: int, config: GRACEConfig, timeout: float) -> tuple[bytes | None, int]:
    """(the IR of ``program`` after a short random sequence, opt runs spent); None when
    :data:`_AUGMENT_ATTEMPTS` sequences all failed."""
    for attempt in range(_AUGMENT_ATTEMPTS):
        rng = random.Random(f"grace:augment:{config.offline_seed}:{uri}:{index}:{attempt}")
        sequence = tuple(rng.choice(SEARCH_PASSES) for _ in range(rng.randint(1, config.augment_length)))
        out = steps.run_opt(program.ir, Pipeline(passes=sequence).opt_text, timeout)
        if out["status"] == "ok":
            return out["ir"], attempt + 1
    return None, _AUGMENT_ATTEMPTS


def train_embedding(anchors: np.ndarray, positives: np.ndarray, config: GRACEConfig) -> tuple[list[dict], float]:
    """Train the MLP on standardized anchors (n, 56) and positives (n, augmentations, 56):
    one thread, seeded, the global torch RNG and thread count restored. Returns its two layers
    (``weight``, ``bias`` as lists of floats) and the last loss."""
    import torch
    import torch.nn.functional as F

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(zlib.crc32(f"grace:embedding:{config.offline_seed}".encode()))
            net = torch.nn.Sequential(torch.nn.Linear(anchors.shape[1], config.hidden), torch.nn.ReLU(),
                                      torch.nn.Linear(config.hidden, config.embedding))
            optimizer = torch.optim.Adam(net.parameters(), lr=config.learning_rate)
            a = torch.tensor(anchors, dtype=torch.float32)
            p = torch.tensor(positives, dtype=torch.float32)
            rows = torch.arange(len(a))
            for _ in range(config.steps):
                views = p[rows, torch.randint(p.shape[1], (len(a),))]
                za, zp = F.normalize(net(a), dim=1), F.normalize(net(views), dim=1)
                logits = za @ zp.T / config.temperature
                loss = (F.cross_entropy(logits, rows) + F.cross_entropy(logits.T, rows)) / 2
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    finally:
        torch.set_num_threads(threads)
    layers = [{"weight": layer.weight.detach().double().tolist(), "bias": layer.bias.detach().double().tolist()}
              for layer in (net[0], net[2])]
    return layers, loss.item()


def search_coreset(records: Sequence[EvidenceRecord], judges: Sequence, evaluator: Evaluator,
                   config: GRACEConfig, rng: random.Random) -> tuple[list[dict], int]:
    """(the cluster's coreset, evaluations spent). ``records``: the members' evidence; ``judges``:
    the member Programs each candidate is evaluated on. With ``coreset_budget`` > 0 a GA seeded
    with the evidence ranking scores each candidate by its mean I_O3 over the judges (a failure on
    any judge: not kept); else, or when nothing was kept, the evidence ranking itself."""
    ranking = evidence_ranking(records, config)
    fallback = [{"sequence": list(s), "score": score, "scored_by": "evidence"}
                for s, score in ranking[: config.coreset_size]]
    if config.coreset_budget == 0:
        return fallback, 0
    o3 = evaluator.evaluate_many([(p, Pipeline.of_level("O3")) for p in judges], progress=False)
    evaluations = len(judges)
    judged = [(p, m.cycles) for p, m in zip(judges, o3) if m.ok]
    if not judged:
        return fallback, evaluations
    scores: dict[PassSequence, float] = {}

    def score(candidates: list[PassSequence]) -> int:
        rows = evaluator.evaluate_many([(p, Pipeline(passes=c)) for c in candidates for p, _ in judged], progress=False)
        for k, candidate in enumerate(candidates):
            mine = rows[k * len(judged):(k + 1) * len(judged)]
            scores[candidate] = (sum((c3 - m.cycles) / c3 for (_, c3), m in zip(judged, mine)) / len(judged)
                                 if all(m.ok for m in mine) else -math.inf)
        return len(rows)

    def ranked() -> list[PassSequence]:
        return sorted(scores, key=lambda s: (-scores[s], len(s), s))

    seeds = [s for s, _ in ranking]
    pool = sorted({p for s in seeds for p in s})
    evaluations += score(seeds[: min(config.coreset_population, config.coreset_budget)])
    draws, cap = 0, _DRAWS_PER_EVALUATION * config.coreset_budget
    while len(scores) < config.coreset_budget and draws < cap:
        parents = ranked()[: config.coreset_population]
        children: list[PassSequence] = []
        while len(children) < min(config.coreset_population, config.coreset_budget - len(scores)) and draws < cap:
            draws += 1
            child = min(rng.sample(parents, min(_TOURNAMENT, len(parents))), key=parents.index)
            if len(parents) > 1 and rng.random() < _CROSSOVER_RATE:
                other = min(rng.sample(parents, min(_TOURNAMENT, len(parents))), key=parents.index)
                cut, start = rng.randint(1, len(child)), rng.randint(0, len(other) - 1)
                child = (child[:cut] + other[start:])[: config.max_length]
            child = mutate(rng, child, config, pool)
            if child and config.min_length <= len(child) <= config.max_length and child not in scores \
                    and child not in children:
                children.append(child)
        if not children:
            break
        evaluations += score(children)
    kept = [{"sequence": list(s), "score": scores[s], "scored_by": "search"}
            for s in ranked() if math.isfinite(scores[s])][: config.coreset_size]
    return kept or fallback, evaluations


def learn(records: Sequence[EvidenceRecord], config: GRACEConfig, evaluator: Evaluator) -> tuple[dict, int, list[str]]:
    """The offline model (plain JSON), the cycles evaluations spent on training programs, and
    the training programs read. Opt runs for augmentation are ``model["cost"]["feature_runs"]``."""
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    groups = select_programs(records, config.programs)
    uris = list(groups)
    if len(uris) < 2:
        raise EccoError(f"grace needs at least 2 training programs (got {len(uris)})")
    programs = {}
    for uri in uris:
        program = load_training_program(uri, cache=evaluator.cache)
        if program.ir_hash != groups[uri][0].input_hash:
            raise EccoError(f"grace: {uri} no longer matches its evidence (input hash differs): rebuild the evidence")
        programs[uri] = program
    counts = np.array([[groups[u][0].features[n] for n in AUTOPHASE_FEATURES] for u in uris], dtype=np.float64)
    tasks = [(i, a) for i in range(len(uris)) for a in range(config.augmentations)]
    with ThreadPoolExecutor(max_workers=evaluator.jobs) as pool:
        outputs = list(pool.map(lambda t: _augmented_ir(programs[uris[t[0]]], uris[t[0]], t[1], config,
                                                        evaluator.timeout_s), tasks))
    augmented = counts[:, None, :].repeat(config.augmentations, axis=1)  # a failed augmentation: the program itself
    failed = 0
    for (i, a), (ir, _) in zip(tasks, outputs):
        if ir is None:
            failed += 1
        else:
            features = autophase(ir)
            augmented[i, a] = [features[n] for n in AUTOPHASE_FEATURES]
    logs = np.log1p(counts)
    mean, std = logs.mean(axis=0), logs.std(axis=0)
    std[std == 0] = 1.0
    layers, loss = train_embedding((logs - mean) / std, (np.log1p(augmented) - mean) / std, config)
    model = {"mean": mean.tolist(), "std": std.tolist(), "layers": layers}
    z = embed(model, counts)
    k = min(config.clusters, len(uris))
    with threadpool_limits(1):
        kmeans = KMeans(n_clusters=k, random_state=0, n_init=config.n_init).fit(z)
    centres = kmeans.cluster_centers_
    evaluations, clusters = 0, []
    for c in range(k):
        members = sorted((i for i in range(len(uris)) if kmeans.labels_[i] == c),
                         key=lambda i: (float(np.linalg.norm(z[i] - centres[c])), uris[i]))
        judges = [programs[uris[i]] for i in members[: config.coreset_members]]
        rng = random.Random(f"grace:coreset:{config.offline_seed}:{c}")
        coreset, spent = search_coreset([r for i in members for r in groups[uris[i]]], judges, evaluator, config, rng)
        if not coreset:
            raise EccoError(f"grace: cluster {c} has no evidence sequence of {config.min_length}..{config.max_length} "
                            f"passes: widen min_length/max_length")
        evaluations += spent
        clusters.append({"members": [uris[i] for i in members], "judges": [p.uri for p in judges], "coreset": coreset})
    model.update(centres=centres.tolist(), clusters=clusters, loss=loss,
                 pass_pool=sorted({p for c in clusters for entry in c["coreset"] for p in entry["sequence"]}),
                 cost={"feature_runs": sum(runs for _, runs in outputs), "failed_augmentations": failed,
                       "coreset_evaluations": evaluations}, programs=len(uris))
    return model, evaluations, uris


class GRACESearch(LearnsFromEvidence):
    """Deterministic for a given seed (one RNG per program and seed; the cache does not matter)."""

    offline_version = 2  # 2: evidence sequences outside SEARCH_PASSES are skipped

    name = "grace"
    description = ("contrastive Autophase embedding, KMeans clusters with per-cluster evolved coresets, then "
                   "mutants of the best cluster sequence (GRACE, Pan et al., arXiv 2510.13176)")

    def __init__(self, config: GRACEConfig = GRACEConfig()):
        self.config = config
        self._offline: OfflineModel | None = None

    def offline(self, evaluator: Evaluator) -> OfflineModel:
        """The offline model (trained once per settings, evidence content and metric; cached on
        disk and here). ``evaluator`` evaluates the coreset search's training programs."""
        if self._offline is None:
            cfg = self.config
            records = training_evidence(cfg.evidence)
            settings = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in ("batch", "evidence")}
            inputs = {"evidence": evidence_digest(records), "passes": list(SEARCH_PASSES), "settings": settings,
                      "metric": evaluator.metric.fingerprint(), "version": self.offline_version}
            self._offline = offline_model(self.name, inputs, lambda: learn(records, cfg, evaluator))
        return self._offline

    def optimize(self, program, objective: Objective, seed: int) -> OptimizationResult:
        cfg = self.config
        offline = self.offline(objective.evaluator)
        model = offline.model
        features = autophase(program.ir)
        z = embed(model, np.array([[features[n] for n in AUTOPHASE_FEATURES]]))[0]
        distance = np.linalg.norm(np.asarray(model["centres"]) - z, axis=1)
        order = sorted(range(len(distance)), key=lambda c: (float(distance[c]), c))
        tops = [tuple(model["clusters"][c]["coreset"][0]["sequence"]) for c in order]
        evaluated = list({e.index: e for e in objective.evaluate(tops) if e is not None}.values())
        cluster_evaluations = objective.used
        rng = random.Random(f"{self.name}:{seed}:{program.uri}")
        pool = tuple(model["pass_pool"])
        spent: set[PassSequence] = set()  # parents whose mutants kept repeating (under the current ops)
        grow = False
        draws, cap = 0, _DRAWS_PER_EVALUATION * objective.budget
        while not objective.exhausted and draws < cap:
            parents = [e.sequence for e in sorted(evaluated, key=_rank) if e.sequence not in spent]
            if not parents:
                spent.clear()
                grow = True
                continue
            batch: list[PassSequence] = []
            parent = misses = 0
            while len(batch) < min(cfg.batch, objective.remaining) and parent < len(parents) and draws < cap:
                draws += 1
                child = mutate(rng, parents[parent], cfg, pool if grow else ())
                if child and child not in batch and objective.seen(child) is None:
                    batch.append(child)
                    misses = 0
                else:
                    misses += 1
                    if misses == _MISSES_PER_PARENT:
                        spent.add(parents[parent])
                        parent, misses = parent + 1, 0
            evaluated += [e for e in objective.evaluate(batch) if e is not None]
        best = objective.best
        return objective.result(self.name, seed, extra={
            **offline.cost(), "offline_feature_runs": model["cost"]["feature_runs"],
            "nearest_cluster": order[0], "nearest_distance": round(float(distance[order[0]]), 6),
            "cluster_evaluations": cluster_evaluations, "mutants": objective.used - cluster_evaluations,
            "pool_inserts": grow, "draws": draws,
            "beat_o3": bool(best is not None and objective.cycles_O3 is not None and best.cycles < objective.cycles_O3)})


def _rank(evaluation: Evaluation) -> tuple:
    """Best first: fewest cycles (failures last), then shorter, then earlier."""
    return evaluation.cost, len(evaluation.sequence), evaluation.index


register(Method("grace", GRACEConfig, GRACESearch, learns_offline=True,
                source="Pan et al., GRACE, arXiv 2510.13176"))
