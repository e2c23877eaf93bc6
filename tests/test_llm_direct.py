"""The ``llm-direct`` baseline: Best-of-N answers of an untuned LLM, each valid distinct one evaluated
once (real LLVM). The http backend talks to a fake OpenAI-compatible server on 127.0.0.1 (stdlib
http.server in a thread) that checks the Bearer key; the local backend runs a tiny random model."""

from __future__ import annotations

import socket

import pytest

from ecco_lib.baselines.llm_direct import DirectPromptStrategist, LLMDirectConfig, LLMDirectSearch, direct_system_prompt
from ecco_lib.errors import EccoError
from ecco_lib.llvm import EvaluationCache
from ecco_lib.llvm.passes import CATEGORIES, SEARCH_PASSES
from ecco_lib.response import StrategistResponse
from ecco_lib.search import TRACE_KEY, Objective, get_method, make_optimizer
from ecco_lib.strategist import Sample, build_tiny_model

from conftest import KEY, KEY_ENV, FakeEndpoint



def answer(*sequence: str) -> str:
    return StrategistResponse(reasoning="Promote memory, then simplify.", intents={"memory-to-register": 0.5,
                                                                                  "scalar-simplification": 0.5},
                              sequence=sequence).render()


A, B, C = answer("sroa", "instcombine"), answer("mem2reg", "gvn", "simplifycfg"), answer("early-cse", "dce")
OUTSIDE = answer("mem2reg", "insert-gcov-profiling")  # parses, but a runtime-only pass
REPLIES = [A, A, "I would run mem2reg.", OUTSIDE, B, C]


@pytest.fixture
def endpoint():
    servers = []

    def start(mode="ok", replies=REPLIES):
        servers.append(FakeEndpoint(mode, replies))
        return servers[-1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def http_search(base_url, tmp_path, **settings) -> LLMDirectSearch:
    config = LLMDirectConfig(**{"backend": "http", "base_url": base_url, "model": "general-llm", "n": len(REPLIES),
                                "api_key_env": KEY_ENV, "retries": 0, "backoff_s": 0.01, "timeout_s": 5.0,
                                **settings})
    return LLMDirectSearch(config, cache=EvaluationCache(tmp_path / "answers"))


def trace_key(result) -> list[tuple]:
    return [tuple(row[k] for k in TRACE_KEY) for row in result.trace]


def test_http_answers_are_parsed_and_each_valid_distinct_one_costs_one_evaluation(small_program, evaluator, endpoint,
                                                                                 tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    server = endpoint()
    search = http_search(server.base_url, tmp_path)
    assert server.requests == []  # building it touches no network
    result = search.optimize(small_program, Objective(small_program, evaluator, 10), seed=0)
    answers = result.extra["answers"]
    assert [a["parse"] for a in answers] == ["ok", "ok", "malformed", "outside-search-space", "ok", "ok"]
    assert "insert-gcov-profiling" in answers[3]["reason"] and answers[3]["status"] is None
    assert result.evaluations == len(result.trace) == result.extra["valid_distinct"] == 3  # A twice, B, C
    assert [t["sequence"] for t in result.trace] == ["sroa,instcombine", "mem2reg,gvn,simplifycfg", "early-cse,dce"]
    assert [a["repeat"] for a in answers] == [False, True, False, False, False, False]
    cycles = {t["sequence"]: t["cycles"] for t in result.trace}
    assert all(a["status"] == "ok" and a["cycles"] == cycles[a["sequence"]] for a in answers if a["parse"] == "ok")
    assert result.best_cycles == min(cycles.values()) and result.found
    assert result.extra["backend"] == "http" and result.extra["model"] == "general-llm"
    assert result.extra["replied"] == 6 and result.extra["parsed"] == 4

    # what was sent: the Bearer key from the named variable, the direct prompt, one seed per answer
    assert len(server.requests) == 6 and {r["auth"] for r in server.requests} == {f"Bearer {KEY}"}
    assert {r["path"] for r in server.requests} == {"/v1/chat/completions"}
    bodies = [r["body"] for r in server.requests]
    assert {b["model"] for b in bodies} == {"general-llm"} and len({b["seed"] for b in bodies}) == 6
    assert {(b["temperature"], b["top_p"], b["max_tokens"]) for b in bodies} == {(0.8, 0.95, 640)}
    system, user = bodies[0]["messages"]
    assert system == {"role": "system", "content": direct_system_prompt(5, 30)} and user["role"] == "user"
    assert all(p in system["content"] for p in SEARCH_PASSES) and all(c in system["content"] for c in CATEGORIES)
    assert "insert-gcov-profiling" not in system["content"] and "Static features" in user["content"]

    # a rerun reads the answers from the cache (no request) and repeats the search exactly
    again = search.optimize(small_program, Objective(small_program, evaluator, 10), seed=0)
    assert len(server.requests) == 6 and trace_key(again) == trace_key(result)
    assert again.extra["answers"] == answers
    other_seed = search.optimize(small_program, Objective(small_program, evaluator, 10), seed=1)
    assert len(server.requests) == 12 and {r["body"]["seed"] for r in server.requests[6:]}.isdisjoint(
        {b["seed"] for b in bodies})
    assert other_seed.evaluations == 3

    # a budget smaller than the valid answers: the first ones in answer order, the rest over budget
    tight = search.optimize(small_program, Objective(small_program, evaluator, 2), seed=0)
    assert tight.evaluations == 2 and [a["status"] for a in tight.extra["answers"]] == \
        ["ok", "ok", None, None, "ok", "over-budget"]


def test_the_key_comes_from_the_named_variable(small_program, evaluator, endpoint, tmp_path, monkeypatch):
    server = endpoint()
    monkeypatch.delenv(KEY_ENV, raising=False)
    result = http_search(server.base_url, tmp_path, n=2).optimize(small_program, Objective(small_program, evaluator, 5),
                                                                  seed=0)
    assert [r["auth"] for r in server.requests] == [None, None]  # no variable, no header; the server refuses
    assert result.evaluations == 0 and all("HTTP 401" in a["error"] for a in result.extra["answers"])
    monkeypatch.setenv("SOME_OTHER_NAME", KEY)
    http_search(server.base_url, tmp_path / "b", n=1, api_key_env="SOME_OTHER_NAME").optimize(
        small_program, Objective(small_program, evaluator, 5), seed=0)
    assert server.requests[-1]["auth"] == f"Bearer {KEY}"


@pytest.mark.parametrize("mode, fragment", [("500", "HTTP 500"), ("garbage", "non-JSON"), ("no-content", "no choices"),
                                            ("raw", "BadStatusLine"), ("slow", "timed out"), ("closed", "unreachable")])
def test_a_failing_endpoint_is_a_recorded_status_never_a_crash(mode, fragment, small_program, evaluator, endpoint,
                                                               tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    if mode == "closed":
        with socket.socket() as sock:  # a port nothing listens on
            sock.bind(("127.0.0.1", 0))
            base_url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
        server = None
    else:
        server = endpoint(mode)
        base_url = server.base_url
    search = http_search(base_url, tmp_path, n=2, retries=1 if mode == "500" else 0, timeout_s=0.3)
    result = search.optimize(small_program, Objective(small_program, evaluator, 5), seed=0)
    answers = result.extra["answers"]
    assert result.evaluations == 0 and result.trace == [] and not result.found
    assert [a["reply"] for a in answers] == ["endpoint-error"] * 2 and all(fragment in a["error"] for a in answers)
    assert all(a["text"] is None and a["parse"] is None and a["status"] is None for a in answers)
    if mode == "500":
        assert len(server.requests) == 4  # each answer tried once more


def test_one_failed_request_costs_only_its_answer_and_is_asked_again_next_time(small_program, evaluator, endpoint,
                                                                               tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    server = endpoint("flaky", [B])
    search = http_search(server.base_url, tmp_path, n=2)
    first = search.optimize(small_program, Objective(small_program, evaluator, 5), seed=0)
    assert [a["reply"] for a in first.extra["answers"]] == ["endpoint-error", "ok"] and first.evaluations == 1
    second = search.optimize(small_program, Objective(small_program, evaluator, 5), seed=0)
    assert len(server.requests) == 3  # only the failed answer was requested again (the other is cached)
    assert [a["reply"] for a in second.extra["answers"]] == ["ok", "ok"] and second.evaluations == 1


class ScriptedModel:
    """Stands in for the local model's sampling: fixed texts, and the arguments it was called with."""

    def __init__(self, texts):
        self.texts, self.calls = texts, []

    def sample(self, programs, *, n, **options):
        self.calls.append({"n": n, **options})
        return [[Sample(t, len(t.split()), False) for t in self.texts[:n]] for _ in programs]


def test_local_answers_go_through_the_same_parse_and_budget(small_program, evaluator):
    model = ScriptedModel(REPLIES)
    search = LLMDirectSearch(LLMDirectConfig(n=6, temperature=0.7, top_p=0.9), strategist=model)
    result = search.optimize(small_program, Objective(small_program, evaluator, 10), seed=4)
    assert result.evaluations == 3 and result.extra["backend"] == "local" and result.extra["parsed"] == 4
    assert result.extra["new_tokens"] == sum(len(t.split()) for t in REPLIES)
    (call,) = model.calls
    assert call["n"] == 6 and call["temperature"] == 0.7 and call["top_p"] == 0.9 and call["batch_size"] == 1
    again = LLMDirectSearch(LLMDirectConfig(n=6), strategist=ScriptedModel(REPLIES))
    again.optimize(small_program, Objective(small_program, evaluator, 10), seed=4)
    assert again._strategist.calls[0]["seed"] == call["seed"]  # the seed depends on (seed, program) only


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny-llm"), seed=0)


def test_local_untuned_model_is_seeded_cached_and_its_noise_costs_nothing(tiny_dir, small_program, evaluator,
                                                                          tmp_path, monkeypatch):
    config = LLMDirectConfig(model=str(tiny_dir), n=3, max_new_tokens=12, max_length=12)
    search = LLMDirectSearch(config, cache=EvaluationCache(tmp_path / "a"))
    assert isinstance(search.strategist, DirectPromptStrategist) and search.strategist.adapter is None
    prompt = search.strategist._prompts([small_program])[0]
    assert direct_system_prompt(5, 12) in prompt and "Static features" in prompt
    calls, generate = [], search.strategist.model.generate
    monkeypatch.setattr(search.strategist.model, "generate", lambda *a, **k: calls.append(1) or generate(*a, **k))

    first = search.optimize(small_program, Objective(small_program, evaluator, 5), seed=0)
    answers = first.extra["answers"]
    assert len(calls) == 1 and len(answers) == 3 and first.extra["model"] == str(tiny_dir)
    assert first.evaluations == 0 and {a["parse"] for a in answers} == {"malformed"}  # a random model writes noise
    assert all(a["reason"] and a["new_tokens"] <= 12 for a in answers)
    cached = search.optimize(small_program, Objective(small_program, evaluator, 5), seed=0)
    assert len(calls) == 1 and cached.extra["answers"] == answers  # from the cache, not generated again

    cold = LLMDirectSearch(config, cache=EvaluationCache(tmp_path / "b"))
    cold._strategist = search.strategist  # the same weights, an empty cache
    assert cold.optimize(small_program, Objective(small_program, evaluator, 5), seed=0).extra["answers"] == answers
    assert len(calls) == 2
    other = cold.optimize(small_program, Objective(small_program, evaluator, 5), seed=1).extra["answers"]
    assert [a["text"] for a in other] != [a["text"] for a in answers]


def test_settings_and_registration():
    method = get_method("llm-direct")
    assert not method.learns_offline and "Pan et al." in method.source
    optimizer, settings = make_optimizer("llm-direct")
    assert optimizer.name == "llm-direct" and settings["backend"] == "local" and settings["n"] == 8
    for bad, fragment in [({"backend": "gpu"}, "backend"), ({"backend": "http"}, "base_url"),
                          ({"backend": "http", "base_url": "127.0.0.1:8000"}, "base_url"), ({"n": 0}, "n,"),
                          ({"temperature": 0}, "temperature"), ({"min_length": 9, "max_length": 4}, "min_length"),
                          ({"retries": -1}, "retries")]:
        with pytest.raises(EccoError, match=fragment):
            LLMDirectConfig(**bad)
    with pytest.raises(EccoError, match="budget is set once"):
        make_optimizer("llm-direct", {"llm-direct": {"budget": 3}})
