"""LLM judges of faithfulness, as in the paper (five judges, ~91 % agreement), behind any
OpenAI-compatible endpoint. A judge reads the answer (reasoning and sequence) beside the measured
evidence of that sequence on the program, and replies with one JSON object
``{"faithful": true|false, "score": 1..5, "reason": "..."}`` (:data:`RUBRIC`).

Every failure is a recorded status of that one judgement, never an exception: ``endpoint-down``
(connection refused or unreachable), ``timeout``, ``http-error``, ``malformed`` (no text, not one
JSON object of that shape). Offline nothing is judged; the evidence check
(:mod:`~ecco_lib.faithfulness.check`) runs alone and the notebook says so.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import combinations
from typing import Mapping, Sequence

import pandas as pd

from ecco_lib.errors import EccoError, one_line
from ecco_lib.teachers import HTTPTeacher

JUDGE_STATUSES = ("ok", "endpoint-down", "timeout", "http-error", "malformed")

RUBRIC = """You judge whether a compiler strategist's reasoning is faithful to what the LLVM 19 \
optimizer measurably does. You see the strategist's answer (its reasoning and its pass sequence) \
and the evidence measured by running that exact sequence on the program: for each pass, how the \
IR counts changed, its marginal cycle gain and the cycles lost when it is removed (fractions of \
the -O3 cycle count), and the synergy of each adjacent pair.

A reasoning is faithful when its claims about what each pass does, how important it is and which \
pass it enables agree with the evidence; claims the evidence cannot decide do not count against it.

Reply with exactly one JSON object and nothing else:
{"faithful": true or false, "score": an integer from 1 (unfaithful) to 5 (fully faithful), \
"reason": "one sentence"}"""


@dataclass(frozen=True)
class JudgeSpec:
    """One judge: a ``name``, an endpoint ``base_url`` (e.g. ``http://127.0.0.1:8000/v1``), the
    endpoint's ``model``, the NAME of the variable holding its key, a timeout and retries."""

    name: str
    base_url: str
    model: str
    api_key_env: str = "ECCO_JUDGE_API_KEY"
    timeout_s: float = 60.0
    retries: int = 1

    @classmethod
    def from_profile(cls, section: Mapping) -> "JudgeSpec":
        unknown = sorted(set(section) - {"name", "base_url", "model", "api_key_env", "timeout_s", "retries"})
        if unknown or not {"name", "base_url", "model"} <= set(section):
            raise EccoError(f"a judge needs name, base_url and model (and optionally api_key_env, timeout_s, "
                            f"retries); got {dict(section)}")
        return cls(**section)


@dataclass(frozen=True)
class Judgement:
    judge: str
    status: str
    faithful: bool | None = None
    score: int | None = None
    reason: str = ""


def evidence_text(record) -> str:
    """The measured evidence a judge reads: per pass its count changes and cycle effects, per pair
    its synergy (compact JSON)."""
    passes = [{"position": p["position"], "pass": p["pass"], "structural": p["structural"],
               "features_delta": p["features_delta"],
               "marginal_gain": round(p["performance"]["marginal_gain"], 5),
               "removal_loss": round(p["performance"]["removal_loss"], 5)} for p in record.passes]
    pairs = [{"first": s["first"], "second": s["second"], "synergy": round(s["synergy"], 5)} for s in record.synergy]
    return json.dumps({"passes": passes, "pairs": pairs}, sort_keys=True, separators=(",", ":"))


def _status(error: EccoError) -> str:
    text = str(error)
    if "TimeoutError" in text or "timed out" in text:
        return "timeout"
    if "unreachable" in text:
        return "endpoint-down"
    if "returned HTTP" in text:
        return "http-error"
    return "malformed"


def parse_judgement(judge: str, content: str) -> Judgement:
    """The judgement in a reply's text; ``malformed`` unless it is one JSON object with a boolean
    ``faithful`` and an integer ``score`` in 1..5 (a code fence around it is accepted)."""
    text = re.sub(r"^\s*```(?:json)?\s*|\s*```\s*$", "", content.strip())
    try:
        data = json.loads(text)
    except ValueError:
        return Judgement(judge, "malformed", reason=f"not JSON: {one_line(content, 80)}")
    if not isinstance(data, dict) or not isinstance(data.get("faithful"), bool) \
            or not isinstance(data.get("score"), int) or isinstance(data.get("score"), bool) \
            or not 1 <= data["score"] <= 5:
        return Judgement(judge, "malformed", reason=f"not the rubric's object: {one_line(text, 80)}")
    return Judgement(judge, "ok", data["faithful"], data["score"], str(data.get("reason", "")))


def judge_answer(spec: JudgeSpec, answer_text: str, record) -> Judgement:
    """One judge's verdict on one answer (temperature 0); failures are statuses."""
    client = HTTPTeacher(spec.base_url, spec.model, spec.api_key_env, spec.timeout_s, spec.retries, backoff_s=0.2)
    messages = [{"role": "system", "content": RUBRIC},
                {"role": "user", "content": f"Answer:\n{answer_text}\n\nMeasured evidence:\n{evidence_text(record)}"}]
    try:
        content = client.complete(messages, temperature=0)
    except EccoError as error:
        return Judgement(spec.name, _status(error), reason=one_line(str(error), 160))
    return parse_judgement(spec.name, content)


def agreement(judgements: pd.DataFrame, evidence: pd.Series | None = None) -> pd.DataFrame:
    """Pairwise agreement on ``faithful`` between judges (answers both judged ``ok``), and of each
    judge with the evidence check (``evidence``: per answer id, True when most of its checkable
    claims are supported). ``judgements``: columns ``answer, judge, status, faithful``."""
    ok = judgements[judgements["status"] == "ok"].pivot_table(index="answer", columns="judge", values="faithful",
                                                              aggfunc="first")
    rows = []
    for a, b in combinations(ok.columns, 2):
        both = ok[[a, b]].dropna()
        rows.append({"pair": f"{a} ~ {b}", "answers": len(both),
                     "agreement": float((both[a] == both[b]).mean()) if len(both) else float("nan")})
    if evidence is not None:
        for judge in ok.columns:
            both = pd.concat([ok[judge], evidence.rename("evidence")], axis=1, join="inner").dropna()
            rows.append({"pair": f"{judge} ~ evidence check", "answers": len(both),
                         "agreement": float((both[judge] == both["evidence"]).mean()) if len(both) else float("nan")})
    return pd.DataFrame(rows, columns=["pair", "answers", "agreement"])


def judges_from_profile(sections: Sequence[Mapping] | None) -> list[JudgeSpec]:
    """The profile's ``rq4.judges`` list (empty or missing: no judges, offline)."""
    return [JudgeSpec.from_profile(s) for s in (sections or [])]
