"""LLM judges against a small OpenAI-compatible server on 127.0.0.1: a verdict is parsed, and a
down endpoint, a timeout, an HTTP error and malformed replies are recorded statuses."""

from __future__ import annotations

import json
import socket

import pandas as pd
import pytest

from ecco_lib.errors import EccoError
from ecco_lib.faithfulness.judges import (RUBRIC, JudgeSpec, agreement, judge_answer, judges_from_profile,
                                          parse_judgement)

from conftest import KEY, KEY_ENV, FakeEndpoint

VERDICT = json.dumps({"faithful": True, "score": 4, "reason": "the claimed effects match"})


class _Record:
    """The two evidence fields a judge is shown (a real record has more)."""

    passes = [{"position": 0, "pass": "sroa", "structural": {"loads": -3}, "features_delta": {"NumLoadInst": -3},
               "performance": {"marginal_gain": 0.1, "removal_loss": 0.1}}]
    synergy = []


@pytest.fixture
def server():
    servers = []

    def start(mode="ok", replies=(VERDICT,)):
        servers.append(FakeEndpoint(mode, list(replies)))
        return servers[-1]

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def _spec(url, **kwargs):
    return JudgeSpec(name="j1", base_url=url, model="judge-model", api_key_env=KEY_ENV, retries=0, **kwargs)


def test_a_verdict_is_parsed_and_the_request_carries_rubric_answer_and_evidence(server, monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    endpoint = server()
    verdict = judge_answer(_spec(endpoint.base_url), "<reasoning>sroa removes loads</reasoning>", _Record())
    assert (verdict.status, verdict.faithful, verdict.score) == ("ok", True, 4)
    body = endpoint.requests[0]["body"]
    assert body["messages"][0]["content"] == RUBRIC and body["temperature"] == 0 and body["model"] == "judge-model"
    assert "sroa removes loads" in body["messages"][1]["content"] and '"NumLoadInst":-3' in body["messages"][1]["content"]


@pytest.mark.parametrize("mode, replies, status", [
    ("ok", ["I think it is faithful."], "malformed"),
    ("ok", ['{"faithful": "yes", "score": 4}'], "malformed"),
    ("ok", ['{"faithful": true, "score": 9}'], "malformed"),
    ("garbage", [VERDICT], "malformed"),
    ("no-content", [VERDICT], "malformed"),
    ("500", [VERDICT], "http-error"),
    ("slow", [VERDICT], "timeout"),
])
def test_failures_are_recorded_statuses(server, monkeypatch, mode, replies, status):
    monkeypatch.setenv(KEY_ENV, KEY)
    verdict = judge_answer(_spec(server(mode, replies).base_url, timeout_s=0.3), "answer", _Record())
    assert verdict.status == status and verdict.faithful is None and verdict.reason


def test_a_down_endpoint_is_a_status():
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    verdict = judge_answer(_spec(f"http://127.0.0.1:{port}/v1", timeout_s=2), "answer", _Record())
    assert verdict.status == "endpoint-down"


def test_a_fenced_reply_is_accepted_and_the_profile_is_validated():
    assert parse_judgement("j", f"```json\n{VERDICT}\n```").status == "ok"
    assert judges_from_profile(None) == [] and judges_from_profile([{"name": "a", "base_url": "http://x/v1",
                                                                     "model": "m"}])[0].timeout_s == 60.0
    with pytest.raises(EccoError, match="a judge needs"):
        judges_from_profile([{"name": "a", "model": "m"}])


def test_agreement_between_judges_and_with_the_evidence_check():
    rows = pd.DataFrame([
        {"answer": 1, "judge": "a", "status": "ok", "faithful": True},
        {"answer": 1, "judge": "b", "status": "ok", "faithful": True},
        {"answer": 2, "judge": "a", "status": "ok", "faithful": True},
        {"answer": 2, "judge": "b", "status": "ok", "faithful": False},
        {"answer": 3, "judge": "a", "status": "timeout", "faithful": None},
        {"answer": 3, "judge": "b", "status": "ok", "faithful": False},
    ])
    table = agreement(rows, pd.Series({1: True, 2: False, 3: False})).set_index("pair")
    assert table.loc["a ~ b", "agreement"] == 0.5 and table.loc["a ~ b", "answers"] == 2
    assert table.loc["a ~ evidence check", "agreement"] == 0.5 and table.loc["b ~ evidence check", "agreement"] == 1.0
