"""`python main.py bench`: engine against a plain loop, interleaved; figures not timed here."""
import json

from explorer.cli import main
from explorer.train import TrainConfig
from explorer.train.bench import _samples, benchmark
from explorer.train.testing import random_dataset, tiny_graph


def test_bench_json_has_both_rates_and_their_ratio(capsys):
    assert main(["bench", "resnet20", "--dataset", "digits", "--steps", "4", "--chunk", "2", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["engine_samples_per_s"] > 0 and r["plain_samples_per_s"] > 0
    assert abs(r["ratio"] - r["engine_samples_per_s"] / r["plain_samples_per_s"]) < 1e-9
    assert r["steps"] == 4 and len(r["engine_chunks"]) == len(r["plain_chunks"]) == 2 and r["stats_every"] >= 1


def test_bench_text_output(capsys):
    assert main(["bench", "resnet20", "--steps", "2", "--chunk", "2", "--stats-every", "1"]) == 0
    out = capsys.readouterr().out
    assert "every step" in out and "plain PyTorch loop" in out and "ratio:" in out


def test_bench_errors_are_one_line(capsys):
    assert main(["bench", "nonet"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown preset")


def test_both_sides_see_the_same_samples():
    assert _samples(100, 32, 0, 4) == 100 and _samples(100, 32, 3, 5) == 4 + 32
    assert _samples(65, 32, 0, 2) == 64  # a lone last sample is left out, as in training
    r = benchmark(tiny_graph(), random_dataset(96, 8), TrainConfig(batch_size=32), steps=6, chunk=3)
    assert len(r.engine_chunks) == 2 and r.ratio > 0
