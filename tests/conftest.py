"""Shared test set-up: Qt runs off-screen, hypothesis keeps to this small machine."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("RESIDUAL_EXPLORER_NO_AUTOSAVE_PROMPT", "1")
# Tests run tiny tensors, where one thread is faster than two and does not slow down by orders of
# magnitude when the machine is busy; speed is measured by the benchmarks, not here. Set before torch
# is imported (and inherited by the subprocess tests).
os.environ.setdefault("OMP_NUM_THREADS", "1")

from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")


# -- the real main window, built through a factory (napari's habit) ----------------------------------
import pytest  # noqa: E402


class FakeDialogs:
    """Answers the window's questions without modal boxes and records what was asked."""

    def __init__(self):
        self.asked: list[tuple] = []
        self.save_answer = "discard"
        self.paths: list[str] = []
        self.recover_answer = True
        self.stop_answer = True          # "Stop and close" / "Stop and open" is the default button

    def save_changes(self, title, runs=0, action=""):
        self.asked.append(("save_changes", title))
        self.save_action = action        # how the question was worded: "opening resnet56", ...
        if runs:
            self.asked.append(("unsaved_runs", title, runs))
        return self.save_answer

    def stop_training(self, title, verb):
        self.asked.append(("stop_training", title, verb))
        return self.stop_answer

    def open_path(self, start):
        self.asked.append(("open_path", start))
        return self.paths.pop(0) if self.paths else ""

    def save_path(self, start, filters=""):
        self.asked.append(("save_path", start))
        return self.paths.pop(0) if self.paths else ""

    def error(self, title, text):
        self.asked.append(("error", title, text))

    def recover(self, found):
        self.asked.append(("recover", [r.document for r in found]))
        return found[0] if self.recover_answer else None


@pytest.fixture
def make_window(qtbot, tmp_path, monkeypatch):
    """``make_window(graph=None)`` -> a shown MainWindow with isolated settings, recovery folder and
    dialogs; on teardown it is closed and must have unsubscribed everything from the graph model."""
    from PySide6.QtCore import QSettings, QStandardPaths

    QStandardPaths.setTestModeEnabled(True)
    import explorer.ui.document as document

    monkeypatch.setattr(document, "recovery_dir", lambda: tmp_path / "recovery")
    windows = []

    def factory(graph=None, size=(1200, 800)):
        from explorer.ui.main_window import MainWindow

        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
        w = MainWindow(graph, settings=settings, dialogs=FakeDialogs())
        qtbot.addWidget(w)
        w.resize(*size)
        w.show()
        qtbot.waitExposed(w)
        qtbot.wait(10)
        windows.append(w)
        return w

    yield factory
    for w in windows:
        w.document.stack.setClean()
        graph = w.document.graph
        w.close()
        assert not graph._listeners, f"views still subscribed after close: {graph._listeners}"


@pytest.fixture(autouse=True, scope="session")
def _none_refcount_guard():
    """PySide6 6.12 under-counts None on Python 3.11 and aborts after a few thousand Qt calls;
    importing explorer.ui applies the guard (see explorer/ui/compat.py) before any test touches Qt."""
    import explorer.ui  # noqa: F401
    yield


@pytest.fixture(autouse=True)
def _gc_in_main_thread(request):
    """Tests with a QApplication collect garbage in the GUI thread only, as the app does
    (explorer/ui/main_thread_gc.py): a worker thread that collected a closed window's widgets deadlocked
    the suite. The others keep Python's automatic collector."""
    import gc
    if "qapp" not in request.fixturenames:
        gc.enable()
        yield
        return
    from explorer.ui.main_thread_gc import collect_in_main_thread
    collect_in_main_thread(request.getfixturevalue("qapp"))
    gc.disable()
    yield


# -- training panel (tests/test_ui_training_*.py) ------------------------------------------------------
def open_inside(qtbot, window, node_id: str):
    """Select ``node_id`` on the canvas, Edit ▸ Open Inside, and wait for its window to show; returns it."""
    window.scene.select_node(node_id)
    window.edit.open_inside.trigger()
    dialog = window.inside_dialog
    qtbot.waitExposed(dialog)
    return dialog


def build_tiny_graph(block: str = "basic", name: str = "tiny_res"):
    """Input 1×8×8 (the digits) -> conv/BN/ReLU -> a stage of two 8-channel blocks -> classifier: trains
    a step in milliseconds, and has shortcuts for the plain-twin comparison."""
    from explorer.blocks.builder import Builder

    b = Builder(name)
    x = b.input([1, 8, 8])
    x = b.conv(x, 8, node_id="stem_conv")
    x = b.bn(x, node_id="stem_bn")
    x = b.act(x, node_id="stem_relu")
    x = b.add(block, x, node_id="stage1", repeat=2, channels=8, stride=1)
    x = b.add("global_avgpool", x, node_id="pool")
    x = b.add("flatten", x, node_id="flatten")
    x = b.add("linear", x, node_id="classifier", out_features=10)
    b.output(x)
    return b.finish().graph


@pytest.fixture
def tiny_graph():
    return build_tiny_graph()


@pytest.fixture
def training_window(qtbot):
    """``training_window(graph)`` -> (QMainWindow, TrainingDock), shown. Teardown stops any run and checks
    that no training thread is left running."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel, QMainWindow

    from explorer.ui.training import TrainingDock

    made = []

    def factory(graph=None, size=(1300, 800)):
        graph = graph if graph is not None else build_tiny_graph()
        mw = QMainWindow()
        mw.setCentralWidget(QLabel("canvas"))
        dock = TrainingDock(lambda: graph, lambda: graph.name, mw)
        mw.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        qtbot.addWidget(mw)
        mw.resize(*size)
        mw.show()
        qtbot.waitExposed(mw)
        made.append(dock)
        return mw, dock

    yield factory
    for dock in made:
        assert dock.controller.shutdown(30_000)
        assert not dock.controller.session.is_active()


# -- trained runs shared by the session (issue 8: one trained run for all tests that need one) -------
@pytest.fixture(scope="session")
def digits_3_epochs():
    """{"resnet20": FinishedReport, "plain20": FinishedReport}: the default settings, 3 epochs on the digits,
    trained once per session on one thread (the thread count is the application's, here the tests')."""
    import torch

    from explorer.data import load_dataset
    from explorer.presets import build_preset
    from explorer.train import TrainConfig, run_training

    ds, before = load_dataset("digits", seed=0), torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return {name: list(run_training(build_preset(name), ds, TrainConfig(epochs=3)))[-1]
                for name in ("resnet20", "plain20")}
    finally:
        torch.set_num_threads(before)


# -- analysis and degeneracy (tests/test_*analysis*.py, tests/test_*degeneracy.py) ---------------------
def canvas_graph():
    """The small network the window's analysis tests train and analyse, as the canvas shows it (same ids)."""
    from explorer.train.testing import tiny_graph

    return tiny_graph(channels=8, blocks=2, classes=10, name="tiny_res")


def three_stage_resnet(name: str, width: int, blocks: int):
    """Three stages of ``blocks`` basic blocks with ``width``, 2× and 4× channels and zero-pad shortcuts
    (ResNet-20's layout at ``width`` 16, ``blocks`` 3), on the digits' 1×8×8."""
    from explorer.blocks.builder import Builder

    b = Builder(name)
    x = b.input([1, 8, 8])
    x = b.act(b.bn(b.conv(x, width, node_id="stem_conv"), node_id="stem_bn"), node_id="stem_relu")
    for i in range(3):
        x = b.add("basic", x, node_id=f"stage{i + 1}", repeat=blocks, channels=width * 2 ** i,
                  stride=1 if i == 0 else 2, shortcut="zero_pad")
    x = b.add("global_avgpool", x, node_id="pool")
    x = b.add("flatten", x, node_id="flatten")
    b.output(b.add("linear", x, node_id="classifier", out_features=10))
    return b.finish().graph


@pytest.fixture(scope="module")
def one_thread():
    """torch on one thread for a module: ``pytestmark = pytest.mark.usefixtures("one_thread")``. The thread
    count is the application's to choose, and here the tests are the application: on a busy shared 2-core
    machine two intra-op threads spin-wait each other ~50× slower than one."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def train_comparison(tmp_path_factory):
    """``train_comparison(graph, **config)`` -> a compare-style folder, DIR/residual and DIR/plain (each a
    `train --out` run folder), trained on the digits on one thread with ``TrainConfig(**config)``."""
    import torch

    from explorer.data import load_dataset
    from explorer.train import TrainConfig, run_training
    from explorer.train.compare import plan_comparison

    def train(graph, **config):
        out, before = tmp_path_factory.mktemp("compare"), torch.get_num_threads()
        ds = load_dataset("digits", seed=0)
        torch.set_num_threads(1)
        try:
            for r in plan_comparison(graph, TrainConfig(out_dir=str(out), **config)).runs:
                final = list(run_training(r.graph, ds, r.config))[-1]
                assert final.status == "completed", final
        finally:
            torch.set_num_threads(before)
        return out
    return train


def junk_values():
    """A hypothesis strategy of values a hand-edited results file may hold where a number or a name belongs."""
    from hypothesis import strategies as st

    return st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(allow_nan=True),
                     st.text(max_size=5), st.lists(st.integers(), max_size=3),
                     st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def planted(tree, place: tuple, junk):
    """``tree`` with ``junk`` put at ``place`` (keys and indexes, outermost first), as a results file read
    back would hold it (NaN and Infinity included)."""
    import json

    node = tree
    for key in place[:-1]:
        node = node[key]
    node[place[-1]] = junk
    return json.loads(json.dumps(tree, allow_nan=True))
