"""The llama-cpp strategist engine on the real SmolLM2 strategist (the shipped adapter): the GGUF
export reproduces transformers' greedy tokens, is made once per weights and type, sampling is
deterministic and cached apart from transformers' answers, ``ecco optimize`` runs on it, and the
untuned base model answers ``llm-direct``'s longer prompt and the greedy evaluation through it."""

from __future__ import annotations

import json

import pytest
import torch

from ecco_lib.baselines.llm_direct import DirectPromptLlamaCppStrategist, LLMDirectConfig, LLMDirectSearch
from ecco_lib.errors import EccoError
from ecco_lib.llama_cpp_engine import PROMPT_BLOCK, LlamaCppStrategist, cached_gguf
from ecco_lib.llvm.cache import EvaluationCache
from ecco_lib.search.objective import Objective
from ecco_lib.strategist import (Strategist, evaluate_strategist, load_strategist, model_identity, resolve_model,
                                 use_threads)
from ecco_lib.tactician import SHIPPED_ADAPTER, EccoConfig

from conftest import REPO, run_cli

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("strategist")]


@pytest.fixture(scope="module")
def reference():
    return Strategist.from_pretrained("smollm2-135m", SHIPPED_ADAPTER, max_new_tokens=48)


def test_f32_export_reproduces_transformers_greedy_tokens_and_is_made_once(reference, small_program, tmp_path):
    cache = tmp_path / "cache"
    engine = LlamaCppStrategist.from_pretrained("smollm2-135m", SHIPPED_ADAPTER, max_new_tokens=48, gguf_type="f32",
                                                cache_dir=cache)
    assert engine.gguf.parent == cache / "gguf" and [p.name for p in engine.gguf.parent.iterdir()] == [engine.gguf.name]
    with use_threads(2):
        ours, our_lengths = engine.greedy([small_program])
        theirs, their_lengths = reference.greedy([small_program])
    assert ours == theirs and our_lengths == their_lengths and our_lengths[0] > 0
    made = engine.gguf.stat().st_mtime_ns
    again = cached_gguf(reference.model, model_identity("smollm2-135m", SHIPPED_ADAPTER), "f32", cache)
    assert again == engine.gguf and again.stat().st_mtime_ns == made
    other = cached_gguf(reference.model, model_identity("smollm2-135m", SHIPPED_ADAPTER), "q8_0", cache)
    assert other != again and other.stat().st_size < again.stat().st_size / 3
    engine.close()


def test_q8_0_sampling_is_seeded_and_cached_apart_from_transformers(reference, small_program, tmp_path):
    engine = load_strategist("smollm2-135m", SHIPPED_ADAPTER, max_new_tokens=48, engine="llama-cpp")
    assert isinstance(engine, LlamaCppStrategist) and engine.identity != reference.identity
    options = dict(n=3, temperature=0.8, top_p=0.95, batch_size=1)
    cache = EvaluationCache(tmp_path / "cache")
    with use_threads(2):
        first = engine.sample([small_program], seed=5, cache=cache, **options)[0]
        again = engine.sample([small_program], seed=5, **options)[0]
        other = engine.sample([small_program], seed=6, **options)[0]
        hit = engine.sample([small_program], seed=5, cache=cache, **options)[0]
        sampled = reference.sample([small_program], seed=5, cache=cache, **options)[0]
    assert [s.text for s in first] == [s.text for s in again] == [s.text for s in hit]
    assert [s.text for s in other] != [s.text for s in first]
    assert all(0 < s.new_tokens <= 48 and s.cut_off == (s.new_tokens == 48) for s in first)
    assert hit[0].seconds == first[0].seconds > 0  # read back with what generating the batch took
    assert sampled != first  # transformers' answers are its own, not the llama.cpp batch's cached ones
    engine.close()


def test_llm_direct_and_greedy_evaluation_run_the_base_model_on_llama_cpp(small_program, evaluator, tmp_path):
    config = LLMDirectConfig(engine="llama-cpp", n=2, max_new_tokens=16)
    search = LLMDirectSearch(config, cache=EvaluationCache(tmp_path / "a"))
    strategist = search.strategist
    assert isinstance(strategist, DirectPromptLlamaCppStrategist) and strategist.adapter is None
    prompt = strategist._prompts([small_program])[0]
    assert len(strategist.tokenizer(prompt, add_special_tokens=False)["input_ids"]) > PROMPT_BLOCK  # the action space
    with use_threads(2):
        first = search.optimize(small_program, Objective(small_program, evaluator, 5), seed=0).extra["answers"]
        cold = LLMDirectSearch(config, strategist=strategist, cache=EvaluationCache(tmp_path / "b"))
        again = cold.optimize(small_program, Objective(small_program, evaluator, 5), seed=0).extra["answers"]
        table = evaluate_strategist(resolve_model("smollm2-135m"), None, [small_program], evaluator,  # as notebook 04
                                    max_new_tokens=16, engine="llama-cpp", progress=False)
    assert len(first) == 2 and all(0 < a["new_tokens"] <= 16 for a in first)
    assert [a["text"] for a in again] == [a["text"] for a in first]  # seeded: the same answers without the cache
    assert len(table) == 1 and 0 < table["new_tokens"].iloc[0] <= 16
    with pytest.raises(EccoError, match="llm-direct engine 'vllm' is not one of transformers, llama-cpp"):
        LLMDirectConfig(engine="vllm")
    strategist.close()


def test_engine_settings_fail_clearly():
    with pytest.raises(EccoError, match="engine 'vllm' is not one of transformers, llama-cpp"):
        EccoConfig(engine="vllm")
    with pytest.raises(EccoError, match="unknown engine"):
        load_strategist("smollm2-135m", engine="vllm")
    with pytest.raises(EccoError, match="smollm2-135m-based strategists only"):
        load_strategist("Qwen/Qwen2.5-0.5B-Instruct", engine="llama-cpp")


def test_cli_ecco_optimize_on_the_llama_cpp_engine(small_c, tmp_path):
    profile = tmp_path / "llama.yaml"
    profile.write_text("extends: smoke\nname: llama\nsearch:\n  methods:\n    ecco:\n      engine: llama-cpp\n      model: smollm2-135m\n"
                       "      n: 4\n      max_new_tokens: 96\n")
    args = ("optimize", str(small_c), "--method", "ecco", "--budget", "8", "--seed", "1", "--profile", str(profile),
            "--adapter", str(SHIPPED_ADAPTER), "--json")
    env = {"ECCO_CACHE_DIR": str(tmp_path / "cache"), "ECCO_OUTPUT_ROOT": str(REPO)}
    first, second = run_cli(*args, env=env), run_cli(*args, env=env)
    assert first.returncode == 0, first.stderr
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert a["method"] == "ecco" and 0 < a["evaluations"] <= 8 and a["sampled_seconds"] > 0
    assert len(list((tmp_path / "cache" / "gguf").glob("*-q8_0.gguf"))) == 1
    timing = ("seconds", "compile_seconds", "method_seconds", "generation_seconds")
    assert {k: v for k, v in a.items() if k not in timing} == {k: v for k, v in b.items() if k not in timing}
