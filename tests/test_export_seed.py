"""An export of a network without a run holds known weights: --seed for every format (default 0 where the format
holds weights), the same seed gives the same file, and each file says which weights it holds (issue 17 item 17)."""
from __future__ import annotations

import warnings

import torch

from explorer.cli import main
from explorer.export.key_map import module_key
from explorer.train.checkpoint import load_checkpoint

ARCH = "resnet20_digits"
X = torch.randn(3, 1, 8, 8, generator=torch.Generator().manual_seed(0))


def _script(path):
    extra = {"weights.txt": ""}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit.load's deprecation notice
        model = torch.jit.load(str(path), _extra_files=extra)
    with torch.no_grad():
        return model(X), extra["weights.txt"].decode()


def test_torchscript_of_a_preset_is_reproducible_and_names_its_seed(tmp_path, capsys):
    for name, seed in (("a", []), ("b", ["--seed", "0"]), ("c", ["--seed", "1"])):
        assert main(["export", ARCH, "--format", "torchscript", "-o", str(tmp_path / f"{name}.ts"), *seed]) == 0
    assert "seed 0" in capsys.readouterr().out
    (a, note_a), (b, _), (c, note_c) = (_script(tmp_path / f"{n}.ts") for n in "abc")
    assert torch.equal(a, b) and not torch.allclose(a, c)
    assert "initial weights" in note_a and "seed 0" in note_a and "seed 1" in note_c


def test_seeded_py_weights_are_those_train_starts_from(tmp_path, capsys):
    """The claim in the file: `train --seed 3` starts from the weights `export --seed 3` holds (a step at a
    learning rate of 1e-30 leaves every parameter as it was)."""
    assert main(["train", ARCH, "--seed", "3", "--max-steps", "1", "--lr", "1e-30", "--batch-size", "16",
                 "--stats-every", "0", "--out", str(tmp_path / "run")]) == 0
    assert main(["export", ARCH, "--format", "py", "--seed", "3", "-o", str(tmp_path / "net.py")]) == 0
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'net.pt'}" in out and "seed 3" in out
    exported = torch.load(tmp_path / "net.pt", weights_only=True)
    trained = load_checkpoint(tmp_path / "run").model_state
    params = [k for k in trained if k.endswith(("weight", "bias"))]
    assert params and all(torch.allclose(exported[module_key(k, {})], trained[k], rtol=0, atol=1e-20) for k in params)
    assert "WEIGHTS = 'the initial weights of resnet20_digits drawn with seed 3" in (tmp_path / "net.py").read_text()


def test_a_run_says_its_weights_are_trained_and_refuses_a_seed(tmp_path, capsys):
    assert main(["train", ARCH, "--max-steps", "1", "--batch-size", "16", "--stats-every", "0",
                 "--out", str(tmp_path / "run")]) == 0
    assert main(["export", str(tmp_path / "run"), "--format", "torchscript", "-o", str(tmp_path / "r.ts")]) == 0
    assert "the trained weights of" in _script(tmp_path / "r.ts")[1] and "step 1" in _script(tmp_path / "r.ts")[1]
    capsys.readouterr()
    assert main(["export", str(tmp_path / "run"), "--format", "py", "--seed", "2", "-o", str(tmp_path / "r.py")]) == 2
    assert "--seed only chooses initial weights" in capsys.readouterr().err


def test_an_unseeded_py_export_says_it_holds_no_weights(tmp_path):
    assert main(["export", ARCH, "--format", "py", "-o", str(tmp_path / "net.py")]) == 0
    assert "WEIGHTS = 'none (build() draws them at random" in (tmp_path / "net.py").read_text()
    assert not (tmp_path / "net.pt").exists()
