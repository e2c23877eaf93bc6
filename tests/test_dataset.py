"""Paper stage 3: the response contract (ecco_lib.response), the prompts (ecco_lib.prompts), the
teachers (ecco_lib.teachers) and the CoT dataset (ecco_lib.dataset)."""

from __future__ import annotations

import json
import random
import re
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ecco_lib.dataset import build_samples, datasheet, plot_datasheet, read_jsonl, write_jsonl
from ecco_lib.errors import BadEvidenceError, EccoError
from ecco_lib.evidence import EvidenceRecord
from ecco_lib.prompts import SYSTEM_PROMPT, user_prompt
from ecco_lib.response import (INTENT_TOLERANCE, VARIANTS, MalformedResponse, StrategistResponse, format_reward_parts,
                               normalize_intents, parse_response)
from ecco_lib.teachers import (BRIEF_PASS_LINES, EvidenceTeacher, HTTPTeacher, evidence_intents, make_teacher,
                               quoted_measurements, sequence_intents)
from ecco_lib.faithfulness.claims import parse_claims
from ecco_lib.llvm.passes import CATEGORIES, PASS_NAMES, lookup

AUTOPHASE = (
    "BBNumArgsHi BBNumArgsLo onePred onePredOneSuc onePredTwoSuc oneSuccessor twoPred twoPredOneSuc twoEach "
    "twoSuccessor morePreds BB03Phi BBHiPhi BBNoPhi BeginPhi BranchCount returnInt CriticalCount NumEdges "
    "const32Bit const64Bit numConstZeroes numConstOnes UncondBranches binaryConstArg NumAShrInst NumAddInst "
    "NumAllocaInst NumAndInst BlockMid BlockLow NumBitCastInst NumBrInst NumCallInst NumGetElementPtrInst "
    "NumICmpInst NumLShrInst NumLoadInst NumMulInst NumOrInst NumPHIInst NumRetInst NumSExtInst NumSelectInst "
    "NumShlInst NumStoreInst NumSubInst NumTruncInst NumXorInst NumZExtInst TotalBlocks TotalInsts TotalMemInst "
    "TotalFuncs ArgsPhi testUnary").split()
assert len(AUTOPHASE) == 56

# Per-pass structural deltas (after - before) the synthetic evidence uses, by pass.
DELTAS = {
    "mem2reg": ({"instructions": -41, "allocas": -13, "loads": -17, "stores": -11, "phis": 6},
                {"NumAllocaInst": -13, "NumLoadInst": -17, "NumStoreInst": -11, "NumPHIInst": 6}),
    "sroa": ({"instructions": -43, "allocas": -14, "loads": -18, "stores": -11},
             {"NumAllocaInst": -14, "NumLoadInst": -18, "NumStoreInst": -11}),
    "instcombine": ({"instructions": -19}, {"NumICmpInst": -3, "NumSExtInst": -5}),
    "simplifycfg": ({"blocks": -7, "branches": -6, "instructions": -8}, {"NumSelectInst": 2}),
    "licm": ({}, {}),
    "loop-rotate": ({"blocks": 3, "instructions": 5}, {"NumICmpInst": 2}),
    "gvn": ({"loads": -9, "instructions": -12}, {"NumLoadInst": -9}),
    "inline": ({"calls": -3, "functions": 0, "instructions": 27}, {"NumCallInst": -3}),
}


def make_evidence(program: str = "ecco://linalg/lu_getrf", core=("mem2reg", "instcombine", "simplifycfg", "licm"),
                  seed: int = 0, allocas: int = 14) -> EvidenceRecord:
    """A synthetic evidence record (numbers chosen by a seeded RNG; cycle counts are five-digit, so
    they cannot collide with the small static counts)."""
    rng = random.Random(f"{program}|{seed}")
    features = {name: rng.randint(0, 40) for name in AUTOPHASE}
    features.update(TotalFuncs=3, TotalBlocks=rng.randint(30, 60), TotalInsts=rng.randint(300, 500),
                    NumAllocaInst=allocas, NumLoadInst=rng.randint(60, 90), NumStoreInst=rng.randint(40, 60),
                    NumPHIInst=0, twoSuccessor=rng.randint(8, 20), binaryConstArg=rng.randint(20, 40),
                    NumGetElementPtrInst=rng.randint(30, 50))
    features["NumBrInst"] = features["twoSuccessor"] + rng.randint(10, 20)
    structure = {"instructions": features["TotalInsts"], "blocks": features["TotalBlocks"], "functions": 3,
                 "calls": features["NumCallInst"], "phis": 0, "loads": features["NumLoadInst"],
                 "stores": features["NumStoreInst"], "allocas": allocas, "memory_ops": 0, "branches": 30,
                 "loops": 4, "opcodes": {"load": features["NumLoadInst"]}}
    c_o3 = rng.randint(40000, 60000)
    cycles = [rng.randint(80000, 99999)]
    passes = []
    for i, name in enumerate(core):
        structural, feature_delta = DELTAS.get(name, ({"instructions": -2}, {}))
        last = i == len(core) - 1
        # loop-rotate is an enabler (more cycles on its own) unless it is last
        after = cycles[-1] + (rng.randint(1, 300) if name == "loop-rotate" and not last else -rng.randint(1500, 9000))
        cycles.append(after)
        marginal_gain = (cycles[-2] - after) / c_o3
        passes.append({"position": i, "pass": name, "category": lookup(name).category,
                       "structural": {k: v for k, v in structural.items() if v},
                       "features_delta": feature_delta,
                       "performance": {"cycles_before": cycles[-2], "cycles_after": after,
                                       "marginal_gain": marginal_gain,
                                       "removal_loss": marginal_gain if last else rng.randint(200, 20000) / c_o3}})
    synergy = []
    for i in range(len(core) - 1):
        gain_first, gain_second = rng.uniform(0.01, 0.2), rng.uniform(-0.05, 0.1)
        extra = rng.choice([0.0537, -0.0213, 0.1284])
        synergy.append({"first": core[i], "second": core[i + 1], "gain_pair": gain_first + gain_second + extra,
                        "gain_first": gain_first, "gain_second": gain_second, "synergy": extra})
    return EvidenceRecord(
        program=program, suite=program.split("/")[2], input_hash=f"{rng.getrandbits(64):016x}",
        features=features,
        function_properties={"BasicBlockCount": features["TotalBlocks"], "TopLevelLoopCount": 4,
                             "MaxLoopDepth": 3, "LoadInstCount": features["NumLoadInst"],
                             "StoreInstCount": features["NumStoreInst"], "DirectCallsToDefinedFunctions": 2,
                             "TotalInstructionCount": features["TotalInsts"]},
        structure=structure,
        cycles={"input": cycles[0], "O3": c_o3, "Oz": rng.randint(40000, 60000), "searched": cycles[-1] - 37,
                "core": cycles[-1]},
        search={"sequence": list(core) + ["dce"], "evaluations": 400, "seed": seed},
        pruning={"original": list(core) + ["dce"], "core": list(core),
                 "removals": [{"pass": "dce", "position": len(core), "sweep": 1, "cycles_with": cycles[-1] - 37,
                               "cycles_without": cycles[-1]}], "sweeps": 2, "evaluations": len(core) + 3},
        passes=passes, synergy=synergy,
        metric={"triple": "x86_64-unknown-linux-gnu", "cpu": "sapphirerapids", "llc_opt": "-O3",
                "mca_iterations": 100},
        llvm_version="19.1.7",
    )


@pytest.fixture(scope="module")
def evidences() -> list[EvidenceRecord]:
    return [make_evidence(),
            make_evidence("ecco://nas/cg", core=("sroa", "gvn", "loop-rotate", "licm", "instcombine", "loop-unroll",
                                                 "slp-vectorizer", "loop-reduce")),
            make_evidence("ecco://telecom/crc32", core=("inline", "mem2reg", "instcombine", "simplifycfg", "mem2reg",
                                                        "dse", "bdce")),
            make_evidence("ecco://hls/adpcm", core=("mem2reg",))]


# ---------------------------------------------------------------------------------------------
# The response format
# ---------------------------------------------------------------------------------------------

EXAMPLE = """<reasoning>
Many allocas: promote them first.

Then fold.
</reasoning>
<intents>
memory-to-register: 0.35
scalar-simplification: 0.25
loop-transformation: 0.40
</intents>
<sequence>
mem2reg, instcombine, loop-rotate, licm
</sequence>"""


def test_render_produces_the_documented_format():
    response = StrategistResponse(reasoning="  Many allocas: promote them first.\n\nThen fold.\n",
                                  intents={"memory-to-register": 0.35, "scalar-simplification": 0.25,
                                           "loop-transformation": 0.40},
                                  sequence=("-mem2reg", "instcombine", "loop-rotate", "licm"))
    assert response.render() == EXAMPLE
    assert parse_response(EXAMPLE) == response
    assert response.sequence == ("mem2reg", "instcombine", "loop-rotate", "licm")


def test_absent_parts_are_omitted_from_the_rendering():
    text = StrategistResponse(sequence=("sroa", "gvn")).render()
    assert text == "<sequence>\nsroa, gvn\n</sequence>"
    assert parse_response(text, require=("sequence",)) == StrategistResponse(sequence=("sroa", "gvn"))


def test_normalize_intents_rounds_to_hundredths_summing_to_one():
    thirds = normalize_intents({"control-flow": 1 / 3, "dead-code": 1 / 3, "vectorization": 1 / 3})
    assert sorted(thirds.values()) == [0.33, 0.33, 0.34]
    assert round(sum(thirds.values()), 9) == 1.0
    assert list(normalize_intents({"vectorization": 1, "memory-to-register": 3})) == \
        ["memory-to-register", "vectorization"]  # CATEGORIES order
    assert normalize_intents({"vectorization": 1, "memory-to-register": 3}) == \
        {"memory-to-register": 0.75, "vectorization": 0.25}
    with pytest.raises(MalformedResponse, match="all zero"):
        normalize_intents({"dead-code": 0})


def test_random_responses_round_trip():
    rng = random.Random(7)
    words = "loads stores allocas loops phis calls hoist fold promote because then so the a".split()
    for _ in range(200):
        parts = [p for p in ("reasoning", "intents") if rng.random() < 0.8] + ["sequence"]
        reasoning = None
        if "reasoning" in parts:
            paragraphs = [" ".join(rng.choices(words, k=rng.randint(3, 30))) for _ in range(rng.randint(1, 4))]
            reasoning = "\n\n".join(paragraphs)
        intents = None
        if "intents" in parts:
            categories = rng.sample(list(CATEGORIES), rng.randint(1, len(CATEGORIES)))
            intents = {c: rng.random() + 1e-3 for c in categories}
        sequence = tuple(rng.choices(PASS_NAMES, k=rng.randint(1, 25)))
        response = StrategistResponse(reasoning=reasoning, intents=intents, sequence=sequence)
        if intents is not None:
            assert round(100 * sum(response.intents.values())) == 100
            assert all(abs(100 * w - round(100 * w)) < 1e-9 for w in response.intents.values())
        text = response.render()
        parsed = parse_response(text, require=parts)
        assert parsed == response
        assert parsed.render() == text


def test_weights_are_normalised_and_well_formed_only_when_they_sum_to_one():
    for old, new, total in (("0.40", "0.39", 0.99), ("0.40", "0.10", 0.70), ("0.40", "2.40", 3.0)):
        text = EXAMPLE.replace(old, new)
        parsed = parse_response(text)
        assert sum(parsed.intents.values()) == pytest.approx(1)
        assert parsed.intents["loop-transformation"] == pytest.approx(float(new) / total, abs=0.011)
        assert format_reward_parts(text)["intents_well_formed"] is (abs(total - 1) <= INTENT_TOLERANCE)
    assert INTENT_TOLERANCE == 0.02


MALFORMED = {
    "missing tag": (EXAMPLE.split("<intents>")[0] + EXAMPLE.split("</intents>\n")[1], "missing <intents> (required)"),
    "duplicated tag": (EXAMPLE + "\n<sequence>\ngvn\n</sequence>", "duplicated <sequence> tag"),
    "unclosed tag": (EXAMPLE.replace("</reasoning>", ""), "unclosed <reasoning> tag"),
    "unclosed at end": (EXAMPLE.replace("</sequence>", ""), "unclosed <sequence> tag"),
    "closing without opening": ("</reasoning>\n" + EXAMPLE, "closing tag </reasoning> without an opening"),
    "text outside the tags": ("Sure! Here it is.\n" + EXAMPLE, "text outside the tags: 'Sure! Here it is.'"),
    "text after the tags": (EXAMPLE + "\nHope this helps", "text outside the tags: 'Hope this helps'"),
    "unknown category": (EXAMPLE.replace("loop-transformation", "loop-magic"), "unknown category 'loop-magic'"),
    "weight not a number": (EXAMPLE.replace("0.25", "a quarter"), "weight 'a quarter' of category "
                                                                  "'scalar-simplification' is not a number"),
    "line without weight": (EXAMPLE.replace("scalar-simplification: 0.25", "scalar-simplification"),
                            "intents line 'scalar-simplification' is not 'category: weight'"),
    "negative weight": (EXAMPLE.replace("0.35", "-0.35"), "negative weight -0.35 for category 'memory-to-register'"),
    "all weights zero": (EXAMPLE.replace("0.35", "0").replace("0.25", "0").replace("0.40", "0.00"),
                         "intent weights are all zero"),
    "duplicated category": (EXAMPLE.replace("scalar-simplification: 0.25", "memory-to-register: 0.25"),
                            "duplicated category 'memory-to-register'"),
    "empty sequence": (EXAMPLE.replace("mem2reg, instcombine, loop-rotate, licm", "  "), "empty <sequence>"),
    "unknown pass": (EXAMPLE.replace("instcombine", "instcombobulate"), "unknown pass 'instcombobulate'"),
    "dropped pass": (EXAMPLE.replace("instcombine", "constprop"), "pass 'constprop' has no LLVM 19 counterpart"),
    "empty reasoning": ("<reasoning>\n \n</reasoning>" + EXAMPLE.split("</reasoning>")[1], "empty <reasoning>"),
    "empty intents": (EXAMPLE.split("<intents>")[0] + "<intents>\n</intents>" + EXAMPLE.split("</intents>")[1],
                      "empty <intents>"),
}


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_responses_are_rejected_with_the_reason(kind):
    text, reason = MALFORMED[kind]
    with pytest.raises(MalformedResponse) as caught:
        parse_response(text)
    message = str(caught.value)
    assert reason in message
    assert "\n" not in message
    assert isinstance(caught.value, EccoError)


def test_required_parts_depend_on_the_caller():
    sequence_only = "<sequence>\nmem2reg\n</sequence>\n"
    assert parse_response(sequence_only, require=VARIANTS["no-reasoning"]).sequence == ("mem2reg",)
    with pytest.raises(MalformedResponse, match=r"missing <reasoning> \(required\)"):
        parse_response(sequence_only)
    with pytest.raises(EccoError, match="unknown response part"):
        parse_response(sequence_only, require=("answer",))


def test_format_reward_parts_never_raises():
    assert format_reward_parts(EXAMPLE) == {"parses": True, "valid_passes": True, "intents_well_formed": True,
                                            "reason": None}
    bad_sum = format_reward_parts(EXAMPLE.replace("0.40", "0.10"))
    assert bad_sum == {"parses": True, "valid_passes": True, "intents_well_formed": False, "reason": None}
    bad_pass = format_reward_parts(EXAMPLE.replace("licm", "licmm"))
    assert (bad_pass["parses"], bad_pass["valid_passes"], bad_pass["intents_well_formed"]) == (False, False, True)
    assert "licmm" in bad_pass["reason"]
    garbage = format_reward_parts("just some text <sequence> mem2reg")
    assert garbage == {"parses": False, "valid_passes": False, "intents_well_formed": False,
                       "reason": garbage["reason"]} and garbage["reason"]


# ---------------------------------------------------------------------------------------------
# Prompts
# ---------------------------------------------------------------------------------------------

def test_system_prompt_is_short_and_lists_the_categories_and_format():
    assert len(SYSTEM_PROMPT.split()) < 100  # every training step and every generation pays for its tokens
    assert f"Categories: {', '.join(CATEGORIES)}." in SYSTEM_PROMPT
    for tag in ("<reasoning>", "</reasoning>", "<intents>", "</intents>", "<sequence>", "</sequence>"):
        assert SYSTEM_PROMPT.count(tag) == 1


def test_user_prompt_shows_static_features_only(evidences):
    for evidence in evidences:
        prompt = user_prompt(evidence)
        assert len(prompt.split()) < 120
        assert prompt == user_prompt(EvidenceRecord.from_dict(json.loads(json.dumps(evidence.to_dict()))))
        f = evidence.features
        assert f"{f['NumAllocaInst']} allocas, {f['NumLoadInst']} loads, {f['NumStoreInst']} stores" in prompt
        assert f"{f['TotalFuncs']} functions, {f['TotalBlocks']} blocks, {f['TotalInsts']} instructions" in prompt
        assert "4 top-level, max depth 3" in prompt
        assert quoted_measurements(prompt, evidence) == []
        for entry in evidence.passes:
            assert entry["pass"] not in prompt
    flat = {**evidences[0].function_properties, **evidences[0].features}
    assert user_prompt(flat) == user_prompt(evidences[0])
    without_loops = user_prompt(evidences[0].features)
    assert "loops:" not in without_loops and "top-level" not in without_loops


def test_prompt_and_teacher_on_real_llvm_features(small_program):
    from ecco_lib import features

    autophase = features.autophase(small_program.ir)
    properties = features.function_properties(small_program.ir)
    prompt = user_prompt({**properties, **autophase})
    assert f"{autophase['TotalInsts']} instructions" in prompt
    assert f"{properties['TopLevelLoopCount']} top-level, max depth {properties['MaxLoopDepth']}" in prompt
    assert len(prompt.split()) < 120
    evidence = replace(make_evidence("ecco://local/small"), features=autophase, function_properties=properties,
                       structure=features.ir_structure(small_program.ir))
    assert user_prompt(evidence) == prompt
    for variant, require in VARIANTS.items():
        text = EvidenceTeacher(seed=0).respond(evidence, variant=variant)
        assert parse_response(text, require=require).sequence == evidence.core
        assert quoted_measurements(text, evidence) == []


def test_user_prompt_names_missing_features():
    features = dict(make_evidence().features)
    del features["NumAllocaInst"]
    with pytest.raises(BadEvidenceError, match="NumAllocaInst"):
        user_prompt(features)


# ---------------------------------------------------------------------------------------------
# The offline teacher
# ---------------------------------------------------------------------------------------------

def measured_numbers(evidence: EvidenceRecord) -> tuple[set[int], list[float]]:
    cycles = set(evidence.cycles.values())
    cycles |= {e["performance"][k] for e in evidence.passes for k in ("cycles_before", "cycles_after")}
    gains = [e["performance"][k] for e in evidence.passes for k in ("marginal_gain", "removal_loss")]
    gains += [s[k] for s in evidence.synergy for k in ("gain_pair", "gain_first", "gain_second", "synergy")]
    return cycles, gains


def paragraph_of(reasoning: str, core, name: str) -> str:
    """The paragraph about the first occurrence of pass ``name``: paragraph 0 is about the
    features, then one per core pass, then the intents."""
    paragraphs = reasoning.split("\n\n")
    assert len(paragraphs) == len(core) + 2
    return paragraphs[1 + list(core).index(name)]


def test_evidence_teacher_output_parses_and_ends_with_the_core_sequence(evidences):
    teacher = EvidenceTeacher(seed=3)
    for evidence in evidences:
        response = parse_response(teacher.respond(evidence, variant="full"))
        assert response.sequence == evidence.core
        assert response.intents == evidence_intents(evidence)
        assert set(response.intents) == {e["category"] for e in evidence.passes}
        assert len(response.reasoning.split("\n\n")) >= 3


def test_evidence_teacher_never_quotes_measured_numbers(evidences):
    for seed in range(5):
        teacher = EvidenceTeacher(seed=seed)
        for evidence in evidences:
            for variant in ("full", "no-evidence"):
                reasoning = parse_response(teacher.respond(evidence, variant=variant)).reasoning
                cycles, gains = measured_numbers(evidence)
                for count in cycles:
                    assert not re.search(rf"(?<!\d){count}(?!\d)", reasoning), count
                for gain in gains:
                    for decimals in range(1, 5):
                        assert f"{gain:.{decimals}f}" not in reasoning
                        assert f"{100 * gain:.{decimals}f}" not in reasoning
                assert "%" not in reasoning and "percent" not in reasoning
                assert not re.search(r"\d\.\d", reasoning)
                assert quoted_measurements(reasoning, evidence) == []


def test_evidence_teacher_is_deterministic_and_varied(evidences):
    first = EvidenceTeacher(seed=0)
    texts = [first.respond(e, variant="full") for e in evidences]
    assert texts == [EvidenceTeacher(seed=0).respond(e, variant="full") for e in evidences]
    assert len(set(texts)) == len(texts)
    reseeded = [EvidenceTeacher(seed=1).respond(e, variant="full") for e in evidences]
    assert reseeded != texts
    # the same core sequence on two programs: different prose, not just different numbers
    a = parse_response(first.respond(make_evidence("ecco://linalg/a"), variant="full")).reasoning
    b = parse_response(first.respond(make_evidence("ecco://linalg/b"), variant="full")).reasoning
    assert re.sub(r"\d+", "N", a) != re.sub(r"\d+", "N", b)


def test_evidence_teacher_writes_pass_specific_prose(evidences):
    core = evidences[1].core
    for seed in range(4):
        reasoning = parse_response(EvidenceTeacher(seed).respond(evidences[1], variant="full")).reasoning
        assert "induction" not in paragraph_of(reasoning, core, "sroa")
        assert "aggregate" in paragraph_of(reasoning, core, "sroa")
        assert re.search("invariant|iterations", paragraph_of(reasoning, core, "licm"))
        assert "vector" in paragraph_of(reasoning, core, "slp-vectorizer")
        assert "unroll" in paragraph_of(reasoning, core, "loop-unroll")
        assert "strength-reduce" in paragraph_of(reasoning, core, "loop-reduce") or \
            "cheaper incremented pointers" in paragraph_of(reasoning, core, "loop-reduce")


def test_evidence_decides_what_the_teacher_says():
    core = ("mem2reg", "loop-rotate", "licm", "instcombine", "simplifycfg")
    evidence = make_evidence(core=core)
    for entry in evidence.passes:
        entry["performance"]["removal_loss"] = 0.01
    evidence.passes[2]["performance"]["removal_loss"] = 0.3  # licm is the one that matters
    evidence.synergy[0]["synergy"] = 0.08  # mem2reg exposes opportunities for loop-rotate
    evidence.synergy[3]["synergy"] = -0.02  # instcombine and simplifycfg overlap
    essential_words = ("essential", "most important", "key pass", "only one pass could stay", "relies on it heavily",
                       "most of their effect")
    for seed in range(6):
        reasoning = parse_response(EvidenceTeacher(seed).respond(evidence, variant="full")).reasoning
        assert any(w in paragraph_of(reasoning, core, "licm") for w in essential_words)
        assert not any(w in paragraph_of(reasoning, core, "instcombine") for w in essential_words)
        assert "loop-rotate" in paragraph_of(reasoning, core, "mem2reg")
        assert "simplifycfg" not in paragraph_of(reasoning, core, "instcombine")
        rotate = paragraph_of(reasoning, core, "loop-rotate")
        assert any(w in rotate for w in ("indirect", "neutral", "may not save cycles", "hardly helps"))
        assert "stack slots" in paragraph_of(reasoning, core, "mem2reg")
    intents = evidence_intents(evidence)
    assert max(intents, key=intents.get) == "loop-transformation"


def test_variants_parse_with_their_requirements(evidences):
    teacher = EvidenceTeacher(seed=0)
    for evidence in evidences:
        core = evidence.core
        full = parse_response(teacher.respond(evidence, variant="full"), require=VARIANTS["full"])
        blind = parse_response(teacher.respond(evidence, variant="no-evidence"), require=VARIANTS["no-evidence"])
        bare_text = teacher.respond(evidence, variant="no-reasoning")
        bare = parse_response(bare_text, require=VARIANTS["no-reasoning"])
        assert full.sequence == blind.sequence == bare.sequence == core
        assert blind.intents == sequence_intents(core)
        assert bare.reasoning is None and bare.intents is None and "<reasoning>" not in bare_text
        assert full.reasoning != blind.reasoning


def test_no_evidence_variant_ignores_the_measured_evidence():
    evidence = make_evidence(core=("mem2reg", "loop-rotate", "licm", "instcombine"))
    altered = EvidenceRecord.from_dict(evidence.to_dict())
    for entry in altered.passes:
        entry["performance"]["removal_loss"] *= 7
        entry["performance"]["marginal_gain"] = -entry["performance"]["marginal_gain"]
        entry["structural"] = {"instructions": 99}
    for pair in altered.synergy:
        pair["synergy"] = -pair["synergy"]
    teacher = EvidenceTeacher(seed=2)
    assert teacher.respond(evidence, variant="no-evidence") == teacher.respond(altered, variant="no-evidence")
    assert teacher.respond(evidence, variant="full") != teacher.respond(altered, variant="full")


def test_bad_evidence_is_rejected_with_one_line():
    full = make_evidence()
    empty = replace(full, pruning={**full.pruning, "core": []}, passes=[], synergy=[])
    with pytest.raises(BadEvidenceError, match="empty core sequence"):
        EvidenceTeacher(0).respond(empty, variant="full")
    broken = make_evidence()
    del broken.passes[1]["performance"]["removal_loss"]
    with pytest.raises(BadEvidenceError, match="removal_loss"):
        EvidenceTeacher(0).respond(broken, variant="full")
    with pytest.raises(EccoError, match="unknown dataset variant 'cot'"):
        EvidenceTeacher(0).respond(make_evidence(), variant="cot")


def test_quoted_measurements_finds_leaks():
    evidence = make_evidence()
    core_cycles = evidence.cycles["core"]
    gain = evidence.passes[0]["performance"]["marginal_gain"]
    leaky = (f"mem2reg cuts cycles to {core_cycles:,} (a gain of {gain:.3f}), about 12% better, "
             f"and removes -13 allocas.")
    found = quoted_measurements(leaky, evidence)
    assert f"{core_cycles:,}" in found and f"{gain:.3f}" in found and "12%" in found and "-13" in found
    assert quoted_measurements(user_prompt(evidence), evidence) == []


# ---------------------------------------------------------------------------------------------
# The HTTP teacher against a local OpenAI-compatible server
# ---------------------------------------------------------------------------------------------

class ChatServer:
    """A tiny OpenAI-compatible endpoint: the reply depends on the requested model."""

    def __init__(self, replies: dict):
        self.replies = replies
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status, payload = server.replies.get(body.get("model"), (404, "no such model"))
                data = (json.dumps({"choices": [{"message": {"role": "assistant", "content": payload}}]})
                        if status == 200 else payload).encode()
                self.send_response(status if self.path == "/v1/chat/completions" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture(scope="module")
def chat_server():
    evidence = make_evidence()
    good = EvidenceTeacher(seed=11).respond(evidence, variant="full")
    wrong_sequence = good.replace("mem2reg, instcombine, simplifycfg, licm", "mem2reg, instcombine")
    leaky = good.replace("</reasoning>", f"It brings cycles down to {evidence.cycles['core']}.\n</reasoning>")
    server = ChatServer({"good": (200, "\n" + good + "\n"), "malformed": (200, "Here you go: " + good),
                         "wrong-sequence": (200, wrong_sequence), "leaky": (200, leaky),
                         "broken": (500, "upstream exploded\nTraceback: boom " + "x" * 400)})
    yield server, evidence, good
    server.close()


def test_http_teacher_sends_an_openai_request_and_validates_the_reply(chat_server, monkeypatch):
    server, evidence, good = chat_server
    monkeypatch.setenv("ECCO_TEST_TEACHER_KEY", "sk-test-123")
    teacher = HTTPTeacher(server.url + "/", "good", api_key_env="ECCO_TEST_TEACHER_KEY", seed=5)
    before = len(server.requests)
    assert teacher.respond(evidence, variant="full") == good
    request = server.requests[before]
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer sk-test-123"
    body = request["body"]
    assert body["model"] == "good" and body["temperature"] == 0 and body["seed"] == 5
    system, user = body["messages"]
    assert system == {"role": "system", "content": SYSTEM_PROMPT}
    assert user["role"] == "user"
    measured = evidence.to_dict()
    del measured["schema_version"]
    assert json.dumps(measured, sort_keys=True, separators=(",", ":")) in user["content"]
    assert "schema_version" not in user["content"]
    assert "<sequence>\nmem2reg, instcombine, simplifycfg, licm\n</sequence>" in user["content"]
    assert "never quote measured numbers" in user["content"]
    assert user_prompt(evidence) in user["content"]
    assert teacher.name == "http:good"


def test_http_teacher_no_evidence_prompt_and_no_reasoning_shortcut(chat_server, monkeypatch):
    server, evidence, good = chat_server
    monkeypatch.delenv("ECCO_TEST_TEACHER_KEY", raising=False)
    teacher = HTTPTeacher(server.url, "good", api_key_env="ECCO_TEST_TEACHER_KEY")
    before = len(server.requests)
    assert parse_response(teacher.respond(evidence, variant="no-evidence")).sequence == \
        evidence.core
    request = server.requests[before]
    assert "Authorization" not in request["headers"]
    assert '"removal_loss"' not in request["body"]["messages"][1]["content"]
    assert str(evidence.cycles["core"]) not in request["body"]["messages"][1]["content"]
    sequence_only = teacher.respond(evidence, variant="no-reasoning")
    assert sequence_only == "<sequence>\nmem2reg, instcombine, simplifycfg, licm\n</sequence>"
    assert len(server.requests) == before + 1  # no request for the sequence-only variant


@pytest.mark.parametrize("model, reason", [
    ("malformed", "text outside the tags"),
    ("wrong-sequence", "differs from the core sequence"),
    ("leaky", "quotes measured numbers"),
])
def test_http_teacher_rejects_bad_replies(chat_server, model, reason):
    server, evidence, _ = chat_server
    with pytest.raises(MalformedResponse, match=reason):
        HTTPTeacher(server.url, model).respond(evidence, variant="full")


def test_http_teacher_reports_http_errors_in_one_line_after_retries(chat_server):
    server, evidence, _ = chat_server
    before = len(server.requests)
    with pytest.raises(EccoError) as caught:
        HTTPTeacher(server.url, "broken", max_retries=2, backoff_s=0).respond(evidence, variant="full")
    message = str(caught.value)
    assert "HTTP 500" in message and "upstream exploded Traceback: boom" in message
    assert "\n" not in message and message.count("x") < 210
    assert len(server.requests) == before + 3
    with pytest.raises(EccoError, match="HTTP 404"):
        HTTPTeacher(server.url, "unknown-model", backoff_s=0).respond(evidence, variant="full")
    with pytest.raises(EccoError, match="not an http"):
        HTTPTeacher("ftp://example.org", "good")


def test_make_teacher_from_the_profiles(chat_server):
    from ecco_lib.config import load_profile

    server, evidence, good = chat_server
    for profile in ("smoke", "default", "full"):
        spec = load_profile(profile)["dataset"]["teacher"]
        assert spec["kind"] == "evidence"
        assert make_teacher(spec, seed=4).respond(evidence, variant="full") == \
            EvidenceTeacher(seed=4, concise=spec["concise"]).respond(evidence, variant="full")
    http = make_teacher({"kind": "http", "base_url": server.url, "model": "good", "max_retries": 0}, seed=9)
    assert (http.name, http.seed, http.max_retries) == ("http:good", 9, 0)
    assert http.respond(evidence, variant="full") == good
    with pytest.raises(EccoError, match="needs base_url"):
        make_teacher({"kind": "http", "base_url": None, "model": "m"}, seed=0)
    with pytest.raises(EccoError, match="unknown teacher kind 'oracle'"):
        make_teacher({"kind": "oracle"}, seed=0)


# ---------------------------------------------------------------------------------------------
# The dataset
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", list(VARIANTS))
def test_build_samples_for_each_variant(evidences, variant):
    samples = build_samples(evidences, EvidenceTeacher(seed=0), variant)
    assert len(samples) == len(evidences)
    for sample, evidence in zip(samples, evidences):
        assert sample["program"] == evidence.program and sample["suite"] == evidence.suite
        assert sample["variant"] == variant and sample["teacher"] == "evidence"
        assert [m["role"] for m in sample["messages"]] == ["system", "user", "assistant"]
        assert sample["messages"][0]["content"] == SYSTEM_PROMPT
        assert sample["messages"][1]["content"] == user_prompt(evidence)
        response = parse_response(sample["messages"][2]["content"], require=VARIANTS[variant])
        assert sample["sequence"] == list(evidence.core) == list(response.sequence)
        assert sample["intents"] == response.intents
        assert (sample["intents"] is None) == (variant == "no-reasoning")


def test_build_samples_rejects_a_teacher_that_changes_the_sequence(evidences):
    class ShortTeacher:
        name = "short"

        def respond(self, evidence, *, variant):
            return StrategistResponse(sequence=("dce",)).render()

    with pytest.raises(MalformedResponse, match="not the core sequence"):
        build_samples(evidences, ShortTeacher(), "no-reasoning")
    with pytest.raises(MalformedResponse, match="missing <reasoning>"):
        build_samples(evidences, ShortTeacher(), "full")


def test_jsonl_round_trip_is_atomic(evidences, tmp_path):
    samples = build_samples(evidences, EvidenceTeacher(seed=0), "full")
    path = write_jsonl(samples, tmp_path / "out" / "cot.jsonl")
    assert read_jsonl(path) == samples
    assert sorted(p.name for p in path.parent.iterdir()) == ["cot.jsonl"]
    assert len(path.read_text().splitlines()) == len(samples)
    (tmp_path / "bad.jsonl").write_text('{"a": 1}\n\n{oops\n')
    with pytest.raises(EccoError, match=r"bad.jsonl:3: not JSON"):
        read_jsonl(tmp_path / "bad.jsonl")
    with pytest.raises(EccoError, match="no such JSONL file"):
        read_jsonl(tmp_path / "missing.jsonl")


def tiny_samples() -> list[dict]:
    def sample(program, suite, variant, text, sequence, intents):
        return {"program": program, "suite": suite, "variant": variant, "teacher": "t",
                "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"},
                             {"role": "assistant", "content": text}],
                "sequence": sequence, "intents": intents}

    return [sample("ecco://nas/cg", "nas", "full", "one two three", ["mem2reg", "instcombine", "gvn"],
                   {"memory-to-register": 0.5, "scalar-simplification": 0.5}),
            sample("ecco://nas/cg", "nas", "no-reasoning", "four five", ["mem2reg"], None),
            sample("ecco://hls/mips", "hls", "full", "six seven eight nine ten", ["gvn", "gvn", "licm", "dce"],
                   {"redundancy-elimination": 0.8, "loop-transformation": 0.2})]


def test_datasheet_numbers_for_a_tiny_set():
    sheet = datasheet(tiny_samples())
    assert (sheet["samples"], sheet["programs"], sheet["suites"]) == (3, 2, 2)
    assert sheet["per_suite"] == {"hls": 1, "nas": 2}
    assert sheet["variants"] == {"full": 2, "no-reasoning": 1}
    assert sheet["assistant_chars"] == {"min": 9, "median": 13, "max": 24}
    assert sheet["assistant_words"] == {"min": 2, "median": 3, "max": 5}
    assert sheet["sequence_length"] == {"min": 1, "median": 3, "max": 4}
    assert sheet["categories"]["memory-to-register"] == 2
    assert sheet["categories"]["redundancy-elimination"] == 3
    assert sheet["categories"]["loop-transformation"] == 1
    assert sheet["categories"]["dead-code"] == 1
    assert sheet["categories"]["vectorization"] == 0
    assert sum(sheet["categories"].values()) == 8
    assert sheet["intents_mean"]["memory-to-register"] == pytest.approx(0.25)
    assert sheet["intents_mean"]["redundancy-elimination"] == pytest.approx(0.4)
    assert sheet["intents_mean"]["vectorization"] == 0
    assert sheet["top_passes"][:3] == [{"pass": "gvn", "count": 3}, {"pass": "mem2reg", "count": 2},
                                       {"pass": "dce", "count": 1}]
    with pytest.raises(EccoError, match="empty dataset"):
        datasheet([])


def test_plot_datasheet_writes_one_png(evidences, tmp_path):
    samples = tiny_samples() + build_samples(evidences, EvidenceTeacher(seed=0), "no-evidence")
    path = plot_datasheet(samples, tmp_path / "figures" / "datasheet.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000
    assert [p.name for p in path.parent.iterdir()] == ["datasheet.png"]


def test_concise_teacher_writes_one_line_per_pass_from_the_same_evidence():
    evidence = make_evidence()
    full = parse_response(EvidenceTeacher(seed=3).respond(evidence, variant="full"))
    concise = parse_response(EvidenceTeacher(seed=3, concise=True).respond(evidence, variant="full"))
    assert len(concise.reasoning) < len(full.reasoning) / 2
    assert concise.sequence == full.sequence and concise.intents == full.intents
    lines = concise.reasoning.splitlines()
    core = evidence.core
    assert len(lines) == 1 + len(core)
    assert [line.split(":")[0] for line in lines[1:]] == [f"{i + 1}. {name}" for i, name in enumerate(core)]
    # the pass whose removal costs most is named the key pass, in the prose and in the line
    losses = [p["performance"]["removal_loss"] for p in evidence.passes]
    key = losses.index(max(losses))
    assert "the key pass" in lines[1 + key] and sum("the key pass" in line for line in lines) == 1
    # a pass that saves no cycles on its own (make_evidence builds loop-rotate so) is an enabler
    rotated = EvidenceTeacher(seed=3, concise=True).respond(make_evidence(core=("mem2reg", "loop-rotate", "licm")),
                                                            variant="full")
    assert "2. loop-rotate: " in rotated and "prepares later passes" in parse_response(rotated).reasoning.splitlines()[2]
    assert quoted_measurements(concise.reasoning, evidence) == []
    blind = parse_response(EvidenceTeacher(seed=3, concise=True).respond(evidence, variant="no-evidence"))
    assert [line.split(":")[0] for line in blind.reasoning.splitlines()[1:]] == \
        [f"{i + 1}. {name}" for i, name in enumerate(core)]
    assert "key pass" not in blind.reasoning and "minor" not in blind.reasoning
    assert make_teacher({"kind": "evidence", "concise": True}, seed=3).concise


@pytest.mark.parametrize("concise", [False, True])
def test_brief_variant_keeps_the_two_passes_of_largest_removal_loss_under_their_positions(concise):
    core = ("mem2reg", "instcombine", "simplifycfg", "licm", "instcombine", "gvn")
    evidence = make_evidence(core=core)
    full = parse_response(EvidenceTeacher(seed=3, concise=True).respond(evidence, variant="full"))
    brief = parse_response(EvidenceTeacher(seed=3, concise=concise).respond(evidence, variant="brief"))
    assert brief.sequence == full.sequence == core and brief.intents == full.intents
    losses = [p["performance"]["removal_loss"] for p in evidence.passes]
    top = sorted(sorted(range(len(core)), key=lambda i: -losses[i])[:BRIEF_PASS_LINES])
    full_lines = full.reasoning.splitlines()
    # the observation sentence, then the full variant's own lines of the top passes, in order
    assert brief.reasoning.splitlines() == [full_lines[0]] + [full_lines[1 + i] for i in top]
    assert "the key pass" in brief.reasoning and quoted_measurements(brief.reasoning, evidence) == []
    claims = parse_claims(brief.reasoning, brief.sequence).claims
    assert {c.position for c in claims} == set(top)
    with pytest.raises(EccoError, match="evidence teacher only"):
        HTTPTeacher("http://127.0.0.1:9/v1", "m", seed=0).respond(evidence, variant="brief")
