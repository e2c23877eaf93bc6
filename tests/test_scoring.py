"""Scoring answer texts: parse -> evaluate (real LLVM) -> I_O3, the path greedy evaluation, the
GRPO reward and Best-of-N share."""

from __future__ import annotations

import pytest

from ecco_lib.benchmarks import resolve
from ecco_lib.errors import EccoError
from ecco_lib.llvm import Pipeline, improvement_over_o3
from ecco_lib.response import VARIANTS, StrategistResponse
from ecco_lib.scoring import MALFORMED, AnswerScore, score_answers

VALID = StrategistResponse(reasoning="Promote the stack slots, then fold.",
                           intents={"memory-to-register": 0.6, "scalar-simplification": 0.4},
                           sequence=("sroa", "instcombine", "simplifycfg")).render()
SEQUENCE_ONLY = "<sequence>\nmem2reg, gvn\n</sequence>"


class CountingEvaluator:
    """The real evaluator, recording every ``evaluate_many`` batch it is asked for."""

    def __init__(self, evaluator):
        self.evaluator = evaluator
        self.batches: list[list] = []

    def evaluate_many(self, pairs, **options):
        pairs = list(pairs)
        self.batches.append(pairs)
        return self.evaluator.evaluate_many(pairs, **options)


@pytest.fixture(scope="module")
def bitcount(session_cache):
    return resolve("ecco://automotive/bitcount", cache=session_cache)[0]


def test_malformed_answers_are_a_status_never_an_exception(bitcount, evaluator):
    texts = ["", "no tags at all", VALID.replace("instcombine", "no-such-pass"), SEQUENCE_ONLY,
             VALID.replace("</sequence>", ""), "<sequence>\n\n</sequence>"]
    counting = CountingEvaluator(evaluator)
    scores = score_answers([bitcount] * len(texts), texts, counting)
    assert [s.status for s in scores] == [MALFORMED] * len(texts) and MALFORMED == "malformed"
    for score in scores:
        assert not score.parses and score.response is None and score.sequence is None
        assert score.reason and "\n" not in score.reason
        assert (score.cycles, score.cycles_O3, score.i_o3) == (None, None, None)
    assert "no-such-pass" in scores[2].reason and "missing <reasoning>" in scores[3].reason
    assert counting.batches == []  # nothing parsed: nothing evaluated


def test_a_valid_answer_scores_what_the_evaluator_measures(bitcount, small_program, evaluator):
    texts = [VALID, "garbage", SEQUENCE_ONLY, VALID]
    programs = [bitcount, bitcount, small_program, small_program]
    counting = CountingEvaluator(evaluator)
    scores = score_answers(programs, texts, counting, require=VARIANTS["no-reasoning"])
    assert len(counting.batches) == 1  # answers and -O3 references in one batch
    assert [(p.uri, pipe.label) for p, pipe in counting.batches[0]] == \
        [(bitcount.uri, "sroa,instcombine,simplifycfg"), (small_program.uri, "mem2reg,gvn"),
         (small_program.uri, "sroa,instcombine,simplifycfg"), (bitcount.uri, "O3"), (small_program.uri, "O3")]
    assert [s.program for s in scores] == [p.uri for p in programs]
    assert [s.status for s in scores] == ["ok", MALFORMED, "ok", "ok"]
    for program, score in zip(programs, scores):
        if not score.parses:
            continue
        direct = evaluator.evaluate(program, Pipeline.of_passes(score.sequence))
        o3 = evaluator.evaluate(program, Pipeline.of_level("O3"))
        assert (score.cycles, score.cycles_O3) == (direct.cycles, o3.cycles) and direct.ok
        assert score.i_o3 == improvement_over_o3(direct.cycles, o3.cycles)
    assert scores[0].response.intents == {"memory-to-register": 0.6, "scalar-simplification": 0.4}
    assert scores[2].sequence == ("mem2reg", "gvn") and scores[2].response.reasoning is None
    # the full format (the default) does not accept the sequence alone
    strict = score_answers([small_program], [SEQUENCE_ONLY], evaluator)[0]
    assert strict == AnswerScore(small_program.uri, None, strict.reason, MALFORMED)


def test_one_program_per_text(bitcount, evaluator):
    with pytest.raises(EccoError, match="2 programs but 1 texts"):
        score_answers([bitcount, bitcount], [VALID], evaluator)
    with pytest.raises(EccoError, match="unknown response part"):
        score_answers([bitcount], [VALID], evaluator, require=("answer",))
