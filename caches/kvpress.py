"""NVIDIA kvpress presses playing the INDEX game unchanged (extra ``kvpress``; ``make test-kvpress``).

:class:`PressCache` plays any press of kvpress (Devoto, Jegou et al., *kvpress*, 2024-2025) as it
compresses a real model's cache after prefill. Its public parameters are ``press`` (a class name
exported by kvpress, or ``"module:Class"``), ``press_args`` (the press's constructor arguments as
JSON; a nested press, as wrappers like ``AdaKVPress`` take, is ``{"press": NAME, "press_args":
{...}}``) and ``dtype``, the precision of the kept keys and values in the message.

**What the press sees.** Alice's whole stream is one prefill. The press runs on one attention
layer of a tiny ``LlamaForCausalLM`` built from a ``LlamaConfig`` (one layer, one query and one
key/value head, ``head_dim = hidden_size = d``; no download) whose q, k, v and o projections are
the identity and whose rotary embedding is exactly ``cos = 1, sin = 0``, so positions have no
effect. Keys and values are Alice's own, in float32 in a real ``DynamicCache`` layer. kvpress
scores attention as ``softmax(q·k / sqrt(d))`` while HO's attention (eq. 1, the suite's) has no
``1/sqrt(d)``: the hidden states the press reads are therefore Alice's *queries times sqrt(d)*,
so that every query the press recomputes through ``q_proj`` gives ``softmax(q·k)``, exactly the
weights HO's attention puts on each key; keys and values are not rescaled, so kept rows are
Alice's rows bit for bit. The layer also hands every press its causal attention weights (as
eager attention would) and ``position_embeddings = (1, 0)``. A press runs through its
``compress(module, hidden_states, keys, values, attentions, kwargs)``, or, when it overrides
``forward_hook`` (``ComposedPress``, ``DMSPress``, ``PerLayerCompressionPress``, ...), through that
hook on the ``DynamicCache``, as inside a model. Masking presses (``AdaKVPress``, ``DMSPress``)
leave the rows in place and mark the pruned ones in ``module.masked_key_indices``: the message
keeps the unmarked rows.

**Message and memory.** The suite's codec: the header (tokens seen, d), the number of kept rows,
then the kept keys and values at ``dtype``. Positions are not stored: Bob's attention ignores
them. Memory is ``8 * len(to_bytes())``. Bob rebuilds the rows and probes with exact attention
over them plus his query's own token (:func:`caches.attention.attention_with_own_token`); he
needs neither torch nor kvpress.

**Not a subset.** Presses whose output rows are not input rows (``MergingPress`` merges evicted
rows into the kept ones; ``ThinKPress`` zeroes key channels) are played as they are;
:meth:`PressCache.check` runs the press on a public random stream and reports ``"subset"``, which
the ``budget`` experiment writes into its points.

**Refused.** Presses that need a model forward, a tokenizer or files from the Hugging Face Hub
(see :data:`REFUSED`, and any press overriding ``BasePress.__call__``) raise a one-line
:class:`~caches.params.ParameterError` naming the press when the cache is built.

torch, transformers and kvpress are imported lazily, inside the functions that use them, so the
core suite never needs them. ``HF_HUB_OFFLINE=1`` is set before transformers is first imported
here (the adapter never downloads anything).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import os
from dataclasses import dataclass, field

import numpy as np

from caches.attention import attention_with_own_token
from caches.base import StreamingAttention
from caches.codec import FLOAT_DTYPES, HEADER_BYTES, Reader, Writer
from caches.params import ParameterError, check_choice

#: Presses refused up front, with the reason (they need a model, a tokenizer or Hub files).
REFUSED = {
    "QFilterPress": "loads its Q-filters for a named model from the Hugging Face Hub",
    "KVzapPress": "loads its scoring model from the Hugging Face Hub",
    "ExpectedAttentionStatsPress": "loads query statistics of a named model from the Hub (or computes them with the model on a Hub data set)",
    "DuoAttentionPress": "loads attention patterns of a named model from the Hub (or scores them with the model, its tokenizer and a Hub data set)",
    "LUKVPress": "downloads its per-model budget curves over the network",
    "FinchPress": "needs the model's tokenizer to place its delimiter token",
    "KVzipPress": "re-runs the model on the context with its tokenizer (its own __call__)",
    "FastKVzipPress": "downloads its trained gates from the Hugging Face Hub and runs the model (its own __call__)",
    "KVgradPress": "re-runs the model forward and backward with its tokenizer (its own __call__)",
    "RestoreKVPress": "re-runs the model and downloads restore embeddings from the Hugging Face Hub",
    "KVComposePress": "runs the model's prefill itself on a doubled cache (its own __call__)",
    "DecodingPress": "compresses during decoding through hooks on the model (its own __call__)",
    "CompressionRatioDecodingPress": "compresses during decoding through hooks on the model (its own __call__)",
    "PrefillDecodingPress": "compresses during decoding through hooks on the model (its own __call__)",
    "CAMPress": "merges during decoding through hooks on the model (its own __call__)",
}

#: Classes of kvpress that are bases, not presses.
ABSTRACT = ("BasePress", "ScorerPress")

#: Presses that read the layer's attention weights (kvpress: ``attn_implementation="eager"``); every
#: other press gets ``attentions=None``, as under kvpress's default SDPA attention, and recomputes
#: the weights it needs from the hidden states.
EAGER = ("ObservedAttentionPress",)

#: Which argument of a press carries its compression ratio (default ``compression_ratio``).
#: ``DMSPress`` evicts tokens whose score is below ``threshold`` once they leave its window: with
#: ``RandomPress`` scores (uniform on [0, 1)) the threshold is the fraction evicted.
#: ``SimLayerKVPress`` keeps ``n_initial + n_recent - n_last`` tokens of a "lazy" layer:
#: ``n_recent`` is set from the ratio and ``n``.
RATIO_ARGUMENT = {
    "ThinKPress": "key_channel_compression_ratio",
    "DMSPress": "threshold",
}

#: The configurations verified to run in the game (``make test-kvpress``), as
#: ``(press, press_args without the ratio)``; ``press_configs`` adds each compression ratio
#: (for a wrapper, to its inner press). Window sizes are small so that n >= 64 suffices.
VERIFIED = [
    ("KnormPress", {}),
    ("RandomPress", {"seed": 0}),
    ("StreamingLLMPress", {"n_sink": 4}),
    ("TOVAPress", {}),
    ("SnapKVPress", {"window_size": 16, "kernel_size": 5}),
    ("ObservedAttentionPress", {}),
    ("ExpectedAttentionPress", {"n_future_positions": 64, "n_sink": 4}),
    ("KeyDiffPress", {}),
    ("LagKVPress", {"n_sink": 4, "lag_size": 16}),
    ("LeverageScorePress", {"sketch_dimension": 48}),
    ("CURPress", {}),
    ("CapPress", {"n_future_positions": 64}),
    ("CompactorPress", {"chunk_size": 64}),
    ("NonCausalAttnPress", {"chunk_size": 64}),
    ("CriticalKVPress", {"press": {"press": "SnapKVPress", "press_args": {"window_size": 16}}}),
    ("PyramidKVPress", {"window_size": 16}),
    ("AdaKVPress", {"press": {"press": "SnapKVPress", "press_args": {"window_size": 16}}}),
    ("CriticalAdaKVPress", {"press": {"press": "SnapKVPress", "press_args": {"window_size": 16}}}),
    ("BlockPress", {"press": {"press": "KnormPress", "press_args": {}}, "block_size": 64}),
    ("ChunkPress", {"press": {"press": "KnormPress", "press_args": {}}, "chunk_length": 256}),
    ("ChunkKVPress", {"press": {"press": "SnapKVPress", "press_args": {"window_size": 16}}, "chunk_length": 8}),
    ("EntropyGatedChunkKVPress", {"press": {"press": "SnapKVPress", "press_args": {"window_size": 16}}}),
    ("KeyRerotationPress", {"press": {"press": "KnormPress", "press_args": {}}}),
    ("PerLayerCompressionPress", {"press": {"press": "KnormPress", "press_args": {}}}),
    ("ComposedPress", {"presses": [{"press": "KnormPress", "press_args": {}}]}),
    ("MergingPress", {"press": {"press": "KnormPress", "press_args": {}}}),
    ("ThinKPress", {"window_size": 16}),
    ("DMSPress", {"press": {"press": "RandomPress", "press_args": {"seed": 0}}, "sliding_window_size": 16}),
    ("SimLayerKVPress", {"lazy_threshold": 0.5, "n_initial": 4, "n_last": 1}),
]

#: Compression ratios the ``budget`` experiment plays each press at (``--set kvpress_ratios=...``).
DEFAULT_RATIOS = (0.25, 0.5, 0.75, 0.9)


def _kvpress():
    """The kvpress package (offline), or a one-line error saying how to install it."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import kvpress
    except ImportError as error:
        raise ParameterError(f"PressCache needs the kvpress extra (pip install -e '.[hf,kvpress]', "
                             f"or make test-kvpress): {error}") from None
    return kvpress


def press_class(name: str) -> type:
    """The press class called ``name`` (exported by kvpress) or ``"module:Class"``."""
    kvpress = _kvpress()
    if ":" in str(name):
        from caches.spec import load_class

        cls = load_class(name)
    else:
        cls = getattr(kvpress, str(name), None)
        if not isinstance(cls, type):
            raise ParameterError(f"press: kvpress {kvpress_version()} has no press {name!r}; "
                                 f"its presses are: {', '.join(press_names())}")
    if not issubclass(cls, kvpress.BasePress):
        raise ParameterError(f"press: {name!r} is not a kvpress press (a subclass of kvpress.BasePress)")
    return cls


def press_names() -> list[str]:
    """Every press class kvpress exports (bases excluded), sorted."""
    kvpress = _kvpress()
    return sorted(name for name in dir(kvpress)
                  if isinstance(getattr(kvpress, name), type) and issubclass(getattr(kvpress, name), kvpress.BasePress)
                  and name not in ABSTRACT)


def kvpress_version() -> str:
    import importlib.metadata

    return importlib.metadata.version("kvpress")


def refusal(cls: type) -> str | None:
    """Why a press cannot play without a model, tokenizer or Hub files (``None``: it can)."""
    from kvpress import BasePress

    if cls.__name__ in REFUSED:
        return REFUSED[cls.__name__]
    if cls.__call__ is not BasePress.__call__:
        return "needs the model: it overrides BasePress.__call__ to run or hook the model itself"
    return None


def build_press(name: str, args: dict, where: str = "press"):
    """A press object from its name and JSON arguments (nested ``{"press": ..., "press_args": ...}`` built too)."""
    cls = press_class(name)
    why = refusal(cls)
    if why:
        raise ParameterError(f"{cls.__name__} cannot play the INDEX game: it {why}")
    if not isinstance(args, dict):
        raise ParameterError(f"{where}_args must be an object of {cls.__name__}'s arguments, got {args!r}")
    built = {key: _nested(value, f"{where}_args.{key}") for key, value in args.items()}
    names = press_arguments(cls)
    unknown = sorted(set(built) - set(names))
    if unknown:
        raise ParameterError(f"{cls.__name__} has no argument {unknown[0]!r}; its arguments are: {', '.join(names)}")
    try:
        return cls(**built)
    except ParameterError:
        raise
    except Exception as error:  # noqa: BLE001 - kvpress checks its arguments with asserts and TypeErrors
        text = " ".join(str(error).split()) or type(error).__name__
        raise ParameterError(f"{cls.__name__}(**{args!r}) failed: {text}") from None


def press_arguments(cls: type) -> list[str]:
    """The constructor arguments of a press class (its dataclass fields, or its ``__init__``'s)."""
    import inspect

    parameters = inspect.signature(cls).parameters.values()
    return [p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _nested(value, where: str):
    if isinstance(value, dict) and "press" in value and set(value) <= {"press", "press_args"}:
        return build_press(value["press"], value.get("press_args") or {}, where)
    if isinstance(value, list):
        return [_nested(item, f"{where}[{k}]") for k, item in enumerate(value)]
    return value


@dataclass
class PressCache(StreamingAttention):
    """Any kvpress press, unchanged: Alice's stream is the prefill, the message its kept rows at ``dtype``."""

    #: Modules the players' fork server imports once (``barriers run`` asks it to): Alice's press
    #: needs torch, transformers and kvpress; Bob needs none of them.
    PRELOAD = ("kvpress", "transformers.models.llama.modeling_llama")

    press: str = "KnormPress"
    press_args: dict = field(default_factory=dict)
    dtype: str = "float16"

    def __post_init__(self) -> None:
        check_choice("dtype", self.dtype, FLOAT_DTYPES)
        if not isinstance(self.press, str) or not self.press:
            raise ParameterError(f"press must be a kvpress class name or 'module:Class', got {self.press!r}")
        build_press(self.press, self.press_args)  # refuses up front: unknown press, model-needing press, bad args
        self._seen = 0
        self._dim = 0
        self._keys = np.zeros((0, 0))
        self._values = np.zeros((0, 0))

    # --- streaming -------------------------------------------------------------------------------

    def _rows(self) -> tuple[np.ndarray, np.ndarray]:
        return self._keys.astype(np.float64, copy=False), self._values.astype(np.float64, copy=False)

    def step(self, q, k, v) -> np.ndarray:
        """A decoding step: attention over the kept rows plus this token, which is then kept (no press)."""
        q, k, v = (np.asarray(a, dtype=np.float64).reshape(1, -1) for a in (q, k, v))
        output = self.probe(q, k, v)[0]
        self._append(k, v)
        return output

    def extend(self, Q, K, V) -> None:
        """The prefill: on an empty cache the press compresses the rows, as kvpress does after prefill.

        Rows given to a cache that already holds tokens are decoded, not pressed (kvpress
        compresses only during the first forward pass).
        """
        Q, K, V = (np.asarray(a, dtype=np.float64) for a in (Q, K, V))
        if K.shape[0] == 0:
            return
        if self._seen:
            self._append(K, V)
            return
        keys, values, _ = run_press(self.press, self.press_args, Q, K, V)
        self._keys, self._values = keys.astype(self.dtype), values.astype(self.dtype)
        self._seen, self._dim = K.shape[0], K.shape[1]

    def _append(self, K: np.ndarray, V: np.ndarray) -> None:
        if self._keys.size == 0:
            self._keys = np.zeros((0, K.shape[1]), dtype=self.dtype)
            self._values = np.zeros((0, V.shape[1]), dtype=self.dtype)
        self._keys = np.concatenate([self._keys, K.astype(self.dtype)])
        self._values = np.concatenate([self._values, V.astype(self.dtype)])
        self._seen += K.shape[0]
        self._dim = K.shape[1]

    def probe(self, Q, K, V) -> np.ndarray:
        keys, values = self._rows()
        if keys.size == 0:
            keys = np.zeros((0, np.shape(K)[1]))
            values = np.zeros((0, np.shape(V)[1]))
        return attention_with_own_token(Q, K, V, keys, values)

    # --- message ---------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        kept = self._keys.shape[0] if self._keys.size else 0
        writer = Writer(self._seen, self._dim).uint32(kept)
        if kept:
            writer.array(self._keys, self.dtype).array(self._values, self.dtype)
        return writer.finish()

    @classmethod
    def from_bytes(cls, data, **params) -> "PressCache":
        cache = cls.__new__(cls)  # Bob needs neither torch nor kvpress: no press is built here
        for name, value in {**{f.name: f.default if f.default is not dataclasses.MISSING else f.default_factory()
                                for f in dataclasses.fields(cls)}, **params}.items():
            setattr(cache, name, value)
        check_choice("dtype", cache.dtype, FLOAT_DTYPES)
        reader = Reader(data)
        (kept,) = reader.uint32()
        cache._seen, cache._dim = reader.tokens, reader.dim
        cache._keys = reader.array(cache.dtype, (kept, reader.dim)) if kept else np.zeros((0, 0))
        cache._values = reader.array(cache.dtype, (kept, reader.dim)) if kept else np.zeros((0, 0))
        reader.done()
        return cache

    def rows_bits(self, rows: int, d: int) -> int:
        """Bits of a message keeping ``rows`` rows: the header, the row count, keys and values at ``dtype``."""
        return 8 * (HEADER_BYTES + 4) + rows * 2 * d * 8 * np.dtype(self.dtype).itemsize

    def budget_bits(self, n: int, d: int) -> int:
        """At most every row (no press adds rows)."""
        return self.rows_bits(n, d)

    # --- what the experiment reports ---------------------------------------------------------------

    @property
    def label(self) -> str:
        return self.press.rpartition(":")[2]

    def check(self, n: int, d: int) -> dict:
        """Run the press on a public random stream of ``n`` tokens of dimension ``d`` (not game data).

        Returns ``{"subset": bool, "kept": rows}``; a press that fails at this size raises a
        one-line :class:`ParameterError` naming it.
        """
        return dict(_check(self.press, _freeze(self.press_args), int(n), int(d)))

    def result_fields(self, n: int, d: int) -> dict:
        """Fields the ``budget`` experiment adds to this cache's point."""
        info = self.check(n, d)
        return {"family": f"kvpress:{self.label}", "label": self.label, "kind": "kvpress",
                "source": f"kvpress {kvpress_version()} ({self.label})", "subset": info["subset"],
                "press": self.label, "press_args": self.press_args,
                "exact_memory_bits": self.budget_bits(n, d), "half_memory_bits": self.rows_bits(n // 2, d)}


def _freeze(value):
    """A hashable copy of JSON arguments (for the memo of :func:`_check`)."""
    if isinstance(value, dict):
        return tuple(sorted((key, _freeze(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("__list__", *(_freeze(item) for item in value))
    return value


def _thaw(value):
    if isinstance(value, tuple) and value[:1] == ("__list__",):
        return [_thaw(item) for item in value[1:]]
    if isinstance(value, tuple):
        return {key: _thaw(item) for key, item in value}
    return value


@functools.lru_cache(maxsize=256)
def _check(press: str, frozen_args, n: int, d: int) -> tuple:
    rng = np.random.default_rng([n, d])
    Q = rng.standard_normal((n, d)) / math.sqrt(d)
    K = rng.standard_normal((n, d)) / math.sqrt(d)
    V = rng.standard_normal((n, d))
    try:
        keys, values, indices = run_press(press, _thaw(frozen_args), Q, K, V)
    except ParameterError:
        raise
    except Exception as error:  # noqa: BLE001 - report the press's own failure in one line
        text = " ".join(str(error).split())[:300] or type(error).__name__
        raise ParameterError(f"{press.rpartition(':')[2]} fails at n={n}, d={d}: {type(error).__name__}: {text}") from None
    return (("subset", indices is not None), ("kept", int(keys.shape[0])))


# --- running a press on one layer --------------------------------------------------------------------


def run_press(press: str, press_args: dict, Q: np.ndarray, K: np.ndarray, V: np.ndarray):
    """Compress ``(K, V)`` with the press as kvpress does after a prefill whose queries are ``Q``.

    Returns the kept keys and values (float64 copies of the float32 rows the press returned) and,
    when they are input rows, their positions in the stream (``None`` for merged or changed rows).
    """
    import torch

    press_object = build_press(press, press_args)
    n, d = K.shape
    logging.getLogger("kvpress").setLevel(logging.ERROR)  # advice for real models (flash attention, ...)
    eager = _uses(press_object, EAGER)
    module, model = _attention_layer(d, "eager" if eager else "sdpa")
    press_object.post_init_from_model(model)
    dtype = torch.float32
    queries = torch.tensor(Q, dtype=dtype).reshape(1, n, d)
    keys = torch.tensor(K, dtype=dtype).reshape(1, 1, n, d)
    values = torch.tensor(V, dtype=dtype).reshape(1, 1, n, d)
    original_keys, original_values = keys[0, 0].clone(), values[0, 0].clone()
    hidden_states = queries * math.sqrt(d)  # q_proj is the identity: the press's queries are sqrt(d)·q
    scores = queries[0] @ keys[0, 0].T  # HO's scores q·k = (sqrt(d) q)·k / sqrt(d), kvpress's scaling
    causal = torch.ones(n, n, dtype=torch.bool).tril()
    attentions = torch.softmax(scores.masked_fill(~causal, float("-inf")), dim=-1).reshape(1, 1, n, n)
    output = (attentions[0, 0] @ values[0, 0]).reshape(1, n, d)
    from transformers import DynamicCache

    cache = DynamicCache()
    cache.update(keys, values, layer_idx=0)
    positions = torch.arange(n)
    ones = torch.ones(1, n, d, dtype=dtype)
    kwargs = {"hidden_states": hidden_states, "past_key_values": cache, "cache_position": positions,
              "position_ids": positions.reshape(1, n), "position_embeddings": (ones, torch.zeros_like(ones)),
              "attention_mask": None}
    module.masked_key_indices = None
    from kvpress import BasePress

    with torch.no_grad():
        if type(press_object).forward_hook is not BasePress.forward_hook:
            press_object.forward_hook(module, [hidden_states], kwargs, (output, attentions if eager else None))
            kept_keys, kept_values = cache.layers[0].keys, cache.layers[0].values
        else:
            kept_keys, kept_values = press_object.compress(module, hidden_states, keys, values,
                                                           attentions if eager else None, kwargs)
    kept_keys, kept_values = kept_keys[0, 0], kept_values[0, 0]
    masked = getattr(module, "masked_key_indices", None)
    if masked is not None:  # AdaKV-style: rows stay, the pruned ones are marked (batch, head, position)
        drop = torch.zeros(kept_keys.shape[0], dtype=torch.bool)
        batch, head, position = (torch.as_tensor(part) for part in masked)
        drop[position[(batch == 0) & (head == 0)]] = True
        kept_keys, kept_values = kept_keys[~drop], kept_values[~drop]
    kept_keys, kept_values = kept_keys.double().numpy().copy(), kept_values.double().numpy().copy()
    return kept_keys, kept_values, _source_rows(kept_keys, kept_values, original_keys.double().numpy(),
                                                original_values.double().numpy())


def _source_rows(keys: np.ndarray, values: np.ndarray, K: np.ndarray, V: np.ndarray) -> np.ndarray | None:
    """Positions of the kept rows in the input, or ``None`` if some kept row is not an input row."""
    if keys.shape[1:] != K.shape[1:] or values.shape[1:] != V.shape[1:]:
        return None
    where = {np.concatenate([k, v]).tobytes(): i for i, (k, v) in enumerate(zip(K, V))}
    found = [where.get(np.concatenate([k, v]).tobytes()) for k, v in zip(keys, values)]
    return None if any(i is None for i in found) else np.asarray(found, dtype=np.int64)


def _uses(press_object, names) -> bool:
    """Whether ``press_object`` or a press it wraps (``press``, ``presses``) is of a class in ``names``."""
    if type(press_object).__name__ in names:
        return True
    inner = [getattr(press_object, "press", None), *(getattr(press_object, "presses", None) or [])]
    return any(item is not None and _uses(item, names) for item in inner if hasattr(item, "compress"))


def _attention_layer(d: int, implementation: str):
    """A fresh one-layer, one-head Llama built from its config (no download): identity q, k, v and o
    projections, and a rotary embedding with every inverse frequency 0, so ``cos = 1, sin = 0``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=2, hidden_size=d, intermediate_size=1, num_hidden_layers=1,
                         num_attention_heads=1, num_key_value_heads=1, head_dim=d, attention_bias=False,
                         max_position_embeddings=1 << 20)
    config._attn_implementation = implementation
    model = LlamaForCausalLM(config).eval()
    module = model.model.layers[0].self_attn
    rotary = model.model.rotary_emb
    with torch.no_grad():
        for projection in (module.q_proj, module.k_proj, module.v_proj, module.o_proj):
            projection.weight.copy_(torch.eye(d))
        rotary.inv_freq.zero_()
        if isinstance(getattr(rotary, "original_inv_freq", None), torch.Tensor):
            rotary.original_inv_freq = torch.zeros_like(rotary.original_inv_freq)
    module.rotary_emb = rotary  # what BasePress.__call__ attaches: presses averaging or re-applying RoPE read it
    return module, model


# --- the press list the budget experiment plays ------------------------------------------------------


def with_ratio(press: str, args: dict, ratio: float, n: int) -> dict:
    """``args`` with the compression ratio set on the press (or on its inner press for a wrapper)."""
    args = json_copy(args)
    if press == "SimLayerKVPress":
        keep = max(1, int(n * (1 - ratio)))
        args["n_recent"] = max(2, keep - args.get("n_initial", 4) + args.get("n_last", 1))
        return args
    if press in RATIO_ARGUMENT:
        args[RATIO_ARGUMENT[press]] = ratio
        return args
    if "press" in args and isinstance(args["press"], dict):
        inner = args["press"]
        inner["press_args"] = with_ratio(inner["press"], inner.get("press_args") or {}, ratio, n)
        if press == "PerLayerCompressionPress":
            args["compression_ratios"] = [ratio]
        return args
    if "presses" in args and isinstance(args["presses"], list):
        args["presses"] = [{**item, "press_args": with_ratio(item["press"], item.get("press_args") or {}, ratio, n)}
                           for item in args["presses"]]
        return args
    args["compression_ratio"] = ratio
    return args


def json_copy(value):
    import json

    return json.loads(json.dumps(value))


def press_configs(n: int, ratios=DEFAULT_RATIOS, dtype: str = "float16") -> list[PressCache]:
    """Every verified configuration at every compression ratio for ``n`` tokens (not checked yet)."""
    return [PressCache(press, with_ratio(press, args, float(r), n), dtype) for press, args in VERIFIED for r in ratios]


def inventory(n: int, d: int, ratios=DEFAULT_RATIOS, dtype: str = "float16") -> tuple[list[PressCache], dict]:
    """Every press class of kvpress: the caches that run at ``(n, d)`` and ``{press: why}`` for the others.

    Verified configurations (:data:`VERIFIED`) come first; any other press kvpress exports is
    tried with its defaults and ``compression_ratio``; refused presses and presses failing on a
    public random stream of this size are listed with the reason.
    """
    verified = {press for press, _ in VERIFIED}
    playing, refused = [], {}
    candidates = list(VERIFIED) + [(name, {}) for name in press_names() if name not in verified]
    for press, args in candidates:
        why = refusal(press_class(press))
        if why:
            refused[press] = why
            continue
        try:
            members = [PressCache(press, with_ratio(press, args, float(r), n), dtype) for r in ratios]
            for member in members:
                member.check(n, d)
        except ParameterError as error:
            refused[press] = str(error)
            continue
        playing.extend(members)
    return playing, refused
