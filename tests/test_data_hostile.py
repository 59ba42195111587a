"""Hostile data files: small files that declare huge contents, non-regular files, crafted pickles.

Every case must be refused before it allocates, with one DatasetError line naming the file; the
hypothesis tests put bad values inside nested fields (IDX header dims, PNG header fields, label
values, pickle dict entries) and accept only a clean DatasetError or a correct load.  Memory is not
measured here (see tests/measure_hostile_data.py): each refusal happens on the header, so a test that
regressed would show up as an allocation error or a very slow test, not pass silently.
"""

from __future__ import annotations

import gzip
import io
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
from PIL import Image

import hostile_data as h
from explorer.cli import main
from explorer.data import DatasetError, load_dataset
from explorer.data import safe_pickle
from explorer.data.imagefile import decode_image
from explorer.data.limits import MAX_IMAGE_PIXELS
from explorer.data.safe_pickle import safe_loads

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def refused(spec: str, *words: str) -> str:
    with pytest.raises(DatasetError) as info:
        load_dataset(spec)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message
    return message


# --- CIFAR pickles ---------------------------------------------------------------------

def test_tiny_pickle_declaring_300k_images_is_refused(tmp_path):
    batch = h.tiny_bomb_batch(300_000)
    assert len(batch) < 300
    refused(h.cifar_folder(tmp_path, batch), "data_batch_1", "bytes object by a number")


def test_pickle_calling_ndarray_with_a_shape_is_refused(tmp_path):
    batch = h.batch_pickle(h.array_by_calling_ndarray((300_000, 3072)), b"]")
    refused(h.cifar_folder(tmp_path, batch), "data_batch_1", "numpy.ndarray")


def test_object_array_pickle_is_refused_before_numpy_sees_it(tmp_path):
    # numpy 2.4 crashes the process on this state; reaching numpy at all would kill pytest.
    refused(h.cifar_folder(tmp_path, h.object_array_with_short_state()), "data_batch_1", "dtype")


def test_labels_sharing_one_inner_list_are_refused_before_numpy(tmp_path):
    refused(h.cifar_folder(tmp_path, h.shared_nested_labels(50)), "data_batch_1", "labels")


def test_repeated_bytes_from_one_string_are_capped():
    with pytest.raises(DatasetError, match="more bytes than the file holds"):
        safe_loads(h.repeated_encode(copies=40, size=10_000), "x")


def test_opcode_count_is_capped(monkeypatch):
    monkeypatch.setattr(safe_pickle, "MAX_OPCODES", 100)
    with pytest.raises(DatasetError, match="opcodes"):
        safe_loads(h.many_opcodes(200), "x")
    assert len(safe_loads(h.many_opcodes(40), "x")) == 40


def test_array_count_is_capped():
    arrays = [np.zeros(2, np.uint8) for _ in range(safe_pickle.MAX_ARRAYS + 1)]
    with pytest.raises(DatasetError, match="arrays"):
        safe_loads(pickle.dumps(arrays, protocol=2), "x")


def test_batch_of_more_than_10000_images_is_refused(tmp_path):
    batch = {b"data": np.zeros((10_001, 3072), np.uint8), b"labels": [0] * 10_001}
    refused(h.cifar_folder(tmp_path, pickle.dumps(batch, protocol=4)), "data_batch_1", "10,000")


def test_oversized_batch_file_is_refused_unread(tmp_path):
    spec = h.cifar_folder(tmp_path, b"")
    h.sparse_file(tmp_path / "cifar-10-batches-py" / "data_batch_1", 6 << 30)
    refused(spec, "data_batch_1", "too large")


def test_cifar_batch_that_is_dev_zero_or_a_fifo(tmp_path):
    spec = h.cifar_folder(tmp_path, b"")
    batch = tmp_path / "cifar-10-batches-py" / "data_batch_1"
    batch.unlink()
    batch.symlink_to("/dev/zero")
    refused(spec, "data_batch_1", "not a regular file")
    batch.unlink()
    h.fifo(batch)
    refused(spec, "data_batch_1", "not a regular file")


# --- IDX --------------------------------------------------------------------------------

def test_gz_idx_of_30000_squared_images_is_refused_on_its_header(tmp_path):
    bomb = tmp_path / "train-images-idx3-ubyte.gz"
    h.write_idx_folder(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").unlink()
    h.gz_idx_bomb(bomb, count=2)
    refused(f"mnist:{tmp_path}", "train-images-idx3-ubyte.gz", "declares")


def test_gz_idx_declaring_far_more_than_its_size_is_refused(tmp_path):
    # 60000×64×64 fits the budget, but not in a 1 kB gzip: a blank crafted set, refused unread.
    h.write_idx_folder(tmp_path, images=b"", gz_images=True)
    h.gz_idx_bomb(tmp_path / "train-images-idx3-ubyte.gz", side=64, count=60_000)
    refused(f"mnist:{tmp_path}", "train-images-idx3-ubyte.gz", "100×")


def test_gz_idx_within_budget_inflates_only_what_its_header_declares(tmp_path):
    # The header says 2×4×4; the stream holds far more: the reader stops one byte past 32.
    images = gzip.compress(h.idx_header((2, 4, 4)) + bytes(10_000_000))
    h.write_idx_folder(tmp_path, images=images, gz_images=True)
    refused(f"mnist:{tmp_path}", "train-images-idx3-ubyte.gz", "data after")


def test_sparse_6gb_idx_with_bad_magic_is_refused_without_reading(tmp_path):
    h.write_idx_folder(tmp_path)
    h.sparse_file(tmp_path / "train-images-idx3-ubyte", 6 << 30, b"\x12\x34\x08\x03")
    refused(f"mnist:{tmp_path}", "train-images-idx3-ubyte", "bad IDX magic")


def test_sparse_idx_whose_header_matches_its_size_is_refused_by_the_budget(tmp_path):
    h.write_idx_folder(tmp_path)
    dims = (60_000, 200, 200)  # 2.4 GB of uint8: consistent with the file, beyond the budget
    header = h.idx_header(dims)
    h.sparse_file(tmp_path / "train-images-idx3-ubyte", len(header) + int(np.prod(dims)), header)
    refused(f"mnist:{tmp_path}", "train-images-idx3-ubyte", "budget")


def test_idx_header_size_must_match_the_file(tmp_path):
    h.write_idx_folder(tmp_path, images=h.idx_header((100_000, 28, 28)) + bytes(64))
    refused(f"mnist:{tmp_path}", "train-images-idx3-ubyte", "needs")


def test_idx_that_is_dev_zero_or_a_fifo(tmp_path):
    h.write_idx_folder(tmp_path)
    target = tmp_path / "train-images-idx3-ubyte"
    target.unlink()
    target.symlink_to("/dev/zero")
    refused(f"mnist:{tmp_path}", "train-images-idx3-ubyte", "not a regular file")
    target.unlink()
    h.fifo(target)
    refused(f"mnist:{tmp_path}", "train-images-idx3-ubyte", "not a regular file")


# --- images ------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    h.png_declaring(100_000, 100_000),
    h.png_declaring(6_000, 6_000),          # under Pillow's own limit, over ours
    h.jpeg_declaring(65_000, 65_000),
    h.jpeg_declaring(6_000, 6_000),
])
def test_images_declaring_huge_sizes_are_refused_before_decoding(data):
    with pytest.raises(DatasetError) as info:
        decode_image(data, "big.img")
    assert "big.img" in str(info.value) and "\n" not in str(info.value)


def test_png_declared_size_is_checked_before_decoding():
    for side in (100_000, 6_000):  # over Pillow's own limit, and under it but over ours
        with pytest.raises(DatasetError, match="big.png: image declares .*more .*than the"):
            decode_image(h.png_declaring(side, side), "big.png")


@pytest.mark.parametrize("name, content, words", [
    ("huge.png", h.png_declaring(100_000, 100_000), ("huge.png",)),
    ("huge.jpg", h.jpeg_declaring(30_000, 30_000), ("huge.jpg",)),
    ("fake.png", b"GIF89a" + bytes(30), ("fake.png", "PNG or JPEG")),
])
def test_folder_refuses_bad_images_by_name(tmp_path, name, content, words):
    refused(h.image_folder(tmp_path, {name: content}), *words)


def test_folder_image_that_is_dev_zero_or_a_fifo(tmp_path):
    spec = h.image_folder(tmp_path, {})
    (tmp_path / "a" / "zero.png").symlink_to("/dev/zero")
    refused(spec, "zero.png", "not a regular file")
    (tmp_path / "a" / "zero.png").unlink()
    h.fifo(tmp_path / "a" / "pipe.png")
    refused(spec, "pipe.png", "not a regular file")


def test_folder_charges_the_budget_before_decoding_the_rest(tmp_path):
    tiny = io.BytesIO()
    Image.new("RGB", (1, 1)).save(tiny, "PNG")
    spec = h.image_folder(tmp_path, {f"{i}.png": tiny.getvalue() for i in range(90)})
    with pytest.raises(DatasetError, match="image_size"):
        load_dataset(spec, image_size=1024)  # 91 × 3 × 1024² floats are 1.07 GiB


# --- the command line ------------------------------------------------------------------

def test_cli_prints_one_error_line_for_a_hostile_batch(tmp_path, capsys):
    spec = h.cifar_folder(tmp_path, h.tiny_bomb_batch())
    assert main(["train", "resnet20", "--dataset", spec, "--max-steps", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "data_batch_1" in err[0], err


# --- hypothesis: bad values inside nested fields ----------------------------------------

DIM = st.one_of(st.integers(0, 5), st.sampled_from([2**16, 2**31 - 1, 2**32 - 1]))


@FAST
@given(dims=st.lists(DIM, min_size=0, max_size=4), code=st.sampled_from([0x08, 0x09, 0x0C, 0x0D, 0x07]),
       extra=st.integers(-3, 3), gz=st.booleans(), labels=st.lists(st.integers(0, 255), max_size=4))
def test_idx_header_dims_load_or_raise(dims, code, extra, gz, labels):
    itemsize = {0x08: 1, 0x09: 1, 0x0C: 4, 0x0D: 4, 0x07: 1}[code]
    count = int(np.prod(dims)) if dims else 0
    payload = count * itemsize + extra if count * itemsize < 1000 else 64
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        raw = h.idx_header(tuple(dims), code) + bytes(max(0, payload)) if dims else bytes([0, 0, code, 0])
        h.write_idx_folder(folder, images=gzip.compress(raw) if gz else raw, gz_images=gz)
        (folder / "train-labels-idx1-ubyte").write_bytes(h.idx_header((len(labels),)) + bytes(labels))
        try:
            ds = load_dataset(f"mnist:{folder}")
        except DatasetError as exc:
            assert "\n" not in str(exc) and "mnist" in str(exc)
        else:
            # Only a consistent header loads, and then exactly as declared.
            assert code == 0x08 and len(dims) == 3 and extra == 0 and dims[0] == len(labels)
            assert tuple(ds.x_train.shape) == (dims[0], 1, dims[1], dims[2]) == (len(labels), 1, 4, 4)
            assert all(v <= 9 for v in labels)


LABEL = st.one_of(st.integers(-2, 12), st.booleans(), st.floats(0, 9), st.text(max_size=1),
                  st.lists(st.integers(0, 9), max_size=2), st.none())
DATA = st.one_of(
    st.tuples(st.integers(0, 3), st.sampled_from([3072, 3071, 1]), st.sampled_from(["u1", "f4", "i8"]))
    .map(lambda t: np.zeros(t[:2], t[2])),
    st.just(np.zeros((2, 3, 1024), np.uint8)), st.just([0] * 3072), st.none(), st.integers(), st.binary(max_size=8))


@FAST
@given(data=DATA, labels=st.one_of(st.lists(LABEL, max_size=4), st.lists(st.integers(0, 9), max_size=4),
                                   st.integers(), st.binary(max_size=3)),
       str_keys=st.booleans(), extra=st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
       protocol=st.sampled_from([2, 4, 5]))
def test_cifar_dict_entries_load_or_raise(data, labels, str_keys, extra, protocol):
    batch = {("data" if str_keys else b"data"): data, ("labels" if str_keys else b"labels"): labels, **extra}
    with tempfile.TemporaryDirectory() as tmp:
        spec = h.cifar_folder(Path(tmp), pickle.dumps(batch, protocol=protocol))
        try:
            ds = load_dataset(spec)
        except DatasetError as exc:
            assert "\n" not in str(exc) and "cifar10" in str(exc)
        else:
            assert isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.shape[1:] == (3072,)
            assert len(labels) == data.shape[0]
            assert all(type(v) is int and 0 <= v <= 9 for v in labels)
            assert ds.y_train.tolist() == list(labels)


def _png(width: int, height: int, colour: int, depth: int, extra: tuple[int, int, int], cut: int) -> bytes:
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour, 1)
    stride = (width * channels * depth + 7) // 8 if width * height <= 4096 else 1
    rows = min(height, 64)
    raw = zlib.compress(bytes((stride + 1) * rows))
    data = h.png_declaring(width, height, colour, depth, idat=raw[:len(raw) - cut], extra=extra)
    return data


PNG_FIELDS = dict(width=st.one_of(st.integers(0, 9), st.sampled_from([2**31 - 1, 2**32 - 1, 6000])),
                  height=st.one_of(st.integers(0, 9), st.sampled_from([2**31 - 1, 2**32 - 1, 6000])),
                  colour=st.sampled_from([0, 1, 2, 3, 4, 6, 7]), depth=st.sampled_from([1, 2, 4, 8, 16, 3]),
                  extra=st.tuples(st.integers(0, 1), st.integers(0, 1), st.integers(0, 1)),
                  cut=st.integers(0, 3))


def _check_pixels(result: np.ndarray, width: int, height: int) -> None:
    assert result.dtype == np.uint8 and result.shape[:2] == (height, width) and result.shape[2] in (1, 3)
    assert width * height <= MAX_IMAGE_PIXELS


@FAST
@given(**PNG_FIELDS)
def test_png_header_fields_decode_or_raise(width, height, colour, depth, extra, cut):
    data = _png(width, height, colour, depth, extra, cut)
    try:
        result = decode_image(data, "x.png")
    except DatasetError as exc:
        assert "\n" not in str(exc) and "x.png" in str(exc)
    else:
        _check_pixels(result, width, height)


@FAST
@given(images=st.lists(st.fixed_dictionaries(PNG_FIELDS), min_size=1, max_size=3),
       size=st.one_of(st.none(), st.integers(-1, 4)))
def test_image_folder_loads_or_raises(images, size):
    with tempfile.TemporaryDirectory() as tmp:
        files = {f"{i}.png": _png(**fields) for i, fields in enumerate(images)}
        spec = h.image_folder(Path(tmp), files)
        options = {} if size is None else {"image_size": size}
        try:
            ds = load_dataset(spec, **options)
        except DatasetError as exc:
            assert "\n" not in str(exc)
        else:
            assert ds.x_train.dtype == torch.float32 and len(ds.y_train) + len(ds.y_val) == len(images) + 1
            assert ds.classes == ["a", "b"]
