"""The pass registry and pipeline building, against the real opt-19."""

from __future__ import annotations

import random
import subprocess

import pytest

from ecco_lib.errors import UnknownPassError
from ecco_lib.llvm import CATEGORIES, DROPPED, REGISTRY, Pipeline, find_toolchain, lookup, parse_sequence

# CompilerGym 0.2.5's LLVM action space, in its order (FACTS.md).
COMPILERGYM_124 = """
-add-discriminators -adce -aggressive-instcombine -alignment-from-assumptions -always-inline
-argpromotion -attributor -barrier -bdce -break-crit-edges -simplifycfg -callsite-splitting
-called-value-propagation -canonicalize-aliases -consthoist -constmerge -constprop -coro-cleanup
-coro-early -coro-elide -coro-split -correlated-propagation -cross-dso-cfi -deadargelim -dce -die
-dse -reg2mem -div-rem-pairs -early-cse-memssa -early-cse -elim-avail-extern -ee-instrument
-flattencfg -float2int -forceattrs -inline -insert-gcov-profiling -gvn-hoist -gvn -globaldce
-globalopt -globalsplit -guard-widening -hotcoldsplit -ipconstprop -ipsccp -indvars -irce
-infer-address-spaces -inferattrs -inject-tli-mappings -instsimplify -instcombine -instnamer
-jump-threading -lcssa -licm -libcalls-shrinkwrap -load-store-vectorizer -loop-data-prefetch
-loop-deletion -loop-distribute -loop-fusion -loop-guard-widening -loop-idiom -loop-instsimplify
-loop-interchange -loop-load-elim -loop-predication -loop-reroll -loop-rotate -loop-simplifycfg
-loop-simplify -loop-sink -loop-reduce -loop-unroll-and-jam -loop-unroll -loop-unswitch
-loop-vectorize -loop-versioning-licm -loop-versioning -loweratomic -lower-constant-intrinsics
-lower-expect -lower-guard-intrinsic -lowerinvoke -lower-matrix-intrinsics -lowerswitch
-lower-widenable-condition -memcpyopt -mergefunc -mergeicmps -mldst-motion -sancov
-name-anon-globals -nary-reassociate -newgvn -pgo-memop-opt -partial-inliner
-partially-inline-libcalls -post-inline-ee-instrument -functionattrs -mem2reg -prune-eh
-reassociate -redundant-dbg-inst-elim -rpo-functionattrs -rewrite-statepoints-for-gc -sccp
-slp-vectorizer -sroa -scalarizer -separate-const-offset-from-gep -simple-loop-unswitch -sink
-speculative-execution -slsr -strip-dead-prototypes -strip-debug-declare -strip-nondebug -strip
-tailcallelim -mergereturn
""".split()


def test_registry_covers_compilergym_action_space_in_order():
    assert len(COMPILERGYM_124) == 124
    legacy = [p.legacy for p in REGISTRY]
    assert legacy == [f[1:] for f in COMPILERGYM_124 if f[1:] not in DROPPED]
    assert len(REGISTRY) + len(DROPPED) == 124
    assert len({p.name for p in REGISTRY}) == len(REGISTRY)
    assert [p.index for p in REGISTRY] == list(range(len(REGISTRY)))


def test_categories_are_a_small_vocabulary_and_all_used():
    assert 8 <= len(CATEGORIES) <= 12
    assert {p.category for p in REGISTRY} == set(CATEGORIES)


def test_parse_accepts_new_legacy_and_mixed_separators():
    assert parse_sequence("-mem2reg, instcombine  early-cse<memssa>,-loop-unswitch -functionattrs") == (
        "mem2reg", "instcombine", "early-cse-memssa", "loop-unswitch", "function-attrs")
    assert parse_sequence(["sroa", "-lowerswitch"]) == ("sroa", "lower-switch")
    assert parse_sequence("") == ()
    assert parse_sequence("  ,, ") == ()


@pytest.mark.parametrize("text, fragment", [
    ("mem2reg,not-a-pass", "unknown pass 'not-a-pass'"),
    ("-prune-eh", "no LLVM 19 counterpart"),
    ("function(mem2reg)", "malformed sequence"),
])
def test_parse_rejects_with_a_message_naming_the_problem(text, fragment):
    with pytest.raises(UnknownPassError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        parse_sequence(text)


def test_wrapping_groups_consecutive_passes_by_level():
    text = Pipeline.of_passes("mem2reg licm loop-rotate inline function-attrs ipsccp instcombine indvars").opt_text
    assert text == ("function(mem2reg,loop-mssa(licm,loop-rotate)),cgscc(inline,function-attrs),ipsccp,"
                    "function(instcombine<no-verify-fixpoint>,loop-mssa(indvars))")
    assert Pipeline.of_passes("").opt_text == ""
    assert Pipeline.of_level("-O3").opt_text == "default<O3>"


def _opt_accepts(ir: bytes, pipeline: str) -> subprocess.CompletedProcess:
    return subprocess.run([find_toolchain().opt, f"-passes={pipeline}", "-disable-output", "-"], input=ir,
                          capture_output=True, check=False)


def test_every_registry_pass_runs_alone(small_program):
    failures = {p.name: _opt_accepts(small_program.ir, Pipeline.of_passes([p.name]).opt_text).stderr[:200]
                for p in REGISTRY}
    failures = {k: v for k, v in failures.items() if v and b"error" in v.lower()}
    assert not failures


def test_mixed_level_random_sequences_are_valid_pipelines(small_program):
    rng = random.Random(7)
    names = [p.name for p in REGISTRY]
    for _ in range(40):
        seq = [rng.choice(names) for _ in range(rng.randint(1, 40))]
        proc = _opt_accepts(small_program.ir, Pipeline.of_passes(seq).opt_text)
        assert proc.returncode == 0, (seq, proc.stderr[:300])


def test_lookup_of_every_spelling_is_consistent():
    for p in REGISTRY:
        assert lookup(p.name) is p and lookup(f"-{p.legacy}") is p
