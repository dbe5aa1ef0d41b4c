"""Real Hugging Face ``transformers`` KV caches playing the INDEX game, unchanged (extra ``hf``).

:class:`HFCache` holds one layer of a real cache object and feeds it the stream as
``[batch=1, heads=1, tokens, d]`` tensors through the cache's own ``update``; the output is
softmax attention computed with torch (float64, no ``1/sqrt(d)``, HO eq. 1) on exactly the keys
and values the cache returns. ``kind`` picks the class:

* ``"dynamic"``: ``transformers.DynamicCache`` (every token, at ``dtype``);
* ``"sliding"``: a ``transformers.Cache`` of one ``DynamicSlidingWindowLayer(window)`` (it keeps the
  last ``window - 1`` tokens and attends over them plus the new one);
* ``"quantized"``: ``transformers.QuantizedCache`` (KIVI style, Liu et al. 2024) with ``backend``
  ``"hqq"`` (Badri and Shaji 2023, ``nbits`` in 1, 2, 3, 4, 8), ``"quanto"`` (optimum-quanto,
  ``nbits`` in 2, 4; it compiles a CPU extension on first use) or ``"fp8"`` (built into
  transformers from 5.21: float8 e4m3 with one frozen scale per tensor; ``nbits``, ``q_group_size``
  and ``residual_length`` do not apply). All three run on CPU; the ``hf`` extra keeps transformers
  below 5.3 so that kvpress installs beside it, and there ``"fp8"`` is refused (a ParameterError).

Memory is the cache's state serialized with safetensors (no pickle): every tensor the layer holds
(quantized payloads with their scales, zero points and packed codes; the full-precision residual;
the window) plus a JSON description of how they nest, all inside the safetensors header. Tensor
subclasses (optimum-quanto's packed tensors) are stored through their own ``__tensor_flatten__``.
Bob rebuilds a fresh cache of the same class and restores the layer's attributes from the message.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass

import numpy as np

from caches.base import StreamingAttention
from caches.codec import MessageError
from caches.params import ParameterError, check_choice, check_int
from caches.spec import class_path, load_class

import safetensors.torch
import torch
import transformers
from transformers.cache_utils import Cache, DynamicCache, DynamicSlidingWindowLayer, QuantizedCache, QuantizedLayer

KINDS = ("dynamic", "sliding", "quantized")
BACKENDS = ("hqq", "quanto", "fp8")
DTYPES = ("float32", "float16", "bfloat16")
#: Layer attributes that make up a cache layer's state (those present are saved).
STATE_ATTRIBUTES = ("keys", "values", "_quantized_keys", "_quantized_values", "cumulative_length", "dtype")


@dataclass
class HFCache(StreamingAttention):
    """One layer of a real ``transformers`` cache (``kind``), fed through its own ``update``."""

    #: Modules the players' fork server imports once for this cache (``barriers run`` asks it to).
    PRELOAD = ("caches.hf",)

    kind: str = "dynamic"
    window: int = 128
    backend: str = "hqq"
    nbits: int = 4
    q_group_size: int = 64
    residual_length: int = 128
    dtype: str = "float32"

    def __post_init__(self) -> None:
        check_choice("kind", self.kind, KINDS)
        check_choice("backend", self.backend, BACKENDS)
        check_choice("dtype", self.dtype, DTYPES)
        self.window = check_int("window", self.window, 2)
        self.nbits = check_int("nbits", self.nbits, 1, 8)
        self.q_group_size = check_int("q_group_size", self.q_group_size, 1)
        self.residual_length = check_int("residual_length", self.residual_length, 1)
        self._cache = self._new_cache()
        self._seen = 0
        self._dim = 0

    @property
    def torch_dtype(self) -> torch.dtype:
        return getattr(torch, self.dtype)

    def _new_cache(self) -> Cache:
        if self.kind == "dynamic":
            return DynamicCache()
        if self.kind == "sliding":
            return Cache(layers=[DynamicSlidingWindowLayer(sliding_window=self.window)])
        config = transformers.PretrainedConfig(num_hidden_layers=1)
        options = {} if self.backend == "fp8" else dict(
            nbits=self.nbits, q_group_size=self.q_group_size, residual_length=self.residual_length)
        try:
            return QuantizedCache(self.backend, config, **options)
        except ImportError as error:
            raise ParameterError(f"backend {self.backend!r} is not installed: {error}") from None
        except ValueError as error:
            raise ParameterError(f"transformers.QuantizedCache rejected backend={self.backend!r}: {error}") from None

    # --- streaming -------------------------------------------------------------------------------

    def _states(self, rows) -> torch.Tensor:
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, np.shape(rows)[-1])
        return torch.tensor(rows, dtype=torch.float64).to(self.torch_dtype).reshape(1, 1, *rows.shape)

    def _layer(self):
        return self._cache.layers[0] if self._cache.layers else None

    def step(self, q, k, v) -> np.ndarray:
        keys, values = self._cache.update(self._states(k), self._states(v), layer_idx=0)
        self._seen += 1
        self._dim = np.size(k)
        return torch_attention(np.reshape(q, (1, -1)), keys, values)[0]

    def extend(self, Q, K, V) -> None:
        K = np.asarray(K, dtype=np.float64)
        if K.shape[0]:
            self._cache.update(self._states(K), self._states(V), layer_idx=0)
            self._seen += K.shape[0]
            self._dim = K.shape[1]

    def probe(self, Q, K, V) -> np.ndarray:
        """Row ``r``: the output if a shallow copy of the layer took ``(K[r], V[r])`` through ``update``;
        state unchanged.

        Layers rebind their tensors in ``update`` (no in-place writes), so a shallow copy leaves
        the original untouched. One probe ``update`` with a sample row shows what the layer
        returns: where that is a prefix independent of the row followed by the row itself at the
        cache's dtype (a dynamic cache, a sliding window, a quantized cache whose residual is not
        full), every row is answered in one batched torch call over the prefix plus its own
        token (:func:`torch_attention_with_own`); otherwise (a quantized cache that
        re-quantizes on this token) each row takes its own ``update``.
        """
        Q = np.asarray(Q, dtype=np.float64)
        layer = self._layer()
        if layer is None or not layer.is_initialized:
            return np.asarray(V, dtype=np.float64).copy()
        prefix = self._shared_prefix(layer, K[0], V[0])
        if prefix is not None:
            own_keys = self._states(K).reshape(-1, np.shape(K)[1])
            own_values = self._states(V).reshape(-1, np.shape(V)[1])
            return torch_attention_with_own(Q, own_keys, own_values, *prefix)
        out = np.empty((Q.shape[0], np.shape(V)[1]))
        for r in range(Q.shape[0]):  # one update per row: exactly what the cache would return
            keys, values = copy.copy(layer).update(self._states(K[r]), self._states(V[r]))
            out[r] = torch_attention(Q[r : r + 1], keys, values)[0]
        return out

    def _shared_prefix(self, layer, k, v) -> tuple[torch.Tensor, torch.Tensor] | None:
        """``(keys, values)`` every row's ``update`` returns before the row itself, or ``None`` when
        the layer would transform the new row (quantize it with the residual) or return no prefix."""
        if isinstance(layer, QuantizedLayer) and layer.keys.dim() == 4 and layer.keys.shape[-2] + 1 >= layer.residual_length:
            return None  # this token fills the residual: everything is re-quantized, the row too
        key, value = self._states(k), self._states(v)
        keys, values = copy.copy(layer).update(key, value)
        if keys.shape[-2] < 2 or not (torch.equal(keys[..., -1:, :], key) and torch.equal(values[..., -1:, :], value)):
            return None
        return keys[..., :-1, :], values[..., :-1, :]

    # --- message ---------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        tensors: dict[str, torch.Tensor] = {}
        layer = self._layer()
        state = {}
        if layer is not None and layer.is_initialized:
            state = {name: flatten(getattr(layer, name), name, tensors)
                     for name in STATE_ATTRIBUTES if getattr(layer, name, None) is not None}
        # One metadata entry: safetensors does not keep the order of several, so bytes would vary.
        description = {"tokens": self._seen, "dim": self._dim, "layer": state}
        return safetensors.torch.save(tensors, metadata={"cache": json.dumps(description, sort_keys=True)})

    @classmethod
    def from_bytes(cls, data, **params) -> "HFCache":
        cache = cls(**params)
        try:
            description = json.loads(safetensors_metadata(bytes(data))["cache"])
            tensors = safetensors.torch.load(bytes(data))
            state = description["layer"]
            cache._seen, cache._dim = int(description["tokens"]), int(description["dim"])
        except (KeyError, ValueError, json.JSONDecodeError) as error:
            raise MessageError(f"HFCache: not a safetensors message of this adapter: {error}") from None
        if state:
            if not cache._cache.layers:  # DynamicCache creates its layer on the first update
                cache._cache.layers.append(cache._cache.layer_class_to_replicate())
            layer = cache._cache.layers[0]
            sample = torch.zeros(1, 1, 1, cache._dim, dtype=cache.torch_dtype)
            layer.lazy_initialization(sample, sample)
            for name, description in state.items():
                setattr(layer, name, unflatten(description, tensors))
        return cache


def torch_attention_with_own(Q: np.ndarray, own_keys: torch.Tensor, own_values: torch.Tensor,
                             keys: torch.Tensor, values: torch.Tensor) -> np.ndarray:
    """Row ``r``: :func:`torch_attention` of ``Q[r]`` over ``keys, values`` plus row ``r`` of ``own_*``.

    The same float64 softmax as the per-row path (the own token's score is the last column), for a
    whole batch of queries in one call.
    """
    K = keys.reshape(-1, keys.shape[-1]).to(torch.float64)
    V = values.reshape(-1, values.shape[-1]).to(torch.float64)
    own_K, own_V = own_keys.to(torch.float64), own_values.to(torch.float64)
    queries = torch.tensor(np.asarray(Q, dtype=np.float64))
    scores = torch.cat([queries @ K.T, (queries * own_K).sum(dim=1, keepdim=True)], dim=1)
    weights = torch.softmax(scores, dim=-1)
    return (weights[:, :-1] @ V + weights[:, -1:] * own_V).numpy()


def torch_attention(Q: np.ndarray, keys: torch.Tensor, values: torch.Tensor) -> np.ndarray:
    """``softmax(Q K^T) V`` in float64 torch over the cache's returned ``[1, 1, t, d]`` states."""
    K = keys.reshape(-1, keys.shape[-1]).to(torch.float64)
    V = values.reshape(-1, values.shape[-1]).to(torch.float64)
    weights = torch.softmax(torch.tensor(np.asarray(Q, dtype=np.float64)) @ K.T, dim=-1)
    return (weights @ V).numpy()


# --- safetensors flattening of a layer's attributes --------------------------------------------------


def flatten(value, name: str, tensors: dict) -> dict:
    """Describe ``value`` as JSON, moving every tensor into ``tensors`` under a dotted name."""
    if isinstance(value, torch.Tensor):
        if type(value) is not torch.Tensor and hasattr(value, "__tensor_flatten__"):
            inner, context = value.__tensor_flatten__()
            return {"subclass": class_path(type(value)), "context": context, "size": list(value.size()),
                    "stride": list(value.stride()),
                    "inner": {part: flatten(getattr(value, part), f"{name}.{part}", tensors) for part in inner}}
        tensors[name] = value.detach().contiguous()
        return {"tensor": name}
    if isinstance(value, torch.dtype):
        return {"dtype": str(value).removeprefix("torch.")}
    if isinstance(value, torch.Size):
        return {"size": list(value)}
    if isinstance(value, (tuple, list)):
        return {"sequence": [flatten(item, f"{name}.{i}", tensors) for i, item in enumerate(value)],
                "tuple": isinstance(value, tuple)}
    if isinstance(value, dict):
        return {"dict": {str(key): flatten(item, f"{name}.{key}", tensors) for key, item in value.items()}}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"value": value}
    raise TypeError(f"cannot serialize a {type(value).__name__} in a cache layer ({name})")


def unflatten(description: dict, tensors: dict):
    """Inverse of :func:`flatten`."""
    if "tensor" in description:
        return tensors[description["tensor"]]
    if "subclass" in description:
        inner = {part: unflatten(item, tensors) for part, item in description["inner"].items()}
        cls = load_class(description["subclass"])
        return cls.__tensor_unflatten__(inner, description["context"], torch.Size(description["size"]),
                                        tuple(description["stride"]))
    if "dtype" in description:
        return getattr(torch, description["dtype"])
    if "size" in description:
        return torch.Size(description["size"])
    if "sequence" in description:
        items = [unflatten(item, tensors) for item in description["sequence"]]
        return tuple(items) if description["tuple"] else items
    if "dict" in description:
        return {key: unflatten(item, tensors) for key, item in description["dict"].items()}
    return description["value"]


def safetensors_metadata(data: bytes) -> dict:
    """The ``__metadata__`` of a safetensors buffer (8-byte little-endian header length, JSON header)."""
    if len(data) < 8:
        raise ValueError("shorter than the 8-byte header length")
    length = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + length]).get("__metadata__", {})
