"""Tests for explorer.data: bundled/generated sets, splitting, augmentation, batching."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.data import (DATASET_HELP, Dataset, DatasetError, augment_batch, batches,
                           load_dataset, num_batches)
from explorer.data.shapes import SHAPE_CLASSES, generate_shapes
from explorer.data.split import split_indices


def assert_normalised(ds: Dataset) -> None:
    """Training part has per-channel mean ~0 and std ~1."""
    dims = (0, 2, 3)
    assert torch.allclose(ds.x_train.mean(dim=dims), torch.zeros(ds.input_shape[0]), atol=1e-4)
    assert torch.allclose(ds.x_train.std(dim=dims, unbiased=False),
                          torch.ones(ds.input_shape[0]), atol=1e-3)


def assert_well_formed(ds: Dataset) -> None:
    assert ds.x_train.dtype == torch.float32 and ds.x_val.dtype == torch.float32
    assert ds.y_train.dtype == torch.int64 and ds.y_val.dtype == torch.int64
    assert ds.x_train.dim() == 4 and ds.x_train.shape[1:] == ds.x_val.shape[1:]
    assert ds.x_train.shape[0] == ds.y_train.shape[0]
    assert ds.x_val.shape[0] == ds.y_val.shape[0]
    assert tuple(ds.x_train.shape[1:]) == ds.input_shape
    assert len(ds.mean) == len(ds.std) == ds.input_shape[0]
    assert ds.num_classes == len(ds.classes)
    for y in (ds.y_train, ds.y_val):
        assert int(y.min()) >= 0 and int(y.max()) < ds.num_classes


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_dataset("digits", seed=0)


# --- digits ----------------------------------------------------------------

def test_digits_shapes_and_types(digits):
    assert_well_formed(digits)
    assert digits.name == "digits"
    assert digits.input_shape == (1, 8, 8)
    assert digits.num_classes == 10
    assert digits.classes == [str(i) for i in range(10)]
    assert len(digits.y_train) + len(digits.y_val) == 1797
    assert abs(len(digits.y_val) - 0.2 * 1797) < 12


def test_digits_normalised_with_training_statistics(digits):
    assert_normalised(digits)
    # Statistics describe the [0, 1]-scaled training images.
    assert 0.0 < digits.mean[0] < 1.0 and 0.0 < digits.std[0] < 1.0
    restored = digits.denormalize(digits.x_val)
    assert float(restored.min()) >= 0.0 and float(restored.max()) <= 1.0


def test_digits_split_is_stratified_and_seeded(digits):
    assert set(digits.y_val.tolist()) == set(range(10))
    again = load_dataset("digits", seed=0)
    assert torch.equal(again.y_val, digits.y_val) and torch.equal(again.x_val, digits.x_val)
    other = load_dataset("digits", seed=1)
    assert not torch.equal(other.y_val, digits.y_val)
    half = load_dataset("digits", seed=0, val_fraction=0.5)
    assert abs(len(half.y_val) - 1797 / 2) < 12


def test_dataset_to_moves_every_tensor(digits):
    moved = digits.to("cpu")
    assert moved is not digits
    assert moved.classes == digits.classes and moved.mean == digits.mean
    for name in ("x_train", "y_train", "x_val", "y_val"):
        assert getattr(moved, name).device.type == "cpu"
    assert "digits" in str(digits) and "1×8×8" in str(digits)
    assert "tensor(" not in repr(digits)  # tensors are left out of the repr


# --- shapes ----------------------------------------------------------------

def test_shapes_defaults():
    ds = load_dataset("shapes", seed=0)
    assert_well_formed(ds)
    assert_normalised(ds)
    assert ds.input_shape == (3, 32, 32)
    assert ds.classes == SHAPE_CLASSES and len(ds.classes) >= 6
    assert len(ds.y_train) + len(ds.y_val) == 4000
    counts = torch.bincount(torch.cat([ds.y_train, ds.y_val]), minlength=ds.num_classes)
    assert int(counts.max() - counts.min()) <= 1  # balanced classes


def test_shapes_options():
    ds = load_dataset("shapes", seed=3, size=160, image_size=16, channels=1)
    assert ds.input_shape == (1, 16, 16)
    assert len(ds.y_train) + len(ds.y_val) == 160
    assert set(ds.y_val.tolist()) == set(range(len(SHAPE_CLASSES)))


def test_shapes_are_deterministic_in_the_seed():
    a_x, a_y = generate_shapes(64, 16, 3, seed=5)
    b_x, b_y = generate_shapes(64, 16, 3, seed=5)
    c_x, _ = generate_shapes(64, 16, 3, seed=6)
    assert torch.equal(a_x, b_x) and torch.equal(a_y, b_y)
    assert not torch.equal(a_x, c_x)
    assert float(a_x.min()) >= 0.0 and float(a_x.max()) <= 1.0


def test_shapes_generation_makes_the_requested_batch():
    # Speed is for benchmarks to report; a test only checks the outcome.
    x, y = generate_shapes(500, 32, 3, seed=0)
    assert x.shape == (500, 3, 32, 32) and y.shape == (500,) and x.dtype == torch.float32


def test_shapes_are_learnable_by_a_small_cnn(one_thread):
    torch.manual_seed(0)
    ds = load_dataset("shapes", seed=0, size=1600, image_size=16)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(32 * 4 * 4, ds.num_classes))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(5):
        for xb, yb in batches(ds.x_train, ds.y_train, 64, shuffle=True, generator=gen):
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            opt.step()
    with torch.no_grad():
        accuracy = (model(ds.x_val).argmax(1) == ds.y_val).float().mean().item()
    assert accuracy > 0.5, accuracy  # chance is 1/8


@pytest.mark.parametrize("options", [
    {"size": 3}, {"size": "many"}, {"size": 1.5}, {"image_size": 2}, {"image_size": True},
    {"channels": 0}, {"channels": 9},
])
def test_shapes_rejects_bad_options(options):
    with pytest.raises(DatasetError):
        load_dataset("shapes", **options)


# --- registry --------------------------------------------------------------

def test_dataset_help_lists_every_loader():
    assert set(DATASET_HELP) == {"digits", "shapes", "cifar10", "mnist", "fashion-mnist", "folder"}
    for text in DATASET_HELP.values():
        assert isinstance(text, str) and text and "\n" not in text


def test_unknown_name_lists_valid_names():
    with pytest.raises(DatasetError) as info:
        load_dataset("imagenet")
    message = str(info.value)
    assert "imagenet" in message
    for name in DATASET_HELP:
        assert name in message


@pytest.mark.parametrize("spec, options", [
    ("", {}),
    ("cifar10", {}),            # needs a path
    ("mnist:", {}),             # empty path
    ("digits:/tmp", {}),        # takes no path
    ("digits", {"size": 10}),   # options only for generators
    ("cifar10:/nowhere", {"image_size": 8}),
])
def test_bad_specs_raise_dataset_error(spec, options):
    with pytest.raises(DatasetError) as info:
        load_dataset(spec, **options)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("fraction", [0, 1, -0.1, 1.5, "0.2", True])
def test_val_fraction_is_validated(fraction):
    with pytest.raises(DatasetError):
        load_dataset("digits", val_fraction=fraction)


def test_names_are_case_and_alias_tolerant(tmp_path):
    with pytest.raises(DatasetError, match="fashion-mnist"):
        load_dataset(f"Fashion_MNIST:{tmp_path}")


# --- split -----------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=80),
       st.floats(0.05, 0.95), st.integers(0, 2**31))
def test_split_partitions_every_class(labels, fraction, seed):
    y = torch.tensor(labels)
    train, val = split_indices(y, fraction, seed)
    together = torch.cat([train, val]).sort().values
    assert torch.equal(together, torch.arange(len(labels)))
    for cls in set(labels):
        n_train = int((y[train] == cls).sum())
        n_val = int((y[val] == cls).sum())
        if labels.count(cls) >= 2:
            assert n_train >= 1 and n_val >= 1
    again = split_indices(y, fraction, seed)
    assert torch.equal(again[0], train) and torch.equal(again[1], val)


# --- augmentation ----------------------------------------------------------

def test_augment_identity_without_crop_or_flip():
    x = torch.randn(5, 3, 8, 8)
    assert torch.equal(augment_batch(x, 0, False, None), x)


def test_augment_keeps_shape_dtype_and_device():
    x = torch.randn(7, 2, 9, 6)
    out = augment_batch(x, crop_padding=3, flip=True, generator=torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.dtype == x.dtype and out.device == x.device


def test_augment_is_reproducible_with_a_generator():
    x = torch.randn(16, 3, 8, 8)
    a = augment_batch(x, 2, True, torch.Generator().manual_seed(4))
    b = augment_batch(x, 2, True, torch.Generator().manual_seed(4))
    assert torch.equal(a, b)


def test_flip_only_mirrors_some_and_keeps_others():
    x = torch.arange(64 * 1 * 2 * 5, dtype=torch.float32).view(64, 1, 2, 5)
    out = augment_batch(x, 0, True, torch.Generator().manual_seed(0))
    kept = (out == x).flatten(1).all(1)
    mirrored = (out == x.flip(3)).flatten(1).all(1)
    assert bool((kept | mirrored).all())
    assert 0 < int(mirrored.sum()) < 64


def _matching_crops(padded: torch.Tensor, out: torch.Tensor, flip: bool) -> bool:
    """Whether ``out`` is some (possibly mirrored) window of ``padded``."""
    h, w = out.shape[-2:]
    for oy in range(padded.shape[-2] - h + 1):
        for ox in range(padded.shape[-1] - w + 1):
            window = padded[:, oy:oy + h, ox:ox + w]
            if torch.equal(window, out) or (flip and torch.equal(window.flip(2), out)):
                return True
    return False


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 6), c=st.integers(1, 3), h=st.integers(1, 7), w=st.integers(1, 7),
       pad=st.integers(0, 4), flip=st.booleans(), seed=st.integers(0, 2**31))
def test_augment_outputs_are_shifted_crops_of_the_padded_input(n, c, h, w, pad, flip, seed):
    # Distinct non-zero values make every window unique, so matches are real.
    x = torch.arange(1, n * c * h * w + 1, dtype=torch.float32).view(n, c, h, w)
    out = augment_batch(x, pad, flip, torch.Generator().manual_seed(seed))
    assert out.shape == x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    for i in range(n):
        assert _matching_crops(padded[i], out[i], flip)


def test_augment_padding_moves_content():
    x = torch.ones(200, 1, 4, 4)
    out = augment_batch(x, 2, False, torch.Generator().manual_seed(1))
    # Most random offsets are off-centre and so pull in zero padding.
    assert int((out.flatten(1).sum(1) < 16).sum()) > 100


def test_augment_rejects_bad_input():
    with pytest.raises(ValueError):
        augment_batch(torch.zeros(3, 4, 4), 1, False, None)
    with pytest.raises(ValueError):
        augment_batch(torch.zeros(1, 3, 4, 4), -1, False, None)


# --- batches ---------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 50), batch_size=st.integers(1, 20), shuffle=st.booleans())
def test_batches_cover_every_sample_once(n, batch_size, shuffle):
    x = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1)
    y = torch.arange(n)
    parts = list(batches(x, y, batch_size, shuffle, torch.Generator().manual_seed(0)))
    assert len(parts) == num_batches(n, batch_size)
    assert all(len(xb) == batch_size for xb, _ in parts[:-1])
    if parts:
        assert 1 <= len(parts[-1][0]) <= batch_size
    seen = torch.cat([yb for _, yb in parts]) if parts else torch.empty(0, dtype=torch.long)
    assert sorted(seen.tolist()) == list(range(n))
    for xb, yb in parts:  # images and labels stay paired
        assert torch.equal(xb.view(-1).long(), yb)
    if not shuffle:
        assert seen.tolist() == list(range(n))


def test_batches_shuffle_depends_on_generator():
    x, y = torch.zeros(100, 1, 1, 1), torch.arange(100)
    order = lambda s: torch.cat([yb for _, yb in batches(x, y, 32, True, torch.Generator().manual_seed(s))])
    assert torch.equal(order(1), order(1))
    assert not torch.equal(order(1), order(2))


def test_batches_rejects_mismatched_inputs():
    with pytest.raises(ValueError):
        list(batches(torch.zeros(3, 1, 1, 1), torch.zeros(4), 2, False, None))
    with pytest.raises(ValueError):
        list(batches(torch.zeros(3, 1, 1, 1), torch.zeros(3), 0, False, None))
