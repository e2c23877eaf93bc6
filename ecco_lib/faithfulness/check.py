"""The evidence check: every claim of an answer scored against what the compiler measurably does
with the answer's own sequence on the program.

:func:`measure_sequence` collects the evidence of the sequence exactly as dataset construction
does for a core sequence (:func:`ecco_lib.evidence.collect_evidence`: per-pass IR structure and
Autophase change, marginal and removal cycle effect, adjacent-pair synergy); :func:`score_claims`
then decides each claim with the rule the teachers use to write it
(:func:`ecco_lib.teachers.pass_facts`):

- ``effect`` ``source:key:±1``: *supported* when the pass changes that count in that direction,
  else *contradicted*; ``none``: supported when no vocabulary effect applies to the pass;
- ``importance``: supported when the measured level equals the claimed one;
- ``enables X``: supported when X is the next pass and their synergy exceeds
  :data:`~ecco_lib.teachers.SYNERGY_THRESHOLD`, contradicted when X is next and it does not;
- *not checkable*: a pass the sequence does not hold, ``enables`` a pass that does not follow it,
  or an evidence measurement that failed (its status is the reason).

:func:`chance_verdicts` scores the same claims moved to random positions of the same sequence,
so an agreement rate can be read against what an unfaithful but well-formed answer would get.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

import pandas as pd

from ecco_lib.evidence import EvidenceError, EvidenceRecord, PruneResult, collect_evidence
from ecco_lib.faithfulness.claims import Claim
from ecco_lib.llvm.pipeline import Pipeline
from ecco_lib.search.objective import OptimizationResult
from ecco_lib.teachers import SYNERGY_THRESHOLD, importance_level, pass_facts

VERDICTS = ("supported", "contradicted", "not checkable")


@dataclass(frozen=True)
class ClaimVerdict:
    """A claim, its ``verdict`` (:data:`VERDICTS`) and the ``measurement`` that decided it."""

    claim: Claim
    verdict: str
    measurement: str

    def as_row(self) -> dict:
        return {"kind": self.claim.kind, "position": self.claim.position, "pass": self.claim.pass_name,
                "value": self.claim.value, "text": self.claim.text, "verdict": self.verdict,
                "measurement": self.measurement}


def measure_sequence(program, sequence: Sequence[str], evaluator) -> tuple[EvidenceRecord | None, str]:
    """The evidence of ``sequence`` on ``program`` and ``"ok"``, or None and the reason it could
    not be measured (the sequence's own evaluation status, or the evidence error)."""
    sequence = tuple(sequence)
    if not sequence:
        return None, "empty sequence"
    row = evaluator.evaluate_many([(program, Pipeline(passes=sequence))], progress=False)[0]
    if not row.ok:
        return None, f"the sequence's evaluation: {row.status}"
    prune = PruneResult(original=sequence, core=sequence, cycles_original=row.cycles, cycles_core=row.cycles)
    search = OptimizationResult(method="answer", program=program.uri, best=sequence, best_cycles=row.cycles,
                                cycles_O3=None, evaluations=1, seed=0)
    try:
        return collect_evidence(program, prune, search, evaluator), "ok"
    except EvidenceError as exc:
        return None, f"evidence: {exc}"


def _effect_text(effects) -> str:
    return ", ".join(f"{key} {'+' if direction > 0 else '-'}" for _, key, direction, _ in effects) or "no effect"


def _score(claim: Claim, record: EvidenceRecord, facts, losses: list[float]) -> ClaimVerdict:
    sequence = tuple(record.pruning["core"])
    position = claim.position
    if not 0 <= position < len(sequence) or sequence[position] != claim.pass_name:
        return ClaimVerdict(claim, "not checkable", f"{claim.pass_name} is not at that place in the sequence")
    entry = record.passes[position]
    if claim.kind == "effect":
        if claim.value == "none":
            effects = facts[position].effects
            return ClaimVerdict(claim, "contradicted" if effects else "supported", _effect_text(effects))
        source, key, direction = claim.value.split(":")
        delta = entry.get(source, {}).get(key, 0)
        verdict = "supported" if delta * int(direction) > 0 else "contradicted"
        return ClaimVerdict(claim, verdict, f"{key} changed by {delta:+d}")
    if claim.kind == "importance":
        top = max(losses)
        measured = importance_level(entry, losses[position], top, top > 0 and losses.index(top) == position)
        performance = entry["performance"]
        return ClaimVerdict(claim, "supported" if measured == claim.value else "contradicted",
                            f"measured {measured} (marginal gain {performance['marginal_gain']:+.4f}, removal loss "
                            f"{performance['removal_loss']:+.4f} of -O3 cycles)")
    if claim.kind == "enables":
        if position + 1 >= len(sequence) or sequence[position + 1] != claim.value:
            return ClaimVerdict(claim, "not checkable", f"{claim.value} does not follow {claim.pass_name}")
        synergy = record.synergy[position]["synergy"]
        return ClaimVerdict(claim, "supported" if synergy > SYNERGY_THRESHOLD else "contradicted",
                            f"synergy {synergy:+.4f} of -O3 cycles")
    raise ValueError(f"unknown claim kind {claim.kind!r}")


def score_claims(claims: Sequence[Claim], record: EvidenceRecord | None, reason: str = "ok") -> list[ClaimVerdict]:
    """Each claim's verdict against ``record`` (the evidence of the answer's sequence); every
    claim is *not checkable* with ``reason`` when there is no record."""
    if record is None:
        return [ClaimVerdict(c, "not checkable", reason) for c in claims]
    facts = pass_facts(record, tuple(record.pruning["core"]))
    losses = [max(0.0, float(e["performance"]["removal_loss"])) for e in record.passes]
    return [_score(c, record, facts, losses) for c in claims]


def chance_verdicts(claims: Sequence[Claim], record: EvidenceRecord | None, seed: int,
                    draws: int = 20) -> list[ClaimVerdict]:
    """The same claims attached to uniformly drawn positions of the same sequence, ``draws``
    times (an ``enables`` claim then names the pass that follows its new position): what an
    answer with these words but no knowledge of where they apply would score."""
    if record is None:
        return []
    sequence = tuple(record.pruning["core"])
    rng = random.Random(seed)
    moved = []
    for _ in range(draws):
        for claim in claims:
            position = rng.randrange(len(sequence))
            value = claim.value
            if claim.kind == "enables":
                value = sequence[position + 1] if position + 1 < len(sequence) else claim.value
            moved.append(Claim(claim.kind, position, sequence[position], value, claim.text))
    return score_claims(moved, record)


def verdict_rates(verdicts: Sequence[ClaimVerdict]) -> dict:
    """Counts of each verdict and the supported share among checkable claims (NaN if none)."""
    table = pd.Series([v.verdict for v in verdicts], dtype=object).value_counts()
    counts = {v: int(table.get(v, 0)) for v in VERDICTS}
    checkable = counts["supported"] + counts["contradicted"]
    return {**counts, "claims": len(verdicts),
            "supported_share": counts["supported"] / checkable if checkable else float("nan")}
