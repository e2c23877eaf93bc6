"""The gymnasium environment on real LLVM 19 evaluations."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from conftest import SMALL_C
from ecco_lib.env import ENV_ID, PhaseOrderingEnv
from ecco_lib.errors import EccoError
from ecco_lib.features import autophase
from ecco_lib.llvm import REGISTRY, Evaluator, Pipeline
from ecco_lib.llvm.steps import run_opt

OTHER_C = SMALL_C.replace("40503u", "7u").replace("table[64]", "table[32]").replace("< 64", "< 32")


@pytest.fixture(scope="module")
def other_program(tmp_path_factory, session_cache):
    from ecco_lib.benchmarks import resolve

    path = tmp_path_factory.mktemp("other") / "other.c"
    path.write_text(OTHER_C)
    return resolve(str(path), cache=session_cache)[0]


@pytest.fixture
def env(small_program, evaluator):
    environment = PhaseOrderingEnv(small_program, evaluator=evaluator, render_mode="ansi")
    yield environment
    environment.close()


def test_gymnasium_env_checker_passes_without_warnings(env):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped, skip_render_check=True)


def test_random_episode_rewards_telescope_to_the_total_improvement(env, small_program, evaluator):
    observation, info = env.reset(seed=3)
    assert info["sequence"] == [] and info["status"] == "ok" and info["benchmark"] == small_program.uri
    c_0, c_o3 = info["cycles"], info["cycles_O3"]
    assert observation["cycles"][0] == c_0 and c_0 > 0 and c_o3 > 0
    rng = np.random.default_rng(7)
    rewards, steps = [], 0
    for _ in range(20):
        observation, reward, terminated, truncated, info = env.step(int(rng.integers(env.action_space.n)))
        rewards.append(reward)
        steps += 1
        assert isinstance(reward, float) and not truncated
        if terminated:
            assert info["status"] != "ok" and reward == 0.0
            break
        assert info["status"] == "ok" and len(info["sequence"]) == steps
        assert info["i_o3"] == pytest.approx((c_o3 - info["cycles"]) / c_o3)
    assert steps == 20  # this seed's sequence evaluates everywhere
    assert abs(sum(rewards) - (c_0 - info["cycles"]) / c_o3) < 1e-9
    # The state is the input IR optimized by the whole sequence: check it independently.
    final = evaluator.evaluate(small_program, Pipeline.of_passes(info["sequence"]))
    assert final.cycles == info["cycles"] == observation["cycles"][0]
    assert observation["ir_instruction_count"][0] == final.ir_instructions
    ir = run_opt(small_program.ir, Pipeline.of_passes(info["sequence"]).opt_text, 60)["ir"]
    assert observation["autophase"].tolist() == list(autophase(ir).values())
    assert small_program.uri in env.render() and info["sequence"][-1] in env.render()


def test_reset_switches_benchmark_by_option_or_keyword(env, small_program, other_program):
    env.reset()
    env.step(env.unwrapped.action_names.index("mem2reg"))
    observation, info = env.reset(options={"benchmark": other_program})
    assert info["benchmark"] == other_program.uri and info["sequence"] == []
    assert observation["autophase"].tolist() == list(autophase(other_program.ir).values())
    _, again = env.reset(benchmark=small_program)
    assert again["benchmark"] == small_program.uri and again["cycles"] != info["cycles"]
    _, kept = env.reset()
    assert kept["benchmark"] == small_program.uri


@pytest.mark.parametrize("mode, shape", [("autophase", (56,)), ("ir_instruction_count", (1,)), ("cycles", (1,))])
def test_single_observation_spaces(small_program, evaluator, mode, shape):
    env = PhaseOrderingEnv(small_program, evaluator=evaluator, observation=mode)
    observation, _ = env.reset()
    assert isinstance(observation, np.ndarray) and observation.shape == shape and observation.dtype == np.int64
    assert env.observation_space.shape == shape and env.observation_space.contains(observation)
    observation, *_ = env.step(env.action_names.index("sroa"))
    assert observation.shape == shape and env.observation_space.contains(observation)


def test_dict_observation_space(env):
    observation, _ = env.reset()
    assert set(observation) == {"autophase", "ir_instruction_count", "cycles"}
    assert {k: (v.shape, v.dtype) for k, v in observation.items()} == {
        "autophase": ((56,), np.int64), "ir_instruction_count": ((1,), np.int64), "cycles": ((1,), np.int64)}
    assert env.observation_space.contains(observation)
    assert env.action_space.n == len(REGISTRY) and env.action_names[0] == REGISTRY[0].name


def test_gymnasium_make_with_the_default_evaluator(small_program):
    env = gymnasium.make(ENV_ID, benchmark=small_program.uri, max_steps=2)
    try:
        observation, info = env.reset(seed=0)
        assert info["benchmark"] == small_program.uri
        _, reward, terminated, truncated, info = env.step(env.unwrapped.action_names.index("mem2reg"))
        assert (terminated, truncated, info["sequence"]) == (False, False, ["mem2reg"])
        assert reward == pytest.approx((observation["cycles"][0] - info["cycles"]) / info["cycles_O3"])
        *_, truncated, info = env.step(env.unwrapped.action_names.index("instcombine"))
        assert truncated and info["sequence"] == ["mem2reg", "instcombine"]
        with pytest.raises(EccoError, match="call reset"):
            env.step(0)
    finally:
        env.close()


def test_a_failed_evaluation_ends_the_episode_without_a_crash(small_program, tmp_path):
    with Evaluator(cache=tmp_path / "cache", jobs=1) as evaluator:
        env = PhaseOrderingEnv(small_program, evaluator=evaluator)
        observation, _ = env.reset()
        evaluator.timeout_s = 0.001  # no opt run finishes in 1 ms
        after, reward, terminated, truncated, info = env.step(env.action_names.index("gvn"))
        assert (reward, terminated, truncated, info["status"]) == (0.0, True, False, "timeout")
        assert "exceeded" in info["error"] and info["sequence"] == ["gvn"]
        assert after["cycles"][0] == observation["cycles"][0]
        with pytest.raises(EccoError, match="call reset"):
            env.step(0)
        evaluator.timeout_s = 300.0
        _, info = env.reset()
        assert info["status"] == "ok"


@pytest.mark.parametrize("action", [-1, len(REGISTRY), "mem2reg", 1.5, True])
def test_invalid_actions_are_user_errors(env, action):
    env.reset()
    with pytest.raises(EccoError, match="action"):
        env.step(action)


def test_bad_arguments_are_user_errors(small_program, evaluator, tmp_path):
    with pytest.raises(EccoError, match="unknown observation"):
        PhaseOrderingEnv(small_program, evaluator=evaluator, observation="Ir")
    for name in ("a.ll", "b.ll"):
        (tmp_path / name).write_text("define i32 @main() {\n  ret i32 0\n}\n")
    with pytest.raises(EccoError, match="names 2 programs"):
        PhaseOrderingEnv(str(tmp_path), evaluator=evaluator)
    with pytest.raises(EccoError, match="call reset"):
        PhaseOrderingEnv(small_program, evaluator=evaluator).step(0)
