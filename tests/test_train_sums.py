"""The metric sums keep batches and fold them in a few at a time: the totals are those of adding each batch
on its own, for any number of batches (past the fold bound too), short batches, and summed losses."""
import math

import pytest
import torch

from explorer.train.sums import FOLD_EVERY, MetricSums


def _batches(count, seed=0):
    gen = torch.Generator().manual_seed(seed)
    out = []
    for i in range(count):
        n = 7 if i % 5 == 4 else 16                      # every fifth batch is short
        logits = torch.randn(n, 4, generator=gen)
        y = torch.randint(0, 4, (n,), generator=gen)
        out.append((torch.nn.functional.cross_entropy(logits, y), logits, y))
    return out


@pytest.mark.parametrize("count", [1, 3, FOLD_EVERY, FOLD_EVERY + 5, 3 * FOLD_EVERY + 1])
def test_totals_equal_batch_by_batch_sums(count):
    sums = MetricSums(torch.device("cpu"))
    batches = _batches(count)
    for loss, logits, y in batches:
        sums.add(loss, logits, y)
    totals = sums.read()
    assert sums.seen == sum(y.shape[0] for _, _, y in batches)
    assert math.isclose(totals.loss, sum(l.item() * y.shape[0] for l, _, y in batches), rel_tol=1e-12)
    assert totals.correct == sum(int((o.argmax(1) == y).sum()) for _, o, y in batches)
    assert totals.first == batches[0][0].item()


def test_summed_losses_reset_and_restore():
    sums = MetricSums(torch.device("cpu"))
    (l0, o0, y0), (l1, o1, y1) = _batches(2, seed=3)
    sums.add(l0 * y0.shape[0], o0, y0, weight=1)          # a summed loss, as evaluation adds it
    sums.reset()                                          # the first loss survives a reset of kept batches
    assert sums.read().first == pytest.approx(l0.item() * y0.shape[0]) and sums.read().loss == 0
    sums.add(l1, o1, y1)
    sums.restore(5.0, 2, 10)                              # a checkpoint's sums replace what was kept
    t = sums.read()
    assert (t.loss, t.correct, sums.seen) == (5.0, 2, 10)
