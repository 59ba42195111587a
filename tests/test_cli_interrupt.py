"""One Ctrl-C in `train` or `compare` stops after the step, keeps the resumable last.pt, and exits 130 with
`error: interrupted`, so a script can tell an interrupted run from a finished one (issue 17 item 15).

A real SIGINT is sent to this process from the first progress update (the handler runs in the main thread,
as in a terminal); no sleeps."""
from __future__ import annotations

import os
import signal

import pytest

from explorer.cli import main
from explorer.train.checkpoint import load_checkpoint
from explorer.train.progress import Progress

TINY = ["resnet20_digits", "--epochs", "2", "--batch-size", "32", "--log-every", "1", "--stats-every", "0"]


@pytest.fixture
def ctrl_c_at_first_step(monkeypatch):
    sent = []
    step = Progress.step

    def press(self, report):
        if not sent:
            sent.append(report.step)
            os.kill(os.getpid(), signal.SIGINT)
        step(self, report)

    monkeypatch.setattr(Progress, "step", press)
    return sent


@pytest.mark.parametrize("command, run", [("train", ""), ("compare", "plain")])
def test_one_ctrl_c_keeps_the_checkpoint_and_exits_130(command, run, ctrl_c_at_first_step, tmp_path, capsys):
    handler = signal.getsignal(signal.SIGINT)
    assert main([command, *TINY, "--out", str(tmp_path), "--json"]) == 130
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines()[-1] == "error: interrupted"
    assert "resume with --resume" in captured.err
    assert captured.out == ""  # no summary: nothing on stdout reads like a finished run
    ckpt = load_checkpoint(tmp_path / run / "last.pt")  # resumable, and short of the planned steps
    assert 0 < ckpt.step < 2 * 36
    assert signal.getsignal(signal.SIGINT) is handler  # the command's handler is gone again


def test_a_run_without_ctrl_c_still_exits_0(tmp_path, capsys):
    assert main(["train", *TINY, "--max-steps", "2", "--out", str(tmp_path)]) == 0
    assert "interrupted" not in capsys.readouterr().err
