"""The feature pass: a task's feature vector, computed by running a causal LM only up to the
feature layer.

When a calibration head answers every rubric question, scoring needs no answer token:
only the feature, the mean over the tokens of the task block (``Occupation: …\\nTask: …``)
of the hidden state after decoder block ``layer``, exactly as
:class:`~jobimpact.scoring.engine.PrefixTreeEngine` computes it. Because the model is
causal, that state depends only on the prompt up to the end of the task block, so the pass

* tokenises ``task block + middle`` (the joiner, which the task's last character may merge
  with, as in ``.\\n\\n``) after the prefix ids: the same tokens as the engine's full
  prompt up to the end of the feature span (checked on all 18,796 tasks of O*NET 29.3);
* runs blocks ``1..layer`` only: no later block, no final norm, no LM head, no question;
* runs the rubric prefix once, its keys and values shared by every row, never copied;
* runs the occupation header (``Occupation: …\\nTask:``) once per occupation: its tokens,
  with the same left context, are the same in every task of the occupation (41% of a task
  block's tokens on O*NET), so each task row attends to ``prefix | its header | its own
  tokens``, and the header's hidden states enter the task's mean;
* batches rows of similar length, so padding stays small.

``compute="int8"`` runs the task and header rows through a copy of the blocks whose
Linear layers are dynamically quantised to int8 (per-channel weights, one activation
scale per call; fbgemm kernels): about twice the throughput of float32 matrix products
on the machines this was measured on (AVX2, no AVX-512), but the features move by 8%.
``compute="int8-partial"`` quantises all of them but the MLP's down projection, whose
input (the gated activations) has outlier channels one activation scale cannot hold:
1.5 times the throughput, features about 2% away at most. Either is a different feature (so a
different model id, and its own head). The prefix always runs in float32. The model
passed in is never modified.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from jobimpact.errors import ConfigError
from jobimpact.scoring.base import TaskPrompt
from jobimpact.scoring.engine import build_layout
from jobimpact.scoring.rubric import Rubric

__all__ = ["COMPUTE", "FeaturePass", "FeaturePlan"]

COMPUTE = ("float32", "int8", "int8-partial")
# The Linear layers of a decoder block that int8-partial quantises (all but mlp.down_proj).
PARTIAL_INT8 = (
    "self_attn.q_proj",
    "self_attn.k_proj",
    "self_attn.v_proj",
    "self_attn.o_proj",
    "mlp.gate_proj",
    "mlp.up_proj",
)
FloatArray = npt.NDArray[np.float32]
_SENTINEL = "\u2063TASKTEXT\u2063"
_ATTENTION = "jobimpact_gqa_sdpa"


@dataclass(frozen=True, slots=True)
class FeaturePlan:
    """The tokens of one task after the shared prefix.

    Attributes
    ----------
    ids : list of int
        Prompt tokens after the prefix, up to the end of the feature span.
    span : (int, int)
        Feature token positions within ``ids``.
    n_head : int
        Leading tokens of ``ids`` shared by the tasks of the occupation (0: none).
    """

    ids: list[int]
    span: tuple[int, int]
    n_head: int


def _gqa_sdpa(
    module: Any,
    query: Any,
    key: Any,
    value: Any,
    attention_mask: Any,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs: Any,
) -> tuple[Any, None]:
    """Scaled dot-product attention for grouped-query attention without repeating keys and
    values per query head: the query heads of one key/value head are stacked along the
    sequence axis, and the (much smaller) mask is repeated instead."""
    import torch.nn.functional as functional

    b, h, t, d = query.shape
    groups = key.shape[1]
    per_group = h // groups
    q = query.reshape(b, groups, per_group * t, d)
    mask = attention_mask
    if mask is not None:
        width = mask.shape[-1]
        mask = mask.expand(b, per_group, t, width).reshape(b, 1, per_group * t, width)
    out = functional.scaled_dot_product_attention(q, key, value, attn_mask=mask, scale=scaling)
    return out.reshape(b, h, t, d).transpose(1, 2).contiguous(), None


class _StackedKeys:
    """A stand-in for a transformers cache: for each block, the keys and values that come
    before the new tokens (the prefix broadcast to every row, then per-row parts); it keeps
    the new tokens' own keys and values."""

    def __init__(self, parts: list[list[tuple[Any, Any]]], batch: int) -> None:
        self.parts = parts
        self.batch = batch
        self.new: dict[int, tuple[Any, Any]] = {}

    def update(self, key: Any, value: Any, layer_idx: int, *args: Any, **kwargs: Any) -> Any:
        import torch

        self.new[layer_idx] = (key, value)
        keys = [k.expand(self.batch, -1, -1, -1) for k, _ in self.parts[layer_idx]] + [key]
        values = [v.expand(self.batch, -1, -1, -1) for _, v in self.parts[layer_idx]] + [value]
        return torch.cat(keys, dim=2), torch.cat(values, dim=2)


class FeaturePass:
    """Task features of a causal LM (Qwen2/Llama layout: ``model.model.layers``).

    Parameters
    ----------
    model : transformers causal LM, float32 (not modified)
    tokenizer : its fast tokenizer
    rubric : Rubric
    layer : int
        Block whose output is averaged over the task block's tokens (0: embeddings).
    batch_size : int
        Task rows per forward pass.
    compute : {"float32", "int8", "int8-partial"}
        Precision of the task rows (see the module docstring).
    use_chat_template : bool, optional
        As for :func:`~jobimpact.scoring.engine.build_layout`.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        rubric: Rubric,
        *,
        layer: int,
        batch_size: int = 32,
        compute: str = "float32",
        use_chat_template: bool | None = None,
    ) -> None:
        n_layers = int(model.config.get_text_config().num_hidden_layers)
        if not 0 <= layer <= n_layers:
            raise ConfigError(f"feature layer: got {layer}, expected 0 to {n_layers}")
        if compute not in COMPUTE:
            raise ConfigError(f"compute: got {compute!r}, expected one of {', '.join(COMPUTE)}")
        self.model, self.tokenizer, self.rubric = model, tokenizer, rubric
        self.layer, self.batch_size, self.compute = layer, batch_size, compute
        self.layout = build_layout(tokenizer, rubric, use_chat_template=use_chat_template)
        self.prefix_ids = self._tokenise([self.layout.prefix])[0][0]
        self.hidden = int(model.config.get_text_config().hidden_size)
        self.blocks = list(model.model.layers[:layer])
        self._register_attention()
        self._prefix = self._run_prefix()  # float32, before any int8 copy
        if compute != "float32":
            self.blocks = _int8_copy(self.blocks, partial=compute == "int8-partial")
        self.tokens = {"rows": 0, "real": 0, "padded": 0, "header": 0}

    # --- tokens -----------------------------------------------------------------------

    def _tokenise(self, texts: list[str]) -> tuple[list[list[int]], list[list[tuple[int, int]]]]:
        encoded = self.tokenizer(
            texts, add_special_tokens=self.layout.add_special_tokens, return_offsets_mapping=True
        )
        ids = [list(map(int, row)) for row in encoded["input_ids"]]
        offsets = [[(int(a), int(b)) for a, b in row] for row in encoded["offset_mapping"]]
        return ids, offsets

    def _header_length(self, item: TaskPrompt) -> int:
        """Characters of the task block before the task statement (``Occupation: …\\nTask:``)."""
        block = self.rubric.task_block(occupation=item.occupation, task=_SENTINEL)
        return len(block.split(_SENTINEL)[0].rstrip()) if _SENTINEL in block else 0

    def plan(self, items: Sequence[TaskPrompt]) -> list[FeaturePlan]:
        """The tokens after the prefix, the feature span and the shared header of each task."""
        blocks = [self.rubric.task_block(occupation=t.occupation, task=t.task) for t in items]
        ids, offsets = self._tokenise([b + self.layout.middle for b in blocks])
        plans = []
        for item, block, row, spans in zip(items, blocks, ids, offsets, strict=True):
            inside = [j for j, (a, b) in enumerate(spans) if a < len(block) and b > a]
            lo, hi = inside[0], inside[-1] + 1
            head_end = self._header_length(item)
            n_head = sum(1 for a, b in spans[:hi] if a < b <= head_end)
            # every task keeps a token of its own, and the span must start at the header
            n_head = min(n_head, hi - 1) if lo == 0 else 0
            plans.append(FeaturePlan(row[:hi], (lo, hi), n_head))
        return plans

    # --- the model ----------------------------------------------------------------------

    def _register_attention(self) -> None:
        from transformers import AttentionInterface

        AttentionInterface.register(_ATTENTION, _gqa_sdpa)

    @contextmanager
    def _attention(self) -> Iterator[None]:
        """The pass's attention in its blocks for one call, the model's own restored after."""
        configs = {id(b.self_attn.config): b.self_attn.config for b in self.blocks}
        saved = {key: config._attn_implementation for key, config in configs.items()}
        try:
            for config in configs.values():
                config._attn_implementation = _ATTENTION
            yield
        finally:
            for key, config in configs.items():
                config._attn_implementation = saved[key]

    def _forward(self, ids: Any, positions: Any, mask: Any, keys: _StackedKeys) -> Any:
        """Embeddings and blocks 1..layer; the hidden state after the last, float32."""
        inner = self.model.model
        with self._attention():
            x = inner.embed_tokens(ids)
            rotary = inner.rotary_emb(x, positions)
            for block in self.blocks:
                x = block(
                    x,
                    attention_mask=mask,
                    position_ids=positions,
                    position_embeddings=rotary,
                    cache=keys,
                    use_cache=True,
                )
        return x.float()

    def _run_prefix(self) -> list[tuple[Any, Any]]:
        """Keys and values of the prefix for every block (one row)."""
        import torch

        n = len(self.prefix_ids)
        mask = torch.zeros(1, 1, n, n)
        mask.masked_fill_(~torch.ones(n, n, dtype=torch.bool).tril(), torch.finfo(mask.dtype).min)
        keys = _StackedKeys([[] for _ in self.blocks], 1)
        with torch.inference_mode():
            self._forward(torch.tensor([self.prefix_ids]), torch.arange(n)[None], mask, keys)
        return [keys.new[i] for i in range(len(self.blocks))]

    def _rows(self, rows: list[list[int]], first: list[int], n_past: list[int], past: int) -> Any:
        """Padded ids, positions and the additive mask of rows that come after the prefix
        and ``past`` more keys, of which row ``i`` may see ``n_past[i]``."""
        import torch

        b, t = len(rows), max(len(r) for r in rows)
        ids = torch.zeros(b, t, dtype=torch.long)
        positions = torch.zeros(b, t, dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row)
            positions[i] = first[i] + torch.arange(t)
        lengths = torch.tensor([len(r) for r in rows])
        col = torch.arange(t)
        own = (col[None, :] <= col[:, None])[None] & (col[None, None, :] < lengths[:, None, None])
        seen = torch.arange(past)[None, None, :] < torch.tensor(n_past)[:, None, None]
        prefix = torch.ones(b, t, len(self.prefix_ids), dtype=torch.bool)
        allowed = torch.cat([prefix, seen.expand(b, t, -1), own], dim=2)
        mask = torch.zeros(allowed.shape)
        mask.masked_fill_(~allowed, torch.finfo(mask.dtype).min)
        self.tokens["rows"] += b
        self.tokens["real"] += int(lengths.sum())
        self.tokens["padded"] += b * t
        return ids, positions, mask[:, None]

    def _run_headers(self, headers: list[list[int]]) -> tuple[list[tuple[Any, Any]], Any]:
        """Each occupation header's keys and values per block (padded) and hidden-state sum."""
        import torch

        n_pre = len(self.prefix_ids)
        ids, positions, mask = self._rows(headers, [n_pre] * len(headers), [0] * len(headers), 0)
        keys = _StackedKeys([[p] for p in self._prefix], len(headers))
        hidden = self._forward(ids, positions, mask, keys)
        real = torch.zeros(hidden.shape[0], hidden.shape[1], 1, dtype=torch.float64)
        for i, header in enumerate(headers):
            real[i, : len(header)] = 1.0
        self.tokens["header"] += sum(len(h) for h in headers)
        sums = (hidden.double() * real).sum(1)
        return [keys.new[i] for i in range(len(self.blocks))], sums

    # --- features -----------------------------------------------------------------------

    def features(self, items: Sequence[TaskPrompt]) -> FloatArray:
        """The feature vector of each task, float32 ``(len(items), hidden)``, input order.

        Tasks of one occupation share its header run, so pass them together (the score
        stage's batches follow the store's order: by task id, mostly by occupation).
        """
        import torch

        plans = self.plan(items)
        out = np.zeros((len(items), self.hidden), dtype=np.float32)
        with torch.inference_mode():
            headers, sums, header_of = self._headers(items, plans)
            order = sorted(range(len(plans)), key=lambda i: len(plans[i].ids) - plans[i].n_head)
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                self._batch(batch, plans, headers, sums, header_of, out)
        return out

    def _headers(
        self, items: Sequence[TaskPrompt], plans: list[FeaturePlan]
    ) -> tuple[list[tuple[Any, Any]] | None, Any, list[int]]:
        """Run each distinct occupation header once; each task's header index (-1: none)."""
        distinct: dict[tuple[int, ...], int] = {}
        header_of = [
            distinct.setdefault(tuple(p.ids[: p.n_head]), len(distinct)) if p.n_head else -1
            for p in plans
        ]
        if not distinct:
            return None, None, header_of
        keys, sums = self._run_headers([list(h) for h in distinct])
        return keys, sums, header_of

    def _batch(
        self,
        batch: list[int],
        plans: list[FeaturePlan],
        headers: list[tuple[Any, Any]] | None,
        sums: Any,
        header_of: list[int],
        out: FloatArray,
    ) -> None:
        """One forward pass of task rows; their feature vectors written into ``out``."""
        import torch

        chosen = [plans[i] for i in batch]
        n_past = [p.n_head for p in chosen]
        width = max(n_past)
        parts: list[list[tuple[Any, Any]]] = [[p] for p in self._prefix]
        if width and headers is not None:
            which = torch.tensor([max(header_of[i], 0) for i in batch])
            for layer, (k, v) in enumerate(headers):
                parts[layer] = [*parts[layer], (k[which, :, :width], v[which, :, :width])]
        n_pre = len(self.prefix_ids)
        rows = [p.ids[p.n_head :] for p in chosen]
        ids, positions, mask = self._rows(rows, [n_pre + n for n in n_past], n_past, width)
        hidden = self._forward(ids, positions, mask, _StackedKeys(parts, len(chosen)))
        for r, (i, plan) in enumerate(zip(batch, chosen, strict=True)):
            lo, hi = plan.span
            total = hidden[r, max(lo - plan.n_head, 0) : hi - plan.n_head].double().sum(0)
            if plan.n_head:
                total = total + sums[header_of[i]]
            out[i] = (total / (hi - lo)).float().numpy()


def _int8_copy(blocks: list[Any], *, partial: bool) -> list[Any]:
    """A copy of the blocks whose Linear layers (those of :data:`PARTIAL_INT8` when
    ``partial``) run dynamically quantised int8 products."""
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    copied = torch.nn.ModuleList(copy.deepcopy(blocks))
    spec: dict[Any, Any] = {torch.nn.Linear: per_channel_dynamic_qconfig}
    if partial:
        spec = {
            f"{i}.{name}": per_channel_dynamic_qconfig
            for i in range(len(copied))
            for name in PARTIAL_INT8
        }
    with warnings.catch_warnings():
        # torch 2.13 marks its quantised tensors deprecated (torchao is the successor); the
        # pinned build still runs them, and users cannot act on the warning.
        warnings.filterwarnings("ignore", message=".*quantized tensor creation functions")
        quantize_dynamic(copied, spec, dtype=torch.qint8, inplace=True)  # type: ignore[no-untyped-call]
    return list(copied)
