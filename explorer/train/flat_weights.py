"""The parameters of a model laid end to end in one buffer, each parameter a view of its stretch, so that
per-layer statistics read every weight with one kernel instead of one call per parameter.

Parameters come in groups (the layer units); each group starts on a chunk boundary, so that the norms of
fixed-size chunks (one batched call over the buffer) add up, on the host, to each group's norm. Within a
group each parameter starts on a 64-byte boundary, as a freshly allocated tensor does. The gaps stay zero,
so they add nothing to a norm.

Binding replaces each parameter's storage (``p.data``) by a view of the buffer holding the same values:
the Parameter objects stay, so the optimiser, hooks and checkpoints are unaffected. A parameter that
cannot be a view (another dtype than float32, a layout that is not one dense block, or one that appears
twice) keeps its own storage and is copied into its stretch on each ``current()``. What replaces the
parameters' storage later (``model.to(...)``: all of them at once) is noticed by ``current()``, which binds
again; it looks at the first and the last bound parameter only, since a check of every one costs a sample
more than the copy it guards.
"""
from __future__ import annotations

import math

import torch

ALIGN = 16          # float32 elements in 64 bytes
MIN_CHUNK = 64      # elements per chunk, at least ...
MAX_CHUNKS = 8192   # ... and at most this many chunks (what a sample copies to the host stays small)


def _dense(p: torch.Tensor) -> bool:
    """One dense block in a layout a view can take: contiguous or channels-last."""
    return p.is_contiguous() or (p.dim() == 4 and p.is_contiguous(memory_format=torch.channels_last)) or (
        p.dim() == 5 and p.is_contiguous(memory_format=torch.channels_last_3d))


def _up(n: int, to: int) -> int:
    return -(-n // to) * to


class FlatWeights:
    def __init__(self, groups: list[list[torch.Tensor]], device: torch.device) -> None:
        self.params = [p for g in groups for p in g]
        self.device = device
        total = sum(_up(p.numel(), ALIGN) for p in self.params)
        self.chunk = max(MIN_CHUNK, 2 ** math.ceil(math.log2(max(1, total / MAX_CHUNKS))))
        self.offsets: list[int] = []
        self.group_chunks: list[int] = []   # each group's first chunk
        pos = 0
        for g in groups:
            pos = _up(pos, self.chunk)
            self.group_chunks.append(pos // self.chunk)
            for p in g:
                self.offsets.append(pos)
                pos += _up(p.numel(), ALIGN)
        self.size = _up(pos, self.chunk)
        self.flat = torch.zeros(0)
        self._watch: list[torch.Tensor] = []   # the parameters whose storage current() checks
        self._ptrs: list[int] = []
        self._copied: list[int] = []   # indices of the parameters copied in on each current()
        self._bind()

    @property
    def chunks(self) -> int:
        return self.size // self.chunk

    def _bind(self) -> None:
        flat = torch.zeros(self.size, device=self.device)
        seen: set[int] = set()
        self._copied, bound = [], []
        with torch.no_grad():
            for i, (p, at) in enumerate(zip(self.params, self.offsets)):
                if p.dtype == torch.float32 and p.device == flat.device and _dense(p) and id(p) not in seen:
                    view = flat.as_strided(p.shape, p.stride(), at)   # its own shape and memory layout
                    view.copy_(p.detach())
                    p.data = view
                    bound.append(p)
                else:
                    self._copied.append(i)
                seen.add(id(p))
        self.flat = flat
        self._watch = [bound[0], bound[-1]] if bound else []
        self._ptrs = [p.data_ptr() for p in self._watch]

    def current(self) -> torch.Tensor:
        """The buffer, holding every parameter's present value."""
        if [p.data_ptr() for p in self._watch] != self._ptrs:
            self._bind()  # a parameter's storage was replaced since: take the new values
        for i in self._copied:
            p, at = self.params[i], self.offsets[i]
            self.flat[at:at + p.numel()].copy_(p.detach().reshape(-1))
        return self.flat
