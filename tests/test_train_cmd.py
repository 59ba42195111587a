"""`python main.py train`: summary JSON, run folder, resume, and one-line errors for bad input."""
import csv
import json

import pytest

from explorer.cli import main
from explorer.graph.fileio import save_graph
from explorer.train.testing import tiny_graph


@pytest.fixture
def tiny_file(tmp_path):
    path = tmp_path / "tiny.json"
    save_graph(tiny_graph(classes=10), path)
    return path


def last_json(text):
    return json.loads(text.strip().splitlines()[-1])


def test_train_json_summary_and_run_folder(tiny_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", str(tiny_file), "--dataset", "digits", "--epochs", "2", "--out", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)  # stdout holds the summary object only
    assert {"final_train_loss", "final_val_loss", "final_val_acc", "samples_per_s", "device", "epochs"} <= set(summary)
    assert summary["epochs"] == 2 and summary["device"] == "cpu" and summary["status"] == "completed"
    assert 0 <= summary["final_val_acc"] <= 1 and summary["samples_per_s"] > 0
    assert summary["checkpoint"] == str(out / "last.pt")
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert [r["epoch"] for r in rows] == ["1", "2"] and float(rows[1]["val_acc"]) == pytest.approx(
        summary["final_val_acc"], abs=1e-6)
    assert (out / "best.pt").exists() and (out / "layer_stats.csv").exists()

    # resume the run for one more epoch
    assert main(["train", "--resume", str(out / "last.pt"), "--epochs", "3", "--json"]) == 0
    resumed = last_json(capsys.readouterr().out)
    assert resumed["epochs"] == 3 and resumed["steps"] == 3 * summary["steps"] // 2


def test_resnet20_trains_on_digits_as_is_with_a_notice(capsys):
    assert main(["train", "resnet20", "--dataset", "digits", "--max-steps", "2", "--json"]) == 0
    captured = capsys.readouterr()
    assert "notice: adapted 'resnet20' to digits: input 3×32×32 → 1×8×8" in captured.err
    assert last_json(captured.out)["steps"] == 2


def test_plain_text_output_names_epochs_and_result(tiny_file, capsys):
    assert main(["train", str(tiny_file), "--epochs", "1", "--optimizer", "adam", "--lr", "0.01",
                 "--schedule", "onecycle"]) == 0
    out = capsys.readouterr().out
    assert "epoch   1/1" in out and "completed: 1 epochs" in out


@pytest.mark.parametrize("argv, words", [
    (["train", "resnet9000"], "unknown preset"),
    (["train", "resnet20", "--dataset", "cifar10:/no/such/folder"], "cifar10"),
    (["train", "resnet20", "--dataset", "imagenet"], "unknown data set"),
    (["train", "resnet20", "--lr", "-1"], "learning rate"),
    (["train", "resnet20", "--device", "cuda:7"], "cuda"),
    (["train", "resnet20", "--data-option", "size"], "KEY=VALUE"),
    (["train", "--resume", "/no/such.pt"], "no such checkpoint"),
])
def test_bad_input_is_one_error_line(argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and words in err[0], err


def test_invalid_graph_file_is_one_error_line(tmp_path, capsys):
    g = tiny_graph()
    g.remove_node("output")
    save_graph(g, tmp_path / "broken.json")
    assert main(["train", str(tmp_path / "broken.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Output" in err[0]
