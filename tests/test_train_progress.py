"""The command line's progress text."""
from explorer.train.progress import bar, format_duration, progress_line
from explorer.train.reports import StepReport


def test_duration_and_bar():
    assert format_duration(75) == "1:15" and format_duration(3725) == "1:02:05" and format_duration(-1) == "?"
    assert bar(0.5, 10) == "█████     " and bar(1.0, 10) == "█" * 10 and len(bar(0.33, 24)) == 24


def test_progress_line_has_loss_accuracy_speed_and_eta():
    line = progress_line(StepReport(2, 3, 30, 69, 7, 23, 0.41234, 0.8743, 0.05, 1234.5, 3.2, 72.0))
    assert "epoch 2/3" in line and "43%" in line and "loss 0.4123" in line and "87.4%" in line
    assert "1,234 samples/s" in line and "ETA 1:12" in line
