"""The README's measured numbers, rendered from the tables the notebooks write under ``results/``.

Each block of the README between ``<!-- results:NAME -->`` and ``<!-- /results:NAME -->`` is the
output of ``BLOCKS[NAME](root, profile)``; ``python -m ecco_lib.readme`` rewrites them after a run
(``--check`` only compares), and a test fails when one differs from the committed tables, so a
number in those blocks cannot drift from the data behind it. Percentages: one decimal in tables,
two in the claims table (:mod:`ecco_lib.summary`).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import pandas as pd

from ecco_lib.config import REPO_ROOT, load_profile
from ecco_lib.errors import EccoError

_BLOCK = re.compile(r"(<!-- results:(?P<name>[a-z0-9-]+) -->\n)(?P<body>.*?)(<!-- /results:(?P=name) -->)", re.S)


def _read(root: Path, relative: str) -> pd.DataFrame:
    path = root / "results" / relative
    if not path.is_file():
        raise EccoError(f"{path} is missing: run the notebook that writes it")
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def _p(value, digits: int = 1) -> str:
    return "–" if value is None or pd.isna(value) else f"{100 * float(value):.{digits}f}"


def _pc(value, digits: int = 1) -> str:
    """A percentage table cell: ``12.3 %``, or ``–`` when there is no value."""
    text = _p(value, digits)
    return text if text == "–" else f"{text} %"


def _pp(value, low, high) -> str:
    interval = "" if pd.isna(low) else f" ({100 * low:+.1f}, {100 * high:+.1f})"
    return f"{100 * value:+.1f}{interval}"


def _wtl(row) -> str:
    return f"{int(row['wins'])}/{int(row['ties'])}/{int(row['losses'])}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def dataset(root: Path, profile) -> str:
    """Notebook 02-03: corpus, search, pruning, evidence, star passes, samples."""
    search = _read(root, "dataset/search.csv")
    pruning = _read(root, "dataset/pruning.csv")
    embedded = search[search["program"].str.startswith("ecco://")]
    prior = json.loads((root / "results" / "dataset" / "efficacy_prior.json").read_text())
    stars = sorted(prior["passes"], key=lambda p: -p["mean_gain"])[:7]
    records = len(list((root / "results" / "dataset" / "evidence").glob("*/*.json")))
    samples = {v: sum(1 for _ in open(root / "results" / "dataset" / f"cot_{v}.jsonl"))
               for v in profile["dataset"]["variants"]}
    lower = int((pruning["cycles_after"] < pruning["cycles_before"]).sum())
    return (f"{len(search)} training programs ({len(embedded)} embedded train + {len(search) - len(embedded)} csmith), "
            f"GA budget {int(search['evaluations'].max())} evaluations per program. The searched sequence beats -O3 on "
            f"{int(search['beats_O3'].sum())}/{len(search)} programs (mean I_O3 {_p(embedded['i_o3'].mean())} % on the "
            f"embedded train programs, {_p(search['i_o3'].mean())} % over all) and -Oz on "
            f"{int(search['beats_Oz'].sum())}/{len(search)} (mean gain over -Oz {_p(search['vs_Oz'].mean())} %). "
            f"Algorithm 1 shortens the {len(pruning)} pruned sequences from {pruning['length_before'].mean():.1f} to "
            f"{pruning['length_after'].mean():.1f} passes on average (paper: 18.5 → 4.5), never increasing cycles "
            f"(lower for {lower} of {len(pruning)}). {records} evidence records. Star passes by mean marginal gain: "
            f"{', '.join(p['pass'] for p in stars)}. CoT samples: "
            f"{', '.join(f'{n} {v}' for v, n in samples.items())}.\n")


def training(root: Path, profile) -> str:
    """Notebooks 04-05: greedy answers per stage on the held-out test programs."""
    from ecco_lib.strategist import summarize_outputs

    rows = pd.concat([_read(root, "training/eval_sft.csv"), _read(root, "training/eval_grpo.csv")], ignore_index=True)
    rows = rows.drop_duplicates(["stage", "program"], keep="last")
    order = {s: (0 if s == "base" else 1 if s.startswith("sft-") else 2, i) for i, s in enumerate(dict.fromkeys(rows["stage"]))}
    rows = rows.iloc[sorted(range(len(rows)), key=lambda i: order[rows["stage"].iloc[i]])]
    limit = profile["training"]["max_new_tokens"]
    out = []
    for stage, group in rows.groupby("stage", sort=False):
        s, n = summarize_outputs(group, limit), len(group)
        count = lambda rate: f"{round(rate * n)}/{n}"  # noqa: E731
        out.append([stage, count(s["format_valid_rate"]), count(s["valid_passes_rate"]),
                    count(s["intents_well_formed_rate"]), count(s["ok_rate"]), _pc(s["mean_i_o3"]),
                    _pc(s["mean_i_o3_all"]), count(s["cut_off_rate"])])
    return _table(["stage", "parses", "valid passes", "intents sum to 1", "compiles ok", "mean I_O3 (ok answers)",
                   "mean I_O3 (failed = 0)", f"cut off at {limit} tokens"], out) + "\n"


def tuning(root: Path, profile) -> str:
    """Notebook 06: the train-split settings sweep against ``ga``."""
    table = _read(root, "inference/tuning_summary.csv")
    rows = [[f"`{r['method']}`", _pc(r["mean_i_o3"]),
             "–" if r["method"] == "ga" else _pp(r["mean_difference"], r["ci_low"], r["ci_high"]),
             "–" if r["method"] == "ga" else _wtl(r)] for _, r in table.iterrows()]
    return _table(["variant (train split)", "mean I_O3", "vs `ga` (pp, 95 % bootstrap)", "wins/ties/losses"], rows) + "\n"


def inference(root: Path, profile) -> str:
    """Notebook 06 on the test split: each method paired against ``ga`` on the same cells."""
    paired = _read(root, "inference/paired_vs_ga.csv")
    paired = paired[paired["suite"] == "average"].sort_values("mean_difference", ascending=False)
    rows = [[f"`{r['method']}`", _pp(r["mean_difference"], r["ci_low"], r["ci_high"]), _wtl(r), str(int(r["cells"]))]
            for _, r in paired.iterrows()]
    return _table(["method (test split)", "minus `ga` (pp, 95 % bootstrap)", "wins/ties/losses", "cells"], rows) + "\n"


def rq1(root: Path, profile) -> str:
    """Notebook 07: Table 1 with each method's interval and ``ecco`` paired against it."""
    table = _read(root, "rq1/table1.csv").set_index("method")
    intervals = _read(root, "rq1/headline_intervals.csv").set_index("method")
    paired = _read(root, "rq1/paired_ecco.csv").set_index("baseline")
    suites = [c for c in table.columns if c != "average"]
    rows = []
    for method, row in table.iterrows():
        name = f"**{method}**" if method == "ecco" else method
        ci = intervals.loc[method]
        versus = "–" if method == "ecco" else \
            f"{_pp(paired.loc[method, 'mean_difference'], paired.loc[method, 'ci_low'], paired.loc[method, 'ci_high'])}; " \
            f"{_wtl(paired.loc[method])}"
        rows.append([name, *[f"{row[s]:.1f}" for s in suites], f"{row['average']:.1f}",
                     "–" if pd.isna(ci["ci_low"]) else f"{100 * ci['ci_low']:.1f}–{100 * ci['ci_high']:.1f}", versus])
    return _table(["method", *suites, "average", "95 % CI", "`ecco` vs it (pp, 95 % CI; W/T/L)"], rows) + "\n"


def rq2(root: Path, profile) -> str:
    """Notebook 08: every strategist per decoding mode."""
    modes = _read(root, "rq2/modes.csv")
    rows = [[r["strategist"], r["mode"], str(int(r["programs"])), _pc(r["format_valid"], 0), _pc(r["mean_i_o3"]), "–" if pd.isna(r["ci_low"]) else f"{_p(r['ci_low'])}–{_p(r['ci_high'])}"]
            for _, r in modes.iterrows()]
    return _table(["strategist", "mode", "programs", "answers that parse", "mean I_O3", "95 % CI"], rows) + "\n"


def policies(root: Path, profile) -> str:
    """Notebook 08: the strategist's Best-of-N against the policies at the same N."""
    table = _read(root, "strategist/policy_table.csv")
    rows = [[r["split"], str(int(r["n"])), f"`{r['policy']}`", f"{r['strategist (%)']:.1f} %", f"{r['policy (%)']:.1f} %",
             f"{r['difference (pp)']:+.1f}" + ("" if pd.isna(r["ci_low"]) else f" ({r['ci_low']:+.1f}, {r['ci_high']:+.1f})"),
             _wtl(r)] for _, r in table.iterrows()]
    return _table(["split", "N", "policy", "strategist Best-of-N", "policy", "strategist − policy (pp, 95 % CI)",
                   "W/T/L"], rows) + "\n"


def strategists(root: Path, profile) -> str:
    """``perf/strategist_policies.py``: several strategists' Best-of-N against the same policies,
    per split, with the median generation cost per program."""
    table = _read(root, "perf/strategist_policies.csv")
    rows = []
    for (name, engine, split), group in table.groupby(["strategist", "engine", "split"], sort=False):
        by = group.set_index("policy")
        cost = "cached" if by["generation_s"].iloc[0] < 0.5 else f"{by['generation_s'].iloc[0]:.0f} s"
        rows.append([f"`{name}`", engine, split, str(int(by["programs"].iloc[0])), f"{by['strategist (%)'].iloc[0]:.1f} %",
                     *(f"{by.loc[p, 'difference (pp)']:+.1f} ({by.loc[p, 'ci_low']:+.1f}, {by.loc[p, 'ci_high']:+.1f}); "
                       f"{_wtl(by.loc[p])}" for p in ("rio", "prior-top-n", "knn")),
                     f"{cost}, {by['new_tokens'].iloc[0]:,.0f} tokens"])
    return _table(["strategist", "engine", "split", "programs", "Best-of-N", "− `rio` (pp, 95 % CI; W/T/L)", "− `prior-top-n`",
                   "− `knn`", "generation per program (median)"], rows) + "\n"


def strategists_with_ga(root: Path, profile) -> str:
    """``perf/strategist_policies.py --with-ga``: ``ecco`` steered by each strategist, against the first."""
    table = _read(root, "perf/strategist_with_ga.csv")
    rows = [[r["split"], f"`{r['strategist']}`", str(int(r["programs"])), f"{r['ecco (%)']:.1f} %",
             "–" if pd.isna(r["minus reference (pp)"]) else
             f"{r['minus reference (pp)']:+.2f} ({r['ci_low']:+.2f}, {r['ci_high']:+.2f}); {_wtl(r)}"]
            for _, r in table.iterrows()]
    return _table(["split", "`ecco` steered by", "programs", "mean I_O3", "minus the first (pp, 95 % CI; W/T/L)"],
                  rows) + "\n"


def rq3(root: Path, profile) -> str:
    """Notebook 09: ``ecco`` against the LLM alone and the ablations; intents; who found the best."""
    paired = _read(root, "rq3/paired_ecco.csv")
    rows = [[f"`{r['baseline']}`", _pp(r["mean_difference"], r["ci_low"], r["ci_high"]), _wtl(r)]
            for _, r in paired.iterrows()]
    align = _read(root, "rq3/intent_alignment_summary.csv").iloc[0]
    found = _read(root, "rq3/found_by.csv").set_index("method")
    text = _table(["`ecco` minus", "pp (95 % CI)", "W/T/L"], rows) + "\n\n"
    if int(align["cells"]):
        text += (f"Intent alignment (total variation distance between the intents and the category mass of the final "
                 f"best sequence, 0 = same): `ecco` {align['tv_method']:.3f}, `ga`'s final best against the same "
                 f"intents {align['tv_control']:.3f}, a uniform draw {align['tv_chance']:.3f}; `ecco` closer in "
                 f"{int(align['closer'])} of {int(align['cells'])} cells, gap {align['gap']:.3f} "
                 f"({align['gap_ci_low']:.3f} to {align['gap_ci_high']:.3f}). ")
    text += ("Final best found by the GA, not an answer as sampled: " +
             ", ".join(f"`{m}` {int(r['ga'])}/{int(r['cells'])}" for m, r in found.iterrows()) + ".\n")
    return text


def rq4(root: Path, profile) -> str:
    """Notebook 10: per source, the claims the evidence supports against chance."""
    rates = _read(root, "rq4/rates.csv")
    rows = [[r["source"], f"{int(r['parsed'])}/{int(r['answers'])}", str(int(r["claims"])),
             f"{int(r['supported'])}/{int(r['contradicted'])}/{int(r['not checkable'])}", _pc(r["supported_share"]),
             "–" if pd.isna(r["ci_low"]) else f"{_p(r['ci_low'])}–{_p(r['ci_high'])}", _pc(r["chance_share"]),
             _pc(r["unmapped_share"])] for _, r in rates.iterrows()]
    return _table(["answers of", "parse", "claims", "supported/contradicted/not checkable", "supported",
                   "95 % CI", "chance", "reasoning not read"], rows) + "\n"


def rq5(root: Path, profile) -> str:
    """Notebook 11: every method's best sequence timed against -O3."""
    summary = _read(root, "rq5/summary.csv")
    rows = [[f"`{r['method']}`", str(int(r["programs"])), f"{r['median_speedup']:.3f}",
             f"{int(r['faster'])}/{int(r['same'])}/{int(r['slower'])}",
             f"{int(r['improvements_slower'])}/{int(r['improvements'])}",
             "–" if pd.isna(r["spearman_i_o3_speedup"]) else f"{r['spearman_i_o3_speedup']:+.2f}"]
            for _, r in summary.iterrows()]
    return _table(["method", "programs", "median speed-up over -O3", "faster/same/slower",
                   "cycle improvements that run slower", "Spearman (I_O3, speed-up)"], rows) + "\n"


def claims(root: Path, profile) -> str:
    from ecco_lib.summary import claims_table, load_summary

    return claims_table(load_summary(root)) + "\n"


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    parts = [f"{hours} h"] if hours else []
    if rest >= 60 or hours:
        parts.append(f"{rest // 60} min")
    return " ".join(parts + [f"{rest % 60} s"])


def timing(root: Path, profile) -> str:
    """``ecco reproduce``: wall time per notebook of the default profile, empty and warm cache."""
    times = _read(root, "reproduce_times.csv")
    times = times[times["profile"] == "default"].pivot_table(index="notebook", columns="cache", values="seconds",
                                                            sort=False)
    states = [c for c in ("empty", "warm") if c in times]
    rows = [[f"`{name}`", *(_duration(times.loc[name, c]) if pd.notna(times.loc[name, c]) else "–" for c in states)]
            for name in times.index]
    rows.append(["all notebooks", *(f"**{_duration(times[c].sum())}**" for c in states)])
    return _table(["notebook", *(f"{c} cache" for c in states)], rows) + "\n"


BLOCKS = {"claims": claims, "dataset": dataset, "training": training, "tuning": tuning, "inference": inference,
          "rq1": rq1, "rq2": rq2, "policies": policies, "rq3": rq3, "rq4": rq4, "rq5": rq5, "timing": timing,
          "strategists": strategists, "strategists-with-ga": strategists_with_ga}


def render(text: str, root: Path, profile) -> str:
    """``text`` with every results block replaced by its rendering from ``root``."""
    def replace(match):
        name = match.group("name")
        if name not in BLOCKS:
            raise EccoError(f"README block '{name}' is unknown (known: {', '.join(BLOCKS)})")
        return match.group(1) + BLOCKS[name](root, profile) + match.group(4)

    return _BLOCK.sub(replace, text)


def stale_blocks(text: str, root: Path, profile) -> list[str]:
    """Names of the blocks whose text differs from their rendering."""
    return [m.group("name") for m in _BLOCK.finditer(text) if m.group("body") != BLOCKS[m.group("name")](root, profile)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecco_lib.readme", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale blocks (exit 1 if any)")
    parser.add_argument("--profile", default="default", help="the profile the committed results were made with")
    parser.add_argument("--readme", type=Path, default=REPO_ROOT / "README.md")
    args = parser.parse_args(argv)
    profile, text = load_profile(args.profile), args.readme.read_text()
    stale = stale_blocks(text, REPO_ROOT, profile)
    if args.check:
        print("stale: " + ", ".join(stale) if stale else "every results block is up to date")
        return 1 if stale else 0
    args.readme.write_text(render(text, REPO_ROOT, profile))
    print(f"rewrote {len(stale)} block(s): {', '.join(stale) or 'none changed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
