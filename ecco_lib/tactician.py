"""Paper stage 5, collaborative inference: the strategist's Best-of-N answers steer the GA tactician.

``ecco`` on one program, at the Objective's budget:

1. the strategist samples N answers (``<reasoning>/<intents>/<sequence>``; texts cached by content);
2. every answer is parsed with the one response contract; the distinct valid sequences are
   evaluated through the Objective (each counts toward the budget like any other evaluation);
3. one intent vector is taken from the answers (``intent_rule``: ``best`` = the intents of the
   best-scoring valid answer, ``mean`` = the mean over all parsed answers);
4. the top-k valid distinct sequences seed the GA's first population (the rest from the seeder
   and the sampler), and the GA mutates with the Eq. 4 :class:`IntentGuidedSampler`, spending
   what remains of the budget.

Ablations at the same budget (RQ3): ``ecco-no-ga`` (Best-of-N alone: only the answers are
evaluated), ``ecco-uniform`` (LLM seeds, uniform mutation), ``ecco-no-seeds`` (intents only; the
answers' sequences are never evaluated, so their intents are averaged).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

import json
import shutil

from ecco_lib.atomic import atomic_path, write_json
from ecco_lib.config import REPO_ROOT, output_root
from ecco_lib.errors import EccoError
from ecco_lib.response import parse_for_search
from ecco_lib.search.ga import GAConfig, GeneticSearch
from ecco_lib.search.objective import Objective, OptimizationResult
from ecco_lib.search.samplers import BigramSeeder, UniformPassSampler
from ecco_lib.strategist import canonical_adapter_config, file_sha256

#: The trained adapters ``ecco`` may use (under the output root): the full variant after SFT and
#: after GRPO, and the brief variant (ours: the same claims about two passes instead of all) when
#: the profile trains it. The RQ2 ablation variants are not candidates.
CANDIDATE_ADAPTERS = {"sft-full": Path("results") / "models" / "sft-full" / "adapter",
                      "grpo-full": Path("results") / "models" / "grpo-full" / "adapter",
                      "sft-brief": Path("results") / "models" / "sft-brief" / "adapter"}
#: The pipeline's choice among them (:func:`choose_adapter`, notebook 06, on the train split), and
#: the copy that ships with the repository for users who have not trained one (default profile;
#: its PROVENANCE.json names the training stage).
ADAPTER_CHOICE = Path("results") / "models" / "strategist.json"
SHIPPED_ADAPTER = REPO_ROOT / "ecco_lib" / "models" / "strategist-default"
PRIOR = Path("results") / "dataset" / "efficacy_prior.json"
INTENT_RULES = ("best", "mean")


@dataclass(frozen=True)
class EccoConfig:
    """Settings of ``ecco`` and its ablations. ``n`` answers per program (each valid distinct one
    costs one evaluation), ``seeds_k`` of them seed the GA; ``eps`` is Eq. 4's exploration mass.
    The GA part is the ``ga`` method's own settings (``search.methods.ga``), so ``ecco`` and ``ga``
    differ only by what the strategist adds."""

    model: str = "smollm2-135m"
    adapter: str | None = None  # None: the pipeline's trained adapter, else the shipped one
    prior: str | None = None    # None: results/dataset/efficacy_prior.json under the output root
    n: int = 8
    temperature: float = 0.8
    top_p: float = 0.95
    max_new_tokens: int = 640
    batch_size: int = 8
    seeds_k: int = 4
    eps: float = 0.1
    intent_rule: str = "best"
    torch_threads: int = 2  # during generation; nothing compiles then unless cells run in parallel (use 1)
    engine: str = "transformers"  # or llama-cpp: the same weights exported to GGUF (ecco_lib.llama_cpp_engine)
    gguf_type: str = "q8_0"       # llama-cpp only: the export's tensor type

    def __post_init__(self):
        from ecco_lib.strategist import ENGINES

        if self.engine not in ENGINES:
            raise EccoError(f"engine '{self.engine}' is not one of {', '.join(ENGINES)}")
        if self.n < 1 or self.seeds_k < 0 or self.batch_size < 1 or self.max_new_tokens < 1 or self.torch_threads < 1:
            raise EccoError(f"inconsistent ecco settings (n, seeds_k, batch_size, max_new_tokens, torch_threads): {self}")
        if self.intent_rule not in INTENT_RULES:
            raise EccoError(f"intent_rule '{self.intent_rule}' is not one of {', '.join(INTENT_RULES)}")
        if not self.temperature > 0:
            raise EccoError(f"temperature {self.temperature}: Best-of-N samples need temperature > 0")


#: ``adapter: none``: the base model without any adapter (RQ2's untrained reference).
NO_ADAPTER = "none"
#: Where training writes its runs (under the output root): ``<run>/adapter``.
MODELS = Path("results") / "models"


def resolve_adapter(adapter: str | None) -> Path | None:
    """The adapter directory to load (None: the base model alone). ``adapter`` may be a directory,
    a training run's name under :data:`MODELS` (``sft-no-evidence``, ``grpo-full``, ...) or
    :data:`NO_ADAPTER`; unset, the one the pipeline chose (:data:`ADAPTER_CHOICE`), else the
    shipped one. A clear error names how to get one."""
    if adapter == NO_ADAPTER:
        return None
    if adapter:
        run = output_root() / MODELS / adapter / "adapter"
        path = run if "/" not in adapter and (run / "adapter_config.json").is_file() else Path(adapter)
        if not (path / "adapter_config.json").is_file():
            raise EccoError(f"adapter {adapter} is neither a trained run under {MODELS} nor a directory with "
                            f"adapter_config.json")
        return path
    choice = output_root() / ADAPTER_CHOICE
    if choice.is_file():
        chosen = output_root() / json.loads(choice.read_text())["adapter"]
        if not (chosen / "adapter_config.json").is_file():
            raise EccoError(f"{choice} names {chosen}, which is not a trained adapter: rerun notebook 06 "
                            f"(`ecco reproduce --only 06`) or pass --adapter DIR")
        return chosen
    if (SHIPPED_ADAPTER / "adapter_config.json").is_file():
        return SHIPPED_ADAPTER
    raise EccoError(f"no trained strategist: run `make reproduce` (notebooks 04-06 train and choose one, "
                    f"{ADAPTER_CHOICE}) or pass --adapter DIR")


def adapter_run(adapter: Path) -> str:
    """The training run an adapter directory comes from, ``<stage>-<variant>``: a shipped copy's
    ``PROVENANCE.json`` stage, else the run directory's name (``results/models/sft-brief/adapter``)."""
    provenance = adapter / "PROVENANCE.json"
    if provenance.is_file():
        return json.loads(provenance.read_text())["stage"]
    return adapter.parent.name if adapter.name == "adapter" else adapter.name


def adapter_parts(adapter: Path | None) -> tuple[str, ...]:
    """The parts an answer of ``adapter`` must contain for a search to use it: those of the dataset
    variant it was trained on (:data:`ecco_lib.response.VARIANTS`), read from its run name
    (:func:`adapter_run`); the whole format for the base model or any other adapter."""
    from ecco_lib.response import PARTS, VARIANTS

    if adapter is None:
        return PARTS
    stage, _, variant = adapter_run(adapter).partition("-")
    return VARIANTS[variant] if stage in ("sft", "grpo") and variant in VARIANTS else PARTS


def choose_adapter(programs, evaluator, *, settings: dict, seeds, results_path, trace_path, seed: int = 0,
                   progress: bool = True) -> pd.DataFrame:
    """Choose ``ecco``'s adapter among :data:`CANDIDATE_ADAPTERS` on ``programs`` (the *train*
    split; never the test split) as ``ecco`` uses it: each trained candidate's Best-of-N
    (``ecco-no-ga`` with ``settings["ecco"]``, a budget of its N answers, ``seeds``; cells in
    ``results_path``/``trace_path``, resumable, method renamed to the candidate). The cheapest
    candidate (median new tokens per program) is chosen unless a costlier one beats the choice so far
    on the paired cells with its whole bootstrap interval above 0 (:func:`pick_adapter`): a longer
    answer must pay for itself. Writes :data:`ADAPTER_CHOICE` and returns one row per candidate
    (``trained`` False for one the profile did not train; ``chosen`` marks the winner). Raises :class:`EccoError` when no candidate was trained."""
    from ecco_lib.experiments import run_methods
    from ecco_lib.training_ablation import generation_cost

    rows, cells = [], []
    for name, path in CANDIDATE_ADAPTERS.items():
        row = {"candidate": name, "adapter": path.as_posix(), "trained": (output_root() / path / "adapter_config.json").is_file()}
        if row["trained"]:
            candidate = {m: dict(s) for m, s in settings.items()}
            candidate["ecco"]["adapter"] = name
            results, _ = run_methods(programs, ["ecco-no-ga"], budget=candidate["ecco"]["n"], seeds=seeds,
                                     evaluator=evaluator, settings=candidate, results_path=results_path,
                                     trace_path=trace_path, progress=progress)
            cost = generation_cost(results)
            row.update(cells=len(results), best_of_n_i_o3=float(results["i_o3"].fillna(0.0).mean()),
                       found_rate=float(results["i_o3"].notna().mean()), new_tokens=float(cost["new_tokens"].median()),
                       sampled_seconds=float(cost["sampled_seconds"].median()))
            cells.append(results.assign(method=name))
        rows.append(row)
    frame = pd.DataFrame(rows)
    cells = pd.concat(cells, ignore_index=True) if cells else pd.DataFrame()
    best = pick_adapter(frame, cells, seed=seed)
    frame["chosen"] = frame.index == best
    write_json(output_root() / ADAPTER_CHOICE,
               {"adapter": frame.loc[best, "adapter"], "candidate": frame.loc[best, "candidate"],
                "rule": "cheapest Best-of-N on the train split (median new tokens per program) unless a costlier "
                        "one beats it, paired, with its 95 % bootstrap interval above 0",
                "programs": [p.uri for p in programs], "candidates": json.loads(frame.to_json(orient="records"))})
    return frame


def pick_adapter(frame: pd.DataFrame, cells: pd.DataFrame, seed: int = 0):
    """The index of :func:`choose_adapter`'s winner among the ``trained`` rows of ``frame``
    (``candidate``, ``new_tokens``): in order of cost (ties: the order of the rows), each candidate
    replaces the choice so far when its paired difference of I_O3 against it on ``cells`` (one
    ``method`` per candidate; :func:`~ecco_lib.comparison.paired_against`) has ``ci_low > 0``.
    Adds ``minus_choice``, ``ci_low``, ``ci_high`` (percentage points) to each challenger's row."""
    from ecco_lib.comparison import paired_against

    trained = frame[frame["trained"]]
    if trained.empty:
        raise EccoError(f"no trained strategist among {', '.join(p.as_posix() for p in CANDIDATE_ADAPTERS.values())}: "
                        f"run notebooks 04-05 (`ecco reproduce --only 04,05`)")
    cells = cells.assign(i_o3=pd.to_numeric(cells["i_o3"]))  # all None (nothing valid) is an object column
    order = trained.sort_values("new_tokens", kind="stable").index
    best = order[0]
    for challenger in order[1:]:
        paired = paired_against(cells, frame.loc[challenger, "candidate"], [frame.loc[best, "candidate"]], seed=seed).iloc[0]
        for column, key in (("minus_choice", "mean_difference"), ("ci_low", "ci_low"), ("ci_high", "ci_high")):
            frame.loc[challenger, column] = 100 * float(paired[key])
        if paired["ci_low"] > 0:
            best = challenger
    return best


def _relative(path: Path | None) -> str | None:
    """``path`` relative to the output root or the repository when it is under one (no machine's
    absolute path in a result), else as given."""
    if path is None:
        return None
    for root in (output_root(), REPO_ROOT):
        try:
            return Path(path).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            continue
    return str(path)


#: The files a LoRA adapter needs at load time (the tokenizer comes from the base model).
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
#: The largest adapter the repository ships (bytes).
SHIPPED_LIMIT = 10 * 1024 * 1024


def ship_adapter(source: str | Path, base_model: str, profile: str, stage: str,
                 target: str | Path = SHIPPED_ADAPTER) -> dict:
    """Copy a trained adapter's :data:`ADAPTER_FILES` to ``target`` (the shipped default), with
    ``base_model_name_or_path`` set to the alias ``base_model`` (never a path of this machine) and
    ``target_modules`` sorted (:func:`~ecco_lib.strategist.canonical_adapter_config`), and write
    ``PROVENANCE.json`` (profile, training stage, base model, bytes and sha256 of each file).
    Refuses an adapter over :data:`SHIPPED_LIMIT`. Returns the provenance."""
    source, target = Path(source), Path(target)
    missing = [f for f in ADAPTER_FILES if not (source / f).is_file()]
    if missing:
        raise EccoError(f"{source}: not a trained adapter (missing {', '.join(missing)})")
    size = sum((source / f).stat().st_size for f in ADAPTER_FILES)
    if size > SHIPPED_LIMIT:
        raise EccoError(f"{source}: {size / 2**20:.1f} MiB is over the {SHIPPED_LIMIT / 2**20:.0f} MiB the repository ships")
    target.mkdir(parents=True, exist_ok=True)
    config = canonical_adapter_config(json.loads((source / "adapter_config.json").read_text()))
    config["base_model_name_or_path"] = base_model
    write_json(target / "adapter_config.json", config)
    with atomic_path(target / "adapter_model.safetensors") as tmp:
        shutil.copyfile(source / "adapter_model.safetensors", tmp)
    files = {f: {"bytes": (target / f).stat().st_size,
                 "sha256": file_sha256(target / f)} for f in ADAPTER_FILES}
    provenance = {"profile": profile, "base_model": base_model, "stage": stage, "files": files}
    write_json(target / "PROVENANCE.json", provenance)
    for f in (*ADAPTER_FILES, "PROVENANCE.json"):
        (target / f).chmod(0o644)
    return provenance


def ship_trained_adapter(profile: str, run: str | None = None, target: str | Path = SHIPPED_ADAPTER) -> dict:
    """:func:`ship_adapter` of the pipeline's run ``results/models/<run>/adapter``; ``run`` None or
    empty: the candidate notebook 06 chose (:data:`ADAPTER_CHOICE`). The base model is the
    profile's ``search.methods.ecco.model``."""
    from ecco_lib.config import load_profile

    if not run:
        choice = output_root() / ADAPTER_CHOICE
        if not choice.is_file():
            raise EccoError(f"no {ADAPTER_CHOICE}: run notebook 06 (`ecco reproduce --only 06`) or name SHIP_RUN")
        run = json.loads(choice.read_text())["candidate"]
    model = load_profile(profile)["search"]["methods"]["ecco"]["model"]
    return ship_adapter(output_root() / "results" / "models" / run / "adapter", model, profile, run, target)


def resolve_prior(prior: str | None) -> Path:
    path = Path(prior) if prior else output_root() / PRIOR
    if not path.is_file():
        raise EccoError(f"no efficacy prior at {path}: run notebook 02 (`ecco reproduce --only 02`) or set prior")
    return path


def select_intents(answers: list[dict], rule: str) -> tuple[dict[str, float] | None, str]:
    """(one intent vector, the rule that applied) from answers carrying ``intents`` (parsed ones)
    and ``cycles`` (evaluated ``ok`` ones). ``best``: the intents of the answer with the fewest
    cycles (ties: shorter sequence, then earlier); when no answer was evaluated ``ok`` it falls
    back to ``mean``, and says so. ``mean``: the mean over every parsed answer (None if none)."""
    if rule not in INTENT_RULES:
        raise EccoError(f"intent_rule '{rule}' is not one of {', '.join(INTENT_RULES)}")
    parsed = [a for a in answers if a.get("intents") is not None]
    scored = [a for a in parsed if a.get("cycles") is not None]
    if rule == "best" and scored:
        best = min(scored, key=lambda a: (a["cycles"], len(a["sequence"].split(","))))
        return dict(best["intents"]), "best"
    if not parsed:
        return None, "mean"
    names = sorted({c for a in parsed for c in a["intents"]})
    return {c: sum(a["intents"].get(c, 0.0) for a in parsed) / len(parsed) for c in names}, "mean"


class EccoOptimizer:
    """The ``ecco`` method and, with ``use_seeds``/``use_intents``/``use_ga`` off, its ablations.
    The strategist is loaded once, on first use; generation runs on ``torch_threads`` threads, one
    program at a time."""

    def __init__(self, config: EccoConfig = EccoConfig(), ga: GAConfig = GAConfig(generations=None), *,
                 name: str = "ecco", use_seeds: bool = True, use_intents: bool = True, use_ga: bool = True,
                 strategist=None, cache=None):
        self.name, self.config, self.ga = name, config, ga
        self.description = dict((n, d) for n, _, d in ecco_methods()).get(name, ECCO_DESCRIPTION)
        self.use_seeds, self.use_intents, self.use_ga = use_seeds, use_intents, use_ga
        self._strategist = strategist
        self._loaded = False  # True once the strategist property loaded it (else it was injected)
        self.adapter_path: Path | None = None  # the adapter loaded (None until loaded, or injected strategist)
        self._prior = None
        self._lock = threading.Lock()
        self.cache = cache  # an EvaluationCache for generated texts; None: the Objective's evaluator cache

    @property
    def strategist(self):
        if self._strategist is None:
            from ecco_lib.strategist import load_strategist

            cfg = self.config
            self.adapter_path = resolve_adapter(cfg.adapter)
            self._strategist = load_strategist(cfg.model, self.adapter_path, max_new_tokens=cfg.max_new_tokens,
                                               engine=cfg.engine, gguf_type=cfg.gguf_type)
            self._loaded = True
        return self._strategist

    def inputs(self) -> dict:
        """What a result depends on beside the settings (:func:`~ecco_lib.experiments.cell_fingerprint`):
        the sha256 of the adapter's weights (or an injected strategist's identity) and of the
        efficacy prior. No path and no mtime, so the digest is the same on every machine."""
        if self._strategist is not None and not self._loaded:
            strategist = getattr(self._strategist, "identity", None)
        elif (adapter := resolve_adapter(self.config.adapter)) is None:
            strategist = f"model={self.config.model} adapter={NO_ADAPTER}"
        else:
            weights = adapter / "adapter_model.safetensors"
            strategist = f"adapter=sha256:{file_sha256(weights)}" if weights.is_file() else None
        return {"strategist": strategist, "prior": f"sha256:{file_sha256(resolve_prior(self.config.prior))}"}

    @property
    def prior(self):
        if self._prior is None:
            from ecco_lib.evidence import EfficacyPrior

            self._prior = EfficacyPrior.load(resolve_prior(self.config.prior))
        return self._prior

    def answers(self, program, seed: int, cache) -> tuple[list, float]:
        """The N sampled answers for ``program`` and the seconds this call took (~0 when cached; the
        answers' ``seconds`` keep what generating them took)."""
        from ecco_lib.strategist import use_threads

        cfg = self.config
        start = time.perf_counter()
        with self._lock, use_threads(cfg.torch_threads):
            samples = self.strategist.sample([program], n=cfg.n, temperature=cfg.temperature, top_p=cfg.top_p,
                                             seed=seed, batch_size=cfg.batch_size, cache=cache)[0]
        return samples, time.perf_counter() - start

    def optimize(self, program, objective: Objective, seed: int) -> OptimizationResult:
        from ecco_lib.search.intent import IntentGuidedSampler

        cfg = self.config
        samples, generation_seconds = self.answers(program, seed, self.cache or objective.evaluator.cache)
        answers, require = [], adapter_parts(self.adapter_path)
        for sample in samples:
            response, fields = parse_for_search(sample.text, require=require)
            answers.append({"text": sample.text, "new_tokens": sample.new_tokens, "cut_off": sample.cut_off,
                            "parse": fields["parse"], "reason": fields["reason"], "response": response})
        parsed = [a for a in answers if a["response"] is not None]
        searchable = [a for a in parsed if a["parse"] == "ok"]  # outside-search-space answers: intents only
        evaluate_answers = self.use_seeds or not self.use_ga  # ecco-no-seeds never evaluates them
        if evaluate_answers:
            for answer, evaluation in zip(searchable, objective.evaluate([a["response"].sequence for a in searchable])):
                answer["status"] = evaluation.status if evaluation else "over-budget"
                answer["cycles"] = evaluation.cycles if evaluation else None
        scored = sorted((a for a in parsed if a.get("cycles") is not None),
                        key=lambda a: (a["cycles"], len(a["response"].sequence)))
        for answer in parsed:
            intents = answer["response"].intents  # None: a variant whose answers carry no intents
            answer["intents"] = dict(intents) if intents is not None else None
            answer["sequence"] = ",".join(answer["response"].sequence)
        intents, rule = select_intents(answers, cfg.intent_rule)
        llm_seeds = list(dict.fromkeys(a["response"].sequence for a in scored))[: cfg.seeds_k]
        lead = scored[0] if scored else parsed[0] if parsed else None
        extra = {"answers": [{k: v for k, v in a.items() if k != "response"} for a in answers],
                 "parsed": len(parsed), "searchable": len(searchable), "valid_evaluated": len(scored),
                 "adapter": _relative(self.adapter_path), "generation_seconds": generation_seconds,
                 "sampled_seconds": samples[0].seconds if samples else None,
                 "new_tokens": sum(a["new_tokens"] for a in answers), "intent_rule": rule, "intents": intents,
                 "reasoning": lead["response"].reasoning if lead else None, "llm_seeds": len(llm_seeds)}
        if self.use_ga and not objective.exhausted:
            sampler = IntentGuidedSampler(intents, self.prior, cfg.eps) if self.use_intents else UniformPassSampler()
            extra["sampler"] = sampler.describe() if self.use_intents else {"case": "uniform"}
            ga = GeneticSearch(config=self.ga, sampler=sampler, seeder=BigramSeeder())
            ga_result = ga.optimize(program, objective, seed, seeds=llm_seeds if self.use_seeds else ())
            extra["history"] = ga_result.extra["history"]
        result = objective.result(self.name, seed, extra=extra)
        answer_sequences = {a["response"].sequence for a in scored}
        result.extra["found_by"] = ("llm" if result.best in answer_sequences else "ga") if result.found else None
        return result


ECCO_DESCRIPTION = ("ECCO: Best-of-N strategist answers seed a GA whose mutation samples passes by Eq. 4 from "
                    "the answers' intents and the efficacy prior (Pan et al., arXiv 2602.00087, 2026)")


def ecco_methods() -> list[tuple[str, dict, str]]:
    """(name, switches, description) of ``ecco`` and its ablations, for the method registry."""
    return [("ecco", {}, ECCO_DESCRIPTION),
            ("ecco-no-ga", {"use_ga": False}, "ECCO ablation: the strategist's Best-of-N answers alone, no GA "
                                              "(paper RQ3, 'LLM alone')"),
            ("ecco-uniform", {"use_intents": False}, "ECCO ablation: LLM answers seed the GA, uniform mutation "
                                                     "instead of Eq. 4 (no intents)"),
            ("ecco-no-seeds", {"use_seeds": False}, "ECCO ablation: Eq. 4 mutation from the answers' mean intents, "
                                                    "answers never evaluated nor seeded")]


def compare_intent_rules(extras: list[dict], prior, eps: float) -> pd.DataFrame:
    """For each ``ecco`` search (its result ``extra``), the intents under both rules and how far
    apart their Eq. 4 distributions are: total-variation distance (0 = same mutation distribution,
    1 = disjoint) and each rule's most weighted category."""
    from ecco_lib.search.intent import IntentGuidedSampler

    rows = []
    for extra in extras:
        best, best_rule = select_intents(extra["answers"], "best")
        mean, _ = select_intents(extra["answers"], "mean")
        p_best = IntentGuidedSampler(best, prior, eps).probabilities()
        p_mean = IntentGuidedSampler(mean, prior, eps).probabilities()
        rows.append({"best_rule_applied": best_rule,
                     "top_category_best": max(best, key=best.get) if best else None,
                     "top_category_mean": max(mean, key=mean.get) if mean else None,
                     "tv_distance": 0.5 * sum(abs(p_best[v] - p_mean[v]) for v in p_best)})
    return pd.DataFrame(rows)


def _register_methods() -> None:
    from ecco_lib.search.optimizer import Method, register

    for name, switches, _ in ecco_methods():
        register(Method(name, EccoConfig, lambda cfg, ga, name=name, switches=switches:
                        EccoOptimizer(cfg, ga, name=name, **switches), section="ecco", uses=("ga",),
                        learns_offline=True, source="Pan et al., arXiv 2602.00087, 2026 (the paper reproduced here)"))


_register_methods()
