"""Read one image file into an H×W×C uint8 array (C = 1 grey or 3 colour).

Pillow (a dependency) decodes PNG and JPEG; should it be missing, reading an
image is refused with a clear message.  Only regular files up to
MAX_IMAGE_FILE_BYTES are read, and the width × height a header declares is
checked against MAX_IMAGE_PIXELS before any pixel is decoded (Pillow's
Image.open reads only the header), so a small file cannot declare a
100k×100k image and fill memory.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np

from .errors import DatasetError
from .files import read_file
from .limits import MAX_IMAGE_FILE_BYTES, MAX_IMAGE_PIXELS

try:
    from PIL import Image
except ImportError:  # pragma: no cover - depends on the environment
    Image = None

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_GREY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "F")


def pillow_available() -> bool:
    return Image is not None


_FORMATS = ("PNG", "JPEG")


def _check_pixels(width: int, height: int, where: str) -> None:
    if width * height > MAX_IMAGE_PIXELS:
        raise DatasetError(f"{where}: image declares {width}×{height} pixels, more than the "
                           f"{MAX_IMAGE_PIXELS:,} one image may have; shrink it before use")


def _decode_with_pillow(data: bytes, where: str) -> np.ndarray:
    try:
        with warnings.catch_warnings():
            # Pillow's own decompression-bomb guard warns first; here it is an error, and only
            # the two formats the folder loader lists are tried.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DatasetError(f"{where}: image declares more pixels than the {MAX_IMAGE_PIXELS:,} one image may have "
                           f"({exc}); shrink it before use") from None
    except Exception as exc:  # Pillow raises many types for damaged files
        raise DatasetError(f"{where}: is not a readable PNG or JPEG image ({type(exc).__name__}: {exc})") from None
    with img:
        # Image.open has read only the header; the size is checked before decoding the pixels.
        _check_pixels(*img.size, where)
        return _pixels_from_pillow(img, where)


def _pixels_from_pillow(img, where: str) -> np.ndarray:
    try:
        img.load()
        grey = img.mode in _GREY_MODES
        has_alpha = "A" in img.mode or "transparency" in img.info
        if img.mode.startswith("I"):
            # 16-bit grey: Pillow's convert("L") clips at 255 instead of
            # scaling; keep the high byte, as for 16-bit colour.
            values = np.asarray(img).astype(np.int64)
            if img.mode != "I" or values.max(initial=0) > 255:
                values = values >> 8
            pixels = values.clip(0, 255)
        elif has_alpha:
            rgba = np.asarray(img.convert("LA" if grey else "RGBA"), dtype=np.uint16)
            # The networks see no transparency: composite over black.
            pixels = (rgba[..., :-1] * rgba[..., -1:] + 127) // 255
        else:
            pixels = np.asarray(img.convert("L" if grey else "RGB"))
    except Exception as exc:  # Pillow raises many types for damaged files
        raise DatasetError(f"{where}: cannot decode image ({type(exc).__name__}: {exc})") from None
    pixels = pixels.astype(np.uint8)
    return pixels[:, :, None] if pixels.ndim == 2 else pixels


def decode_image(data: bytes, where: str) -> np.ndarray:
    """PNG or JPEG bytes -> H×W×C uint8 (C is 1 or 3; transparency over black); raises DatasetError."""
    if Image is None:
        raise DatasetError(f"{where}: reading PNG or JPEG images needs Pillow (pip install Pillow)")
    return _decode_with_pillow(data, where)


def read_image(path: Path) -> np.ndarray:
    return decode_image(read_file(path, MAX_IMAGE_FILE_BYTES, "PNG or JPEG image"), str(path))
