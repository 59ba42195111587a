"""After a crash the window offers every dead instance's recovery file, newest first, each with its
document and time, and deletes one only when the user says so (issue 17 item 4); a recovery file whose
name holds no valid pid is a damaged pair set aside, never a crash at start (item 5)."""
import json
import time

import pytest
from hypothesis import given, settings, strategies as st
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from explorer.blocks import discover
from explorer.graph import recovery
from explorer.graph.fileio import dumps_graph
from explorer.presets import build_preset
from explorer.util.process import MAX_PID

discover()
GRAPH_TEXT = dumps_graph(build_preset("resnet20"))
DEAD = [999990, 999991, 999992]  # above any pid this machine hands out (pid_max is smaller)


def _pair(folder, pid, saved_at=None, original=None):
    folder.mkdir(parents=True, exist_ok=True)
    f = folder / f"autosave-{pid}.json"
    recovery.write_pair(f, GRAPH_TEXT, original)
    if saved_at is not None:
        meta = json.loads(f.with_suffix(".meta").read_text())
        meta["saved_at"] = saved_at
        f.with_suffix(".meta").write_text(json.dumps(meta))
    return f


# -- item 5: a pid out of range ----------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(pid=st.one_of(st.integers(0, 0), st.integers(MAX_PID + 1, 10**40), st.integers(900_000, 999_999)))
def test_a_recovery_name_without_a_valid_pid_is_set_aside_not_a_crash(pid, tmp_path_factory):
    folder = tmp_path_factory.mktemp("rec")
    f = _pair(folder, pid)
    found, problems = recovery.scan(folder)
    if 0 < pid <= MAX_PID:
        assert [r.graph_file for r in found] == [f] and problems == []
    else:
        assert found == [] and len(problems) == 1 and f.name in problems[0] and "no process id" in problems[0]
        assert (folder / "damaged" / f.name).exists() and not f.exists()


def test_the_window_starts_with_an_out_of_range_pid_and_says_so(make_window, monkeypatch):
    import explorer.ui.document as document

    _pair(document.recovery_dir(), 9999999999)
    monkeypatch.delenv("RESIDUAL_EXPLORER_NO_AUTOSAVE_PROMPT", raising=False)
    w = make_window()
    messages = []
    w.files.message.connect(messages.append)
    assert not w.files.offer_recovery()
    assert any("autosave-9999999999.json" in m and "damaged" in m for m in messages)


# -- item 4: every recovery offered, deleted only on the user's word ---------------------------------------
def _answer(qtbot, act):
    """Run ``act(prompt)`` on the recovery prompt once it is shown (it is modal: exec() waits for it)."""
    from explorer.ui.recovery_prompt import RecoveryPrompt

    seen = {}

    def handle():
        prompt = QApplication.activeModalWidget()
        if not isinstance(prompt, RecoveryPrompt):
            QTimer.singleShot(10, handle)
            return
        try:
            seen["rows"] = [prompt.list.item(i).text() for i in range(prompt.list.count())]
            act(prompt)
        except BaseException as e:  # noqa: BLE001 - re-raised in the test, after the modal loop ended
            seen["error"] = e
        finally:
            if prompt.isVisible():
                prompt.reject()

    QTimer.singleShot(0, handle)
    return seen


def _click_row(prompt, row):
    rect = prompt.list.visualItemRect(prompt.list.item(row))
    QTest.mouseClick(prompt.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


@pytest.fixture
def crashed(make_window, monkeypatch, tmp_path):
    """Three instances died leaving work: doc3999998.json (oldest), an unsaved one, doc2.json (newest)."""
    import explorer.ui.document as document
    from explorer.ui.file_actions import Dialogs

    folder = document.recovery_dir()
    now = time.time()
    files = [_pair(folder, DEAD[0], now - 7200, tmp_path / "doc3999998.json"),
             _pair(folder, DEAD[1], now - 3600),
             _pair(folder, DEAD[2], now - 60, tmp_path / "doc2.json")]
    monkeypatch.delenv("RESIDUAL_EXPLORER_NO_AUTOSAVE_PROMPT", raising=False)
    w = make_window()
    class RealRecovery(Dialogs):
        def save_changes(self, *args, **kwargs):  # closing with recovered (unsaved) work: not this test's question
            return "discard"

    w.files.dialogs = RealRecovery(w)  # the real prompt, answered by clicks
    return w, files


def test_every_recovery_is_offered_newest_first_and_only_the_deleted_one_goes(crashed, qtbot):
    w, files = crashed

    def delete_the_oldest_then_keep(prompt):
        assert all(f.exists() for f in files)  # nothing deleted before the question
        _click_row(prompt, 2)
        QTest.mouseClick(prompt.delete_button, Qt.MouseButton.LeftButton)
        assert not files[0].exists() and files[1].exists() and files[2].exists()
        assert prompt.list.count() == 2
        QTest.mouseClick(prompt.keep_button, Qt.MouseButton.LeftButton)

    seen = _answer(qtbot, delete_the_oldest_then_keep)
    assert not w.files.offer_recovery()
    if "error" in seen:
        raise seen["error"]
    rows = seen["rows"]
    assert [r.split(" — ")[0] for r in rows] == ["doc2.json", "an unsaved document", "doc3999998.json"]
    assert all(time.strftime("%Y-%m-%d", time.localtime()) in r or "saved " in r for r in rows)
    assert not files[0].exists() and not files[0].with_suffix(".meta").exists()
    assert files[1].exists() and files[2].exists()  # kept for later: offered again next time
    assert [r.graph_file for r in recovery.scan(files[0].parent)[0]] == [files[2], files[1]]


def test_opening_one_keeps_the_others_for_the_next_start(crashed, qtbot):
    w, files = crashed

    def open_the_second(prompt):
        _click_row(prompt, 1)
        QTest.mouseClick(prompt.open_button, Qt.MouseButton.LeftButton)

    seen = _answer(qtbot, open_the_second)
    assert w.files.offer_recovery()
    if "error" in seen:
        raise seen["error"]
    assert w.document.dirty and "stem_conv" in w.document.graph and w.document.path is None
    assert not files[1].exists()  # its work is in the window now
    assert files[0].exists() and files[2].exists()
