"""Typo suggestions from every option name and every choice, prefix matches first (issue 17 item 18)."""
from __future__ import annotations

import pytest

from explorer.cli import available_commands, build_parser, main
from explorer.cli.suggest import closest, option_strings


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


@pytest.mark.parametrize("argv, expected", [
    (["export", "resnet20", "--fromat", "py", "-o", "x.py"], "error: export: unknown option --fromat; did you mean "
                                                             "--format?"),
    (["train", "--opt", "adam"], "error: train: unknown option --opt; did you mean --optimizer?"),
    (["train", "--optimizer", "adm"], "did you mean adam?"),
    (["analyze", "gradflw", "resnet20"], "did you mean gradflow?"),
    (["export", "resnet20", "--format", "torchscrpt", "-o", "x.pt"], "did you mean torchscript?"),
])
def test_the_meant_option_or_choice_is_suggested(argv, expected, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    line = one_error_line(capsys)
    assert line.endswith(expected) if expected.startswith("did") else line == expected
    assert list(tmp_path.iterdir()) == []


def test_every_option_of_every_command_is_suggested_for_its_prefix():
    """Any option with its last letter missing names that option: the rule covers commands added later."""
    for command in available_commands():
        _, _, sub = build_parser(command)
        options = option_strings(sub)
        for option in (o for o in options if o.startswith("--") and len(o) >= 5):
            typo = option[:-1]
            if typo not in options:
                assert option in closest(typo, options), (command, option, closest(typo, options))


def test_prefix_beats_spelling_distance():
    assert closest("--opt", ["--out", "--optimizer"]) == ["--optimizer"]
    assert closest("--epoch", ["--epochs", "--eval"]) == ["--epochs"]
    assert closest("--xyzzy", ["--out", "--optimizer"]) == []
