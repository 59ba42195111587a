"""The data set cache the window's worker and the command line share: one set kept, reloaded on change."""
import pytest

from explorer.data import DatasetError
from explorer.data.cache import cached_dataset, clear_dataset_cache


def test_the_same_request_reuses_the_set_and_another_replaces_it():
    clear_dataset_cache()
    a = cached_dataset("digits", seed=0)
    assert cached_dataset("digits", seed=0) is a
    b = cached_dataset("digits", seed=1)                  # another split: loaded, and kept instead
    assert b is not a and cached_dataset("digits", seed=1) is b
    assert cached_dataset("digits", seed=1, val_fraction=0.5) is not b
    assert cached_dataset("digits", seed=0) is not a      # only one set is kept
    clear_dataset_cache()


def test_errors_are_not_cached():
    with pytest.raises(DatasetError):
        cached_dataset("digits", seed=0, size=10)         # digits takes no options
    with pytest.raises(DatasetError):
        cached_dataset("digits", seed=0, size=10)
