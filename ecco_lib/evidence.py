"""Paper stages 1-2: core-pass pruning (Algorithm 1) and evidence for every core pass, plus the
global pass-efficacy prior g(v) the tactician loads.

Algorithm 1 as decided in PAPER.md: sweep the positions of a strong sequence in order; drop the
pass at a position when the sequence without it has *no more* cycles than with it; repeat sweeps
until one removes nothing. Invariants of the result: its cycles are <= the original's, and
removing any one remaining pass makes the cycles strictly worse (or the evaluation fail).

Evidence for a core sequence ``c_1..c_k`` of program P (all cycle counts under the metric):
- performance: prefix cycles ``C(c_1..c_i)``; marginal gain of ``c_i`` = ``(C(..c_{i-1}) - C(..c_i)) / C_O3``;
  removal loss = ``(C(core without c_i) - C(core)) / C_O3`` (> 0 for every core pass);
- structural: the change of :func:`ecco_lib.features.ir_structure` across ``c_i`` (zeros omitted);
- features: the change of the 56 Autophase features across ``c_i`` (nonzero only);
- synergy of each adjacent ordered pair (A, B) after the prefix P before A:
  ``gain(P+A+B) - gain(P+A) - gain(P+B)``, gains relative to ``C(P)`` over ``C_O3``.

One :class:`EvidenceRecord` holds it; :func:`save_evidence` writes one JSON file per record.
"""

from __future__ import annotations

import copy
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import ClassVar, Mapping, Sequence

import pandas as pd
from tqdm import tqdm

from ecco_lib import features
from ecco_lib.atomic import write_json
from ecco_lib.errors import BadEvidenceError
from ecco_lib.llvm.evaluate import Evaluator
from ecco_lib.llvm.passes import CATEGORIES, REGISTRY, lookup
from ecco_lib.llvm.pipeline import Pipeline
from ecco_lib.llvm.steps import run_opt
from ecco_lib.search import BigramSeeder, GAConfig, GeneticSearch, OptimizationResult


@dataclass
class PruneResult:
    """Algorithm 1's record: every removal in the order it happened."""

    original: tuple[str, ...]
    core: tuple[str, ...]
    cycles_original: int
    cycles_core: int
    removals: list[dict] = field(default_factory=list)
    sweeps: int = 0
    evaluations: int = 0


class EvidenceError(RuntimeError):
    """One program's search, pruning or evidence could not be completed (a recorded failure)."""


@dataclass(frozen=True)
class EvidenceRecord:
    """The evidence of one core sequence of one program, as :func:`collect_evidence` measures it.

    Cycle counts are llvm-mca "Total Cycles" under ``metric``; gains, losses and synergies are
    fractions of ``cycles["O3"]``. Fields (nested values are plain JSON; treat them as read-only):

    - ``program`` (URI), ``suite``, ``input_hash`` (SHA-256 of the input IR);
    - ``features``: the 56 Autophase counts of the input; ``function_properties``: LLVM's
      ``print<func-properties>`` of the input; ``structure``: :func:`ecco_lib.features.ir_structure`;
    - ``cycles``: ``input, O3, Oz, searched, core``;
    - ``search``: ``sequence, evaluations, seed``; ``pruning``: ``original, core, removals, sweeps,
      evaluations`` (Algorithm 1; ``removals`` in the order they happened);
    - ``passes``: per core pass ``position, pass, category, structural, features_delta,
      performance`` (``cycles_before, cycles_after, marginal_gain, removal_loss``); ``pass`` equals
      ``pruning["core"][position]``;
    - ``synergy``: per adjacent core pair ``first, second, gain_pair, gain_first, gain_second,
      synergy``;
    - ``metric`` (:meth:`MetricSettings.as_record`), ``llvm_version``.

    Files carry :attr:`schema_version`; a file without one was written before it existed and is
    version 1.
    """

    #: Version of the file format :meth:`save` writes and :meth:`load` reads.
    schema_version: ClassVar[int] = 1

    program: str
    suite: str
    input_hash: str
    features: dict[str, int]
    function_properties: dict[str, int]
    structure: dict
    cycles: dict[str, int]
    search: dict
    pruning: dict
    passes: list[dict]
    synergy: list[dict]
    metric: dict
    llvm_version: str

    @property
    def core(self) -> tuple[str, ...]:
        """The core sequence (pass names in order)."""
        return tuple(self.pruning["core"])

    def to_dict(self) -> dict:
        """The file's JSON object: ``schema_version``, then every field (deep copies)."""
        return {"schema_version": self.schema_version, **asdict(self)}

    @classmethod
    def from_dict(cls, data: Mapping) -> "EvidenceRecord":
        """The record of a JSON object (deep copies). No ``schema_version`` means version 1; a
        version other than :attr:`schema_version`, a missing or an unknown key raises
        :class:`BadEvidenceError`."""
        version = data.get("schema_version", 1)
        if isinstance(version, bool) or version != cls.schema_version:
            raise BadEvidenceError(f"evidence schema_version {version!r} is not supported "
                                   f"(this version reads {cls.schema_version})")
        names = [f.name for f in fields(cls)]
        missing = [n for n in names if n not in data]
        unknown = [k for k in data if k not in names and k != "schema_version"]
        if missing or unknown:
            raise BadEvidenceError(f"evidence for {data.get('program', '<unnamed>')}: "
                                   + "; ".join(f"{what} key(s) {', '.join(keys)}" for what, keys in
                                               (("missing", missing), ("unknown", unknown)) if keys))
        return cls(**copy.deepcopy({n: data[n] for n in names}))

    def save(self, path: str | os.PathLike) -> Path:
        """Write the record as indented JSON, atomically."""
        return write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "EvidenceRecord":
        """Read a file written by :meth:`save` (or before versions existed); raises
        :class:`BadEvidenceError` naming the file for anything else."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise BadEvidenceError(f"no such evidence file: {path}") from None
        except json.JSONDecodeError as e:
            raise BadEvidenceError(f"{path}: not JSON ({e.msg})") from None
        if not isinstance(data, dict):
            raise BadEvidenceError(f"{path}: not a JSON object")
        try:
            return cls.from_dict(data)
        except BadEvidenceError as e:
            raise BadEvidenceError(f"{path}: {e}") from None


class CorePassPruner:
    """Algorithm 1 (core-pass pruning) on top of an :class:`Evaluator`."""

    def __init__(self, evaluator: Evaluator):
        self.evaluator = evaluator

    def cycles(self, program, sequence: Sequence[str]) -> float:
        row = self.evaluator.evaluate(program, Pipeline(passes=tuple(sequence)))
        return row.cycles if row.ok else float("inf")

    def prune(self, program, sequence: Sequence[str]) -> PruneResult:
        current = list(sequence)
        cycles = self.cycles(program, current)
        if cycles == float("inf"):
            raise EvidenceError(f"{program.uri}: the sequence to prune does not evaluate: {','.join(sequence)}")
        result = PruneResult(original=tuple(sequence), core=(), cycles_original=int(cycles), cycles_core=0)
        evaluations = 1
        removed = True
        while removed and current:
            removed = False
            result.sweeps += 1
            position = 0
            while position < len(current):
                candidate = current[:position] + current[position + 1:]
                without = self.cycles(program, candidate)
                evaluations += 1
                if without <= cycles:
                    result.removals.append({"pass": current[position], "position": position, "sweep": result.sweeps,
                                            "cycles_with": int(cycles), "cycles_without": int(without)})
                    current, cycles, removed = candidate, without, True
                else:
                    position += 1
        result.core, result.cycles_core, result.evaluations = tuple(current), int(cycles), evaluations
        return result


def collect_evidence(program, prune: PruneResult, search: OptimizationResult, evaluator: Evaluator,
                     timeout_s: float = 300.0) -> EvidenceRecord:
    """The evidence record of one core sequence; raises :class:`EvidenceError` when an evaluation
    fails or opt does not reproduce its output."""
    core = list(prune.core)
    k = len(core)
    prefixes = [tuple(core[:i]) for i in range(k + 1)]
    removals = [tuple(core[:i] + core[i + 1:]) for i in range(k)]
    skips = [tuple(core[:i] + core[i + 1:i + 2]) for i in range(k - 1)]  # P + B (A skipped)
    pipelines = [Pipeline.of_level("O3"), Pipeline.of_level("Oz")] + \
        [Pipeline(passes=s) for s in prefixes + removals + skips]
    rows = evaluator.evaluate_many([(program, p) for p in pipelines], progress=False)
    failed = [(r.pipeline, r.status, r.error) for r in rows if not r.ok]
    if failed:
        raise EvidenceError(f"{program.uri}: {len(failed)} evidence evaluation(s) failed, first: {failed[0]}")
    c = [r.cycles for r in rows]
    c_o3, c_oz = c[0], c[1]
    c_prefix, c_removal, c_skip = c[2:3 + k], c[3 + k:3 + 2 * k], c[3 + 2 * k:]
    if c_prefix[-1] != prune.cycles_core:
        raise EvidenceError(f"{program.uri}: core cycles {c_prefix[-1]} differ from pruning's {prune.cycles_core}")

    irs = [program.ir]
    for sequence, row in zip(prefixes[1:], rows[3:3 + k]):
        rerun = run_opt(program.ir, Pipeline(passes=sequence).opt_text, timeout_s)
        if rerun["status"] != "ok" or rerun["ir_hash"] != row.ir_hash:  # LLVM crashes can be nondeterministic
            raise EvidenceError(f"{program.uri}: opt is not deterministic for {','.join(sequence)}: "
                                f"{rerun.get('error') or 'a second run wrote different IR'}")
        irs.append(rerun["ir"])
    autophase = [features.autophase(ir) for ir in irs]
    structure = [features.ir_structure(ir) for ir in irs]

    passes = []
    for i, name in enumerate(core):
        delta = {f: autophase[i + 1][f] - autophase[i][f] for f in autophase[i] if autophase[i + 1][f] != autophase[i][f]}
        passes.append({
            "position": i, "pass": name, "category": lookup(name).category,
            "structural": features.structure_delta(structure[i], structure[i + 1]),
            "features_delta": delta,
            "performance": {"cycles_before": c_prefix[i], "cycles_after": c_prefix[i + 1],
                            "marginal_gain": (c_prefix[i] - c_prefix[i + 1]) / c_o3,
                            "removal_loss": (c_removal[i] - prune.cycles_core) / c_o3}})
    synergy = []
    for i in range(k - 1):
        base = c_prefix[i]
        gain_pair = (base - c_prefix[i + 2]) / c_o3
        gain_first = (base - c_prefix[i + 1]) / c_o3
        gain_second = (base - c_skip[i]) / c_o3
        synergy.append({"first": core[i], "second": core[i + 1], "gain_pair": gain_pair, "gain_first": gain_first,
                        "gain_second": gain_second, "synergy": gain_pair - gain_first - gain_second})
    return EvidenceRecord(
        program=program.uri, suite=program.suite, input_hash=program.ir_hash,
        features=autophase[0], function_properties=features.function_properties(program.ir),
        structure=structure[0],
        cycles={"input": c_prefix[0], "O3": c_o3, "Oz": c_oz, "searched": prune.cycles_original,
                "core": prune.cycles_core},
        search={"sequence": list(prune.original), "evaluations": search.evaluations, "seed": search.seed},
        pruning={"original": list(prune.original), "core": core, "removals": prune.removals,
                 "sweeps": prune.sweeps, "evaluations": prune.evaluations},
        passes=passes, synergy=synergy,
        metric=evaluator.metric.as_record(), llvm_version=evaluator.toolchain.version,
    )


@dataclass
class ProgramOutcome:
    """Everything dataset construction learned about one training program. ``failures`` records
    every step that could not be completed (stage, sequence, error); ``search`` is None when the
    search itself failed."""

    program: str
    search: OptimizationResult | None
    prunes: list[PruneResult] = field(default_factory=list)
    evidence: list[EvidenceRecord] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)


def process_program(program, evaluator: Evaluator, config: GAConfig, *, seed: int, sequences: int,
                    seeder: BigramSeeder | None = None) -> ProgramOutcome:
    """Search, then prune the ``sequences`` best distinct sequences that beat -O3 (or the best one
    when none does), then collect evidence for each distinct core. A failing step is recorded in
    the outcome's ``failures`` and the next one goes on; it never raises for a failed evaluation."""
    outcome = ProgramOutcome(program.uri, None)
    try:
        outcome.search = result = GeneticSearch(evaluator, config, seeder=seeder).run(program, seed=seed)
    except EvidenceError as exc:
        outcome.failures.append({"stage": "search", "sequence": "", "error": str(exc)})
        return outcome
    top = result.top(sequences)
    winners = [(s, c) for s, c in top if result.cycles_O3 and c < result.cycles_O3] or top[:1]
    if not winners:
        outcome.failures.append({"stage": "search", "sequence": "", "error": "no searched sequence evaluates"})
    seen = set()
    for sequence, _ in winners:
        stage = "pruning"
        try:
            prune = CorePassPruner(evaluator).prune(program, sequence)
            outcome.prunes.append(prune)
            if prune.core and prune.core not in seen:
                seen.add(prune.core)
                stage = "evidence"
                outcome.evidence.append(collect_evidence(program, prune, result, evaluator))
        except EvidenceError as exc:
            outcome.failures.append({"stage": stage, "sequence": ",".join(sequence), "error": str(exc)})
    return outcome


def process_programs(programs: Sequence, evaluator: Evaluator, config: GAConfig, *, seed: int, sequences: int,
                     threads: int | None = None) -> list[ProgramOutcome]:
    """:func:`process_program` for every program, ``threads`` programs at a time (each thread's
    evaluations share the evaluator's process pool and cache). Order follows ``programs``."""
    seeder = BigramSeeder()
    threads = threads or evaluator.jobs
    with ThreadPoolExecutor(threads) as pool, tqdm(total=len(programs), desc="programs") as bar:
        futures = [pool.submit(process_program, p, evaluator, config, seed=seed, sequences=sequences, seeder=seeder)
                   for p in programs]
        outcomes = []
        for future in futures:
            outcomes.append(future.result())
            bar.update(1)
    return outcomes


def failure_table(outcomes: Sequence[ProgramOutcome]) -> pd.DataFrame:
    """One row per step that could not be completed: program, stage, sequence, error."""
    return pd.DataFrame([{"program": o.program, **f} for o in outcomes for f in o.failures],
                        columns=["program", "stage", "sequence", "error"])


def search_table(outcomes: Sequence[ProgramOutcome], programs: Sequence) -> pd.DataFrame:
    """One row per program whose search finished: the best searched sequence vs -O3 and -Oz."""
    suites = {p.uri: p.suite for p in programs}
    rows = []
    for outcome in outcomes:
        r = outcome.search
        if r is None:
            continue
        ev = outcome.evidence[0] if outcome.evidence else None
        c_oz = ev.cycles["Oz"] if ev else None
        rows.append({**r.as_row(), "suite": suites[r.program], "cycles_Oz": c_oz,
                     "vs_Oz": (c_oz - r.best_cycles) / c_oz if c_oz else None,
                     "beats_O3": bool(r.cycles_O3 and r.best_cycles < r.cycles_O3),
                     "beats_Oz": bool(c_oz and r.best_cycles < c_oz)})
    return pd.DataFrame(rows)


def search_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per suite (and ``all`` = over programs): how often the searched sequence beats -O3 and -Oz
    (fractions) and by how much on average (I_O3 and gain over -Oz, fractions of their cycles)."""
    agg = dict(programs=("program", "size"), beats_O3=("beats_O3", "mean"), beats_Oz=("beats_Oz", "mean"),
               mean_i_o3=("i_o3", "mean"), mean_vs_Oz=("vs_Oz", "mean"), evaluations=("evaluations", "mean"))
    per_suite = table.groupby("suite").agg(**agg)
    overall = table.assign(suite="all").groupby("suite").agg(**agg)
    return pd.concat([per_suite, overall])


def pruning_table(outcomes: Sequence[ProgramOutcome]) -> pd.DataFrame:
    """One row per pruned sequence: lengths and cycles before and after Algorithm 1."""
    return pd.DataFrame([{"program": o.program, "length_before": len(p.original), "length_after": len(p.core),
                          "cycles_before": p.cycles_original, "cycles_after": p.cycles_core, "sweeps": p.sweeps,
                          "evaluations": p.evaluations, "core": ",".join(p.core)}
                         for o in outcomes for p in o.prunes])


@dataclass
class EfficacyPrior:
    """The global efficacy prior g(v) of Eq. 4: per pass, its mean marginal gain over all evidence
    occurrences (``mean_gain``; passes never seen: 0). ``weight = max(mean_gain, 0) + floor`` is the
    non-negative value the intent-guided mutation multiplies with the intent weight."""

    passes: pd.DataFrame        # index: pass name; count, mean_gain, mean_removal_loss, weight, category
    categories: pd.DataFrame    # index: category; count, mean_gain, mean_removal_loss, passes_seen
    floor: float = 1e-3

    @classmethod
    def from_evidence(cls, evidences: Sequence[EvidenceRecord], floor: float = 1e-3) -> "EfficacyPrior":
        occurrences = pd.DataFrame([{"pass": p["pass"], "category": p["category"],
                                     "gain": p["performance"]["marginal_gain"],
                                     "removal_loss": p["performance"]["removal_loss"]}
                                    for ev in evidences for p in ev.passes],
                                   columns=["pass", "category", "gain", "removal_loss"])
        stats = occurrences.groupby("pass").agg(count=("gain", "size"), mean_gain=("gain", "mean"),
                                                mean_removal_loss=("removal_loss", "mean"))
        passes = pd.DataFrame(index=pd.Index([p.name for p in REGISTRY], name="pass"))
        passes["category"] = [p.category for p in REGISTRY]
        passes = passes.join(stats).fillna({"count": 0, "mean_gain": 0.0, "mean_removal_loss": 0.0})
        passes["count"] = passes["count"].astype(int)
        passes["weight"] = passes["mean_gain"].clip(lower=0) + floor
        categories = occurrences.groupby("category").agg(count=("gain", "size"), mean_gain=("gain", "mean"),
                                                         mean_removal_loss=("removal_loss", "mean"),
                                                         passes_seen=("pass", "nunique"))
        categories = categories.reindex(list(CATEGORIES)).fillna(0)
        return cls(passes=passes, categories=categories, floor=floor)

    def star_passes(self, k: int = 10, min_count: int = 2) -> pd.DataFrame:
        """The k passes with the highest prior among those seen at least ``min_count`` times."""
        seen = self.passes[self.passes["count"] >= min_count]
        return seen.sort_values("mean_gain", ascending=False).head(k)

    def save(self, path: str | os.PathLike) -> Path:
        data = {"floor": self.floor, "passes": self.passes.reset_index().to_dict("records"),
                "categories": self.categories.reset_index().to_dict("records")}
        return write_json(path, data)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "EfficacyPrior":
        data = json.loads(Path(path).read_text())
        return cls(passes=pd.DataFrame(data["passes"]).set_index("pass"),
                   categories=pd.DataFrame(data["categories"]).set_index("category"), floor=data["floor"])


def evidence_filename(evidence: EvidenceRecord, index: int) -> str:
    """``<suite>/<name>__<index>.json`` for ``ecco://suite/name``, ``csmith://seed`` and files alike."""
    name = evidence.program.split("://", 1)[-1].replace("/", "_").strip("_")
    return f"{evidence.suite}/{name}__{index}.json"


def save_evidence(outcomes: Sequence[ProgramOutcome], directory: str | os.PathLike) -> list[Path]:
    """One JSON file per (program, core sequence) under ``directory`` (replacing older files)."""
    directory = Path(directory)
    for old in directory.glob("*/*.json"):
        old.unlink()
    return [ev.save(directory / evidence_filename(ev, i)) for o in outcomes for i, ev in enumerate(o.evidence)]


def load_evidence(directory: str | os.PathLike) -> list[EvidenceRecord]:
    """Every evidence record under ``directory`` (:meth:`EvidenceRecord.load`), in file-name order."""
    return [EvidenceRecord.load(p) for p in sorted(Path(directory).glob("*/*.json"))]


def reevaluate(evidences: Sequence[EvidenceRecord], programs: dict, evaluator: Evaluator) -> pd.DataFrame:
    """Re-evaluate every evidence's core sequence: ``matches`` says its cycles equal the claim
    (a record that does not match is one whose opt output is not reproducible: drop it)."""
    rows = evaluator.evaluate_many([(programs[ev.program], Pipeline(passes=ev.core)) for ev in evidences],
                                   desc="re-evaluating")
    return pd.DataFrame([{"program": ev.program, "core": ",".join(ev.core), "claimed": ev.cycles["core"],
                          "measured": r.cycles, "status": r.status, "matches": r.ok and r.cycles == ev.cycles["core"]}
                         for ev, r in zip(evidences, rows)])


