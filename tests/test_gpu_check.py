"""The GPU check: without CUDA it says so and exits 0; its parts run (on the CPU, as a dry run) and end in one
strict JSON object; the window's worker trains headless and reports back through its signals."""
import json

import torch

from explorer.benchmarks import gpu_check


def test_without_cuda_it_says_so_and_exits_0(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu_check.main([]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"cuda": False, "message": gpu_check.cuda_status()["message"]}
    assert "no CUDA device" in captured.err


def test_a_dry_run_on_the_cpu_fills_every_part(monkeypatch, capsys):
    monkeypatch.setattr(torch, "compile", lambda module, **kw: module)  # the real compiler takes minutes here
    monkeypatch.setattr(gpu_check, "worker_once", lambda device, timeout_s: {"ok": True, "device": device})
    assert gpu_check.main(["--device", "cpu", "--quick"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert set(r["training"]) == {name for name, _ in gpu_check.TRAINING} and not r["skipped"]
    assert all(t["ok"] and t["steps"] == 4 for t in r["training"].values()), r["training"]
    assert r["training"]["compile"]["compile"] == "compiled" and r["training"]["compile"]["compile_warmup_s"] >= 0
    assert r["bench"]["ok"] and r["bench"]["compiled_samples_per_s"] > 0 and r["bench"]["ratio"] > 0
    assert r["window_worker"] == {"ok": True, "device": "cpu"} and r["ok"]


def test_the_window_worker_trains_headless(qapp):
    from explorer.ui.training.gpu_worker_check import check
    r = check("cpu", 3)
    assert r["ok"] and r["device"] == "cpu" and r["steps"] == 3 and r["batches"] >= 1 and r["error"] is None
