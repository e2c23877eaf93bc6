"""The strategist: model specs (tiny, SmolLM2 from its wheel, missing), seeded generation, Best-of-N
sampling with its text cache, and the scoring of its answers with the real evaluator."""

from __future__ import annotations

import json
import math
import shutil

import pandas as pd
import pytest
import torch

from ecco_lib.benchmarks import resolve
from ecco_lib.errors import EccoError
from ecco_lib.llvm import EvaluationCache, improvement_over_o3
from ecco_lib.prompts import PROMPT_FEATURES, SYSTEM_PROMPT, user_prompt
from ecco_lib.response import StrategistResponse
from ecco_lib.scoring import MALFORMED, score_answers
from ecco_lib.strategist import (ModelNotFoundError, Sample, Strategist, batch_seed, build_tiny_model, evaluate_outputs,
                                 load_model, model_identity, program_features, resolve_model, summarize_outputs,
                                 use_one_thread, use_threads)

pytestmark = pytest.mark.xdist_group("strategist")

VALID = StrategistResponse(reasoning="Promote the stack slots, then clean up the control flow.",
                           intents={"memory-to-register": 0.7, "control-flow": 0.3},
                           sequence=("sroa", "instcombine", "simplifycfg")).render()


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"), seed=0)


@pytest.fixture(scope="session")
def tiny(tiny_dir):
    return Strategist.from_pretrained(tiny_dir, max_new_tokens=24)


@pytest.fixture(scope="session")
def bitcount(session_cache):
    return resolve("ecco://automotive/bitcount", cache=session_cache)[0]


@pytest.fixture(scope="session")
def four_programs(session_cache):
    return [resolve(uri, cache=session_cache)[0] for uri in
            ("ecco://automotive/bitcount", "ecco://nas/ep", "ecco://hls/adpcm", "ecco://linalg/lu_getrf")]


#: Best-of-N settings of the sampling tests; the tiny random model at temperature 1 answers noise.
SAMPLING = dict(n=2, temperature=1.0, top_p=0.95, seed=5, batch_size=2)


def texts_of(answers: list[list[Sample]]) -> list[list[str]]:
    return [[a.text for a in row] for row in answers]


@pytest.fixture
def one_thread():
    """Generation on one torch thread: two threads beside the machine's other jobs run 5-25x slower."""
    with use_one_thread():
        yield


def count_generate_calls(strategist: Strategist, monkeypatch) -> list:
    """Wrap ``strategist.model.generate`` (on the instance); one list entry per call."""
    calls, generate = [], strategist.model.generate
    monkeypatch.setattr(strategist.model, "generate", lambda *a, **k: calls.append(1) or generate(*a, **k))
    return calls


def test_tiny_model_shape_and_tokenizer(tiny_dir, tiny, tmp_path):
    params = sum(p.numel() for p in tiny.model.parameters())
    assert 50_000 < params < 200_000
    tok = tiny.tokenizer
    assert tok.eos_token == "<|im_end|>" and tok.pad_token == "<|endoftext|>"
    assert tok.decode(tok.encode(SYSTEM_PROMPT)) == SYSTEM_PROMPT
    rendered = tok.apply_chat_template([{"role": "system", "content": "s"}, {"role": "user", "content": "u"}],
                                       add_generation_prompt=True, tokenize=False)
    assert rendered == "<|im_start|>system\ns<|im_end|>\n<|im_start|>user\nu<|im_end|>\n<|im_start|>assistant\n"
    # same seed -> same weights; another seed -> other weights
    again, _ = load_model(build_tiny_model(tmp_path / "again", seed=0))
    other, _ = load_model(build_tiny_model(tmp_path / "other", seed=1))
    same = tiny.model.state_dict()
    assert all(torch.equal(same[k], v) for k, v in again.state_dict().items())
    assert not all(torch.equal(same[k], v) for k, v in other.state_dict().items())


def test_messages_carry_the_programs_static_features(tiny, bitcount):
    features = program_features(bitcount)
    assert set(PROMPT_FEATURES) <= set(features) and "MaxLoopDepth" in features
    messages = tiny.messages(bitcount)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[0]["content"] == SYSTEM_PROMPT
    assert messages[1]["content"] == user_prompt(features)
    assert f"{features['TotalInsts']} instructions" in messages[1]["content"]


@pytest.mark.slow
def test_generation_is_seeded_and_survives_save_and_reload(tiny, bitcount, tmp_path):
    rng_before = torch.get_rng_state()
    greedy = tiny.generate(bitcount)
    sampled = tiny.generate(bitcount, n=3, seed=7, temperature=1.0)
    assert torch.equal(torch.get_rng_state(), rng_before), "generation must not consume the global torch RNG"
    assert len(greedy) == 1 and len(sampled) == 3
    assert tiny.generate(bitcount) == greedy
    assert tiny.generate(bitcount, n=3, seed=7, temperature=1.0) == sampled
    assert tiny.generate(bitcount, n=3, seed=8, temperature=1.0) != sampled
    assert not any("<|im_end|>" in t or "<|im_start|>" in t for t in greedy + sampled)
    reloaded = Strategist.from_pretrained(tiny.save(tmp_path / "saved"), max_new_tokens=24)
    assert reloaded.generate(bitcount) == greedy
    assert reloaded.generate(bitcount, n=3, seed=7, temperature=1.0) == sampled


def test_batched_greedy_answers_every_program_in_order(tiny_dir, four_programs):
    programs = four_programs
    strategist = Strategist.from_pretrained(tiny_dir, max_new_tokens=12)
    texts, lengths = strategist.greedy(programs, batch_size=3)  # a full batch of 3, then 1
    assert len(texts) == len(lengths) == 4
    assert all(1 <= n <= 12 for n in lengths)
    assert strategist.greedy(programs, batch_size=3) == (texts, lengths)
    # the last batch holds one unpadded prompt: exactly what generate() produces for it
    assert texts[3] == strategist.generate(programs[3])[0]
    # prompts of different lengths were left-padded: every answer is the answer to its own program
    singles = [strategist.greedy([p], batch_size=1)[0][0] for p in programs]
    assert sum(a == b for a, b in zip(texts, singles)) >= 3
    assert "<|endoftext|>" not in "".join(texts)
    with pytest.raises(EccoError, match="batch_size=0"):
        strategist.greedy(programs, batch_size=0)


@pytest.mark.parametrize("kwargs, fragment", [({"n": 2}, "identical"), ({"n": 0}, "at least one"),
                                              ({"temperature": -1.0}, "temperature")])
def test_generation_rejects_bad_arguments(tiny, bitcount, kwargs, fragment):
    with pytest.raises(EccoError, match=fragment):
        tiny.generate(bitcount, **kwargs)


@pytest.mark.usefixtures("one_thread")
def test_sampling_is_seeded_per_batch_and_answers_each_program_n_times(tiny, four_programs):
    rng_before = torch.get_rng_state()
    answers = tiny.sample(four_programs[:3], **SAMPLING)  # a batch of 2 prompts (4 rows), then 1 (2 rows)
    assert torch.equal(torch.get_rng_state(), rng_before), "sampling must not consume the global torch RNG"
    assert [len(row) for row in answers] == [2, 2, 2]
    flat = [a for row in answers for a in row]
    assert all(isinstance(a, Sample) and 1 <= a.new_tokens <= 24 for a in flat)
    assert all(a.new_tokens == 24 for a in flat if a.cut_off) and any(a.cut_off for a in flat)
    assert len({a.text for a in flat}) == 6, "temperature 1 on a random model: every answer differs"
    assert tiny.sample(four_programs[:3], **SAMPLING) == answers
    assert texts_of(tiny.sample(four_programs[:3], **{**SAMPLING, "seed": 6})) != texts_of(answers)
    # batch b is seeded with batch_seed(seed, b): with one prompt per batch, program i's answers are
    # generate()'s for that seed (batch 0: the seed itself)
    single = tiny.sample(four_programs[:2], **{**SAMPLING, "n": 3, "batch_size": 1})
    assert batch_seed(5, 0) == 5 and batch_seed(5, 1) != 5
    assert texts_of(single) == [tiny.generate(p, n=3, seed=batch_seed(5, i), temperature=1.0, top_p=0.95)
                                for i, p in enumerate(four_programs[:2])]
    # in a batch of several prompts, a prompt's n answers are its n consecutive rows: the same rows as
    # the prompt repeated n times (transformers expands num_return_sequences with repeat_interleave)
    prompts = tiny._prompts(four_programs[:2])
    repeated = tiny._generate_prompts([p for p in prompts for _ in range(2)], seed=batch_seed(5, 0), do_sample=True,
                                      temperature=1.0, top_p=0.95, top_k=None)
    assert answers[0] + answers[1] == repeated


@pytest.mark.usefixtures("one_thread")
def test_sample_cache_hits_skip_generation_and_every_key_part_matters(tiny_dir, four_programs, tmp_path,
                                                                       monkeypatch):
    from peft import LoraConfig, get_peft_model

    strategist = Strategist.from_pretrained(tiny_dir, max_new_tokens=8)
    assert strategist.identity == model_identity(tiny_dir) and strategist.spec == tiny_dir
    calls = count_generate_calls(strategist, monkeypatch)
    cache, programs = EvaluationCache(tmp_path / "cache"), four_programs[:3]
    first = strategist.sample(programs, **SAMPLING, cache=cache)
    assert len(calls) == 2  # batches of 2 and 1
    assert strategist.sample(programs, **SAMPLING, cache=cache) == first and len(calls) == 2
    # the seconds a batch took to generate are stored with it and come back with a hit
    assert all(s.seconds > 0 for answers in first for s in answers)
    assert first[0][0].seconds == first[1][0].seconds != first[2][0].seconds  # batches of 2 and 1
    again = strategist.sample(programs, **SAMPLING, cache=EvaluationCache(tmp_path / "cache"))
    assert [s.seconds for a in again for s in a] == [s.seconds for a in first for s in a]
    assert strategist.sample(programs, **SAMPLING, cache=EvaluationCache(tmp_path / "cache")) == first
    assert strategist.sample(programs[:2], **SAMPLING, cache=cache) == first[:2] and len(calls) == 2
    assert strategist.sample(programs, **SAMPLING) == first and len(calls) == 4  # no cache: generated again
    for change in ({"seed": 6}, {"n": 3}, {"temperature": 0.9}, {"top_p": 0.5}, {"batch_size": 3}):
        before = len(calls)
        strategist.sample(programs[:1], **{**SAMPLING, **change}, cache=cache)
        assert len(calls) == before + 1, f"{change} must miss the cache"
    strategist.max_new_tokens = 9
    strategist.sample(programs[:1], **SAMPLING, cache=cache)
    assert len(calls) == 10
    strategist.max_new_tokens = 8
    with use_threads(1 if torch.get_num_threads() > 1 else 2):  # another thread count: another key
        strategist.sample(programs[:1], **SAMPLING, cache=cache)
    assert len(calls) == 11

    # the identity is the model's part of the key: without one, no cache; an explicit one is used as given
    bare = Strategist(strategist.model, strategist.tokenizer, max_new_tokens=8)
    with pytest.raises(EccoError, match="identity"):
        bare.sample(programs, **SAMPLING, cache=cache)
    named = Strategist(strategist.model, strategist.tokenizer, max_new_tokens=8, identity=strategist.identity)
    assert named.sample(programs, **SAMPLING, cache=cache) == first and len(calls) == 11

    # other weights or an adapter: another identity, a miss
    other = Strategist.from_pretrained(build_tiny_model(tmp_path / "other", seed=1), max_new_tokens=8)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        base, _ = load_model(tiny_dir)
        lora = LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
        get_peft_model(base, lora).save_pretrained(tmp_path / "adapter")
    tuned = Strategist.from_pretrained(tiny_dir, tmp_path / "adapter", max_new_tokens=8)
    assert len({strategist.identity, other.identity, tuned.identity}) == 3
    assert tuned.identity.startswith(strategist.identity + " adapter=sha256:")
    for changed in (other, tuned):
        changed_calls = count_generate_calls(changed, monkeypatch)
        assert texts_of(changed.sample(programs[:1], **SAMPLING, cache=cache)) != texts_of(first[:1])
        assert len(changed_calls) == 1
    with open(tmp_path / "adapter" / "adapter_config.json", "a") as f:
        f.write("\n")  # any byte of an adapter file changes the identity
    assert model_identity(tiny_dir, tmp_path / "adapter") != tuned.identity
    # by content, not location: a copy written elsewhere, later, has the same identity
    copy = shutil.copytree(tiny_dir, tmp_path / "copy", copy_function=shutil.copyfile)
    assert model_identity(copy) == strategist.identity and str(tiny_dir) not in strategist.identity


@pytest.mark.usefixtures("one_thread")
def test_sampled_noise_scores_as_malformed(tiny, bitcount, evaluator):
    answers = tiny.sample([bitcount], **{**SAMPLING, "n": 3, "batch_size": 1})[0]
    assert {s.status for s in score_answers([bitcount] * 3, [a.text for a in answers], evaluator)} == {MALFORMED}


@pytest.mark.usefixtures("one_thread")
@pytest.mark.parametrize("change, fragment", [({"n": 0}, "at least one"), ({"temperature": 0.0}, "temperature"),
                                              ({"temperature": math.nan}, "temperature"), ({"top_p": 0.0}, "top_p"),
                                              ({"top_p": 1.5}, "top_p"), ({"batch_size": 0}, "batch_size=0")])
def test_sampling_rejects_bad_arguments(tiny, bitcount, change, fragment):
    with pytest.raises(EccoError, match=fragment):
        tiny.sample([bitcount], **{**SAMPLING, **change})


def test_missing_models_name_the_problem(tmp_path):
    with pytest.raises(ModelNotFoundError, match="'no/such-model'.*huggingface-cli download no/such-model"):
        load_model("no/such-model")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError, match="no config.json"):
        resolve_model(tmp_path / "empty")


def test_missing_adapter_is_reported(tiny_dir, tmp_path):
    with pytest.raises(ModelNotFoundError, match="no adapter_config.json"):
        load_model(tiny_dir, adapter=tmp_path)


def test_use_one_thread_restores_the_thread_count():
    before = torch.get_num_threads()
    with use_one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with use_threads(3):
        assert torch.get_num_threads() == 3
    assert torch.get_num_threads() == before
    with pytest.raises(EccoError, match="threads"):
        with use_threads(0):
            pass


def test_evaluate_outputs_with_the_real_evaluator(bitcount, evaluator):
    sequence_only = "<sequence>\nsroa, gvn\n</sequence>"
    texts = [VALID, "no tags at all", VALID.replace("simplifycfg", "no-such-pass"), sequence_only]
    unscaled = VALID.replace("0.70", "1.40").replace("0.30", "0.60")  # parses (normalized), not well formed
    table = evaluate_outputs([bitcount] * 4, texts, evaluator)
    assert list(table["status"]) == ["ok", "malformed", "malformed", "malformed"]
    assert list(table["parses"]) == [True, False, False, False]
    assert list(table["valid_passes"]) == [True, False, False, True]
    assert list(table["intents_well_formed"]) == [True, False, True, False]
    assert "no-such-pass" in table["reason"][2] and pd.isna(table["reason"][0])
    ok = table.iloc[0]
    direct, o3 = evaluator.evaluate_many([(bitcount, "sroa,instcombine,simplifycfg"), (bitcount, "O3")])
    assert (ok["sequence"], ok["cycles"], ok["cycles_O3"]) == ("sroa,instcombine,simplifycfg", direct.cycles, o3.cycles)
    assert ok["i_o3"] == pytest.approx(improvement_over_o3(direct.cycles, o3.cycles))
    assert table.iloc[1:][["cycles", "cycles_O3", "i_o3"]].isna().all().all()

    summary = summarize_outputs(table)
    assert summary["outputs"] == 4 and summary["format_valid_rate"] == 0.25 and summary["ok_rate"] == 0.25
    assert summary["mean_i_o3"] == pytest.approx(ok["i_o3"])
    assert summary["mean_i_o3_all"] == pytest.approx(ok["i_o3"] / 4)
    assert summary["mean_best_i_o3"] == pytest.approx(ok["i_o3"])
    assert (summary["valid_passes_rate"], summary["intents_well_formed_rate"]) == (0.5, 0.5)
    assert "cut_off_rate" not in summary
    assert summarize_outputs(table.assign(new_tokens=[10, 64, 64, 3]), max_new_tokens=64)["cut_off_rate"] == 0.5

    # the sequence-only ablation needs only <sequence>
    ablation = evaluate_outputs([bitcount], [sequence_only], evaluator, variant="no-reasoning")
    assert ablation["status"][0] == "ok" and ablation["sequence"][0] == "sroa,gvn"
    scaled = evaluate_outputs([bitcount], [unscaled], evaluator).iloc[0]
    assert (scaled["parses"], scaled["intents_well_formed"], scaled["status"]) == (True, False, "ok")
    assert scaled["cycles"] == ok["cycles"]

    nothing = summarize_outputs(table.iloc[1:])
    assert math.isnan(nothing["mean_i_o3"]) and nothing["mean_i_o3_all"] == 0 and nothing["mean_best_i_o3"] == 0
    with pytest.raises(EccoError, match="one program per text"):
        evaluate_outputs([bitcount], texts, evaluator)


@pytest.mark.slow
def test_smollm2_alias_converts_once_and_generates(bitcount):
    path = resolve_model("smollm2-135m")
    config = json.loads((path / "config.json").read_text())
    assert "quantization_config" not in config and config["model_type"] == "llama"
    files = {f: f.stat().st_mtime_ns for f in path.rglob("*")}
    assert resolve_model("smollm2-135m") == path
    assert {f: f.stat().st_mtime_ns for f in path.rglob("*")} == files, "the converted checkpoint must be reused"
    smol = Strategist.from_pretrained("smollm2-135m", max_new_tokens=5)
    assert 130e6 < sum(p.numel() for p in smol.model.parameters()) < 140e6
    assert smol.model.dtype == torch.float32
    with use_one_thread():
        text = smol.generate(bitcount)[0]
    assert text.strip() and len(smol.tokenizer.encode(text, add_special_tokens=False)) <= 6


def test_cached_batches_keep_their_generation_seconds_and_older_blobs_still_load():
    from ecco_lib.strategist import _dump_samples, _load_samples

    samples = [Sample("a", 3, False, 12.5), Sample("b", 4, True, 12.5)]
    loaded = _load_samples(_dump_samples(samples), 2)
    assert loaded == samples and [s.seconds for s in loaded] == [12.5, 12.5]
    legacy = json.dumps([["a", 3, False], ["b", 4, True]]).encode()  # written before seconds were stored
    assert _load_samples(legacy, 2) == samples and {s.seconds for s in _load_samples(legacy, 2)} == {None}
    assert _load_samples(legacy, 3) is None and _load_samples(b'{"samples": [["a", 3]]}', 1) is None
