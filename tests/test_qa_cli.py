"""A hostile new user's findings on the command line (QA round of issues 17-23), one regression test each:
files that must never be lost (a study's own files under `study report -o`, a run's graph.json under
`export --force`) and messages that say a thing once."""
from __future__ import annotations

import pytest

from explorer.cli import main
from explorer.studies import StudySpec, open_study

SPEC = StudySpec("depth", family="resnet", depths=(8, 14), seeds=(0,), config={"epochs": 1, "max_steps": 2})


def _one_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A run folder as `train --out` leaves it: graph.json, config.json and last.pt of a resnet20 for digits."""
    from explorer.compile import compile_graph
    from explorer.graph.fileio import save_graph
    from explorer.network.adapt import adapt_to_data
    from explorer.presets import build_preset
    from explorer.train.checkpoint import Checkpoint, save_checkpoint
    from explorer.train.config import TrainConfig

    graph, _ = adapt_to_data(build_preset("resnet20"), (1, 8, 8), 10)
    folder = tmp_path_factory.mktemp("run")
    save_checkpoint(Checkpoint(graph=graph, config=TrainConfig(), model_state=compile_graph(graph).state_dict()),
                    folder / "last.pt")
    save_graph(graph, folder / "graph.json")
    (folder / "metrics.csv").write_text("epoch,step\n1,23\n")
    return folder


def test_study_report_never_writes_over_the_studys_own_files(tmp_path, capsys):
    folder = tmp_path / "s"
    open_study(SPEC, folder)
    (tmp_path / "last.pt").write_bytes(b"weights")
    before = (folder / "study.json").read_bytes()
    for target in (folder / "study.json", tmp_path / "last.pt"):
        assert main(["study", "report", str(folder), "-o", str(target)]) == 2
        assert "ending in .html" in _one_error(capsys)
    assert (folder / "study.json").read_bytes() == before and (tmp_path / "last.pt").read_bytes() == b"weights"
    assert main(["study", "report", str(folder), "-o", str(tmp_path / "page.html")]) == 0
    assert (tmp_path / "page.html").read_text().lstrip().lower().startswith("<!doctype html")


def test_export_force_never_replaces_a_runs_own_files(run, capsys):
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    for fmt, name in (("onnx", "graph.json"), ("py", "metrics.csv"), ("torchscript", "config.json")):
        assert main(["export", str(run), "--format", fmt, "-o", str(run / name), "--force"]) == 2
        line = _one_error(capsys)
        assert f"a file of the run in {run}" in line and name in line
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before
    # a new file beside the run is fine
    assert main(["export", str(run), "--format", "py", "-o", str(run / "net.py")]) == 0
    assert (run / "net.py").is_file() and (run / "net.pt").is_file()


def test_a_damaged_graph_json_beside_a_checkpoint_is_named_once(run, tmp_path, capsys):
    import shutil
    copy = tmp_path / "r"
    shutil.copytree(run, copy)
    (copy / "graph.json").write_bytes(b"\x00\x01 not a graph")
    assert main(["analyze", "lesion", str(copy)]) == 2
    line = _one_error(capsys)
    assert line.count("graph.json") == 1, line


def test_study_workers_start_deaf_to_ctrl_c(monkeypatch):
    """One Ctrl-C reaches the whole process group: a worker still importing (before its initializer) printed a
    KeyboardInterrupt traceback. Workers are spawned while SIGINT is ignored, and the driver's handler is
    back afterwards."""
    import multiprocessing.context
    import signal

    from explorer.studies import LocalExecutor
    from types import SimpleNamespace

    seen = []
    start = multiprocessing.context.SpawnProcess.start
    monkeypatch.setattr(multiprocessing.context.SpawnProcess, "start",
                        lambda self: (seen.append(signal.getsignal(signal.SIGINT)), start(self))[1])
    mine = signal.signal(signal.SIGINT, lambda *a: None)
    try:
        ex = LocalExecutor(workers=1, threads=1, device="cpu")
        ex.open(lambda *event: None)
        try:
            ex.submit(SimpleNamespace(trial_id="t"))  # not a real task: only the worker's start matters here
            assert signal.getsignal(signal.SIGINT) is not signal.SIG_IGN
        finally:
            ex.close()
    finally:
        signal.signal(signal.SIGINT, mine)
    assert seen and all(h is signal.SIG_IGN for h in seen)


def test_a_preset_named_where_a_run_is_needed_says_how_to_get_one(capsys):
    assert main(["analyze", "lesion", "resnet20"]) == 2
    line = _one_error(capsys)
    assert "no such run folder" in line and "train ARCH --out DIR" in line


@pytest.mark.parametrize("seed", ["-1", "99999999999999999999"])
def test_a_seed_out_of_range_is_one_error_everywhere(seed, tmp_path, capsys):
    """Was: train and study 'could not load digits (ValueError: Overflow ...)', export a traceback."""
    for argv in (["train", "--max-steps", "1", "--out", str(tmp_path / "run")],
                 ["study", "depth", "resnet", "--depths", "8", "--out", str(tmp_path / "study")],
                 ["export", "resnet20", "--format", "py", "-o", str(tmp_path / "net.py")]):
        assert main([*argv, "--seed", seed]) == 2
        assert "seed must be a whole number 0..4,294,967,295" in _one_error(capsys)
    assert not any(tmp_path.iterdir())


def test_a_mistyped_family_gets_a_suggestion(tmp_path, capsys):
    assert main(["study", "depth", "resnt", "--depths", "8", "--out", str(tmp_path / "s")]) == 2
    assert _one_error(capsys).endswith("did you mean resnet, se_resnet?")
    assert main(["analyze", "depth-sweep", "plian"]) == 2
    assert "did you mean plain?" in _one_error(capsys)
    assert not (tmp_path / "s").exists()


def test_train_and_compare_never_write_into_a_study_or_lesson_folder(tmp_path, capsys):
    """Was: a run's files landed among the study's, and `study status` then refused its own folder."""
    study = tmp_path / "s"
    open_study(SPEC, study)
    lesson = tmp_path / "l"
    lesson.mkdir()
    (lesson / "lesson.json").write_text("{}")
    for command, folder, what in (("train", study, "a study's"), ("compare", lesson, "a lesson's")):
        before = sorted(p.name for p in folder.iterdir())
        assert main([command, "--max-steps", "1", "--out", str(folder)]) == 2
        assert f"is {what} folder" in _one_error(capsys)
        assert sorted(p.name for p in folder.iterdir()) == before
    assert main(["study", "status", str(study)]) == 0


def test_lesson_run_never_replaces_another_lessons_result_or_writes_into_a_study(tmp_path, capsys):
    """Was: `lesson run 2 --out DIR` replaced any DIR/lesson.json (a user's own, or lesson 3's) and wrote
    lesson.json into a study's folder, which `study status` then refused."""
    mine, other, study = tmp_path / "mine", tmp_path / "other", tmp_path / "s"
    mine.mkdir()
    (mine / "lesson.json").write_text("my notes")
    other.mkdir()
    (other / "lesson.json").write_text('{"lesson": 3}')
    open_study(SPEC, study)
    for folder, words in ((mine, "no lesson result"), (other, "lesson 3's"), (study, "a study's folder")):
        before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
        assert main(["lesson", "run", "2", "--out", str(folder)]) == 2
        assert words in _one_error(capsys)
        assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before


def test_gradflow_verdict_spans_read_as_numbers_with_a_decimal(capsys):
    """Was '(1 orders)': the spans are printed to one decimal, '(1.0 orders)'."""
    import re
    assert main(["analyze", "gradflow", "resnet20_digits", "--batch-size", "8"]) == 0
    out = capsys.readouterr().out
    spans = re.findall(r"([\d.]+) orders", out)
    assert spans and all(re.fullmatch(r"\d+\.\d", s) for s in spans), spans


def test_study_refuses_the_other_kinds_option(tmp_path, capsys):
    """Was: `study depth resnet --depths 8 --archs x` ignored --archs and trained a full study."""
    assert main(["study", "depth", "resnet", "--depths", "8", "--archs", "x", "--out", str(tmp_path / "d")]) == 2
    assert "--archs is for `study grid`" in _one_error(capsys)
    assert main(["study", "grid", "--archs", "resnet8", "--depths", "8", "--out", str(tmp_path / "g")]) == 2
    assert "--depths is for `study depth`" in _one_error(capsys)
    assert not any(tmp_path.iterdir())


def test_two_pt2_exports_of_one_seed_hold_the_same_records(tmp_path):
    """Was: the archive kept a random example batch, so two exports of one seed differed in it."""
    import zipfile
    records = []
    for name in ("a", "b"):
        assert main(["export", "resnet20_digits", "--format", "pt2", "-o", str(tmp_path / f"{name}.pt2")]) == 0
        with zipfile.ZipFile(tmp_path / f"{name}.pt2") as z:
            records.append({i.filename.split("/", 1)[1]: z.read(i) for i in z.infolist()
                            if "/data/" in i.filename})  # the example batch, the weights (graph names vary)
    assert any("sample_inputs" in name for name in records[0])
    assert records[0] == records[1]


def test_import_weights_never_writes_into_a_study_folder(run, tmp_path, capsys):
    """Was: a study's folder holds no run's files, so import-weights (even without --force) wrote its run there
    and `study status` then refused the folder."""
    study = tmp_path / "s"
    open_study(SPEC, study)
    before = sorted(p.name for p in study.iterdir())
    for force in ([], ["--force"]):
        assert main(["import-weights", "resnet20_digits", str(run / "last.pt"), "-o", str(study), *force]) == 2
        assert "is a study's folder (study.json)" in _one_error(capsys)
    assert sorted(p.name for p in study.iterdir()) == before


@pytest.mark.parametrize("fmt,name,fix", [("torchscript", "net.py", "net.pt"), ("py", "net.onnx", "net.py"),
                                          ("pt2", "net.onnx", "net.pt2"), ("train-script", "net.pt2", "net.py")])
def test_an_export_named_as_another_format_is_refused(fmt, name, fix, tmp_path, capsys):
    """Was: `export --format torchscript -o net.py` wrote a binary archive named as source code."""
    assert main(["export", "resnet20", "--format", fmt, "-o", str(tmp_path / name)]) == 2
    assert _one_error(capsys).endswith(f"name it {fix}")
    assert not any(tmp_path.iterdir())


def test_info_on_a_checkpoint_names_its_run_folder(run, capsys):
    """Was: 'last.pt: not a text file (expected a JSON graph)'."""
    assert main(["info", str(run / "last.pt")]) == 2
    assert _one_error(capsys).endswith(f"name its run folder, {run}, a preset or a .json file")
    assert main(["info", str(run)]) == 0


def test_landscape_of_a_run_works_in_a_fresh_process(run):
    """Was: `analyze landscape RUN` in its own process said "unknown block type 'input' (no block types are
    loaded ...)": nothing on its path had registered the block types. In-process tests never saw it."""
    import subprocess
    import sys
    from pathlib import Path
    main_py = Path(__file__).resolve().parent.parent / "main.py"
    done = subprocess.run([sys.executable, str(main_py), "analyze", "landscape", str(run), "--grid", "3",
                           "--batch-size", "8", "--json"], capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    from explorer.util import strict_json
    assert strict_json.loads(done.stdout)


def test_a_run_folder_named_as_arch_says_to_name_its_graph(run, monkeypatch, capsys):
    """Was: `analyze gradflow RUN_DIR` said "unknown preset 'RUN_DIR'"."""
    monkeypatch.chdir(run.parent)
    assert main(["analyze", "gradflow", run.name]) == 2
    assert _one_error(capsys).endswith(f"name its graph, {run.name}/graph.json")


def test_gradflow_of_a_network_without_shortcuts_says_it_is_its_own_twin(capsys):
    """Was: `analyze gradflow plain20` printed the same table twice and found that 'the two flow alike'."""
    assert main(["analyze", "gradflow", "plain20", "--batch-size", "8"]) == 0
    out = capsys.readouterr().out
    assert "no shortcuts, so it is its own plain twin" in out and "flow alike" not in out
    assert out.count("gradient norm reaching each unit's output") == 1


def test_a_depth_sweep_of_a_family_without_shortcuts_says_so(capsys):
    """Was: `analyze depth-sweep plain` called the plain networks 'the residual network' and compared each
    with itself."""
    assert main(["analyze", "depth-sweep", "plain", "--depths", "8,14", "--batch-size", "8"]) == 0
    out = capsys.readouterr().out
    assert "no shortcuts, so each network is its own plain twin" in out and "residual network" not in out
