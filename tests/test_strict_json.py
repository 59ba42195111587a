"""Every command's --json is strict JSON (no NaN or Infinity; null for an unknown value), issue 17 item 14.

One tiny invocation per command (and per analysis tool) that has --json, run in-process and parsed with a
parser that refuses NaN and Infinity; a new command with --json must add its own row to RUNS. The shared
helper (explorer.util.strict_json) is checked on the values that broke scripts before.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import explorer.cli
from explorer.cli import available_commands, build_parser, main
from explorer.util import strict_json

ARCH = "resnet20_digits"
TRAIN = ["--max-steps", "2", "--epochs", "1", "--batch-size", "16", "--stats-every", "1"]
# command (or "analyze TOOL") -> its arguments after the command; RUN stands for a trained run folder.
RUNS = {
    "presets": [],
    "info": [ARCH],
    "train": [ARCH, *TRAIN],
    "compare": [ARCH, *TRAIN],
    "bench": [ARCH, "--steps", "2", "--batch-size", "16"],  # one round: its uncertainty is unknown (was Infinity)
    "analyze gradflow": [ARCH, "--batch-size", "8"],
    "analyze depth-sweep": [ARCH, "--batch-size", "8"],
    "analyze anatomy": [ARCH],
    "analyze degeneracy": [ARCH, "--batch-size", "16"],
    "analyze paths": [ARCH, "--samples", "1", "--batch-size", "8"],
    "analyze lesion": ["RUN"],
    "analyze landscape": ["RUN", "--grid", "3", "--batch-size", "8"],
    "study": ["grid", "--archs", ARCH, *TRAIN, "--workers", "1", "--out", "NEW"],  # NEW: a folder not there yet
    "lesson list": [],
}


def _has_json(command: str) -> bool:
    _, _, sub = build_parser(command)
    return any("--json" in a.option_strings for a in sub._actions)  # argparse lists its options only here


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("json") / "run"
    assert main(["train", ARCH, *TRAIN, "--out", str(out)]) == 0
    return out


def test_every_command_with_json_has_a_row():
    with_json = {c for c in available_commands() if _has_json(c)}
    from explorer.cli.analyze_cmd import TOOLS
    rows = {key.split()[0] for key in RUNS} | {"analyze"}
    assert with_json <= rows, f"add a tiny invocation of {sorted(with_json - rows)} to RUNS"
    assert {f"analyze {t}" for t in TOOLS} <= set(RUNS)


def in_process_pool():
    """The local pool with its one trial trained in this process: the JSON is the study command's, and a
    worker process would only import torch again (tests/test_studies.py runs the real pool)."""
    from explorer.studies import LocalExecutor
    from explorer.studies.task import run_trial

    class InProcess(LocalExecutor):
        def open(self, events):
            self.events, self.tasks = events, []

        def submit(self, task):
            self.tasks.append(task)

        def poll(self, timeout):
            return [run_trial(self.tasks.pop(0), self.events)] if self.tasks else []

        def stop_running(self):
            pass

        def close(self):
            pass
    return InProcess


@pytest.mark.parametrize("key", list(RUNS))
def test_json_output_is_strict(key, run_dir, tmp_path, capsys, monkeypatch):
    places = {"RUN": str(run_dir), "NEW": str(tmp_path / "new")}
    argv = [*key.split(), *(places.get(a, a) for a in RUNS[key]), "--json"]
    if argv[0] not in available_commands():
        pytest.skip(f"{argv[0]} is not in this build")
    if argv[0] == "study":
        import explorer.studies
        monkeypatch.setattr(explorer.studies, "LocalExecutor", in_process_pool())
    assert main(argv) == 0, capsys.readouterr().err
    out = capsys.readouterr().out.strip()
    assert out, "no JSON on stdout"
    strict_json.loads(out)  # the whole of stdout is one strict JSON value


def test_no_command_writes_json_past_the_helper():
    """A command module that called json.dumps itself would let NaN through again."""
    cli = Path(explorer.cli.__file__).parent
    offenders = [p.name for p in cli.glob("*.py") if "json.dumps(" in p.read_text().replace("strict_json.dumps(", "")]
    assert offenders == []


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, np.float32("nan"), np.float64("inf")])
def test_unknown_numbers_become_null_at_any_depth(bad):
    value = {"ratio": bad, "rows": [{"x": (1, bad)}], "ok": np.int64(3), "flag": np.bool_(True)}
    assert strict_json.loads(strict_json.dumps(value)) == {"ratio": None, "rows": [{"x": [1, None]}], "ok": 3,
                                                           "flag": True}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=4) | st.integers(), inner, max_size=4),
    max_leaves=20)


@given(json_values)
def test_anything_plain_dumps_strictly_and_keeps_finite_numbers(value):
    parsed = strict_json.loads(strict_json.dumps(value))

    def same(a, b):
        if isinstance(a, float) and not math.isfinite(a):
            return b is None
        if isinstance(a, dict):
            return list(b) == [str(k) for k in a] and all(same(v, b[str(k)]) for k, v in a.items()) \
                if len({str(k) for k in a}) == len(a) else isinstance(b, dict)
        if isinstance(a, (list, tuple)):
            return isinstance(b, list) and len(a) == len(b) and all(map(same, a, b))
        return a == b

    assert same(value, parsed)


def test_strict_loads_refuses_what_json_dumps_writes_by_default():
    import json
    with pytest.raises(ValueError, match="not strict JSON"):
        strict_json.loads(json.dumps({"ratio": math.inf}))
