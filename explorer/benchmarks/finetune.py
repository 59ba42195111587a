"""Pre-train, then fine-tune: the study note's point as figures.

``python -m explorer.benchmarks.finetune`` pre-trains a small residual network on the synthetic ``shapes``
(1×8×8, 8 classes), then trains it on a few hundred ``digits`` samples (10 classes: a new classifier) two
ways with the same budget: from the pre-trained weights (``init_from``), and from scratch; optionally a third
with everything but the classifier frozen (a linear probe). It prints the validation accuracy of each, per
seed, and the mean gain. Options: ``--train-samples``, ``--epochs``, ``--seeds``, ``--channels``, ``--threads``.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile


def _final(reports) -> float:
    from explorer.train.reports import FinishedReport

    last = reports[-1]
    if not isinstance(last, FinishedReport):
        raise SystemExit(f"error: {last.text}")
    return last.final_val_acc


def run(train_samples: int = 200, epochs: int = 8, pre_epochs: int = 6, seeds=(0, 1), channels: int = 16,
        shapes_size: int = 3000, probe: bool = True, out=sys.stdout) -> dict:
    from explorer.data.cache import cached_dataset
    from explorer.train import TrainConfig, run_training
    from explorer.train.testing import tiny_graph

    shapes = cached_dataset("shapes", seed=0, val_fraction=0.2, image_size=8, channels=1, size=shapes_size)
    digits = cached_dataset("digits", seed=0, val_fraction=0.2)
    graph = tiny_graph(channels=channels, blocks=2, classes=len(shapes.classes), name="tiny_resnet")
    with tempfile.TemporaryDirectory() as folder:
        pre = f"{folder}/shapes"
        acc = _final(list(run_training(graph, shapes, TrainConfig(epochs=pre_epochs, out_dir=pre, stats_every=0))))
        print(f"pre-trained {graph.name} ({channels} channels) on shapes: val acc {acc:.2%} after {pre_epochs} "
              f"epochs", file=out)
        ways = {"scratch": {}, "fine-tuned": {"init_from": pre}}
        if probe:
            ways["probe"] = {"init_from": pre, "freeze": ["until:flatten"]}
        results: dict[str, list[float]] = {w: [] for w in ways}
        for seed in seeds:
            for way, extra in ways.items():
                cfg = TrainConfig(epochs=epochs, batch_size=32, seed=seed, train_samples=train_samples,
                                  stats_every=0, **extra)
                results[way].append(_final(list(run_training(graph, digits, cfg))))
            print(f"seed {seed}: digits with {train_samples} training samples, {epochs} epochs: "
                  + ", ".join(f"{w} {results[w][-1]:.2%}" for w in ways), file=out)
    gain = [f - s for f, s in zip(results["fine-tuned"], results["scratch"])]
    print(f"fine-tuned − scratch: mean {statistics.mean(gain):+.2%} (per seed: "
          + ", ".join(f"{g:+.2%}" for g in gain) + ")", file=out)
    return results


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.benchmarks.finetune", description=__doc__.split("\n")[0])
    p.add_argument("--train-samples", type=int, default=200)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--pre-epochs", type=int, default=6)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--channels", type=int, default=16)
    p.add_argument("--threads", type=int, default=0, help="CPU threads for torch (default: torch's choice)")
    p.add_argument("--no-probe", dest="probe", action="store_false", help="skip the frozen (linear probe) runs")
    args = p.parse_args(argv)
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    run(args.train_samples, args.epochs, args.pre_epochs, tuple(args.seeds), args.channels, probe=args.probe)
    return 0


if __name__ == "__main__":
    sys.exit(main())
