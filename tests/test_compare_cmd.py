"""`python main.py compare` and the plan behind it: a network and its plain twin, same settings and seed,
the twin first; both summaries side by side or as one JSON object; one error line for bad input."""
import dataclasses
import json

import pytest

from explorer.cli import main
from explorer.graph.fileio import load_graph, save_graph
from explorer.network.twins import SHORTCUT_REMOVED
from explorer.train import TrainConfig
from explorer.train.compare import PLAIN, RESIDUAL, plan_comparison
from explorer.train.testing import tiny_graph

TRAIN_KEYS = {"final_train_loss", "final_val_loss", "final_val_acc", "samples_per_s", "device", "epochs",
              "status", "steps", "arch", "dataset", "params"}
QUICK = ["--dataset", "digits", "--epochs", "1", "--batch-size", "512", "--device", "cpu", "--stats-every", "0"]


@pytest.fixture
def tiny_file(tmp_path):
    path = tmp_path / "tiny.json"
    save_graph(tiny_graph(classes=10), path)
    return path


def test_plan_trains_the_twin_first_with_the_same_settings():
    g = tiny_graph(classes=10)
    cfg = TrainConfig(epochs=2, seed=7)
    plan = plan_comparison(g, cfg)
    assert [r.role for r in plan.runs] == [PLAIN, RESIDUAL]
    assert [r.arch for r in plan.runs] == ["tiny (plain twin)", "tiny"]
    assert all(r.config == cfg and r.config is not cfg for r in plan.runs)
    assert not plan.identical
    assert [(c.node_id, c.kind) for c in plan.removed] == [("stage1", SHORTCUT_REMOVED)]
    assert plan.run(PLAIN).graph.node("stage1").params["shortcut"] == "none"
    assert plan.run(RESIDUAL).graph.node("stage1").params["shortcut"] != "none"
    assert g.node("stage1").params["shortcut"] != "none"        # the caller's graph is untouched
    assert "shortcuts removed from 1 node: " in plan.describe()


def test_plan_gives_each_run_its_own_folder(tmp_path):
    plan = plan_comparison(tiny_graph(), TrainConfig(out_dir=str(tmp_path)))
    assert [r.config.out_dir for r in plan.runs] == [str(tmp_path / "plain"), str(tmp_path / "residual")]
    assert all(dataclasses.replace(r.config, out_dir=None) == dataclasses.replace(plan.config, out_dir=None)
               for r in plan.runs)


def test_plan_of_a_network_without_shortcuts_says_the_twin_is_identical():
    plan = plan_comparison(tiny_graph(block="plain"), TrainConfig())
    assert plan.identical and plan.removed == ()
    assert "no shortcuts to remove" in plan.describe()


def test_json_is_one_object_with_both_train_summaries(tiny_file, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", str(tiny_file), *QUICK, "--seed", "3", "--out", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)                           # stdout holds the one object only
    assert set(result) == {"residual", "plain"}
    res, plain = result["residual"], result["plain"]
    assert TRAIN_KEYS <= set(res) and TRAIN_KEYS <= set(plain)
    assert res["arch"] == "tiny" and plain["arch"] == "tiny (plain twin)"
    assert res["steps"] == plain["steps"] == 3 and res["epochs"] == plain["epochs"] == 1
    assert res["status"] == plain["status"] == "completed" and 0 <= res["final_val_acc"] <= 1
    # both trained with the same settings and seed (only their folders differ), the twin without shortcuts
    configs = [json.loads((out / role / "config.json").read_text()) for role in ("plain", "residual")]
    assert [c.pop("out_dir") for c in configs] == [str(out / "plain"), str(out / "residual")]
    assert configs[0] == configs[1] and configs[0]["seed"] == 3
    assert load_graph(out / "plain" / "graph.json").node("stage1").params["shortcut"] == "none"
    assert load_graph(out / "residual" / "graph.json").node("stage1").params["shortcut"] != "none"
    assert "training tiny (plain twin)" in captured.err and "shortcuts removed from 1 node" in captured.err


def test_text_output_puts_the_summaries_side_by_side(tiny_file, capsys):
    assert main(["compare", str(tiny_file), *QUICK]) == 0
    lines = capsys.readouterr().out.splitlines()
    i = next(i for i, line in enumerate(lines) if "tiny (plain twin)" in line and "training" not in line)
    header, rows = lines[i], {line.split("  ")[0]: line for line in lines[i + 1:]}
    assert header.split() == ["tiny", "tiny", "(plain", "twin)"]
    assert rows["status"].split() == ["status", "completed", "completed"]
    assert rows["steps"].split() == ["steps", "3", "3"]
    assert "final val acc" in rows


def test_a_network_without_shortcuts_is_one_clear_error(tmp_path, capsys):
    save_graph(tiny_graph(block="plain"), tmp_path / "plain.json")
    assert main(["compare", str(tmp_path / "plain.json"), *QUICK]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "no shortcuts to remove" in err[0]
    assert "e.g. resnet20" in err[0] and "training" not in captured.out   # nothing was trained


@pytest.mark.parametrize("argv, words", [
    (["compare", "resnet9000"], "unknown preset"),
    (["compare", "resnet20", "--dataset", "imagenet"], "unknown data set"),
    (["compare", "resnet20", "--lr", "-1"], "learning rate"),
    (["compare", "resnet20", "--data-option", "size"], "KEY=VALUE"),
])
def test_bad_input_is_one_error_line(argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and words in err[0], err


def test_a_run_that_diverges_is_reported_and_the_other_still_trains(tiny_file, capsys, monkeypatch):
    import explorer.data.cache as cache

    real = cache.cached_dataset

    def poisoned(*a, **k):
        ds = real(*a, **k)
        return dataclasses.replace(ds, x_train=ds.x_train.clone().fill_(float("nan")))
    monkeypatch.setattr(cache, "cached_dataset", poisoned)
    assert main(["compare", str(tiny_file), *QUICK, "--json"]) == 1
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["plain"]["status"] == result["residual"]["status"] == "failed"
    assert result["plain"]["kind"] == "nan"
    errors = [line for line in captured.err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2 and "tiny (plain twin)" in errors[0]
