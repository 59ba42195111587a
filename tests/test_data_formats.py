"""Tests for the file-format loaders: CIFAR-10 pickles, IDX (MNIST), PNG and image folders.

Every test writes its own tiny files; nothing is downloaded.
"""

from __future__ import annotations

import gzip
import os
import pickle
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.data import DatasetError, load_dataset
from explorer.data.cifar import CIFAR10_CLASSES
from explorer.data.idx import parse_idx
from explorer.data.imagefile import decode_image, pillow_available
from explorer.data.mnist import FASHION_CLASSES
from explorer.data.safe_pickle import safe_loads

RNG = np.random.default_rng(0)


def assert_normalised(ds) -> None:
    dims = (0, 2, 3)
    channels = ds.input_shape[0]
    assert torch.allclose(ds.x_train.mean(dim=dims), torch.zeros(channels), atol=1e-4)
    assert torch.allclose(ds.x_train.std(dim=dims, unbiased=False), torch.ones(channels), atol=1e-3)


# --- writers ---------------------------------------------------------------

def cifar_batch(n: int, str_keys: bool = False, rng: np.random.Generator = RNG) -> dict:
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, 10, size=n)]
    batch = {b"batch_label": b"training batch", b"data": data, b"labels": labels,
             b"filenames": [b"img%d.png" % i for i in range(n)]}
    return {k.decode(): v for k, v in batch.items()} if str_keys else batch


def write_cifar(root: Path, per_batch: int = 4, test: int = 5, protocol: int = pickle.DEFAULT_PROTOCOL,
                str_keys: bool = False, meta: bool = True) -> Path:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for i in range(1, 6):
        with open(folder / f"data_batch_{i}", "wb") as f:
            pickle.dump(cifar_batch(per_batch, str_keys), f, protocol=protocol)
    with open(folder / "test_batch", "wb") as f:
        pickle.dump(cifar_batch(test, str_keys), f, protocol=protocol)
    if meta:
        names = [f"class{i}".encode() for i in range(10)]
        with open(folder / "batches.meta", "wb") as f:
            pickle.dump({b"label_names": names, b"num_vis": 3072}, f, protocol=protocol)
    return folder


def idx_bytes(array: np.ndarray) -> bytes:
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B,
             np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}
    big = array.astype(array.dtype.newbyteorder(">")) if array.dtype.itemsize > 1 else array
    header = struct.pack(">HBB", 0, codes[big.dtype], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + big.tobytes()


def write_idx_set(folder: Path, n_train: int = 12, n_val: int = 6, size: int = 6,
                  gz: bool = False, rng: np.random.Generator = RNG) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, size, size), dtype=np.uint8),
        "train-labels-idx1-ubyte": np.arange(n_train, dtype=np.uint8) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_val, size, size), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": np.arange(n_val, dtype=np.uint8) % 10,
    }
    paths = {}
    for name, array in arrays.items():
        raw = idx_bytes(array)
        path = folder / (name + (".gz" if gz else ""))
        path.write_bytes(gzip.compress(raw) if gz else raw)
        paths[name] = path
    return paths


def _filter_row(kind: int, row: bytes, prev: bytes, bpp: int) -> bytes:
    out = bytearray()
    for i, value in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if kind == 0:
            pred = 0
        elif kind == 1:
            pred = a
        elif kind == 2:
            pred = b
        elif kind == 3:
            pred = (a + b) // 2
        else:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        out.append((value - pred) & 0xFF)
    return bytes(out)


def png_bytes(rows: np.ndarray, colour: int, depth: int = 8, palette: np.ndarray | None = None,
              filters: tuple[int, ...] = (0, 1, 2, 3, 4), width: int | None = None) -> bytes:
    """Encode pre-packed scanlines (H×stride uint8) as a PNG, cycling the filter types."""
    height = rows.shape[0]
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    bpp = max(1, channels * depth // 8)
    if width is None:
        width = rows.shape[1] * 8 // (channels * depth)
    raw, prev = bytearray(), bytes(rows.shape[1])
    for y in range(height):
        kind = filters[y % len(filters)]
        line = rows[y].tobytes()
        raw += bytes([kind]) + _filter_row(kind, line, prev, bpp)
        prev = line

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0))
    if palette is not None:
        out += chunk(b"PLTE", palette.astype(np.uint8).tobytes())
    out += chunk(b"tEXt", b"Comment\x00ancillary chunks are skipped")
    compressed = zlib.compress(bytes(raw))
    half = len(compressed) // 2  # data split over two IDAT chunks, as encoders do
    out += chunk(b"IDAT", compressed[:half]) + chunk(b"IDAT", compressed[half:])
    return out + chunk(b"IEND", b"")


def image_png(pixels: np.ndarray) -> bytes:
    """PNG for an H×W (grey) or H×W×3 (RGB) uint8 array."""
    if pixels.ndim == 2:
        return png_bytes(pixels, 0)
    return png_bytes(pixels.reshape(pixels.shape[0], -1), 2)


# --- safe pickle -----------------------------------------------------------

class _Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _EvalEvil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (eval, (f"open({str(self.marker)!r}, 'w').close()",))


class _OpenEvil:
    """builtins.open named directly: creates the marker file if it is ever called."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_safe_unpickler_reads_numpy_arrays(protocol):
    data = {b"data": np.arange(12, dtype=np.uint8).reshape(3, 4), "labels": [1, 2, 3],
            "f": np.float32(1.5), "l": np.array([1, 2], dtype=np.int64), "b": b"\x00\xff"}
    loaded = safe_loads(pickle.dumps(data, protocol=protocol), "test")
    assert np.array_equal(loaded[b"data"], data[b"data"])
    assert loaded["labels"] == [1, 2, 3] and loaded["b"] == b"\x00\xff"
    assert np.array_equal(loaded["l"], data["l"]) and loaded["f"] == 1.5


@pytest.mark.parametrize("payload", [
    lambda marker: _Evil(marker),
    lambda marker: {b"data": _Evil(marker), b"labels": []},
    lambda marker: _EvalEvil(marker),
    lambda marker: {b"data": np.zeros(2), b"f": _OpenEvil(marker)},
])
def test_safe_unpickler_refuses_code(tmp_path, payload):
    marker = tmp_path / "pwned"
    blob = pickle.dumps(payload(marker), protocol=2)
    # The payloads are real: the ordinary unpickler does run them (and creates the marker).
    pickle.loads(blob)
    assert marker.exists()
    marker.unlink()
    with pytest.raises(DatasetError, match="refusing"):
        safe_loads(blob, "evil")
    assert not marker.exists()


# --- CIFAR-10 --------------------------------------------------------------

def test_cifar_loads_from_parent_and_batch_folder(tmp_path):
    folder = write_cifar(tmp_path)
    for spec in (f"cifar10:{tmp_path}", f"cifar10:{folder}"):
        ds = load_dataset(spec)
        assert ds.name == "cifar10"
        assert ds.input_shape == (3, 32, 32)
        assert ds.x_train.shape == (20, 3, 32, 32) and ds.x_val.shape == (5, 3, 32, 32)
        assert ds.y_train.dtype == torch.int64 and ds.x_train.dtype == torch.float32
        assert ds.classes == [f"class{i}" for i in range(10)]
        assert_normalised(ds)


def test_cifar_pixel_layout_and_test_batch_as_validation(tmp_path):
    folder = write_cifar(tmp_path, meta=False)
    with open(folder / "test_batch", "rb") as f:
        test = pickle.load(f)
    ds = load_dataset(f"cifar10:{folder}")
    assert ds.classes == CIFAR10_CLASSES
    assert ds.y_val.tolist() == test[b"labels"]
    # Channel planes: the first 1024 values are red, row-major.
    restored = (ds.denormalize(ds.x_val) * 255).round().to(torch.uint8).numpy()
    assert np.array_equal(restored.reshape(5, 3072), test[b"data"])


@pytest.mark.parametrize("protocol, str_keys", [(2, False), (4, True), (5, False)])
def test_cifar_pickle_variants(tmp_path, protocol, str_keys):
    write_cifar(tmp_path, protocol=protocol, str_keys=str_keys)
    assert load_dataset(f"cifar10:{tmp_path}").x_train.shape[0] == 20


def test_cifar_missing_files(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(f"cifar10:{tmp_path / 'nope'}")
    with pytest.raises(DatasetError) as info:
        load_dataset(f"cifar10:{tmp_path}")
    assert str(tmp_path) in str(info.value) and "data_batch_1" in str(info.value)
    assert "cifar-10-batches-py" in str(info.value)
    folder = write_cifar(tmp_path)
    (folder / "test_batch").unlink()
    with pytest.raises(DatasetError, match="test_batch"):
        load_dataset(f"cifar10:{folder}")


def _corrupt_cifar(tmp_path: Path, content) -> Path:
    folder = write_cifar(tmp_path)
    target = folder / "data_batch_2"
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        with open(target, "wb") as f:
            pickle.dump(content, f)
    return folder


@pytest.mark.parametrize("content", [
    b"",
    b"not a pickle at all",
    pickle.dumps(cifar_batch(4))[:200],                       # truncated
    [1, 2, 3],                                                # wrong type
    {b"labels": [1]},                                         # no data
    {b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]},   # wrong width
    {b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]},  # wrong dtype
    {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]},       # count mismatch
    {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]},   # label range
    {b"data": np.zeros((2, 3072), np.uint8), b"labels": "ab"},      # labels not ints
])
def test_cifar_corrupt_batches_raise_dataset_error(tmp_path, content):
    folder = _corrupt_cifar(tmp_path, content)
    with pytest.raises(DatasetError) as info:
        load_dataset(f"cifar10:{folder}")
    assert "data_batch_2" in str(info.value)


@pytest.mark.parametrize("evil", [_Evil, _EvalEvil, _OpenEvil])
def test_cifar_malicious_pickle_is_not_executed(tmp_path, evil):
    marker = tmp_path / "pwned"
    folder = write_cifar(tmp_path / "data")
    with open(folder / "data_batch_1", "wb") as f:
        pickle.dump({b"data": evil(marker), b"labels": [0]}, f, protocol=2)
    with pytest.raises(DatasetError, match="refusing"):
        load_dataset(f"cifar10:{folder}")
    assert not marker.exists()


def test_cifar_bad_meta(tmp_path):
    folder = write_cifar(tmp_path)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": [b"a", b"b"]}, f)
    with pytest.raises(DatasetError, match="label_names"):
        load_dataset(f"cifar10:{folder}")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_cifar_random_corruption_loads_or_raises_dataset_error(data):
    # A fixed-seed batch: hypothesis needs the same blob length on every replay.
    batch = cifar_batch(2, rng=np.random.default_rng(1))
    blob = bytearray(pickle.dumps(batch, protocol=data.draw(st.sampled_from([2, 4]))))
    for _ in range(data.draw(st.integers(1, 4))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    blob = blob[:data.draw(st.integers(0, len(blob)))]
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_cifar(Path(tmp), per_batch=2, test=2)
        (folder / "data_batch_1").write_bytes(bytes(blob))
        try:
            load_dataset(f"cifar10:{folder}")
        except DatasetError:
            pass


# --- IDX / MNIST -----------------------------------------------------------

@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_mnist_loads_plain_and_gzipped(tmp_path, name, gz):
    paths = write_idx_set(tmp_path, gz=gz)
    ds = load_dataset(f"{name}:{tmp_path}")
    assert ds.name == name
    assert ds.input_shape == (1, 6, 6)
    assert ds.x_train.shape[0] == 12 and ds.x_val.shape[0] == 6  # t10k is validation
    assert ds.y_val.tolist() == [0, 1, 2, 3, 4, 5]
    assert ds.classes == (FASHION_CLASSES if name == "fashion-mnist" else [str(i) for i in range(10)])
    assert_normalised(ds)
    raw = paths["train-images-idx3-ubyte"].read_bytes()
    images = parse_idx(gzip.decompress(raw) if gz else raw, "x")
    restored = (ds.denormalize(ds.x_train) * 255).round().to(torch.uint8)[:, 0].numpy()
    assert np.array_equal(restored, images)


def test_mnist_torchvision_layout_and_sniffed_gzip(tmp_path):
    paths = write_idx_set(tmp_path / "MNIST" / "raw", gz=True)
    # A gzip file without the .gz suffix is still recognised by its magic.
    plain_name = paths["t10k-labels-idx1-ubyte"].with_suffix("")
    paths["t10k-labels-idx1-ubyte"].rename(plain_name)
    assert load_dataset(f"mnist:{tmp_path}").x_val.shape[0] == 6


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, ">i2", ">i4", ">f4", ">f8"])
def test_parse_idx_all_types(dtype):
    array = np.arange(24).reshape(2, 3, 4).astype(dtype)
    parsed = parse_idx(idx_bytes(array), "x")
    assert parsed.shape == (2, 3, 4) and np.array_equal(parsed, array)


def test_mnist_missing_files(tmp_path):
    with pytest.raises(DatasetError) as info:
        load_dataset(f"mnist:{tmp_path}")
    assert str(tmp_path) in str(info.value) and "train-images-idx3-ubyte" in str(info.value)
    paths = write_idx_set(tmp_path)
    paths["t10k-labels-idx1-ubyte"].unlink()
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte"):
        load_dataset(f"mnist:{tmp_path}")


def _replace(paths: dict[str, Path], name: str, raw: bytes) -> None:
    paths[name].write_bytes(raw)


@pytest.mark.parametrize("name, mutate", [
    ("train-images-idx3-ubyte", lambda raw: raw[:-1]),                       # truncated
    ("train-images-idx3-ubyte", lambda raw: raw + b"\x00"),                  # trailing bytes
    ("train-images-idx3-ubyte", lambda raw: b"\x12\x34" + raw[2:]),          # wrong magic
    ("train-images-idx3-ubyte", lambda raw: raw[:2] + b"\x07" + raw[3:]),    # bad type code
    ("train-images-idx3-ubyte", lambda raw: raw[:3]),                        # no header
    ("train-images-idx3-ubyte", lambda raw: raw[:4] + b"\xff\xff\xff\xff" + raw[8:]),  # huge dim
    ("train-images-idx3-ubyte", lambda raw: idx_bytes(np.zeros((12, 36), np.uint8))),  # 2-d
    ("train-images-idx3-ubyte", lambda raw: idx_bytes(np.zeros((12, 6, 6), ">i4"))),   # not bytes
    ("train-labels-idx1-ubyte", lambda raw: idx_bytes(np.zeros(11, np.uint8))),        # count
    ("train-labels-idx1-ubyte", lambda raw: idx_bytes(np.full(12, 10, np.uint8))),     # range
    ("t10k-images-idx3-ubyte", lambda raw: idx_bytes(np.zeros((6, 5, 5), np.uint8))),  # size
    ("t10k-images-idx3-ubyte", lambda raw: b""),
])
def test_mnist_malformed_files_raise_dataset_error(tmp_path, name, mutate):
    paths = write_idx_set(tmp_path)
    _replace(paths, name, mutate(paths[name].read_bytes()))
    with pytest.raises(DatasetError) as info:
        load_dataset(f"mnist:{tmp_path}")
    assert "\n" not in str(info.value) and "mnist" in str(info.value)


@pytest.mark.parametrize("mutate", [
    lambda raw: raw[: len(raw) // 2],                 # truncated gzip stream
    lambda raw: raw[:10] + bytes(len(raw) - 10),      # zeroed deflate data
    lambda raw: b"\x1f\x8b" + b"\x00" * 30,           # bogus header
    lambda raw: raw[:-4] + b"\x00\x00\x00\x00",       # wrong length trailer
])
def test_mnist_corrupt_gzip_raises_dataset_error(tmp_path, mutate):
    paths = write_idx_set(tmp_path, gz=True)
    name = "train-images-idx3-ubyte"
    _replace(paths, name, mutate(paths[name].read_bytes()))
    with pytest.raises(DatasetError, match="train-images"):
        load_dataset(f"mnist:{tmp_path}")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), gz=st.booleans(),
       name=st.sampled_from(["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]))
def test_idx_random_corruption_loads_or_raises_dataset_error(data, gz, name):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = write_idx_set(folder, n_train=4, n_val=3, size=3, gz=gz, rng=np.random.default_rng(1))
        blob = bytearray(paths[name].read_bytes())
        for _ in range(data.draw(st.integers(0, 4), label="flips")):
            position = data.draw(st.integers(0, len(blob) - 1), label="position")
            blob[position] = data.draw(st.integers(0, 255), label="byte")
        cut = data.draw(st.integers(0, len(blob)), label="length")
        paths[name].write_bytes(bytes(blob[:cut]))
        try:
            ds = load_dataset(f"mnist:{folder}")
        except DatasetError as exc:
            assert "\n" not in str(exc)
        else:
            assert ds.x_train.dtype == torch.float32 and ds.y_train.dtype == torch.int64


# --- PNG through Pillow (explorer.data.imagefile) -----------------------------

@pytest.mark.parametrize("colour, channels", [(0, 1), (2, 3), (4, 2), (6, 4)])
def test_png_decodes_8bit_colour_types_with_every_filter(colour, channels):
    pixels = RNG.integers(0, 256, (7, 5, channels), dtype=np.uint8)
    if channels in (2, 4):
        pixels[..., -1] = 255  # opaque: colour must come back unchanged
    decoded = decode_image(png_bytes(pixels.reshape(7, -1), colour), "x")
    expected = pixels[..., :-1] if channels in (2, 4) else pixels
    assert decoded.dtype == np.uint8 and np.array_equal(decoded, expected)


def test_png_alpha_composites_over_black():
    pixels = np.array([[[200, 100, 50, 0], [200, 100, 50, 255], [200, 100, 50, 128]]], np.uint8)
    decoded = decode_image(png_bytes(pixels.reshape(1, -1), 6), "x")
    assert decoded.tolist() == [[[0, 0, 0], [200, 100, 50], [100, 50, 25]]]


def test_png_16_bit_keeps_the_high_byte():
    values = RNG.integers(0, 65536, (4, 3, 3), dtype=np.uint16)
    decoded = decode_image(png_bytes(values.astype(">u2").view(np.uint8).reshape(4, -1), 2, depth=16), "x")
    assert np.array_equal(decoded, (values >> 8).astype(np.uint8))


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_png_low_bit_depth_grey_and_palette(depth):
    width, height = 11, 3
    values = RNG.integers(0, 1 << depth, (height, width), dtype=np.uint8)
    bits = ((values[..., None] >> np.arange(depth - 1, -1, -1)) & 1).reshape(height, -1)
    rows = np.packbits(bits, axis=1)
    grey = decode_image(png_bytes(rows, 0, depth=depth, width=width), "x")
    assert np.array_equal(grey[..., 0], (values.astype(int) * 255 // ((1 << depth) - 1)))
    palette = RNG.integers(0, 256, (1 << depth, 3), dtype=np.uint8)
    coloured = decode_image(png_bytes(rows, 3, depth=depth, width=width, palette=palette), "x")
    assert np.array_equal(coloured, palette[values])


@pytest.mark.parametrize("mutate", [
    lambda b: b"GIF89a" + b[6:],                               # signature
    lambda b: b[:40],                                          # truncated
    lambda b: b[:30] + bytes([b[30] ^ 0xFF]) + b[31:],         # CRC
])
def test_png_corruption_raises_dataset_error(mutate):
    blob = png_bytes(RNG.integers(0, 256, (4, 12), dtype=np.uint8), 2)
    with pytest.raises(DatasetError, match="img.png"):
        decode_image(mutate(blob), "img.png")


def test_no_hand_written_png_decoder_is_left():
    """PNG decoding is Pillow's (issue 17 item 22); without Pillow an image is a clear error, not a fallback."""
    import importlib.util
    assert importlib.util.find_spec("explorer.data.png") is None


def test_png_without_pillow_is_a_clear_error(monkeypatch):
    import explorer.data.imagefile as imagefile
    monkeypatch.setattr(imagefile, "Image", None)
    with pytest.raises(DatasetError, match="needs Pillow"):
        decode_image(png_bytes(np.zeros((2, 6), np.uint8), 2), "x.png")


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_png_random_corruption_decodes_or_raises_dataset_error(data):
    blob = bytearray(png_bytes(np.random.default_rng(1).integers(0, 256, (5, 15), dtype=np.uint8), 2))
    for _ in range(data.draw(st.integers(0, 3))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    try:
        decode_image(bytes(blob[:data.draw(st.integers(0, len(blob)))]), "x")
    except DatasetError:
        pass


# --- image folders ---------------------------------------------------------

def write_folder(root: Path, counts: dict[str, int], size=(10, 12), grey_class: str | None = None) -> None:
    for name, count in counts.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            h, w = size
            shape = (h, w) if name == grey_class else (h, w, 3)
            pixels = RNG.integers(0, 256, shape, dtype=np.uint8)
            (root / name / f"{i:03d}.png").write_bytes(image_png(pixels))


def test_folder_loads_classes_and_splits(tmp_path):
    write_folder(tmp_path, {"cat": 6, "dog": 5, "owl": 4})
    (tmp_path / "README.txt").write_text("not a class")
    (tmp_path / ".hidden").mkdir()
    ds = load_dataset(f"folder:{tmp_path}", seed=1)
    assert ds.name == "folder"
    assert ds.classes == ["cat", "dog", "owl"]
    assert ds.input_shape == (3, 10, 12)
    assert len(ds.y_train) + len(ds.y_val) == 15
    assert set(ds.y_val.tolist()) == {0, 1, 2}
    assert_normalised(ds)


def test_folder_resizes_and_mixes_grey_with_colour(tmp_path):
    write_folder(tmp_path, {"a": 3}, size=(100, 80))
    write_folder(tmp_path, {"b": 3}, size=(20, 30), grey_class="b")
    ds = load_dataset(f"folder:{tmp_path}")
    assert ds.input_shape == (3, 64, 51)  # first image, longest side capped at 64
    ds = load_dataset(f"folder:{tmp_path}", image_size=16)
    assert ds.input_shape == (3, 16, 16)


def test_folder_all_grey_gives_one_channel(tmp_path):
    write_folder(tmp_path, {"a": 3, "b": 3}, size=(8, 8), grey_class="a")
    write_folder(tmp_path / "x", {}, size=(8, 8))
    for path in (tmp_path / "b").iterdir():
        path.write_bytes(image_png(RNG.integers(0, 256, (8, 8), dtype=np.uint8)))
    ds = load_dataset(f"folder:{tmp_path}")
    assert ds.input_shape == (1, 8, 8)


def test_folder_with_train_and_val_split(tmp_path):
    write_folder(tmp_path / "train", {"a": 4, "b": 3})
    write_folder(tmp_path / "val", {"a": 2, "b": 1})
    ds = load_dataset(f"folder:{tmp_path}")
    assert ds.classes == ["a", "b"]
    assert len(ds.y_train) == 7 and ds.y_val.tolist() == [0, 0, 1]


def test_folder_errors(tmp_path):
    with pytest.raises(DatasetError, match="not a folder"):
        load_dataset(f"folder:{tmp_path / 'missing'}")
    write_folder(tmp_path, {"only": 2})
    with pytest.raises(DatasetError, match="at least 2"):
        load_dataset(f"folder:{tmp_path}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="empty"):
        load_dataset(f"folder:{tmp_path}")
    write_folder(tmp_path, {"empty": 1})
    with pytest.raises(DatasetError, match="image_size"):
        load_dataset(f"folder:{tmp_path}", image_size=0)
    (tmp_path / "empty" / "000.png").write_bytes(b"\x89PNG\r\n\x1a\ngarbage")
    with pytest.raises(DatasetError, match="000.png"):
        load_dataset(f"folder:{tmp_path}")


def test_folder_val_class_missing_from_train(tmp_path):
    write_folder(tmp_path / "train", {"a": 2, "b": 2})
    write_folder(tmp_path / "val", {"a": 1, "c": 1})
    with pytest.raises(DatasetError, match="missing"):
        load_dataset(f"folder:{tmp_path}")


def test_pillow_is_installed_as_declared():
    assert pillow_available()


def test_folder_reads_jpeg_with_pillow(tmp_path):
    from PIL import Image
    write_folder(tmp_path, {"a": 2, "b": 2}, size=(8, 8))
    Image.new("RGB", (8, 8), (200, 40, 10)).save(tmp_path / "a" / "photo.jpg", "JPEG", quality=95)
    ds = load_dataset(f"folder:{tmp_path}")
    assert len(ds.y_train) + len(ds.y_val) == 5 and ds.input_shape == (3, 8, 8)


def test_jpeg_without_pillow_is_a_clear_error(tmp_path, monkeypatch):
    import explorer.data.imagefile as imagefile
    monkeypatch.setattr(imagefile, "Image", None)
    write_folder(tmp_path, {"a": 2, "b": 2})
    (tmp_path / "a" / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(20))
    with pytest.raises(DatasetError, match="Pillow"):
        load_dataset(f"folder:{tmp_path}")


def test_damaged_jpeg_is_a_clear_error(tmp_path):
    write_folder(tmp_path, {"a": 2, "b": 2})
    (tmp_path / "a" / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(20))
    with pytest.raises(DatasetError, match="photo.jpg"):
        load_dataset(f"folder:{tmp_path}")
