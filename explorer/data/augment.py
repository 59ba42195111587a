"""Batch-wide data augmentation on tensors: random crop and horizontal flip.

Everything happens in two ``gather`` calls on the batch's own device, so
augmentation costs no Python loop per sample and no host round trip.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _rand_device(x: torch.Tensor, generator: torch.Generator | None) -> torch.device:
    # Random numbers must be drawn where the generator lives; a CPU generator
    # keeps CUDA runs reproducible and the few offsets are cheap to move.
    return generator.device if generator is not None else x.device


def augment_batch(x: torch.Tensor, crop_padding: int = 0, flip: bool = False,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """Randomly crop (after zero padding) and/or mirror each image of N×C×H×W ``x``.

    Padding uses zeros of the tensor as given; on normalised data that is the
    mean colour, which blends better than black.  With ``crop_padding == 0``
    and ``flip`` false, ``x`` itself is returned.
    """
    if x.dim() != 4:
        raise ValueError(f"augment_batch expects N×C×H×W, got shape {tuple(x.shape)}")
    if crop_padding < 0:
        raise ValueError(f"crop_padding must be >= 0, got {crop_padding}")
    if crop_padding == 0 and not flip:
        return x
    n, c, h, w = x.shape
    p = int(crop_padding)
    device = x.device
    rand_device = _rand_device(x, generator)

    if p:
        padded = F.pad(x, (p, p, p, p))
        offsets = torch.randint(0, 2 * p + 1, (2, n), generator=generator, device=rand_device).to(device)
        oy, ox = offsets[0], offsets[1]
    else:
        padded = x
        oy = ox = torch.zeros(n, dtype=torch.long, device=device)

    cols = torch.arange(w, device=device).expand(n, w)
    if flip:
        mirror = (torch.rand(n, generator=generator, device=rand_device) < 0.5).to(device)
        # Reading the crop's columns right to left is the flip; no extra copy.
        cols = torch.where(mirror[:, None], (w - 1) - cols, cols)
    cols = cols + ox[:, None]
    rows = torch.arange(h, device=device)[None, :] + oy[:, None]

    out = padded.gather(2, rows[:, None, :, None].expand(n, c, h, padded.shape[3]))
    return out.gather(3, cols[:, None, None, :].expand(n, c, h, w))
