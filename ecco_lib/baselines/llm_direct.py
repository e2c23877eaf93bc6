"""The ``llm-direct`` baseline: a general, *untuned* LLM prompted directly for the strategist's
response format, Best-of-N (the paper's "general LLMs" rows of Table 1, Best-of-32).

The prompt is the strategist's (:data:`ecco_lib.prompts.SYSTEM_PROMPT` and the static-feature
user message) plus what an untuned model cannot know: the action space (every pass of
:data:`~ecco_lib.llvm.passes.SEARCH_PASSES`, grouped by its category with the category's meaning)
and the format's rules. No filled-in example answer is shown (a model would copy its sequence).

``n`` answers per program come from one of two backends:

- ``local`` (offline default): the untuned base model ``model`` (a model spec of
  :func:`ecco_lib.strategist.resolve_model`, no adapter), sampled by
  :meth:`~ecco_lib.strategist.Strategist.sample` on ``torch_threads`` threads with ``engine``
  (transformers, or llama.cpp on the model's ``gguf_type`` GGUF export, as ``ecco``'s engine),
  texts cached by content;
- ``http``: any OpenAI-compatible endpoint (``POST {base_url}/chat/completions``, the key read
  from the environment variable ``api_key_env`` and sent as a Bearer token), one request per
  answer with its own seed; replies with text are cached by content (request fields without the
  key), failures are not. A failing request (refused, timed out, HTTP error, malformed reply) is
  the answer's ``reply: endpoint-error`` with the error text, never a crash.

Each answer is parsed with the one response contract (:func:`ecco_lib.response.parse_for_search`,
all three parts required). An answer is evaluated only when it parses and every pass is in the
search space; the distinct such sequences go to the Objective in one batch (each costs one
evaluation; a repeated one is free; those past the budget are ``over-budget``). Unparsed answers
cost nothing, since nothing is evaluated. Then the method stops: like ``ecco-no-ga`` it does not
spend the rest of the budget, so ``evaluations`` = distinct valid sequences, at most the budget.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import threading
import time
import zlib
from dataclasses import dataclass

from ecco_lib.errors import EccoError
from ecco_lib.llama_cpp_engine import LlamaCppStrategist
from ecco_lib.llvm.passes import CATEGORIES, SEARCH_PASSES, lookup
from ecco_lib.prompts import SYSTEM_PROMPT, user_prompt
from ecco_lib.response import parse_for_search
from ecco_lib.search.objective import Objective, OptimizationResult, PassSequence
from ecco_lib.search.optimizer import Method, register
from ecco_lib.strategist import ENGINES, Strategist, program_features, use_threads
from ecco_lib.teachers import HTTPTeacher

BACKENDS = ("local", "http")
#: Version of the cached http answers; bump it when what is stored under a key changes.
HTTP_CACHE_VERSION = 1


def passes_by_category() -> str:
    """One line per category that has search passes: ``category: meaning. Passes: pass, pass, ...``."""
    grouped: dict[str, list[str]] = {c: [] for c in CATEGORIES}
    for name in SEARCH_PASSES:
        grouped[lookup(name).category].append(name)
    return "\n".join(f"{c}: {CATEGORIES[c]}. Passes: {', '.join(names)}" for c, names in grouped.items() if names)


def direct_system_prompt(min_length: int, max_length: int) -> str:
    """The strategist's system prompt plus the action space, the categories' meanings and the
    format's rules, for a model that was never trained on the format."""
    return (f"{SYSTEM_PROMPT}\n\n"
            f"The passes you may use, by category (category: what its passes do. Passes: their names):\n"
            f"{passes_by_category()}\n\n"
            f"Rules: <sequence> lists {min_length} to {max_length} of these pass names, spelled exactly as above, "
            f"comma separated, in the order opt runs them (a pass may repeat). Each <intents> line is one "
            f"category name from the list above, a colon and its weight; the weights sum to 1. "
            f"Write nothing outside the three tags.")


def direct_messages(program, min_length: int, max_length: int) -> list[dict]:
    """The chat prompt for one program: :func:`direct_system_prompt` and the strategist's
    static-feature user message."""
    return [{"role": "system", "content": direct_system_prompt(min_length, max_length)},
            {"role": "user", "content": user_prompt(program_features(program))}]


@dataclass(frozen=True)
class LLMDirectConfig:
    """Settings of ``llm-direct``. ``n`` answers per program (each valid distinct one costs one
    evaluation); ``model``: the local model spec (backend ``local``, untuned: no adapter) or the
    endpoint's model name (``http``); ``max_new_tokens`` bounds each answer (tokens; ``max_tokens``
    of an http request); ``min_length``/``max_length`` are the sequence lengths the prompt asks
    for (not enforced). http only: ``base_url`` (e.g. ``http://127.0.0.1:8000/v1``),
    ``api_key_env`` (the *name* of the variable holding the key; no header when it is unset),
    ``timeout_s`` per request, ``retries`` after a refused connection, timeout or HTTP
    408/429/5xx, ``backoff_s`` (seconds before retry k: ``backoff_s * 2**k``). local only:
    ``engine`` (:data:`~ecco_lib.strategist.ENGINES`) and its ``gguf_type`` (llama-cpp)."""

    backend: str = "local"
    model: str = "smollm2-135m"
    n: int = 8
    temperature: float = 0.8
    top_p: float = 0.95
    max_new_tokens: int = 640
    min_length: int = 5
    max_length: int = 30
    base_url: str | None = None
    api_key_env: str = "ECCO_LLM_API_KEY"
    timeout_s: float = 120.0
    retries: int = 2
    backoff_s: float = 1.0
    torch_threads: int = 2  # local generation; nothing compiles then unless cells run in parallel (use 1)
    engine: str = "transformers"
    gguf_type: str = "q8_0"

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise EccoError(f"llm-direct backend '{self.backend}' is not one of {', '.join(BACKENDS)}")
        if self.engine not in ENGINES:
            raise EccoError(f"llm-direct engine '{self.engine}' is not one of {', '.join(ENGINES)}")
        if self.n < 1 or self.max_new_tokens < 1 or not 1 <= self.min_length <= self.max_length:
            raise EccoError(f"inconsistent llm-direct settings (n, max_new_tokens, min_length, max_length): {self}")
        if not self.temperature > 0 or not 0 < self.top_p <= 1:
            raise EccoError(f"llm-direct samples need temperature > 0 and top_p in (0, 1] (got {self.temperature}, "
                            f"{self.top_p})")
        if self.backend == "http" and not (self.base_url and re.match(r"https?://", self.base_url)):
            raise EccoError(f"llm-direct backend http needs base_url, an http(s) URL (got {self.base_url!r})")
        if self.timeout_s <= 0 or self.retries < 0 or self.backoff_s < 0 or self.torch_threads < 1:
            raise EccoError(f"llm-direct needs timeout_s > 0, retries >= 0, backoff_s >= 0 and torch_threads >= 1: {self}")


class LLMDirectSearch:
    """Best-of-N answers of an untuned LLM, each valid distinct one evaluated once; nothing else.
    The local model is loaded once, on first use, and used by one search at a time."""

    name = "llm-direct"
    description = ("Direct LLM prompting: Best-of-N answers of an untuned LLM given the action space, categories "
                   "and response format (Pan et al., arXiv 2602.00087, 2026, Table 1 'general LLMs')")

    def __init__(self, config: LLMDirectConfig = LLMDirectConfig(), *, strategist=None, cache=None):
        self.config = config
        self._strategist = strategist  # local: a Strategist whose messages() are direct_messages()
        self._lock = threading.Lock()
        self.cache = cache  # an EvaluationCache for answer texts; None: the Objective's evaluator cache
        self._client = None if config.backend != "http" else \
            HTTPTeacher(config.base_url, config.model, config.api_key_env, config.timeout_s, config.retries,
                        backoff_s=config.backoff_s)  # builds the request; no network until a search runs

    @property
    def strategist(self):
        if self._strategist is None:
            cfg = self.config
            if cfg.engine == "llama-cpp":
                self._strategist = DirectPromptLlamaCppStrategist.from_pretrained(
                    cfg.model, max_new_tokens=cfg.max_new_tokens, gguf_type=cfg.gguf_type)
            else:
                self._strategist = DirectPromptStrategist.from_pretrained(cfg.model, max_new_tokens=cfg.max_new_tokens)
            self._strategist.lengths = (cfg.min_length, cfg.max_length)
        return self._strategist

    def optimize(self, program, objective: Objective, seed: int) -> OptimizationResult:
        """Ask for ``n`` answers and evaluate the valid distinct ones. ``extra``: ``backend``,
        ``model`` (``base_url`` for http), ``answers`` (per answer: ``reply`` ok/endpoint-error,
        ``error``, ``text``, ``parse`` (None without a reply), ``reason``, ``sequence``,
        ``status`` (the evaluation's, ``over-budget``, or None when not evaluated), ``cycles``,
        ``repeat`` (an earlier answer gave the same sequence: no extra cost); local also
        ``new_tokens`` and ``cut_off``), counts ``replied``, ``parsed``, ``valid_distinct``, and
        ``generation_seconds`` (asking, incl. the prompt's features and cache reads)."""
        cfg = self.config
        cache = self.cache or objective.evaluator.cache
        start = time.perf_counter()
        answers = self._local(program, seed, cache) if cfg.backend == "local" else self._http(program, seed, cache)
        generation_seconds = time.perf_counter() - start
        valid: list[tuple[dict, PassSequence]] = []
        for answer in answers:
            answer.update(parse=None, reason=None, sequence=None, status=None, cycles=None, repeat=False)
            if answer["text"] is not None:
                response, fields = parse_for_search(answer["text"])
                answer.update(fields)
                if fields["parse"] == "ok":
                    valid.append((answer, response.sequence))
        given: set[PassSequence] = set()
        for (answer, sequence), evaluation in zip(valid, objective.evaluate([s for _, s in valid])):
            answer["status"] = evaluation.status if evaluation else "over-budget"
            answer["cycles"] = evaluation.cycles if evaluation else None
            answer["repeat"] = sequence in given
            given.add(sequence)
        extra = {"backend": cfg.backend, "model": cfg.model, "answers": answers,
                 "replied": sum(a["reply"] == "ok" for a in answers),
                 "parsed": sum(a["parse"] == "ok" for a in answers), "valid_distinct": len(given),
                 "generation_seconds": generation_seconds}
        if cfg.backend == "http":
            extra["base_url"] = cfg.base_url
        else:
            extra["new_tokens"] = sum(a["new_tokens"] for a in answers)
        return objective.result(self.name, seed, extra=extra)

    def _local(self, program, seed: int, cache) -> list[dict]:
        """The ``n`` sampled answers of the local model (one ``generate`` call, or the cache)."""
        cfg = self.config
        with self._lock, use_threads(cfg.torch_threads):
            samples = self.strategist.sample([program], n=cfg.n, temperature=cfg.temperature, top_p=cfg.top_p,
                                             seed=_seed(seed, program), batch_size=1, cache=cache)[0]
        return [{"reply": "ok", "error": None, "text": s.text, "new_tokens": s.new_tokens, "cut_off": s.cut_off}
                for s in samples]

    def _http(self, program, seed: int, cache) -> list[dict]:
        """The ``n`` answers of the endpoint, request ``j`` seeded with ``_seed(seed, program, j)``."""
        cfg = self.config
        messages = direct_messages(program, cfg.min_length, cfg.max_length)
        answers = []
        for j in range(cfg.n):
            options = {"temperature": cfg.temperature, "top_p": cfg.top_p, "max_tokens": cfg.max_new_tokens,
                       "seed": _seed(seed, program, j)}
            key = self._http_key(messages, options)
            blob = cache.get_blob(key) if cache is not None else None
            if blob is not None:
                answers.append({"reply": "ok", "error": None, "text": blob.decode()})
                continue
            try:
                text = self._client.complete(messages, **options)
            except (EccoError, OSError, ValueError, http.client.HTTPException) as exc:
                answers.append({"reply": "endpoint-error", "error": f"{type(exc).__name__}: {exc}", "text": None})
                continue
            if cache is not None:
                cache.put_blob(key, text.encode())
            answers.append({"reply": "ok", "error": None, "text": text})
        return answers

    def _http_key(self, messages: list[dict], options: dict) -> str:
        """The blob-table key of one http answer: endpoint, model, messages and request options."""
        parts = {"base_url": self.config.base_url.rstrip("/"), "model": self.config.model, "messages": messages,
                 **options}
        digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
        return f"llm-direct-http-v{HTTP_CACHE_VERSION}:{digest}"


def _seed(seed: int, program, answer: int | None = None) -> int:
    """A 32-bit seed from ``llm-direct:{seed}:{program.uri}`` (and ``:{answer}`` for one http request)."""
    text = f"llm-direct:{seed}:{program.uri}" + ("" if answer is None else f":{answer}")
    return zlib.crc32(text.encode())


class DirectPrompt:
    """Mixin of a strategist asked with :func:`direct_messages`; ``lengths`` = the (min, max)
    sequence lengths its prompt asks for."""

    lengths: tuple[int, int] = (LLMDirectConfig.min_length, LLMDirectConfig.max_length)

    def messages(self, program) -> list[dict]:
        return direct_messages(program, *self.lengths)


class DirectPromptStrategist(DirectPrompt, Strategist):
    """An untuned model asked with :func:`direct_messages`, generating with transformers."""


class DirectPromptLlamaCppStrategist(DirectPrompt, LlamaCppStrategist):
    """An untuned SmolLM2 model asked with :func:`direct_messages`, generating with llama.cpp."""


register(Method("llm-direct", LLMDirectConfig, LLMDirectSearch,
                source="Pan et al., arXiv 2602.00087, 2026 (Table 1: general LLMs prompted directly, Best-of-32)"))
