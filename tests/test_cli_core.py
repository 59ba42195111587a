"""Command-line contract: presets, info, validate (one `error:` line, non-zero exit, never a traceback).

The commands run in-process (an exception would fail the test, as a traceback would); one test runs
``main.py`` in a subprocess to cover the entry point itself."""
import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from explorer.cli import main

ROOT = Path(__file__).parent.parent


def cli(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


def test_main_py_entry_point_runs_a_command():
    r = subprocess.run([sys.executable, "main.py", "info", "resnet20", "--json"], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and "Traceback" not in r.stderr and json.loads(r.stdout)["params"] == 269_722


def test_info_json_contract():
    r = cli("info", "resnet56", "--json")
    assert r.returncode == 0
    d = json.loads(r.stdout)
    assert d["params"] == 853_018 and d["layers"] == 56
    assert d["input_shape"] == [3, 32, 32] and d["output_shape"] == [10]
    assert isinstance(d["macs"], int) and d["macs"] > 0


def test_info_overrides_and_table():
    r = cli("info", "resnet20", "--num-classes", "7", "--input-shape", "1,8,8")
    assert r.returncode == 0
    assert "input 1×8×8 -> output 7" in r.stdout and "stage3" in r.stdout


def test_info_on_a_graph_file_with_overrides(tmp_path):
    r = cli("info", str(ROOT / "resources/examples/basic_zero_pad.json"), "--json", "--num-classes", "4")
    assert r.returncode == 0 and json.loads(r.stdout)["output_shape"] == [4]


def test_presets_lists_every_name():
    r = cli("presets")
    assert r.returncode == 0
    for name in ("resnet20", "resnet1202", "preact_resnet1001", "dpn92", "densenet121"):
        assert name in r.stdout


@pytest.mark.parametrize("content, expected", [
    ("not json at all", "not valid JSON"),
    ('{"format": "residual-explorer-graph", "version": 7, "nodes": [], "edges": []}', "newer"),
])
def test_validate_rejects_bad_files_in_one_line(tmp_path, content, expected):
    f = tmp_path / "bad.json"
    f.write_text(content)
    r = cli("validate", str(f))
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0]


def test_validate_names_the_node_and_fix(tmp_path):
    d = json.loads((ROOT / "resources/examples/tiny_resnet_primitives.json").read_text())
    d["edges"] = [e for e in d["edges"] if e["from"] != "proj_bn"]
    d["edges"].append({"from": "relu2", "to": "projection_add", "order": 1})
    f = tmp_path / "broken.json"
    f.write_text(json.dumps(d))
    r = cli("validate", str(f))
    assert r.returncode != 0
    assert r.stderr.startswith("error: Add 'projection_add': inputs 32×4×4 and 16×8×8 differ; use a projection shortcut with stride 2")


def test_validate_ok_and_missing_file(tmp_path):
    assert cli("validate", str(ROOT / "resources/examples/dual_path.json")).returncode == 0
    r = cli("validate", str(tmp_path / "nope.json"))
    assert r.returncode != 0 and r.stderr.startswith("error: ")


def test_unknown_preset_is_one_line():
    r = cli("info", "resnet21")
    assert r.returncode == 2 and r.stderr.strip() == "error: unknown preset 'resnet21'; did you mean resnet32, resnet20, resnet18?"
