"""The dependency rule from DESIGN.md, checked by a tool rather than by memory.

Nothing below ``explorer/ui`` imports Qt; ``explorer/graph`` imports neither Qt nor torch, not even
transitively (importing it, the block registry and the presets must not load torch).
"""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
QT = ("PySide6", "pyqtgraph", "pytestqt", "shiboken6")


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_qt_below_ui():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "explorer").rglob("*.py")
                 if "ui" not in p.relative_to(ROOT / "explorer").parts[:1] and imported_roots(p) & set(QT)]
    assert offenders == []


def test_graph_imports_neither_qt_nor_torch():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "explorer" / "graph").rglob("*.py")
                 if imported_roots(p) & (set(QT) | {"torch"})]
    assert offenders == []


def test_graph_blocks_and_presets_load_without_torch_or_qt():
    code = ("import sys; import explorer.graph, explorer.network.inference, explorer.graph.fileio, explorer.presets;"
            "from explorer.presets import build_preset; from explorer.network.inference import analyze;"
            "analyze(build_preset('densenet121'));"
            "bad = [m for m in ('torch', 'PySide6', 'pyqtgraph') if m in sys.modules]; print(bad); sys.exit(bool(bad))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
