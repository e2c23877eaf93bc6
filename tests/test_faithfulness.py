"""RQ4's evidence check on the real compiler: an answer whose claims are true for a program is
scored supported, one whose claims are false is scored contradicted, and what cannot be checked
says why; claims are read in the teachers' own vocabulary, both answer layouts."""

from __future__ import annotations

import pandas as pd
import pytest

from ecco_lib.benchmarks import resolve
from ecco_lib.faithfulness import (chance_verdicts, measure_sequence, parse_claims, score_claims, verdict_rates)
from ecco_lib.faithfulness.review import TEACHER, rates_table, review
from ecco_lib.response import StrategistResponse, parse_response
from ecco_lib.teachers import (EFFECTS, SYNERGY_THRESHOLD, TERSE_IMPORTANCE, EvidenceTeacher, importance_level,
                               pass_facts)

SEQUENCE = ("inline", "sroa", "attributor", "globaldce", "instcombine", "simplifycfg", "ipsccp", "indvars")


@pytest.fixture(scope="module")
def measured(session_cache, evaluator):
    program = resolve("ecco://telecom/rsynth", cache=session_cache)[0]
    record, status = measure_sequence(program, SEQUENCE, evaluator)
    assert status == "ok" and tuple(record.pruning["core"]) == SEQUENCE
    return program, record


@pytest.mark.parametrize("concise", [True, False])
def test_an_answer_whose_claims_are_true_is_supported(measured, concise):
    program, record = measured
    answer = parse_response(EvidenceTeacher(seed=0, concise=concise).respond(record, variant="full"))
    parsed = parse_claims(answer.reasoning, answer.sequence)
    verdicts = score_claims(parsed.claims, record)
    kinds = {c.kind for c in parsed.claims}
    assert kinds == {"effect", "importance"} or kinds == {"effect", "importance", "enables"}
    assert len(parsed.claims) >= 2 * len(SEQUENCE)  # every pass: at least an effect and its importance
    assert {v.verdict for v in verdicts} == {"supported"}, [v.as_row() for v in verdicts if v.verdict != "supported"]
    chance = verdict_rates(chance_verdicts(parsed.claims, record, seed=0))
    assert chance["supported_share"] < 0.6  # the same words at random places mostly fail
    assert 0 < parsed.unmapped_share < 1  # the observation sentence (and prose's role sentences) are no claims


def _false_answer(record) -> str:
    """One line per pass claiming an effect the measurement does not show, an importance level
    other than the measured one, and 'enables' only where the measured synergy says it does not."""
    facts = pass_facts(record, SEQUENCE)
    losses = [max(0.0, float(e["performance"]["removal_loss"])) for e in record.passes]
    top = max(losses)
    lines = ["The program is small."]
    for i, (name, entry) in enumerate(zip(SEQUENCE, record.passes)):
        wrong = next(phrase.format(q="most") for source, key, direction, phrase in EFFECTS
                     if entry.get(source, {}).get(key, 0) * direction <= 0)
        level = importance_level(entry, losses[i], top, top > 0 and losses.index(top) == i)
        other = next(text for lvl, text in TERSE_IMPORTANCE.items() if lvl != level)
        enables = i + 1 < len(SEQUENCE) and not facts[i].enables
        lines.append(f"{i + 1}. {name}: {wrong}; {other}" + (f"; enables {SEQUENCE[i + 1]}" if enables else "") + ".")
    return "\n".join(lines)


def test_an_answer_whose_claims_are_false_is_contradicted(measured):
    program, record = measured
    parsed = parse_claims(_false_answer(record), SEQUENCE)
    verdicts = score_claims(parsed.claims, record)
    assert len(parsed.claims) >= 2 * len(SEQUENCE) and {v.verdict for v in verdicts} == {"contradicted"}
    enables = [v for v in verdicts if v.claim.kind == "enables"]
    assert enables and all(float(v.measurement.split()[1]) <= SYNERGY_THRESHOLD for v in enables)
    assert verdict_rates(verdicts)["supported_share"] == 0.0


def test_what_cannot_be_checked_says_why(measured, evaluator):
    program, record = measured
    text = "1. licm: eliminate most of the loads; the key pass.\n2. sroa: important; enables gvn.\nsroa is great."
    parsed = parse_claims(text, SEQUENCE)
    assert parsed.unmapped == ["sroa is great."] and parsed.units == 3
    verdicts = {(v.claim.pass_name, v.claim.kind): v for v in score_claims(parsed.claims, record)}
    assert verdicts[("licm", "effect")].verdict == "not checkable" and verdicts[("licm", "effect")].claim.position == -1
    assert verdicts[("sroa", "enables")].verdict == "not checkable"
    assert "gvn does not follow sroa" in verdicts[("sroa", "enables")].measurement
    assert verdicts[("sroa", "importance")].verdict in ("supported", "contradicted")
    record_none, status = measure_sequence(program, ("loop-unroll-and-jam",) * 0, evaluator)
    assert record_none is None and status == "empty sequence"
    assert {v.verdict for v in score_claims(parsed.claims, None, status)} == {"not checkable"}


def test_no_reasoning_has_no_claims():
    assert parse_claims(None, SEQUENCE).claims == [] and parse_claims("  ", SEQUENCE).units == 0
    answer = StrategistResponse(sequence=SEQUENCE).render()
    assert parse_claims(parse_response(answer, require=("sequence",)).reasoning, SEQUENCE).claims == []


def test_a_reference_without_evidence_is_a_row_that_says_why(measured, evaluator, session_cache):
    """The teacher's reference for a sequence whose evidence cannot be measured is not dropped:
    its row says ``no reference`` and why, and the rates count it as an answer that did not parse."""
    program, _ = measured
    other = resolve("ecco://automotive/qsort_records", cache=session_cache)[0]
    answers = pd.DataFrame(columns=["source", "program", "text"])
    per_answer, claims = review(answers, {program.uri: program, other.uri: other}, evaluator,
                                teacher=EvidenceTeacher(seed=0), progress=False,
                                references={program.uri: list(SEQUENCE), other.uri: []})
    rows = per_answer.set_index("program")
    assert rows.loc[program.uri, "parse"] == "ok" and rows.loc[program.uri, "contradicted"] == 0
    assert rows.loc[other.uri, "parse"] == "no reference" and rows.loc[other.uri, "reason"] == "empty sequence"
    assert set(claims["program"]) == {program.uri}
    rates = rates_table(per_answer).set_index("source").loc[TEACHER]
    assert (rates["answers"], rates["parsed"]) == (2, 1) and rates["supported_share"] == 1.0
