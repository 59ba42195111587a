"""Read one image file into an H×W×C uint8 array (C = 1 grey or 3 colour).

Pillow is used when it is installed (any format it knows); otherwise PNG goes
through the built-in decoder and JPEG is refused with a clear message.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from .errors import DatasetError
from .png import SIGNATURE, decode_png

try:  # optional: Pillow is not a declared dependency
    from PIL import Image
except ImportError:  # pragma: no cover - depends on the environment
    Image = None

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_JPEG_MAGIC = b"\xff\xd8\xff"
_GREY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "F")


def pillow_available() -> bool:
    return Image is not None


def _decode_with_pillow(data: bytes, where: str) -> np.ndarray:
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            grey = img.mode in _GREY_MODES
            has_alpha = "A" in img.mode or "transparency" in img.info
            if img.mode.startswith("I"):
                # 16-bit grey: Pillow's convert("L") clips at 255 instead of
                # scaling; keep the high byte like the built-in decoder does.
                values = np.asarray(img).astype(np.int64)
                if img.mode != "I" or values.max(initial=0) > 255:
                    values = values >> 8
                pixels = values.clip(0, 255)
            elif has_alpha:
                rgba = np.asarray(img.convert("LA" if grey else "RGBA"), dtype=np.uint16)
                # Same rule as the built-in decoder: transparency over black.
                pixels = (rgba[..., :-1] * rgba[..., -1:] + 127) // 255
            else:
                pixels = np.asarray(img.convert("L" if grey else "RGB"))
    except Exception as exc:  # Pillow raises many types for damaged files
        raise DatasetError(f"{where}: cannot decode image ({type(exc).__name__}: {exc})") from None
    pixels = pixels.astype(np.uint8)
    return pixels[:, :, None] if pixels.ndim == 2 else pixels


def decode_image(data: bytes, where: str) -> np.ndarray:
    if Image is not None:
        return _decode_with_pillow(data, where)
    if data.startswith(SIGNATURE):
        return decode_png(data, where)
    if data.startswith(_JPEG_MAGIC):
        raise DatasetError(f"{where}: is a JPEG; reading JPEG needs Pillow "
                           "(pip install Pillow) or convert the images to PNG")
    raise DatasetError(f"{where}: is not a PNG or JPEG image")


def read_image(path: Path) -> np.ndarray:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return decode_image(data, str(path))
