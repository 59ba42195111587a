"""`train`, `compare` and `bench` without ARCH use the network the window opens on, resnet20_digits
(issue 17 item 19)."""
from __future__ import annotations

import pytest

from explorer.arch import DEFAULT_ARCH
from explorer.cli import main
from explorer.util import strict_json

STEPS = {"train": ["--max-steps", "1", "--batch-size", "16", "--stats-every", "0"],
         "compare": ["--max-steps", "1", "--batch-size", "16", "--stats-every", "0"],
         "bench": ["--steps", "1", "--batch-size", "16"]}


@pytest.mark.parametrize("command", list(STEPS))
def test_arch_defaults_to_the_windows_network(command, capsys):
    assert DEFAULT_ARCH == "resnet20_digits"
    assert main([command, *STEPS[command], "--json"]) == 0, capsys.readouterr().err
    result = strict_json.loads(capsys.readouterr().out)
    archs = [result["residual"]["arch"]] if command == "compare" else [result["arch"]]
    assert archs == [DEFAULT_ARCH]
