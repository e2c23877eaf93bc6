"""The intent-guided pass sampler (Eq. 4): exact probabilities, reachability, sampling, edge cases."""

from __future__ import annotations

import math
import random
from collections import Counter
from pathlib import Path

import pytest
from scipy.stats import chisquare

from ecco_lib.errors import EccoError
from ecco_lib.evidence import EfficacyPrior
from ecco_lib.llvm.passes import CATEGORIES, SEARCH_PASSES, lookup
from ecco_lib.plots import plot_pass_distribution
from ecco_lib.search import IntentGuidedSampler
from ecco_lib.search.intent import CASES

REPO = Path(__file__).resolve().parent.parent
PRIOR_FILE = REPO / "results" / "dataset" / "efficacy_prior.json"
PNG = b"\x89PNG\r\n\x1a\n"

# three categories, five passes
SMALL_PRIOR = {"instsimplify": 0.004, "aggressive-instcombine": 0.010,  # scalar-simplification
               "gvn": 0.020, "dse": 0.001,                              # redundancy-elimination
               "simplifycfg": 0.007}                                    # control-flow
SMALL_PASSES = tuple(SMALL_PRIOR)


def eq4_by_hand(passes, g, intents, eps):
    """Eq. 4 with plain loops: drop intent mass on categories without prior mass, renormalize, mix."""
    mass = {}
    for v in passes:
        c = lookup(v).category
        mass[c] = mass.get(c, 0.0) + g[v]
    w = {}
    total = 0.0
    for c, weight in intents.items():
        if mass.get(c, 0.0) > 0 and weight > 0:
            w[c] = weight
            total += weight
    for c in w:
        w[c] = w[c] / total
    z = 0.0
    for u in passes:
        z += w.get(lookup(u).category, 0.0) * g[u]
    out = {}
    for v in passes:
        out[v] = eps / len(passes) + (1 - eps) * w.get(lookup(v).category, 0.0) * g[v] / z
    return out


def assert_close(got: dict, want: dict):
    assert list(got) == list(want)
    for v in want:
        assert abs(got[v] - want[v]) <= 1e-12, v
    assert abs(math.fsum(got.values()) - 1) <= 1e-12


def synthetic_prior(passes=SEARCH_PASSES):
    return {v: (i % 7 + 1) / 1000 for i, v in enumerate(passes)}


def test_eq4_by_hand_on_three_categories():
    intents = {"scalar-simplification": 0.5, "redundancy-elimination": 0.3, "control-flow": 0.2}
    sampler = IntentGuidedSampler(intents, SMALL_PRIOR, eps=0.1, passes=SMALL_PASSES)
    assert_close(sampler.probabilities(), eq4_by_hand(SMALL_PASSES, SMALL_PRIOR, intents, 0.1))
    assert sampler.case == "eq4" and sampler.dropped_intent_mass == 0 and sampler.dropped_categories == ()
    # one value by hand: z = 0.5*0.014 + 0.3*0.021 + 0.2*0.007 = 0.0147
    assert abs(sampler.probabilities()["gvn"] - (0.1 / 5 + 0.9 * 0.3 * 0.020 / 0.0147)) <= 1e-12


def test_eq4_by_hand_on_search_passes_with_synthetic_and_real_prior():
    intents = {"loop-transformation": 0.35, "scalar-simplification": 0.25, "interprocedural": 0.15,
               "dead-code": 0.1, "vectorization": 0.05, "instrumentation": 0.1}
    g = synthetic_prior()
    sampler = IntentGuidedSampler(intents, g, eps=0.05)
    assert sampler.passes == SEARCH_PASSES and len(sampler.probabilities()) == 113
    assert_close(sampler.probabilities(), eq4_by_hand(SEARCH_PASSES, g, intents, 0.05))
    assert sampler.case == "eq4" and sampler.dropped_categories == ("instrumentation",)
    assert abs(sampler.dropped_intent_mass - 0.1) <= 1e-12
    assert abs(sum(sampler.category_weights.values()) - 1) <= 1e-12

    prior = EfficacyPrior.load(PRIOR_FILE)
    real = IntentGuidedSampler(intents, prior, eps=0.05)
    weights = {v: float(prior.passes.loc[v, "weight"]) for v in SEARCH_PASSES}
    assert real.prior == weights and min(weights.values()) >= prior.floor > 0
    assert_close(real.probabilities(), eq4_by_hand(SEARCH_PASSES, weights, intents, 0.05))


def test_every_pass_reachable_with_eps_even_when_intents_name_one_category():
    prior = EfficacyPrior.load(PRIOR_FILE)
    for eps in (1e-6, 0.05, 1.0):
        probs = IntentGuidedSampler({"vectorization": 1.0}, prior, eps=eps).probabilities()
        assert min(probs.values()) >= eps / len(SEARCH_PASSES) * (1 - 1e-12) > 0
    # a mapping prior that is 0 on most passes: still every pass > 0
    g = {v: (0.01 if lookup(v).category == "control-flow" else 0.0) for v in SEARCH_PASSES}
    probs = IntentGuidedSampler({"control-flow": 1.0}, g, eps=0.01).probabilities()
    assert min(probs.values()) > 0
    assert probs == pytest.approx({v: 0.01 / 113 + (0.99 / 13 if g[v] else 0.0) for v in SEARCH_PASSES}, abs=1e-12)
    # eps = 1 is uniform
    uniform = IntentGuidedSampler({"vectorization": 1.0}, prior, eps=1.0).probabilities()
    assert all(abs(p - 1 / 113) <= 1e-12 for p in uniform.values())


def test_draws_match_the_distribution_and_use_only_the_given_rng():
    sampler = IntentGuidedSampler({"loop-transformation": 0.6, "redundancy-elimination": 0.4},
                                  EfficacyPrior.load(PRIOR_FILE), eps=0.2)
    probs = sampler.probabilities()
    global_state = random.getstate()
    rng = random.Random(20240613)
    n = 100_000
    counts = Counter(sampler.sample(rng) for _ in range(n))
    assert random.getstate() == global_state
    assert set(counts) <= set(probs)
    observed = [counts[v] for v in probs]
    expected = [n * p for p in probs.values()]
    assert chisquare(observed, [e * n / sum(expected) for e in expected]).pvalue > 1e-4
    for o, p in zip(observed, probs.values()):
        assert abs(o - n * p) <= 5 * math.sqrt(n * p * (1 - p))
    a, b = random.Random(7), random.Random(7)
    assert [sampler.sample(a) for _ in range(200)] == [sampler.sample(b) for _ in range(200)]


def test_edge_cases_set_case_as_documented():
    assert CASES == ("eq4", "no-intents", "intents-without-reachable-mass")
    g = synthetic_prior()
    prior_only = eq4_by_hand(SEARCH_PASSES, g, {c: 1.0 for c in CATEGORIES}, 0.1)
    for intents in (None, {}, {"dead-code": 0.0, "instrumentation": 0}):
        s = IntentGuidedSampler(intents, g, eps=0.1)
        assert (s.case, s.dropped_intent_mass, s.dropped_categories) == ("no-intents", 0.0, ())
        assert_close(s.probabilities(), prior_only)
    # all mass on a category with no pass in V (instrumentation is outside SEARCH_PASSES)
    s = IntentGuidedSampler({"instrumentation": 1.0}, g, eps=0.1)
    assert (s.case, s.dropped_intent_mass, s.dropped_categories) == ("intents-without-reachable-mass", 1.0,
                                                                     ("instrumentation",))
    assert_close(s.probabilities(), prior_only)
    # a category whose passes all have prior 0 is unreachable as well; the rest is renormalized
    g0 = dict(g) | {v: 0.0 for v in SEARCH_PASSES if lookup(v).category == "vectorization"}
    intents = {"vectorization": 0.4, "control-flow": 0.6}
    s = IntentGuidedSampler(intents, g0, eps=0.1)
    assert s.case == "eq4" and s.dropped_categories == ("vectorization",)
    assert abs(s.dropped_intent_mass - 0.4) <= 1e-12 and s.category_weights == {"control-flow": 1.0}
    assert_close(s.probabilities(), eq4_by_hand(SEARCH_PASSES, g0, intents, 0.1))
    # unnormalized intents: dropped mass is a fraction of the given mass
    s = IntentGuidedSampler({"dead-code": 3.0, "instrumentation": 1.0}, g, eps=0.1)
    assert s.case == "eq4" and abs(s.dropped_intent_mass - 0.25) <= 1e-12
    # a mapping prior must cover V; extra keys (passes outside V) are ignored
    with pytest.raises(EccoError, match="no value for 1 pass"):
        IntentGuidedSampler(None, {v: 0.01 for v in SEARCH_PASSES[1:]}, eps=0.1)
    s = IntentGuidedSampler(None, SMALL_PRIOR | {"ee-instrument": 5.0}, eps=0.1, passes=SMALL_PASSES)
    assert s.passes == SMALL_PASSES
    with pytest.raises(EccoError, match="0 on every pass"):
        IntentGuidedSampler(None, {v: 0.0 for v in SEARCH_PASSES}, eps=0.5)


@pytest.mark.parametrize("kwargs, message", [
    ({"eps": 0}, "0 < eps <= 1"), ({"eps": -0.1}, "0 < eps <= 1"), ({"eps": 1.5}, "0 < eps <= 1"),
    ({"eps": float("nan")}, "0 < eps <= 1"), ({"eps": True}, "0 < eps <= 1"),
    ({"intents": {"loop-magic": 1.0}}, "unknown category 'loop-magic'"),
    ({"intents": {"dead-code": -0.1, "control-flow": 1.1}}, "finite and >= 0"),
    ({"intents": {"dead-code": float("inf")}}, "finite and >= 0"),
    ({"intents": {"dead-code": "0.5"}}, "must be a number"),
    ({"prior": SMALL_PRIOR | {"gvn": -1.0}}, r"prior g\(gvn\)"),
    ({"prior": [0.1, 0.2]}, "EfficacyPrior or a mapping"),
    ({"passes": ("gvn", "gvn")}, "appears twice"),
])
def test_bad_input_is_a_one_line_ecco_error(kwargs, message):
    args = {"intents": {"dead-code": 1.0}, "prior": SMALL_PRIOR, "eps": 0.1, "passes": SMALL_PASSES} | kwargs
    with pytest.raises(EccoError, match=message) as info:
        IntentGuidedSampler(**args)
    assert "\n" not in str(info.value)


def test_describe_and_plot(tmp_path):
    sampler = IntentGuidedSampler({"loop-transformation": 0.7, "instrumentation": 0.3},
                                  EfficacyPrior.load(PRIOR_FILE), eps=0.1)
    d = sampler.describe()
    assert (d["eps"], d["case"], d["dropped_categories"]) == (0.1, "eq4", ["instrumentation"])
    assert abs(d["dropped_intent_mass"] - 0.3) <= 1e-12
    probs = sampler.probabilities()
    top = d["top_passes"]
    assert len(top) == 10 and [p for _, p in top] == sorted(probs.values(), reverse=True)[:10]
    assert all(probs[v] == p for v, p in top)
    path = plot_pass_distribution(sampler, tmp_path / "figures" / "eq4.png", top=25)
    assert path == tmp_path / "figures" / "eq4.png"
    assert path.read_bytes()[:8] == PNG and path.stat().st_size > 10_000
    assert [p.name for p in path.parent.iterdir()] == ["eq4.png"]
