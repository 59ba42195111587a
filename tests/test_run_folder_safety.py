"""A run folder is never mixed up (issue 17 items 2-3): import-weights refuses a folder that holds a run
unless --force and then replaces it whole; a training holds an OS lock on its folder that dies with the
process, a second one is refused naming the first; clean-up deletes only temporaries of processes gone."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

from explorer.cli import main
from explorer.graph.fileio import save_graph
from explorer.train.checkpoint import load_checkpoint
from explorer.train.run_dir import RUN_FILES
from explorer.train.run_lock import RunFolderInUse, RunLock
from explorer.train.testing import tiny_graph
from explorer.util.atomic import remove_stale_temporaries, write_atomic

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """resnet20's own state_dict on disk: what import-weights pairs tensor for tensor."""
    from explorer.arch import load_arch
    from explorer.compile import compile_graph

    torch.manual_seed(1)
    path = tmp_path_factory.mktemp("w") / "resnet20.pth"
    torch.save(compile_graph(load_arch("resnet20")).state_dict(), path)
    return path


def _folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# -- item 2: import-weights over a run ---------------------------------------------------------------------
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(held=st.sets(st.sampled_from(RUN_FILES), min_size=1))
def test_import_weights_refuses_any_folder_that_holds_a_run(held, weights, tmp_path_factory, capsys):
    run = tmp_path_factory.mktemp("run")
    for name in held:
        (run / name).write_bytes(b"trained for 40 epochs: " + name.encode())
    before = _folder_bytes(run)
    capsys.readouterr()
    assert main(["import-weights", "resnet20", str(weights), "-o", str(run)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "already holds a run" in err[0] and "--force" in err[0]
    assert _folder_bytes(run) == before


def test_import_weights_with_force_replaces_the_run_whole(weights, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    for name in ("best.pt", "metrics.csv", "steps.csv", "last.pt", "provenance.json"):
        (run / name).write_text("old run")
    (run / ".last.pt.999999999-abc.tmp").write_text("a dead writer's leftover")
    assert main(["import-weights", "resnet20", str(weights), "-o", str(run), "--force"]) == 0
    assert {p.name for p in run.iterdir() if not p.name.startswith(".")} == {"graph.json", "config.json", "last.pt"}
    ours = load_checkpoint(run).model_state
    theirs = torch.load(weights, weights_only=True)
    assert torch.equal(next(iter(ours.values())), next(iter(theirs.values())))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".run.")]  # no leftover sibling folders


def test_force_never_deletes_files_that_are_not_part_of_a_run(weights, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "last.pt").write_text("old run")
    (run / "notes.txt").write_text("mine")
    assert main(["import-weights", "resnet20", str(weights), "-o", str(run), "--force"]) == 2
    assert "notes.txt" in capsys.readouterr().err
    assert _folder_bytes(run) == {"last.pt": b"old run", "notes.txt": b"mine"}


def test_a_folder_without_a_run_takes_the_import_beside_other_files(weights, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["import-weights", "resnet20", str(weights), "-o", str(tmp_path)]) == 0
    assert (tmp_path / "notes.txt").read_text() == "mine" and (tmp_path / "last.pt").is_file()


# -- item 3: one training per folder -------------------------------------------------------------------------
HOLDER = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("run_lock", sys.argv[1])
mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
mod.RunLock(sys.argv[2]).acquire()
print("locked", flush=True)
sys.stdin.read()
"""


def test_a_second_training_into_a_locked_folder_is_refused_naming_the_holder(tmp_path, capsys):
    run = tmp_path / "run"
    graph = tmp_path / "tiny.json"
    save_graph(tiny_graph(classes=10), graph)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(ROOT / "explorer/train/run_lock.py"), str(run)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        args = ["train", str(graph), "--dataset", "digits", "--max-steps", "2", "--out", str(run)]
        assert main(args) == 2
        err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error")]
        assert len(err) == 1 and f"process {holder.pid}" in err[0] and "in use" in err[0]
        assert not (run / "config.json").exists() and not (run / "metrics.csv").exists()
    finally:
        holder.send_signal(signal.SIGKILL)  # dies without releasing anything: the OS drops the lock
        holder.wait()
    assert main(args) == 0
    assert (run / "last.pt").is_file()
    with RunLock(run):  # and the finished training released it
        pass


def test_the_lock_is_per_folder_and_released_on_close(tmp_path):
    with RunLock(tmp_path / "a"):
        with pytest.raises(RunFolderInUse, match=rf"process {os.getpid()}"):
            RunLock(tmp_path / "a").acquire()
        RunLock(tmp_path / "b").acquire().release()
    RunLock(tmp_path / "a").acquire().release()


def _dead_pid() -> int:
    return int(Path("/proc/sys/kernel/pid_max").read_text()) + 1  # above every pid the kernel hands out


@settings(max_examples=30, deadline=None)
@given(pids=st.lists(st.one_of(st.integers(-5, 2**70), st.sampled_from(["live", "parent", "dead", "none"])),
                     min_size=1, max_size=5))
def test_clean_up_deletes_only_temporaries_of_processes_that_are_gone(pids, tmp_path_factory):
    folder = tmp_path_factory.mktemp("t")
    names = {}
    for i, pid in enumerate(pids):
        tag = {"live": f"{os.getpid()}-", "parent": f"{os.getppid()}-", "dead": f"{_dead_pid()}-",
               "none": ""}.get(pid, f"{pid}-") if isinstance(pid, str) else f"{pid}-"
        name = f".last.pt.{tag}x{i}.tmp"
        (folder / name).write_text("partial")
        names[name] = pid
    removed = {p.name for p in remove_stale_temporaries(folder / "last.pt")}
    for name, pid in names.items():
        ours = pid in ("live", "parent")
        if ours or pid == "none" or (isinstance(pid, int) and pid < 0):
            assert name not in removed and (folder / name).exists()
        if pid == "dead":
            assert name in removed
    write_atomic(folder / "last.pt", b"new")  # and a write still works beside them
    assert (folder / "last.pt").read_bytes() == b"new"


def test_a_new_train_into_a_trained_run_folder_is_refused_and_force_replaces_it_whole(tmp_path, capsys):
    """A second `train --out RUN` without --resume once replaced last.pt and kept the old best.pt and metrics.csv."""
    from explorer.cli import main
    run = tmp_path / "run"
    tiny = ["resnet20_digits", "--epochs", "1", "--max-steps", "2", "--batch-size", "16"]
    assert main(["train", *tiny, "--out", str(run)]) == 0
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    capsys.readouterr()
    assert main(["train", *tiny, "--seed", "1", "--out", str(run)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already holds a run" in err[0] and "--resume" in err[0] and "--force" in err[0]
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before
    (run / "steps.csv").write_text("a stale file of the old run\n")
    assert main(["train", *tiny, "--seed", "1", "--out", str(run), "--force"]) == 0
    assert not (run / "steps.csv").exists() or "stale" not in (run / "steps.csv").read_text()
    assert (run / "last.pt").read_bytes() != before["last.pt"]


def test_compare_into_a_folder_holding_its_runs_is_refused(tmp_path, capsys):
    from explorer.cli import main
    held = tmp_path / "cmp" / "plain"
    held.mkdir(parents=True)
    (held / "last.pt").write_bytes(b"a trained run")
    assert main(["compare", "resnet20_digits", "--dataset", "digits", "--epochs", "1", "--max-steps", "1",
                 "--out", str(tmp_path / "cmp")]) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert (held / "last.pt").read_bytes() == b"a trained run"
