"""The defaults reproduce the paper's findings on the built-in digits (the short, robust part of them;
plain56 vs resnet56 over 10 epochs is run by hand, see explorer/train/config.py). Both tests read the
session's one pair of trained runs (``digits_3_epochs`` in conftest.py)."""
from explorer.train import FinishedReport


def test_resnet20_reaches_93_percent_on_digits_in_three_epochs(digits_3_epochs):
    final = digits_3_epochs["resnet20"]
    assert isinstance(final, FinishedReport) and final.epochs_done == 3
    assert final.final_val_acc >= 0.93


def test_plain20_trains_worse_than_resnet20(digits_3_epochs):
    # Measured: plain20 0.12-0.20 vs resnet20 0.033-0.036 over seeds 0-1.
    plain, res = digits_3_epochs["plain20"], digits_3_epochs["resnet20"]
    assert isinstance(plain, FinishedReport) and plain.epochs_done == 3
    assert plain.final_train_loss > 2 * res.final_train_loss
