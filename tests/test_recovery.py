"""Crash-recovery records are untrusted: a damaged one is reported and set aside and never stops
start-up; a file that a running instance owns is never offered; a half-written pair is never valid."""
import json

import pytest

from explorer.blocks import discover
from explorer.graph import recovery
from explorer.graph.fileio import dumps_graph
from explorer.presets import build_preset

discover()
GRAPH_TEXT = dumps_graph(build_preset("resnet20"))


def _pair(folder, pid, meta_change=None):
    folder.mkdir(parents=True, exist_ok=True)
    f = folder / f"autosave-{pid}.json"
    recovery.write_pair(f, GRAPH_TEXT, None)
    if meta_change is not None:
        meta = json.loads(f.with_suffix(".meta").read_text())
        meta_change(meta)
        f.with_suffix(".meta").write_text(json.dumps(meta))
    return f


def test_a_good_pair_of_a_dead_process_is_offered(tmp_path):
    f = _pair(tmp_path, 999999)
    found, problems = recovery.scan(tmp_path)
    assert problems == [] and [r.graph_file for r in found] == [f]
    assert found[0].load().node("stem_conv").type == "conv2d"


@pytest.mark.parametrize("bad", ["yesterday", None, float("inf"), -5, [1]])
def test_a_corrupt_saved_at_is_reported_and_set_aside(tmp_path, bad):
    f = _pair(tmp_path, 999998, lambda m: m.update(saved_at=bad))
    found, problems = recovery.scan(tmp_path)
    assert found == [] and len(problems) == 1 and f.name in problems[0] and "saved_at" in problems[0]
    assert not f.exists() and (tmp_path / "damaged" / f.name).exists()
    assert recovery.scan(tmp_path) == ([], [])  # set aside: not reported at every start


def test_an_unreadable_record_or_a_half_written_pair_is_never_valid(tmp_path):
    torn = _pair(tmp_path, 999997)
    torn.write_text(GRAPH_TEXT.replace("resnet20", "resnet2O"))  # the graph changed, its record did not
    garbage = _pair(tmp_path, 999996)
    garbage.with_suffix(".meta").write_text("{not json")
    found, problems = recovery.scan(tmp_path)
    assert found == []
    assert any("interrupted" in p and torn.name in p for p in problems)
    assert any("not valid JSON" in p and garbage.name in p for p in problems)


def test_a_live_instance_keeps_its_file_even_when_its_record_is_unreadable(tmp_path):
    lock = recovery.OwnerLock(tmp_path, pid=999995)
    lock.acquire()
    try:
        f = _pair(tmp_path, 999995)
        f.with_suffix(".meta").write_text("garbage")
        assert recovery.scan(tmp_path) == ([], [])
        assert f.exists() and f.with_suffix(".meta").exists()
    finally:
        lock.release()
    found, problems = recovery.scan(tmp_path)  # its owner is gone: now it is damaged work, set aside
    assert found == [] and len(problems) == 1


def test_the_window_starts_with_a_damaged_record_and_says_so(make_window, monkeypatch):
    import explorer.ui.document as document

    _pair(document.recovery_dir(), 999994, lambda m: m.update(saved_at="yesterday"))
    monkeypatch.delenv("RESIDUAL_EXPLORER_NO_AUTOSAVE_PROMPT", raising=False)
    w = make_window()
    messages = []
    w.files.message.connect(messages.append)
    assert not w.files.offer_recovery()
    assert any("damaged" in m for m in messages) and w.dialogs.asked == []
