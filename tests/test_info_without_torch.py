"""`info` never imports torch, as README says: for a preset, a graph file and a run folder with its provenance
(issue 17 item 16). One subprocess runs all three and reports what got imported."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from explorer.graph.fileio import dumps_graph
from explorer.presets import build_preset

ROOT = Path(__file__).parent.parent

PROBE = """
import contextlib, io, json, sys
from explorer.cli import main
codes = []
for argv in json.loads(sys.argv[1]):
    with contextlib.redirect_stdout(io.StringIO()):
        codes.append(main(argv))
print(json.dumps({"codes": codes, "torch": sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))}))
"""


def test_info_imports_no_torch(tmp_path):
    graph = tmp_path / "net.json"
    graph.write_text(dumps_graph(build_preset("resnet20")))
    run = tmp_path / "run"
    run.mkdir()
    (run / "graph.json").write_text(graph.read_text())
    (run / "provenance.json").write_text(json.dumps({"source": "x.pth", "loaded": ["stem_conv"]}))
    argvs = [["info", "resnet20", "--json"], ["info", str(graph)], ["info", str(run)]]
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argvs)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"codes": [0, 0, 0], "torch": []}


def test_the_training_package_still_offers_its_names():
    import explorer.train as train
    assert all(hasattr(train, name) for name in train.__all__)
