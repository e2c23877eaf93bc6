"""Notebook 10's review: the answers of every strategist (greedy answers of notebooks 04/05, the
answer ``ecco`` led with in notebook 06), each parsed into claims and checked against the evidence
of its own sequence on its program, beside the same claims at random places (chance) and the
evidence teacher's own text for the same sequences (a reference the check must score fully
supported). Rates are shares of checkable claims with a bootstrap interval over answers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from ecco_lib.faithfulness.check import chance_verdicts, measure_sequence, score_claims, verdict_rates
from ecco_lib.faithfulness.claims import parse_claims
from ecco_lib.response import MalformedResponse, parse_response

TEACHER = "teacher (reference)"


def answers_to_review(root: Path, ecco_results: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per answer: ``source`` (training stage, ``ecco``), ``program``, ``text``. Greedy
    answers come from ``results/training/eval_sft.csv`` and ``eval_grpo.csv``; ``ecco``'s is the
    answer whose sequence scored best among its valid answers (``extra.answers``), per cell of
    ``ecco_results``."""
    frames = [pd.read_csv(root / "results" / "training" / name, keep_default_na=False, na_values=[""])
              for name in ("eval_sft.csv", "eval_grpo.csv")]
    greedy = pd.concat(frames, ignore_index=True).drop_duplicates(["stage", "program"], keep="last")
    rows = [{"source": r["stage"], "program": r["program"], "text": r["text"] if isinstance(r["text"], str) else ""}
            for _, r in greedy.iterrows()]
    for _, cell in (ecco_results if ecco_results is not None else pd.DataFrame()).iterrows():
        answers = [a for a in json.loads(cell["extra"]).get("answers", []) if a.get("cycles") is not None]
        if answers:
            lead = min(answers, key=lambda a: (a["cycles"], len(a.get("sequence") or "")))
            rows.append({"source": "ecco", "program": cell["program"], "text": lead["text"]})
    return pd.DataFrame(rows, columns=["source", "program", "text"])


def _measure_once(measured: dict, programs: dict, program_uri: str, sequence, evaluator):
    """:func:`measure_sequence` of ``sequence`` on the program, kept in ``measured`` under
    (program URI, sequence tuple) so that review and judges measure each sequence once."""
    key = (program_uri, tuple(sequence))
    if key not in measured:
        measured[key] = measure_sequence(programs[program_uri], key[1], evaluator)
    return measured[key]


CLAIM_COLUMNS = ["answer", "source", "program", "kind", "position", "pass", "value", "text", "verdict", "measurement"]


def review(answers: pd.DataFrame, programs: dict, evaluator, *, seed: int = 0, chance_draws: int = 20,
           teacher=None, references: dict | None = None, measured: dict | None = None,
           progress: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per answer, per claim) tables. Per answer: parse status, claims, units and unmapped units
    of its reasoning, the evidence status, verdict counts and the chance counts. ``teacher`` (an
    :class:`~ecco_lib.teachers.EvidenceTeacher`) adds one reference answer per program of
    ``references`` (program URI -> a sequence, e.g. ``ecco``'s final best): the teacher's text for
    that sequence's measured evidence, which the check must score fully supported, or, when that
    evidence cannot be measured, a row with parse ``no reference`` and the reason. ``measured``
    (program URI, sequence) -> :func:`measure_sequence`'s result, filled in as sequences are
    measured: pass the same dict to :func:`judge_all` so nothing is measured twice."""
    answer_rows, claim_rows = [], []
    measured = {} if measured is None else measured

    def unscored(row, parse, reason, evidence):
        answer_rows.append({**row, "parse": parse, "reason": reason, "claims": 0, "units": 0, "unmapped": 0,
                            "evidence": evidence})

    def one(index, source, program_uri, text):
        row = {"answer": index, "source": source, "program": program_uri}
        try:
            response = parse_response(text)
        except MalformedResponse as exc:
            unscored(row, "malformed", str(exc), "not measured")
            return
        parsed = parse_claims(response.reasoning, response.sequence)
        record, status = _measure_once(measured, programs, program_uri, response.sequence, evaluator)
        verdicts = score_claims(parsed.claims, record, status)
        chance = verdict_rates(chance_verdicts(parsed.claims, record, seed=seed + index, draws=chance_draws))
        rates = verdict_rates(verdicts)
        answer_rows.append({**row, "parse": "ok", "reason": None, "claims": len(parsed.claims), "units": parsed.units,
                            "unmapped": len(parsed.unmapped), "evidence": status,
                            **{v: rates[v] for v in ("supported", "contradicted", "not checkable")},
                            "chance_supported": chance["supported"], "chance_contradicted": chance["contradicted"]})
        claim_rows.extend({"answer": index, "source": source, "program": program_uri, **v.as_row()} for v in verdicts)

    for index, a in enumerate(tqdm(answers.itertuples(), total=len(answers), desc="answers", disable=not progress)):
        one(index, a.source, a.program, a.text)
    if teacher is not None:
        for program_uri, sequence in (references or {}).items():
            record, status = _measure_once(measured, programs, program_uri, sequence, evaluator)
            if record is None:  # a row that says why this program has no reference answer
                unscored({"answer": len(answer_rows), "source": TEACHER, "program": program_uri},
                         "no reference", status, status)
            else:
                one(len(answer_rows), TEACHER, program_uri, teacher.respond(record, variant="full"))
    return pd.DataFrame(answer_rows), pd.DataFrame(claim_rows, columns=CLAIM_COLUMNS)


def _share(frame: pd.DataFrame, yes: str, no: str) -> tuple[float, np.ndarray]:
    totals = frame[yes] + frame[no]
    share = frame[yes].sum() / totals.sum() if totals.sum() else float("nan")
    return share, (frame[yes] / totals.where(totals > 0)).dropna().to_numpy()


def rates_table(per_answer: pd.DataFrame, seed: int = 0, resamples: int = 10_000) -> pd.DataFrame:
    """Per source: answers, answers that parse, claims, verdict counts, the supported share of
    checkable claims with a 95 % bootstrap interval over answers (scipy), the same share for the
    claims at random places (chance), and the share of reasoning units no claim came from."""
    from scipy.stats import bootstrap

    rows = []
    for source, group in per_answer.groupby("source", sort=False):
        parsed = group[group["parse"] == "ok"]
        parsed = parsed.fillna({column: 0 for column in parsed.select_dtypes("number").columns})
        row = {"source": source, "answers": len(group), "parsed": len(parsed),
               "claims": int(parsed["claims"].sum()) if len(parsed) else 0}
        for verdict in ("supported", "contradicted", "not checkable"):
            row[verdict] = int(parsed[verdict].sum()) if verdict in parsed else 0
        share, per = _share(parsed, "supported", "contradicted") if len(parsed) and "supported" in parsed \
            else (float("nan"), np.array([]))
        low = high = float("nan")
        if len(per) >= 2 and not np.all(per == per[0]):
            ci = bootstrap((per,), np.mean, n_resamples=resamples, method="percentile",
                           random_state=np.random.default_rng(seed)).confidence_interval
            low, high = float(ci.low), float(ci.high)
        chance, _ = _share(parsed, "chance_supported", "chance_contradicted") if len(parsed) and \
            "chance_supported" in parsed else (float("nan"), None)
        units = parsed["units"].sum() if len(parsed) else 0
        rows.append({**row, "supported_share": share, "ci_low": low, "ci_high": high, "chance_share": chance,
                     "unmapped_share": float(parsed["unmapped"].sum() / units) if units else float("nan")})
    return pd.DataFrame(rows)


def judge_all(answers: pd.DataFrame, per_answer: pd.DataFrame, programs: dict, specs, evaluator,
              measured: dict | None = None) -> pd.DataFrame:
    """Every judge of ``specs`` on every parsed answer (not the teacher's reference), each beside
    the measured evidence of its sequence; one row per (answer, judge) with the judgement's
    status. ``answers`` is the table :func:`review` was given (its row ``i`` is answer ``i``);
    ``measured`` is the dict :func:`review` filled (a sequence missing from it is measured here)."""
    from ecco_lib.faithfulness.judges import judge_answer

    measured = {} if measured is None else measured
    rows = []
    for row in per_answer[(per_answer["parse"] == "ok") & (per_answer["source"] != TEACHER)].itertuples():
        text = answers.iloc[int(row.answer)]["text"]
        record, status = _measure_once(measured, programs, row.program, parse_response(text).sequence, evaluator)
        for spec in specs:
            judgement = judge_answer(spec, text, record) if record is not None else None
            rows.append({"answer": row.answer, "source": row.source, "program": row.program, "judge": spec.name,
                         "status": judgement.status if judgement else "not measured",
                         "faithful": judgement.faithful if judgement else None,
                         "score": judgement.score if judgement else None,
                         "reason": judgement.reason if judgement else status})
    return pd.DataFrame(rows, columns=["answer", "source", "program", "judge", "status", "faithful", "score", "reason"])


def evidence_verdicts(per_answer: pd.DataFrame) -> pd.Series:
    """Per parsed answer with checkable claims: True when the evidence supports most of them (what
    a judge's ``faithful`` is compared with)."""
    parsed = per_answer[(per_answer["parse"] == "ok") & ((per_answer["supported"] + per_answer["contradicted"]) > 0)]
    return (parsed["supported"] > parsed["contradicted"]).set_axis(parsed["answer"])
