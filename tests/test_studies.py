"""Studies (issue 20): the study folder, the local pool and Ray giving equal numbers, resume after a kill,
failing trials, the verdict's wording, the report, and damaged or foreign study folders.

One tiny study (resnet at depths 8 and 14 with plain twins, 5 steps on digits) is run once through the
command line on the local pool and once on Ray (a local instance started once), each with one worker process
(one more would only import torch again on two cores); the runner's own rules, two trials at once among them,
are checked with an in-process fake executor that trains nothing.
"""
from __future__ import annotations

import copy
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.cli import main
from explorer.studies import (DONE, FAILED, PENDING, RUNNING, StudyControl, StudyError, StudyFolder, StudySpec,
                              open_study, result_object, run_study, verdict)
from explorer.studies.study import Study
from explorer.studies.task import STOPPED, TrialOutcome, TrialTask, run_trial
from explorer.studies.trial import FIELDS, Trial
from explorer.util import strict_json

TINY = ["--depths", "8,14", "--seeds", "1", "--epochs", "1", "--max-steps", "5", "--log-every", "1",
        "--stats-every", "0", "--batch-size", "32"]
SPEC = StudySpec("depth", family="resnet", depths=(8, 14), seeds=(0,),
                 config={"epochs": 1, "max_steps": 6, "log_every": 1, "stats_every": 0, "batch_size": 32})


@pytest.fixture(scope="session")
def ray_local():
    ray = pytest.importorskip("ray")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    """The tiny study on the local pool, through the command line: (folder, its --json object)."""
    import contextlib
    import io
    out = tmp_path_factory.mktemp("local") / "study"
    buf, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
        code = main(["study", "depth", "resnet", *TINY, "--json", "--out", str(out), "--workers", "1"])
    assert code == 0, err.getvalue()
    return out, strict_json.loads(buf.getvalue()), err.getvalue()


def test_cli_study_writes_the_folder_and_prints_strict_json(local_run):
    out, result, err = local_run
    assert {t["id"] for t in result["trials"]} == {"resnet8-s0", "resnet8-plain-s0", "resnet14-s0",
                                                    "resnet14-plain-s0"}
    assert all(t["state"] == DONE and 0 <= t["final_train_err"] <= 1 for t in result["trials"])
    assert {(r["depth"], r["plain"]) for r in result["summary"]} == {(8, False), (8, True), (14, False), (14, True)}
    assert "too short" in result["verdict"]  # 5 steps claim nothing
    for t in result["trials"]:
        run = out / t["run_dir"]
        assert (run / "last.pt").is_file() and (run / "graph.json").is_file() and (run / "steps.csv").is_file()
    rows = (out / "results.csv").read_text().splitlines()
    assert rows[0] == ",".join(FIELDS) and len(rows) == 5
    assert (out / "depth.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "4/4 done" in err and "ETA" in err and "running" in err and "left" in err


def test_ray_gives_the_same_numbers_as_the_local_pool(local_run, ray_local, tmp_path, capsys):
    _, local, _ = local_run
    out = tmp_path / "ray"
    shallow = [a if a != "8,14" else "8" for a in TINY]  # its two trials are two of the local study's
    assert main(["study", "depth", "resnet", *shallow, "--json", "--out", str(out), "--ray"]) == 0
    remote = strict_json.loads(capsys.readouterr().out)
    assert len(remote["trials"]) == 2
    losses = {t["id"]: t["final_train_loss"] for t in local["trials"]}
    assert {t["id"]: t["final_train_loss"] for t in remote["trials"]} == {t["id"]: losses[t["id"]]
                                                                          for t in remote["trials"]}
    assert all((out / t["run_dir"] / "last.pt").is_file() for t in remote["trials"])  # written by the driver


def test_status_and_report(local_run, tmp_path, capsys):
    out, result, _ = local_run
    assert main(["study", "status", str(out), "--json"]) == 0
    status = strict_json.loads(capsys.readouterr().out)
    assert status["counts"]["done"] == 4 and status["verdict"] == result["verdict"]
    assert main(["study", "status", str(out)]) == 0
    table = capsys.readouterr().out
    assert "resnet14 (plain)" in table and "±" not in table  # one seed per point: no spread to show
    report = tmp_path / "r.html"
    assert main(["study", "report", str(out), "-o", str(report), "--json"]) == 0
    assert strict_json.loads(capsys.readouterr().out) == {"report": str(report)}

    class Page(HTMLParser):
        def __init__(self):
            super().__init__()
            self.images, self.rows, self.links, self.verdict, self._in_verdict = [], 0, [], "", False

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            self.images += [a["src"]] if tag == "img" else []
            self.rows += tag == "tr"
            self.links += [v for k, v in attrs if k in ("href", "src") and not v.startswith("data:")]
            self._in_verdict = a.get("id") == "verdict"

        def handle_endtag(self, tag):
            self._in_verdict = False

        def handle_data(self, data):
            if self._in_verdict:
                self.verdict += data

    page = Page()
    page.feed(report.read_text())
    assert len(page.images) == 2 and all(s.startswith("data:image/png;base64,") for s in page.images)
    assert page.links == []  # self-contained: nothing fetched
    assert page.verdict == result["verdict"] and page.rows > 4 + 4


def test_a_killed_study_resumes_every_trial_once_to_the_end(tmp_path):
    """One trial was interrupted mid-run (state running, a last.pt from its step 2): running the study again
    finishes it from there and trains every other trial once."""
    folder = StudyFolder(tmp_path / "s")
    study, graphs = open_study(SPEC, folder.path)
    victim = study.trials[0]
    seen = []
    task = TrialTask(victim.id, graphs[victim.id], "digits", {}, 0.2, SPEC.train_config(victim.seed, None).to_dict(),
                     out_dir=str(folder.trial_dir(victim.id)))
    assert run_trial(task, events=lambda *e: seen.append(e), stop=lambda: len(seen) >= 3).status == STOPPED
    victim.state = RUNNING
    folder.save(study)

    done = run_study(None, folder.path, FakeExecutor(real=True))
    assert all(t.state == DONE and t.attempts == 1 and t.epochs == 0 for t in done.trials)
    steps = [int(line.split(",")[1]) for line in
             (folder.trial_dir(victim.id) / "steps.csv").read_text().splitlines()[1:]]
    assert steps == list(range(1, 7))  # resumed at step 3, not started again


class FakeExecutor:
    """Runs each task at once in this process: ``real`` trains it with run_trial, else ``script`` says what
    each trial id does ("fail", "stop" or a final train accuracy)."""
    name, remote, threads = "fake", False, 1

    def __init__(self, slots=2, script=None, real=False, on_submit=None):
        self.slots, self.script, self.real, self.on_submit = slots, script or {}, real, on_submit
        self.pending, self.submitted = [], []

    def describe(self):
        return "fake"

    def open(self, events):
        self.events = events

    def submit(self, task):
        self.submitted.append(task.trial_id)
        self.pending.append(task)
        if self.on_submit:
            self.on_submit(task)

    def poll(self, timeout):
        if not self.pending:
            return []
        task = self.pending.pop(0)
        if self.real:
            return [run_trial(task, self.events)]
        what = self.script.get(task.trial_id, 0.9)
        if what == "fail":
            return [TrialOutcome(task.trial_id, FAILED, error="loss is NaN at step 3")]
        if what == "stop":
            return [TrialOutcome(task.trial_id, STOPPED)]
        return [TrialOutcome(task.trial_id, DONE, summary={"final_train_loss": 1 - what, "final_train_acc": what,
                                                             "final_val_acc": what, "best_val_acc": what,
                                                             "epochs": 3, "seconds": 1.0})]

    def stop_running(self):
        pass

    def close(self):
        pass


def test_a_failing_trial_is_marked_failed_and_retried_once_with_its_error_kept(tmp_path):
    bad = "resnet8-s0"
    study = run_study(SPEC, tmp_path / "s", FakeExecutor(script={bad: "fail"}))
    assert study.trial(bad).state == FAILED and "NaN" in study.trial(bad).error
    assert [t.state for t in study.trials if t.id != bad] == [DONE] * 3
    again = FakeExecutor(script={bad: "fail"})
    study = run_study(None, tmp_path / "s", again)
    assert again.submitted == [bad] and study.trial(bad).errors == ["loss is NaN at step 3"] * 2
    third = FakeExecutor()
    run_study(None, tmp_path / "s", third)
    assert third.submitted == []  # its one retry is spent


def test_pause_finishes_running_trials_and_cancel_leaves_a_resumable_study(tmp_path):
    control = StudyControl()
    ex = FakeExecutor(slots=1, on_submit=lambda task: control.pause())
    study = run_study(SPEC, tmp_path / "s", ex, control=control)
    assert study.counts() == {PENDING: 3, RUNNING: 0, DONE: 1, FAILED: 0}
    control = StudyControl()
    ex = FakeExecutor(slots=2, script={"resnet8-s0": "stop"}, on_submit=lambda task: control.cancel())
    study = run_study(None, tmp_path / "s", ex, control=control)
    assert study.trial("resnet8-s0").state == PENDING and study.count(DONE) == 1
    study = run_study(None, tmp_path / "s", FakeExecutor())
    assert study.count(DONE) == 4


def _finished(errors: dict[tuple[int, bool], list[float]], epochs=3) -> Study:
    trials = []
    for (depth, plain), errs in errors.items():
        for seed, e in enumerate(errs):
            t = Trial(f"n{depth}{'p' if plain else ''}-s{seed}", f"resnet{depth}", "resnet", depth, plain, seed)
            t.finish({"final_train_acc": 1 - e, "final_val_acc": 1 - e, "epochs": epochs, "final_train_loss": e})
            trials.append(t)
    return Study(SPEC, trials)


def test_the_verdict_claims_degradation_only_when_the_numbers_show_it():
    shown = verdict(_finished({(20, True): [0.021], (56, True): [0.098], (20, False): [0.019], (56, False): [0.012]}))
    assert shown.startswith("plain: training error rises from 2.1 % at depth 20 to 9.8 % at depth 56; residual: "
                            "training error falls from 1.9 % at depth 20 to 1.2 % at depth 56")
    assert "He et al. 2015" in shown and "degradation problem" in shown and "one seed" in shown
    assert "first sign" in shown and "three seeds" in shown  # one run per point is not claimed as a finding
    assert "--" not in shown  # the window shows this verdict too: no command-line option in it
    firm = verdict(_finished({(20, True): [0.020, 0.022, 0.021], (56, True): [0.095, 0.098, 0.1],
                              (20, False): [0.019, 0.02, 0.018], (56, False): [0.012, 0.013, 0.011]}))
    assert "the degradation problem, beyond the spread of 3 seeds" in firm and "first sign" not in firm
    flat = verdict(_finished({(20, True): [0.021], (56, True): [0.022], (20, False): [0.02], (56, False): [0.02]}))
    assert "do not show the degradation problem" in flat
    noisy = verdict(_finished({(20, True): [0.02, 0.10, 0.05], (56, True): [0.03, 0.12, 0.07],
                               (20, False): [0.02, 0.02, 0.02], (56, False): [0.02, 0.02, 0.02]}))
    assert "do not show" in noisy  # the plain rise is inside twice the standard error
    both = verdict(_finished({(20, True): [0.02], (56, True): [0.09], (20, False): [0.02], (56, False): [0.08]}))
    assert "do not show" in both and "residual network's training error rises" in both
    no_twin = verdict(_finished({(20, False): [0.02], (56, False): [0.01]}))
    assert "cannot be judged" in no_twin


def test_folders_that_are_not_this_study_give_one_error_and_stay_untouched(tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(StudyError, match="not a study folder"):
        run_study(SPEC, foreign, FakeExecutor())
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    study_dir = tmp_path / "s"
    open_study(SPEC, study_dir)
    other = StudySpec("depth", family="resnet", depths=(8, 20), seeds=(0,))
    with pytest.raises(StudyError, match="holds a different study"):
        run_study(other, study_dir, FakeExecutor())
    (study_dir / "trials").mkdir()
    (study_dir / "trials" / "stranger").mkdir()
    before = (study_dir / "study.json").read_bytes()
    with pytest.raises(StudyError, match="not a trial of this study"):
        run_study(None, study_dir, FakeExecutor())
    assert (study_dir / "study.json").read_bytes() == before


@pytest.fixture(scope="module")
def valid_study_json(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("valid") / "s"
    open_study(SPEC, folder)
    return json.loads((folder / "study.json").read_text())


BAD = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(allow_nan=True),
                st.text(max_size=5), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3),
                                                                                        st.integers(), max_size=2))
PLACES = [("format",), ("version",), ("spec",), ("spec", "kind"), ("spec", "depths"), ("spec", "seeds"),
          ("spec", "twin"), ("spec", "config"), ("spec", "data_options"), ("spec", "val_fraction"), ("trials",),
          ("trials", 0), ("trials", 0, "state"), ("trials", 0, "id"), ("trials", 0, "depth"), ("trials", 1, "plain"),
          ("trials", 1, "final_train_err"), ("trials", 1, "errors"), ("trials", 2, "attempts"), ("notices",)]


@given(place=st.sampled_from(PLACES), value=BAD)
def test_a_damaged_study_json_is_one_clear_error_and_nothing_is_touched(valid_study_json, tmp_path_factory,
                                                                         place, value):
    data = copy.deepcopy(valid_study_json)
    target = data
    for key in place[:-1]:
        target = target[key]
    target[place[-1]] = value
    folder = tmp_path_factory.mktemp("bad")
    raw = json.dumps(data).encode()
    (folder / "study.json").write_bytes(raw)
    try:
        study = StudyFolder(folder).load()
    except StudyError as e:
        assert "study.json" in str(e) and "\n" not in str(e)
    else:
        assert isinstance(study, Study)  # a value that happens to be valid there
    assert (folder / "study.json").read_bytes() == raw and [p.name for p in folder.iterdir()] == ["study.json"]


def test_cli_errors_are_one_line(tmp_path, capsys):
    (tmp_path / "study.json").write_text('{"format": "residual-explorer-study", "version": 1, "spec": [')
    assert main(["study", "status", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "damaged" in err and err.count("\n") == 1
    assert main(["study", "depth", "resnet", "--depths", "8,9", "--out", str(tmp_path / "n")]) == 2
    assert "cannot be built with 9" in capsys.readouterr().err
    assert main(["study", "grid", "--out", str(tmp_path / "g")]) == 2
    assert "--archs" in capsys.readouterr().err
    assert not (tmp_path / "n").exists() and not (tmp_path / "g").exists()
    assert result_object(Study(SPEC, [Trial("a", "a", "a", 8, False, 0)]))["verdict"].startswith("no trial")


def test_ctrl_c_stops_the_study_resumably_and_exits_130(tmp_path, monkeypatch, capsys):
    import signal

    import explorer.studies

    class Interrupted(FakeExecutor):
        def __init__(self, *args, **kwargs):
            super().__init__(slots=1)

        def submit(self, task):
            super().submit(task)
            signal.raise_signal(signal.SIGINT)  # the person presses Ctrl-C while the first trial trains

        def stop_running(self):
            self.script = {t.trial_id: "stop" for t in self.pending}

    monkeypatch.setattr(explorer.studies, "LocalExecutor", Interrupted)
    out = tmp_path / "s"
    assert main(["study", "depth", "resnet", *TINY, "--out", str(out)]) == 130
    assert "run the same command again" in capsys.readouterr().err
    study = StudyFolder(out).load()
    assert study.counts() == {PENDING: 4, RUNNING: 0, DONE: 0, FAILED: 0}


def test_ray_missing_is_one_clear_error(monkeypatch, tmp_path, capsys):
    import sys
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    assert main(["study", "depth", "resnet", *TINY, "--out", str(tmp_path / "s"), "--ray"]) == 2
    assert "pip install 'residual-explorer[ray]'" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_a_study_folder_in_use_is_refused(tmp_path):
    from explorer.train.run_lock import RunLock
    open_study(SPEC, tmp_path / "s")
    with RunLock(tmp_path / "s"):
        with pytest.raises(StudyError, match="in use by process"):
            run_study(None, tmp_path / "s", FakeExecutor())
    assert run_study(None, tmp_path / "s", FakeExecutor()).count(DONE) == 4


def test_resume_refuses_settings_it_would_ignore(tmp_path, capsys):
    """--resume continues the study as it was started: FAMILY or an option given with it is refused with one
    line that names it, instead of being dropped without a word; where the trials run may change."""
    out = tmp_path / "s"
    for extra, named in ((["resnet"], "FAMILY ('resnet')"), (["--depths", "8"], "--depths"),
                         (["--epochs", "3"], "--epochs"), (["--seeds", "2"], "--seeds"),
                         (["--warmup", "2"], "--warmup"), (["--dataset", "digits"], "--dataset")):
        assert main(["study", "depth", *extra, "--resume", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: --resume continues the study") and named in err and err.count("\n") == 1
    assert main(["study", "depth", "--resume"]) == 2
    assert "needs --out" in capsys.readouterr().err
    assert main(["study", "depth", "--resume", "--out", str(out), "--threads", "1"]) == 2
    assert "--resume continues" not in capsys.readouterr().err  # allowed; the empty folder is the error here
    assert not out.exists()
