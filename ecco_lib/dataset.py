"""Paper stage 3, the chain-of-thought (CoT) dataset: one chat sample per evidence record written
by a teacher (:mod:`ecco_lib.teachers`), JSONL files, and the datasheet that summarizes them.

A sample is ``{program, suite, variant, teacher, messages, sequence, intents}``: ``messages`` are
[system, user, assistant] in trl's conversational format (:mod:`ecco_lib.prompts` for the first
two, an answer in the format of :mod:`ecco_lib.response` for the third); ``sequence`` and
``intents`` are the assistant text's parsed parts (``intents`` None for ``no-reasoning``).
"""

from __future__ import annotations

import json
import os
import statistics
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

import seaborn as sns
from matplotlib.figure import Figure
from tqdm import tqdm

from ecco_lib.atomic import atomic_path
from ecco_lib.errors import EccoError
from ecco_lib.llvm.passes import CATEGORIES, lookup
from ecco_lib.prompts import SYSTEM_PROMPT, user_prompt
from ecco_lib.response import MalformedResponse, parse_response, variant_parts
from ecco_lib.teachers import Teacher, core_sequence

if TYPE_CHECKING:
    from ecco_lib.evidence import EvidenceRecord


def build_samples(evidences: Sequence[EvidenceRecord], teacher: Teacher, variant: str, *,
                  progress: bool = False) -> list[dict]:
    """One chat sample per evidence record (the ``messages`` format trl's SFTTrainer consumes).
    Every assistant text is checked to parse with its variant's required parts and to end with
    the core sequence; a violation raises :class:`MalformedResponse`."""
    require = variant_parts(variant)
    samples = []
    for evidence in tqdm(evidences, desc=f"teacher {teacher.name} ({variant})", disable=not progress):
        text = teacher.respond(evidence, variant=variant)
        response = parse_response(text, require=require)
        core = core_sequence(evidence)
        if response.sequence != core:
            raise MalformedResponse(f"{evidence.program}: teacher {teacher.name} gave sequence "
                                    f"{', '.join(response.sequence)}, not the core sequence {', '.join(core)}")
        samples.append({
            "program": evidence.program, "suite": evidence.suite, "variant": variant, "teacher": teacher.name,
            "messages": [{"role": "system", "content": SYSTEM_PROMPT},
                         {"role": "user", "content": user_prompt(evidence)},
                         {"role": "assistant", "content": text}],
            "sequence": list(response.sequence), "intents": response.intents,
        })
    return samples


def write_jsonl(samples: Iterable[Mapping], path: str | os.PathLike) -> Path:
    """Write one JSON object per line, atomically (temporary file + rename)."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as out:
            for sample in samples:
                out.write(json.dumps(sample, ensure_ascii=False) + "\n")
    return Path(path)


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """Read a JSONL file written by :func:`write_jsonl` (blank lines are skipped)."""
    path = Path(path)
    if not path.is_file():
        raise EccoError(f"no such JSONL file: {path}")
    rows = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise EccoError(f"{path}:{number}: not JSON ({e.msg})") from None
    return rows


def _summary(values: Sequence[float]) -> dict:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def datasheet(samples: Sequence[Mapping], top: int = 10) -> dict:
    """Summary of a dataset: counts, per-suite/variant/teacher counts, assistant-text length
    (characters, words) and sequence-length min/median/max, pass counts per category of the
    sequences, mean intent weight per category over the samples with intents (absent category =
    0), and the ``top`` most frequent passes."""
    if not samples:
        raise EccoError("datasheet of an empty dataset")
    assistant = [s["messages"][-1]["content"] for s in samples]
    passes = Counter(p for s in samples for p in s["sequence"])
    categories = {c: 0 for c in CATEGORIES}
    for name, count in passes.items():
        categories[lookup(name).category] += count
    with_intents = [s["intents"] for s in samples if s.get("intents")]
    return {
        "samples": len(samples),
        "programs": len({s["program"] for s in samples}),
        "suites": len({s["suite"] for s in samples}),
        "per_suite": dict(sorted(Counter(s["suite"] for s in samples).items())),
        "variants": dict(sorted(Counter(s["variant"] for s in samples).items())),
        "teachers": dict(sorted(Counter(s["teacher"] for s in samples).items())),
        "assistant_chars": _summary([len(t) for t in assistant]),
        "assistant_words": _summary([len(t.split()) for t in assistant]),
        "sequence_length": _summary([len(s["sequence"]) for s in samples]),
        "categories": categories,
        "intents_mean": {c: statistics.fmean(i.get(c, 0.0) for i in with_intents) for c in CATEGORIES}
        if with_intents else {},
        "top_passes": [{"pass": p, "count": n} for p, n in sorted(passes.items(), key=lambda x: (-x[1], x[0]))[:top]],
    }


def plot_datasheet(samples: Sequence[Mapping], path: str | os.PathLike) -> Path:
    """One PNG, three panels: assistant-text length histogram (characters), sequence-length
    histogram (passes) and the category distribution of the sequences' passes."""
    sheet = datasheet(samples)
    fig = Figure(figsize=(16, 4.5))
    chars_ax, length_ax, category_ax = fig.subplots(1, 3)
    sns.histplot(x=[len(s["messages"][-1]["content"]) for s in samples], hue=[s["variant"] for s in samples],
                 ax=chars_ax, bins=20, multiple="stack")
    chars_ax.set_xlabel("assistant text length (characters)")
    chars_ax.set_ylabel("samples")
    sns.histplot(x=[len(s["sequence"]) for s in samples], discrete=True, ax=length_ax)
    length_ax.set_xlabel("sequence length (passes)")
    length_ax.set_ylabel("samples")
    names = list(sheet["categories"])
    sns.barplot(x=[sheet["categories"][c] for c in names], y=names, ax=category_ax, color="tab:blue")
    category_ax.set_xlabel("passes in the sequences")
    fig.suptitle(f"CoT dataset: {sheet['samples']} samples, {sheet['programs']} programs, {sheet['suites']} suites")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    return Path(path)
