"""Scoring strategist answers: answer texts -> parsed response -> cycles measured by the evaluator
-> I_O3 against ``opt -O3``. The one path from an answer text to its score; greedy evaluation
(:func:`ecco_lib.strategist.evaluate_outputs`), the GRPO cycle reward
(:class:`ecco_lib.train.CompilerReward`) and Best-of-N use it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Sequence

from ecco_lib.errors import EccoError
from ecco_lib.llvm.metric import improvement_over_o3
from ecco_lib.llvm.pipeline import Pipeline
from ecco_lib.response import PARTS, MalformedResponse, StrategistResponse, parse_response

if TYPE_CHECKING:
    from ecco_lib.benchmarks.program import Program
    from ecco_lib.llvm.evaluate import Evaluator

#: The status of an answer that does not parse (never evaluated).
MALFORMED = "malformed"


@dataclass(frozen=True)
class AnswerScore:
    """The score of one answer text for one program.

    ``response`` is the parsed answer (None when it does not parse, ``reason`` then says why);
    ``status`` is :data:`MALFORMED` for such an answer, else the evaluator's status of its
    sequence. ``cycles`` (llvm-mca cycles) is set only when ``ok``; ``cycles_O3`` for every
    evaluated answer whose -O3 reference evaluated; ``i_o3`` = ``(cycles_O3 - cycles) / cycles_O3``
    only when both are set.
    """

    program: str
    response: StrategistResponse | None
    reason: str | None
    status: str
    cycles: int | None = None
    cycles_O3: int | None = None
    i_o3: float | None = None

    @property
    def parses(self) -> bool:
        return self.response is not None

    @property
    def sequence(self) -> tuple[str, ...] | None:
        """The parsed pass sequence, None when the answer does not parse."""
        return self.response.sequence if self.response is not None else None


def score_answers(programs: Sequence[Program], texts: Sequence[str], evaluator: Evaluator, *,
                  require: Iterable[str] = PARTS, desc: str = "scoring answers",
                  progress: bool | None = None) -> list[AnswerScore]:
    """One score per answer (``programs[i]`` answered ``texts[i]``), in order. Each text is parsed
    with the parts ``require`` names (:func:`ecco_lib.response.parse_response`); a text that does
    not parse is a :data:`MALFORMED` score, never an exception. The parsed sequences and the -O3
    reference of their programs are evaluated in one ``evaluate_many`` batch (``desc``,
    ``progress`` for its bar)."""
    if len(programs) != len(texts):
        raise EccoError(f"{len(programs)} programs but {len(texts)} texts: give one program per text")
    require = tuple(require)
    parsed: list[tuple[StrategistResponse | None, str | None]] = []
    for text in texts:
        try:
            parsed.append((parse_response(text, require=require), None))
        except MalformedResponse as e:
            parsed.append((None, str(e)))
    answered = [(p, r) for p, (r, _) in zip(programs, parsed) if r is not None]
    references = list({p.uri: p for p, _ in answered}.values())
    pairs = [(p, Pipeline.of_passes(r.sequence)) for p, r in answered] + \
        [(p, Pipeline.of_level("O3")) for p in references]
    rows = evaluator.evaluate_many(pairs, desc=desc, progress=progress) if pairs else []
    o3 = {p.uri: m.cycles for p, m in zip(references, rows[len(answered):])}
    measured = iter(rows[:len(answered)])
    scores = []
    for program, (response, reason) in zip(programs, parsed):
        if response is None:
            scores.append(AnswerScore(program.uri, None, reason, MALFORMED))
            continue
        m = next(measured)
        scores.append(AnswerScore(program.uri, response, None, m.status, m.cycles, o3[program.uri],
                                  improvement_over_o3(m.cycles, o3[program.uri]) if m.ok else None))
    return scores
