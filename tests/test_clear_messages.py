"""The smaller messages of issue 17 (items 11 and 13): a damaged provenance.json is called damaged and named
by field, a full disk says so and metrics.csv never lists an epoch that was not saved, control characters in
a node id stay inside one error line, a damaged config names its field, sys.exit() in an imported model is
an error line, --verify on NaN weights is not "verified", and a file that is not PyTorch's says so."""
import errno
import json

import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

from explorer.cli import main
from explorer.graph.fileio import save_graph
from explorer.train.checkpoint import CheckpointError, load_checkpoint
from explorer.train.testing import tiny_graph

FUNCTION_FIXTURES = [HealthCheck.function_scoped_fixture]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A run folder of the tiny network after one short epoch: graph.json, config.json, last.pt."""
    folder = tmp_path_factory.mktemp("run") / "run"
    graph = folder.parent / "tiny.json"
    save_graph(tiny_graph(classes=10), graph)
    assert main(["train", str(graph), "--dataset", "digits", "--epochs", "1", "--train-samples", "64",
                 "--out", str(folder)]) == 0
    return folder


def _errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith(("error", "Traceback", "Exception"))]


# -- item 11 and 13: provenance.json ------------------------------------------------------------------------
GOOD = {"init_from": {"source": "a", "file": "a/last.pt", "matched_by": "name", "loaded": ["stem_conv"],
                      "reinitialised": {"classifier": "10 vs 4 classes"}, "unused": []},
        "frozen": ["stem_conv"], "unfreeze_at": None, "freeze_bn": True, "lr_mult": {"stage1": 0.1},
        "train_samples": 64}
BAD_VALUES = st.one_of(st.just([1, 2]), st.just("text"), st.just({"x": [1]}), st.just(-3), st.just(1.5),
                       st.just(True), st.just({"nested": {"deeper": None}}))
FIELDS = [("lr_mult",), ("frozen",), ("unfreeze_at",), ("freeze_bn",), ("train_samples",), ("init_from",),
          ("init_from", "loaded"), ("init_from", "reinitialised"), ("init_from", "file"), ("init_from", "unused"),
          ("lr_mult", "stage1")]


def _is_fine(path, value) -> bool:
    """The few drawn values that are legal where they are put: text for text, true for a flag, a positive
    factor for a factor."""
    orig = GOOD
    for key in path:
        orig = orig[key]
    return type(value) is type(orig) and (isinstance(value, (str, bool)) or (isinstance(value, float) and value > 0))


@settings(max_examples=30, deadline=None, suppress_health_check=FUNCTION_FIXTURES)
@given(path=st.sampled_from(FIELDS), value=BAD_VALUES, as_json=st.booleans())
def test_a_damaged_provenance_is_called_damaged_and_names_the_field(path, value, as_json, trained, capsys):
    if _is_fine(path, value):
        return
    p = json.loads(json.dumps(GOOD))
    where = p
    for key in path[:-1]:
        where = where[key]
    where[path[-1]] = value
    (trained / "provenance.json").write_text(json.dumps(p))
    capsys.readouterr()
    assert main(["info", str(trained), *(["--json"] if as_json else [])]) == 0
    out, err = capsys.readouterr()
    assert _errors(err) == []
    if as_json:
        data = json.loads(out)
        text = data["provenance_error"]
        assert data["provenance"] is None
    else:
        text = out
        assert "random initialisation" not in out
    assert "damaged" in text and path[0] in text


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_an_unreadable_provenance_is_damaged_not_missing(content, trained, capsys):
    (trained / "provenance.json").write_bytes(content)
    assert main(["info", str(trained)]) == 0
    out = capsys.readouterr().out
    assert "damaged" in out and "random initialisation" not in out


# -- item 13: a full disk during training -------------------------------------------------------------------
def test_a_full_disk_says_so_and_metrics_never_list_an_unsaved_epoch(trained, tmp_path, monkeypatch, capsys):
    import explorer.train.checkpoint as checkpoint

    real = checkpoint.write_atomic_with
    saves = []

    class Full:
        def __init__(self, f):
            self.f = f

        def write(self, b):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.f, name)

    def fill_up(path, write):  # the second epoch's save finds the disk full, torch writing as it always does
        saves.append(path)
        return real(path, (lambda f: write(Full(f))) if len(saves) >= 3 else write)  # epoch 1 wrote last.pt and best.pt

    monkeypatch.setattr(checkpoint, "write_atomic_with", fill_up)
    out = tmp_path / "run"
    code = main(["train", str(trained / "graph.json"), "--dataset", "digits", "--epochs", "3", "--train-samples",
                 "64", "--out", str(out)])
    err = capsys.readouterr().err
    assert code != 0
    line = _errors(err)
    assert len(line) == 1 and "no space left on device" in line[0].lower() and "unexpected pos" not in line[0]
    rows = (out / "metrics.csv").read_text().strip().splitlines()
    assert len(rows) == 2  # the header and epoch 1: epoch 2's checkpoint was never written
    assert load_checkpoint(out / "last.pt").epoch == 1


# -- item 13: control characters in node ids ---------------------------------------------------------------
@settings(max_examples=20, deadline=None, suppress_health_check=FUNCTION_FIXTURES)
@given(bad=st.text(st.characters(codec="utf-8", categories=["Cc", "Zl", "Zp", "Cf"]), min_size=1, max_size=4),
       every=st.booleans())
def test_a_node_id_with_control_characters_stays_one_error_line(bad, every, trained, tmp_path_factory, capsys):
    data = json.loads((trained / "graph.json").read_text())
    old = data["nodes"][1]["id"]
    new = f"stem{bad}conv"
    data["nodes"][1]["id"] = new
    for e in data["edges"]:
        for k, v in list(e.items()):
            if v == old:
                e[k] = new
    path = tmp_path_factory.mktemp("ids") / "g.json"
    path.write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["validate", *(["--all"] if every else []), str(path)]) == 2
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines and all(line.startswith(("error: ", "warning: ")) for line in lines)
    assert not any(c in err.replace("\n", "") for c in bad if not c.isprintable())


# -- item 13: a damaged config ------------------------------------------------------------------------------
CONFIG_FIELDS = ["epochs", "batch_size", "momentum", "weight_decay", "seed", "label_smoothing", "crop_padding",
                 "step_gamma", "log_every", "stats_every", "threads", "optimizer", "schedule"]


@settings(max_examples=25, deadline=None, suppress_health_check=FUNCTION_FIXTURES)
@given(field=st.sampled_from(CONFIG_FIELDS), value=st.one_of(st.just("10"), st.just(None), st.just([3]),
                                                             st.just(-7), st.just(float("nan"))))
def test_a_damaged_config_names_its_field(field, value, trained, tmp_path_factory):
    if field == "seed" and value == -7:
        return  # any whole number is a seed
    payload = torch.load(trained / "last.pt", weights_only=True)
    payload["config"][field] = value
    path = tmp_path_factory.mktemp("cfg") / "last.pt"
    torch.save(payload, path)
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(path)
    text = str(e.value)
    assert field.replace("_", " ") in text.replace("_", " ") and "not supported between" not in text


# -- item 13: import, --verify, --init-from -----------------------------------------------------------------
MODELS = '''
import sys
import torch
from torch import nn


def exits():
    sys.exit(3)


def nan():
    m = nn.Sequential(nn.Flatten(), nn.Linear(64, 3))
    with torch.no_grad():
        m[1].weight.fill_(float("nan"))
    return m


class ExitsInForward(nn.Module):
    def forward(self, x):
        raise SystemExit(4)


def exits_in_forward():
    return ExitsInForward()
'''


@pytest.fixture
def models(tmp_path):
    path = tmp_path / "models.py"
    path.write_text(MODELS)
    yield path
    import sys
    sys.modules.pop("models", None)


@pytest.mark.parametrize("name", ["exits", "exits_in_forward"])
def test_sys_exit_in_an_imported_model_is_one_error_line(name, models, tmp_path, capsys):
    code = main(["import", f"{models}:{name}", "--input-shape", "1,8,8", "-o", str(tmp_path / "g.json")])
    err = _errors(capsys.readouterr().err)
    assert code == 2 and len(err) == 1 and "SystemExit" in err[0]


def test_verify_on_nan_weights_is_not_verified(models, tmp_path, capsys):
    code = main(["import", f"{models}:nan", "--input-shape", "1,8,8", "-o", str(tmp_path / "g.json"), "--verify"])
    captured = capsys.readouterr()
    assert code == 2 and "verified:" not in captured.out and "not finite" in captured.err


@settings(max_examples=20, deadline=None, suppress_health_check=FUNCTION_FIXTURES)
@given(content=st.binary(max_size=200))
def test_init_from_a_file_that_is_not_pytorch_says_so(content, trained, tmp_path_factory, capsys):
    path = tmp_path_factory.mktemp("nw") / "notweights.txt"
    path.write_bytes(content)
    from explorer.compile import compile_graph
    from explorer.graph.fileio import load_graph
    from explorer.train.init_from import InitError, initialise

    with pytest.raises(InitError) as e:
        initialise(compile_graph(load_graph(trained / "graph.json")), str(path))
    text = str(e.value)
    assert "\n" not in text and "KeyError" not in text
    assert "not a PyTorch" in text or "before 1.6" in text or "empty" in text or "damaged" in text
