"""Command-line habits a new user meets: typos, option checks, start-up without torch, presets by family,
progress off a terminal. Most run ``explorer.cli.main`` in-process; one subprocess checks imports."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

import explorer.ui.app
from explorer.cli import main

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "resources/examples/plain_stack.json"


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.fixture
def window(monkeypatch):
    """Records what would open the window instead of opening it."""
    opened = []
    monkeypatch.setattr(explorer.ui.app, "run_app", lambda argv: opened.append(list(argv)) or 0)
    return opened


@pytest.mark.parametrize("word, expected", [
    ("trian", "error: unknown command 'trian'; did you mean train?"),
    ("preset", "error: unknown command 'preset'; did you mean presets?"),
    ("resnet21", "error: unknown command or preset 'resnet21'; did you mean resnet32, resnet20, resnet18?"),
])
def test_a_mistyped_command_is_named_with_a_suggestion(word, expected, window, capsys):
    assert main([word]) == 2
    assert one_error_line(capsys).startswith(expected)
    assert window == []


@pytest.mark.parametrize("argv", [[], ["resnet20"], [str(EXAMPLE)], ["--screenshot", "x.png", "resnet20"]])
def test_no_command_a_preset_or_a_file_opens_the_window(argv, window):
    assert main(argv) == 0 and window == [argv]


@pytest.mark.parametrize("argv, expected", [
    (["train", "resnet20", "--epoch", "3"], "error: train: unknown option --epoch; did you mean --epochs?"),
    (["info", "resnet20", "--jsn"], "error: info: unknown option --jsn; did you mean --json?"),
    (["presets", "--count"], "error: presets: unknown option --count; did you mean --counts?"),
    (["info", "resnet20", "extra"], "error: info: unexpected argument 'extra'"),
    (["info", "resnet20", "--num-classes", "x"], "error: info: argument --num-classes: invalid int value: 'x'"),
])
def test_a_misspelled_flag_names_the_command_and_the_closest_flag(argv, expected, capsys):
    assert main(argv) == 2
    assert one_error_line(capsys) == expected


def test_help_lists_commands_and_returns(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "presets" in out and "validate" in out and "opens the window" in out


@pytest.mark.parametrize("shape, hint", [("3,32", "3,32,32"), ("3,64", "3,64,64")])
def test_info_preset_with_a_flat_input_shape_is_one_line(shape, hint, capsys):
    assert main(["info", "resnet50", "--input-shape", shape]) == 2
    line = one_error_line(capsys)
    assert line.startswith("error: Conv2d 'stem_conv': Conv2d needs an image input C×H×W")
    assert f"--input-shape as C,H,W (e.g. {hint})" in line


@pytest.mark.parametrize("tool, option, expected", [
    ("landscape", ["--grid", "0"], "--grid must be between 3 and 101, got 0"),
    ("landscape", ["--grid", "20"], "--grid must be odd"),
    ("landscape", ["--span", "nan"], "--span must be above 0"),
    ("landscape", ["--span", "0"], "--span must be above 0"),
    ("landscape", ["--batch-size", "1"], "--batch-size must be between 2"),
    ("landscape", ["--seed", "-1"], "--seed must be between 0"),
    ("lesion", ["--draws", "0"], "--draws must be between 1"),
    ("lesion", ["--grid", "5"], "--grid applies to landscape, not lesion"),
])
def test_analyze_options_are_checked_before_anything_runs(tool, option, expected, capsys):
    assert main(["analyze", tool, "no_such_run", *option]) == 2
    assert expected in one_error_line(capsys)


def test_analyze_paths_prints_plain_progress_off_a_terminal(monkeypatch, capsys):
    import explorer.train.progress as progress
    monkeypatch.setattr(progress, "PLAIN_EVERY_S", 0.0)  # a line at every update instead of every few seconds
    assert main(["analyze", "paths", str(EXAMPLE), "--samples", "1", "--batch-size", "8", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["lengths"][0]["length"] == 0
    progress_lines = [ln for ln in captured.err.splitlines() if ln.startswith("progress: ")]
    assert progress_lines and progress_lines[-1].startswith("progress: paths sampled ")
    assert progress_lines[-1].endswith("(100%)")
    assert "\r" not in captured.err


def test_presets_are_grouped_by_family(capsys):
    from explorer.presets import list_presets
    assert main(["presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    headers = [ln for ln in lines if ln and not ln.startswith(" ")]
    families = list(dict.fromkeys(p.family for p in list_presets()))
    assert [h.rsplit(" (", 1)[0] for h in headers] == families
    names = [ln.split()[0] for ln in lines if ln.startswith("  ")]
    assert sorted(names) == sorted(p.name for p in list_presets())


def test_presets_counts_shows_parameters_and_macs(monkeypatch, capsys):
    import explorer.cli.presets_cmd as presets_cmd
    from explorer.presets import list_presets
    few = [p for p in list_presets() if p.name in ("resnet20", "plain20")]
    monkeypatch.setattr(presets_cmd, "list_presets", lambda: few)
    assert main(["presets", "--counts"]) == 0
    out = capsys.readouterr().out
    assert "269,722 params" in out and "40,551,040 MACs" in out and out.count("params") == 2


def test_help_presets_and_validate_do_not_import_torch():
    """One subprocess runs the three commands in turn and reports whether torch (or Qt) got imported."""
    code = ("import sys, contextlib, io\n"
            "from explorer.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    codes = [main(['--help']), main(['presets']), main(['validate', {str(EXAMPLE)!r}])]\n"
            "print(codes, sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6')))\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "[0, 0, 0] []", r.stdout + r.stderr


def test_train_prints_plain_progress_lines_off_a_terminal(monkeypatch, capsys):
    import explorer.train.progress as progress
    monkeypatch.setattr(progress, "PLAIN_EVERY_S", 0.0)  # every report gets its line instead of one per few seconds
    argv = ["train", str(EXAMPLE), "--epochs", "1", "--max-steps", "3", "--log-every", "1", "--stats-every", "0",
            "--batch-size", "16", "--device", "cpu", "--json"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("progress: epoch 1/1 step ")]
    assert [ln.split()[4] for ln in lines][:3] == ["1/3", "2/3", "3/3"] and "\r" not in err


def test_readme_command_reference_matches_the_commands():
    from explorer.cli.reference import README, readme_block, reference
    assert readme_block(README.read_text(encoding="utf-8")) == reference(), \
        "README's command reference is stale: run `python -m explorer.cli.reference --write`"
