"""Tensor shapes without the batch dimension, their text form, and the error a shape rule raises."""
from __future__ import annotations

TensorShape = tuple  # (C, H, W) for images, (F,) for vectors


class ShapeError(ValueError):
    """A block cannot accept the shapes it is given; ``fix`` says what would make it work."""

    def __init__(self, message: str, fix: str = ""):
        super().__init__(message)
        self.message = message
        self.fix = fix


def fmt_shape(shape: TensorShape | None) -> str:
    """``(64, 16, 16)`` -> ``64×16×16``; None -> ``?``."""
    if shape is None:
        return "?"
    return "×".join(str(int(s)) for s in shape)


def conv_out(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def need_image(shape: TensorShape, what: str) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ShapeError(f"{what} needs an image input C×H×W, got {fmt_shape(shape)}",
                         "remove the Flatten/Linear before it or move this block earlier")
    return shape  # type: ignore[return-value]
