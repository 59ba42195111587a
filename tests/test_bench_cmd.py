"""`python main.py bench`: engine, compiled network and hand-written model, interleaved; figures not timed."""
import json

import pytest

from explorer.benchmarks import core
from explorer.cli import main
from explorer.train import TrainConfig
from explorer.train.bench import _samples, _uncertainty, benchmark
from explorer.train.testing import random_dataset, tiny_graph

FAST = ["--dataset", "digits", "--batch-size", "8", "--chunk", "1"]


def test_bench_json_has_all_three_rates_their_ratios_and_the_noise(capsys):
    assert main(["bench", "resnet20", *FAST, "--steps", "3", "--max-steps", "3", "--json"]) == 0
    captured = capsys.readouterr()
    r = json.loads(captured.out)
    assert r["engine_samples_per_s"] > 0 and r["plain_samples_per_s"] > 0 and r["reference_samples_per_s"] > 0
    assert r["ratio"] == pytest.approx(r["engine_samples_per_s"] / r["plain_samples_per_s"])
    assert r["ratio_vs_reference"] == pytest.approx(r["engine_samples_per_s"] / r["reference_samples_per_s"])
    assert r["plain_ratio_vs_reference"] == pytest.approx(r["plain_samples_per_s"] / r["reference_samples_per_s"])
    assert r["steps"] == 3 and len(r["engine_chunks"]) == len(r["plain_chunks"]) == len(r["reference_chunks"]) == 3
    assert set(r["spread"]) == {"engine", "plain", "reference"} and r["stats_every"] >= 1
    assert set(r["uncertainty"]) == {"ratio", "ratio_vs_reference", "plain_ratio_vs_reference"}
    assert isinstance(r["noisy"], bool) and (r["warning"] is not None) == r["noisy"]
    assert set(r["cpu_ratios"]) == set(r["uncertainty"]) and min(r["cpu_samples_per_s"].values()) > 0
    # Progress reaches stderr although it is not a terminal here; a noisy run says so there too.
    assert "bench: round 3/3" in captured.err
    assert ("warning: too noisy" in captured.err) == r["noisy"]
    assert r["compiled_samples_per_s"] is None and r["compile_warmup_s"] is None  # no --compile


def test_bench_text_output(capsys):
    assert main(["bench", "resnet20", *FAST, "--steps", "2", "--max-steps", "2", "--stats-every", "1"]) == 0
    out = capsys.readouterr().out
    assert "every step" in out and "plain PyTorch loop" in out and "ratio graph module / hand-written" in out


def test_an_architecture_without_a_hand_written_version_has_no_reference_figure(capsys):
    assert main(["bench", "plain20", *FAST, "--steps", "1", "--max-steps", "1", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["reference_samples_per_s"] is None and r["ratio_vs_reference"] is None and r["ratio"] > 0


def test_bench_errors_are_one_line(capsys, tmp_path):
    assert main(["bench", "nonet"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown preset")
    bad = tmp_path / "net.json"
    bad.write_text('{"version": 1, "nodes": [')
    assert main(["bench", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1


def test_noise_needs_three_rounds_and_grows_with_scatter():
    assert _uncertainty([1.0, 1.0]) == float("inf")
    assert _uncertainty([1.0, 1.0, 1.0]) == 0.0
    assert 0 < _uncertainty([0.98, 1.0, 1.02, 0.99, 1.01]) < _uncertainty([0.5, 1.0, 1.5, 0.7, 1.3])


def test_both_sides_see_the_same_samples():
    assert _samples(100, 32, 0, 4) == 100 and _samples(100, 32, 3, 5) == 4 + 32
    assert _samples(65, 32, 0, 2) == 64  # a lone last sample is left out, as in training
    r = benchmark(tiny_graph(), random_dataset(96, 8), TrainConfig(batch_size=32), steps=6, chunk=3,
                  max_steps=6)
    assert len(r.engine_chunks) == 2 and r.ratio > 0 and r.reference_chunks is None


def test_rounds_go_on_until_the_ratios_are_known_or_the_most_steps_are_done():
    r = benchmark(tiny_graph(), random_dataset(64, 8), TrainConfig(batch_size=16), steps=3, chunk=1, max_steps=12)
    assert 3 <= r.steps <= 12 and len(r.engine_chunks) == r.steps
    worst = max(r.uncertainty.values())
    assert r.noisy == (worst > 0.01) and (r.steps == 12 or not r.noisy)  # stopped early only once precise
    assert (r.warning or "").startswith("too noisy") == r.noisy


def test_bench_compile_adds_the_compiled_figures(capsys, monkeypatch):
    import torch
    monkeypatch.setattr(torch, "compile", lambda module, **kw: module)  # a stand-in: the real one takes minutes
    assert main(["bench", "resnet20", *FAST, "--steps", "3", "--max-steps", "3", "--compile", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["compiled_samples_per_s"] > 0 and r["compile_warmup_s"] >= 0 and len(r["compiled_chunks"]) == 3
    assert r["compiled_ratio_vs_reference"] == pytest.approx(r["compiled_samples_per_s"] / r["reference_samples_per_s"])
    assert r["compiled_ratio_vs_compiled_reference"] == pytest.approx(
        r["compiled_samples_per_s"] / r["reference_compiled_samples_per_s"])
    assert r["compile_speedup_of_reference"] == pytest.approx(
        r["reference_compiled_samples_per_s"] / r["reference_samples_per_s"])
    assert {"compiled_ratio_vs_reference", "compile_speedup_of_reference"} <= set(r["uncertainty"])


@pytest.mark.parametrize("arch", ["plain20", "resnet20"])   # without and with a hand-written model
def test_a_failed_compile_is_said_in_the_bench_warning_and_costs_only_the_compiled_figures(arch, capsys,
                                                                                           monkeypatch):
    """The engine falls back to eager and says so; a compiled hand-written side is dropped, with a note."""
    import torch

    def broken(*a, **kw):
        raise RuntimeError("no compiler")
    monkeypatch.setattr(torch, "compile", broken)
    assert main(["bench", arch, *FAST, "--steps", "1", "--max-steps", "1", "--compile", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert "--compile failed (RuntimeError: no compiler)" in r["warning"] and r["compiled_samples_per_s"] > 0
    assert r["reference_compiled_samples_per_s"] is None and r["compile_speedup_of_reference"] is None
    if arch == "resnet20":
        assert "hand-written model did not compile (RuntimeError: no compiler)" in r["warning"]
        assert r["reference_samples_per_s"] > 0


def test_benchmarks_core_help_is_help_not_a_preset(capsys):
    with pytest.raises(SystemExit) as e:
        core.main(["--help"])
    assert e.value.code == 0 and "usage:" in capsys.readouterr().out
    assert core.main(["nonet"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown preset 'nonet'")
