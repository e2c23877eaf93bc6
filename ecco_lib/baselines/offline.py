"""What the learned baselines learn from, and the cache of what they learned.

Every learned baseline (PDCAT's preferences, GRACE's clusters and coreset, CFSAT's synergy walks
and cluster predictor) learns from the *same* training information the strategist learned from:
the evidence records notebook 02 wrote for the train split (``results/dataset/evidence``: each
training program's Autophase features, its searched and core sequences, per-pass marginal gains
and ordered-pair synergies). Extra evaluations a method spends offline run on training programs
only and are counted (``OfflineModel.evaluations``), never against the test-time budget.

An offline model is trained once per (method, settings, evidence content) and kept as JSON under
``results/baselines/<method>-<key>.json`` with its cost, so reruns reuse it and a changed input
retrains it.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

from ecco_lib.atomic import write_json
from ecco_lib.config import output_root
from ecco_lib.errors import EccoError
from ecco_lib.evidence import EvidenceRecord, load_evidence

EVIDENCE_DIR = Path("results/dataset/evidence")
MODELS_DIR = Path("results/baselines")
_LOCK = threading.Lock()  # one training at a time per process (run_methods may use threads)


def test_split_uris() -> set[str]:
    """URIs of the embedded test split: no offline stage may read one."""
    from ecco_lib.benchmarks.embedded import program_names

    return {f"ecco://{key}" for key in program_names(split="test")}


def check_training_uris(uris: Sequence[str], origin: str) -> None:
    """Raise :class:`EccoError` naming ``origin`` if any URI belongs to the embedded test split."""
    leaked = sorted(set(uris) & test_split_uris())
    if leaked:
        raise EccoError(f"{origin} holds test-split program(s) {', '.join(leaked[:3])}"
                        f"{' …' if len(leaked) > 3 else ''}: learned baselines train on the train split only")


def evidence_directory(directory: str | Path | None = None) -> Path:
    return Path(directory) if directory else output_root() / EVIDENCE_DIR


def training_evidence(directory: str | Path | None = None) -> list[EvidenceRecord]:
    """The train split's evidence records (sorted by file name), checked to hold no test-split
    program; one clear error when there are none."""
    path = evidence_directory(directory)
    records = load_evidence(path) if path.is_dir() else []
    if not records:
        raise EccoError(f"no training evidence at {path}: run notebook 02 (`ecco reproduce --only 02`) "
                        f"or set the method's evidence directory")
    check_training_uris([r.program for r in records], f"training evidence at {path}")
    return records


def evidence_digest(records: Sequence[EvidenceRecord]) -> str:
    """SHA-256 of the records' content (what an offline model's cache key depends on)."""
    h = hashlib.sha256()
    for record in records:
        h.update(json.dumps(record.to_dict(), sort_keys=True, default=str).encode())
    return h.hexdigest()


def load_training_program(uri: str, cache=None):
    """The :class:`~ecco_lib.benchmarks.program.Program` of a training URI; refuses test-split URIs."""
    from ecco_lib.benchmarks import resolve

    check_training_uris([uri], "an offline stage")
    return resolve(uri, cache=cache)[0]


@dataclass(frozen=True)
class OfflineModel:
    """A learned baseline's offline result: ``model`` (plain JSON), what it cost (``evaluations``
    = distinct training-program evaluations spent, ``seconds`` of wall time), the training
    ``programs`` it read, and where it is kept."""

    method: str
    key: str
    model: dict
    evaluations: int
    seconds: float
    programs: tuple[str, ...]
    path: Path
    reused: bool = False

    def cost(self) -> dict:
        return {"offline_key": self.key, "offline_evaluations": self.evaluations,
                "offline_seconds": round(self.seconds, 3), "offline_programs": len(self.programs),
                "offline_reused": self.reused}


class LearnsFromEvidence:
    """Mixin of the learned baselines: :meth:`inputs` names the training evidence their results
    depend on (beside their settings), so :func:`~ecco_lib.experiments.run_methods` reruns a cell
    when the evidence or what the method learns from it changed. Needs ``self.config.evidence``
    (a directory or None); bump :attr:`offline_version` when the learning code changes."""

    offline_version = 1

    def inputs(self) -> dict:
        return {"evidence": evidence_digest(training_evidence(self.config.evidence)),
                "offline_version": self.offline_version}


def offline_model(method: str, inputs: Mapping, train: Callable[[], tuple[dict, int, Sequence[str]]],
                  directory: str | Path | None = None) -> OfflineModel:
    """Load the model of ``method`` for ``inputs`` (settings, evidence digest, …: anything it
    depends on, JSON-serialisable) or train it once with ``train() -> (model, evaluations,
    programs)`` and keep it. ``programs`` are checked to hold no test-split URI."""
    key = hashlib.sha256(json.dumps({"method": method, **inputs}, sort_keys=True, default=str).encode()).hexdigest()[:16]
    path = (Path(directory) if directory else output_root() / MODELS_DIR) / f"{method}-{key}.json"
    with _LOCK:
        if path.is_file():
            data = json.loads(path.read_text())
            return OfflineModel(method, key, data["model"], data["evaluations"], data["seconds"],
                                tuple(data["programs"]), path, reused=True)
        start = time.perf_counter()
        model, evaluations, programs = train()
        seconds = time.perf_counter() - start
        check_training_uris(list(programs), f"{method}'s offline stage")
        write_json(path, {"method": method, "key": key, "inputs": dict(inputs), "evaluations": int(evaluations),
                          "seconds": seconds, "programs": sorted(set(programs)), "model": model})
        return OfflineModel(method, key, model, int(evaluations), seconds, tuple(sorted(set(programs))), path)
