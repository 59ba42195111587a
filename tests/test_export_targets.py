"""An export never loses a file: not the run's checkpoints, not a file it writes twice, not a read-only file,
and an existing file only with --force; every file written is named (issue 17 item 1)."""
from __future__ import annotations

import os
import stat

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from explorer.cli import main
from explorer.compile import compile_graph
from explorer.export import ExportError
from explorer.export.targets import check_outputs, is_checkpoint
from explorer.presets import build_preset


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A run folder as `train --out` leaves it (a small resnet8 for 1×8×8 digits)."""
    from explorer.network.adapt import adapt_to_data
    from explorer.train.checkpoint import Checkpoint, save_checkpoint
    from explorer.train.config import TrainConfig

    graph, _ = adapt_to_data(build_preset("resnet20"), (1, 8, 8), 10)
    folder = tmp_path_factory.mktemp("run")
    ckpt = Checkpoint(graph=graph, config=TrainConfig(), model_state=compile_graph(graph).state_dict())
    save_checkpoint(ckpt, folder / "last.pt")
    save_checkpoint(ckpt, folder / "best.pt")
    return folder


def _refused(capsys, *argv) -> str:
    assert main(["export", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_a_py_export_beside_the_checkpoint_never_replaces_it(run, capsys):
    before = (run / "last.pt").read_bytes()
    for force in ([], ["--force"]):
        line = _refused(capsys, str(run), "--format", "py", "-o", str(run / "last.py"), *force)
        assert "last.pt is the file being exported" in line
    assert (run / "last.pt").read_bytes() == before and not (run / "last.py").exists()
    line = _refused(capsys, str(run), "--format", "torchscript", "-o", str(run / "best.pt"), "--force")
    assert "checkpoint" in line and is_checkpoint(run / "best.pt")


def test_the_module_and_its_weights_never_go_to_one_file(run, tmp_path, capsys):
    line = _refused(capsys, str(run), "--format", "py", "-o", str(tmp_path / "model.pt"))
    assert "would be written twice" in line and "model.py" in line
    assert not (tmp_path / "model.pt").exists()


def test_existing_outputs_need_force_and_every_file_is_named(run, tmp_path, capsys):
    (tmp_path / "net.pt").write_text("old weights")
    assert "net.pt exists; add --force" in _refused(capsys, str(run), "--format", "py", "-o", str(tmp_path / "net.py"))
    assert (tmp_path / "net.pt").read_text() == "old weights" and not (tmp_path / "net.py").exists()
    assert main(["export", str(run), "--format", "py", "-o", str(tmp_path / "net.py"), "--force"]) == 0
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'net.py'}" in out and f"wrote {tmp_path / 'net.pt'}" in out
    assert is_checkpoint(tmp_path / "net.pt") is False and torch.load(tmp_path / "net.pt", weights_only=True)


def test_a_read_only_target_is_refused_even_with_force(tmp_path, capsys):
    target = tmp_path / "net.py"
    target.write_text("keep me")
    os.chmod(target, stat.S_IRUSR | stat.S_IRGRP)
    line = _refused(capsys, "resnet20", "--format", "py", "-o", str(target), "--force")
    assert "read-only" in line and target.read_text() == "keep me"


def test_an_export_never_writes_over_the_file_it_reads(tmp_path, capsys):
    graph_file = tmp_path / "net.json"
    assert main(["export", "resnet20", "--format", "py", "-o", str(tmp_path / "x.py")]) == 0
    from explorer.graph.fileio import dumps_graph
    graph_file.write_text(dumps_graph(build_preset("resnet20")))
    before = graph_file.read_text()
    line = _refused(capsys, str(graph_file), "--format", "train-script", "-o", str(graph_file), "--force")
    assert "is the file being exported" in line and graph_file.read_text() == before


STATES = ("absent", "plain", "read-only", "checkpoint")


@given(names=st.lists(st.sampled_from(["a.py", "a.pt", "b.onnx", "link.py"]), min_size=1, max_size=3),
       states=st.fixed_dictionaries({n: st.sampled_from(STATES) for n in ("a.py", "a.pt", "b.onnx")}),
       force=st.booleans())
def test_check_outputs_refuses_before_writing_and_accepts_only_safe_plans(tmp_path_factory, run, names, states,
                                                                         force):
    folder = tmp_path_factory.mktemp("plan")
    for name, state in states.items():
        if state == "plain" or state == "read-only":
            (folder / name).write_text(name)
        elif state == "checkpoint":
            (folder / name).write_bytes((run / "last.pt").read_bytes())
        if state == "read-only":
            os.chmod(folder / name, stat.S_IRUSR)
    (folder / "link.py").symlink_to(folder / "a.py")  # two names, one file
    snapshot = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    paths = [folder / n for n in names]
    try:
        check_outputs(paths, force)
        accepted = True
    except ExportError:
        accepted = False
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == snapshot  # checking writes nothing
    real = [os.path.realpath(p) for p in paths]
    if accepted:
        assert len(set(real)) == len(real)
        for p in paths:
            state = states[os.path.basename(os.path.realpath(p))]
            assert state == "absent" or (state == "plain" and force)
