"""Train @NAME@: a standalone training script exported from Residual Explorer.

It needs torch and nothing else (scikit-learn for --data digits; Pillow or torchvision for --data folder:).
The network is written out below, exactly as `export --format py` writes it.

    python train.py --data cifar10:/data/cifar-10-batches-py --epochs 30 --out run
    torchrun --nproc_per_node 4 train.py --data mnist:/data/mnist --out run
    torchrun --nnodes 2 --node_rank R --master_addr HOST --nproc_per_node 8 train.py ...

Under torchrun every process trains a DistributedDataParallel replica (NCCL on GPUs, Gloo on CPUs) on its
share of each epoch (a DistributedSampler); --batch-size is per process. Rank 0 prints, writes
OUT/metrics.csv (per epoch) and OUT/steps.csv (per log interval), OUT/checkpoint.pt after each epoch
(--resume continues from it) and OUT/final.pt at the end: a plain state_dict that build() loads with
load_state_dict(state_dict, strict=True).

When the data's images differ from the network's input, the data is adapted (resized, channels repeated
or averaged) with a notice; the network never changes. The flags' defaults are the training settings
the script was exported with.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import io
import math
import os
import pickle
import struct
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.nn import functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from model import INPUT_SHAPE, build  # @MODEL@ (the exported network's module, written out here)

SETTINGS = {}  # @SETTINGS@

# @SCHEDULE@ (the learning-rate schedule, the same function Residual Explorer trains with)


# == data: images in [0, 1] as N×C×H×W float tensors, labels as int64 =================================
class DataError(Exception):
    """The data named by --data cannot be read; the message says what was expected."""


def load_data(spec, seed, val_fraction):
    """``digits``, ``cifar10:PATH``, ``mnist:PATH`` or ``folder:PATH`` -> (x_train, y_train, x_val, y_val, classes)."""
    name, _, path = spec.partition(":")
    name = name.strip().lower()
    loaders = {"digits": load_digits, "cifar10": load_cifar10, "mnist": load_idx, "fashion-mnist": load_idx,
               "folder": load_folder}
    if name not in loaders:
        raise DataError(f"unknown data '{name}'; use digits, cifar10:PATH, mnist:PATH or folder:PATH")
    if (name == "digits") != (not path):
        raise DataError("digits takes no path" if path else f"{name} needs a path: {name}:PATH")
    data = loaders[name](Path(path).expanduser()) if path else loaders[name]()
    if len(data) == 3:  # no split of its own
        x, y, classes = data
        perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
        n_val = max(1, int(round(val_fraction * len(y))))
        data = (x[perm[n_val:]], y[perm[n_val:]], x[perm[:n_val]], y[perm[:n_val]], classes)
    return data


def load_digits():
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise DataError("--data digits needs scikit-learn (pip install scikit-learn); or use cifar10:, mnist:, "
                        "folder:") from None
    bunch = sklearn_digits()
    x = torch.as_tensor(bunch.images, dtype=torch.float32).div_(16.0).unsqueeze(1)  # counts 0..16 per pixel
    return x, torch.as_tensor(bunch.target, dtype=torch.int64), 10


class _ArraysOnly(pickle.Unpickler):
    """CIFAR-10's batches are pickles: allow the numpy array machinery they hold and nothing else, so a
    tampered file cannot run code."""
    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"), ("numpy", "ndarray"),
               ("numpy", "dtype"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise DataError(f"refusing {module}.{name} in a CIFAR-10 batch (not a plain array)")
        return super().find_class(module, name)


def load_cifar10(path):
    """The python-version folder cifar-10-batches-py (or its parent): data_batch_1..5 and test_batch."""
    folder = path if (path / "data_batch_1").exists() else path / "cifar-10-batches-py"

    def batch(name):
        file = folder / name
        if not file.is_file():
            raise DataError(f"cifar10: {file} is missing; expected cifar-10-batches-py with data_batch_1..5 "
                            "and test_batch")
        d = _ArraysOnly(io.BytesIO(file.read_bytes()), encoding="bytes").load()
        d = {k.decode() if isinstance(k, bytes) else k: v for k, v in d.items()}
        x = torch.as_tensor(d["data"]).reshape(-1, 3, 32, 32).float().div_(255.0)
        return x, torch.as_tensor(d["labels"], dtype=torch.int64)

    parts = [batch(f"data_batch_{i}") for i in range(1, 6)]
    x_val, y_val = batch("test_batch")
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts]), x_val, y_val, 10


def _idx(folder, stem):
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        file = folder / name
        if file.is_file():
            raw = file.read_bytes()
            raw = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
            if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] != 0x08:
                raise DataError(f"{file} is not an IDX file of bytes")
            dims = struct.unpack(f">{raw[3]}I", raw[4:4 + 4 * raw[3]])
            values = torch.frombuffer(bytearray(raw[4 + 4 * raw[3]:]), dtype=torch.uint8)
            if values.numel() != math.prod(dims):
                raise DataError(f"{file} holds {values.numel()} values, its header says {math.prod(dims)}")
            return values.reshape(dims)
    raise DataError(f"{folder / stem} is missing; expected train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                    "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each optionally .gz)")


def load_idx(path):
    """MNIST or Fashion-MNIST: the four IDX files; t10k is the validation split."""
    def images(stem):
        return _idx(path, stem).unsqueeze(1).float().div_(255.0)

    y_train, y_val = _idx(path, "train-labels-idx1-ubyte").long(), _idx(path, "t10k-labels-idx1-ubyte").long()
    classes = int(max(y_train.max(), y_val.max())) + 1
    return images("train-images-idx3-ubyte"), y_train, images("t10k-images-idx3-ubyte"), y_val, classes


def load_folder(path):
    """One sub-folder of .png/.jpg images per class; each image is resized to the network's input here."""
    classes = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise DataError(f"folder: {path} needs at least 2 class sub-folders of .png/.jpg images")
    xs, ys = [], []
    for label, folder in enumerate(classes):
        for file in sorted(folder.iterdir()):
            if file.suffix.lower() in (".png", ".jpg", ".jpeg"):
                img = _read_image(file)
                xs.append(F.interpolate(img[None], size=INPUT_SHAPE[1:], mode="bilinear", antialias=True,
                                        align_corners=False)[0])
                ys.append(label)
    if not xs:
        raise DataError(f"folder: no .png/.jpg images under {path}")
    channels = max(x.shape[0] for x in xs)
    return torch.stack([x.expand(channels, -1, -1) for x in xs]), torch.tensor(ys), len(classes)


def _read_image(file):
    """C×H×W float in [0, 1], grey or RGB, through Pillow or else torchvision."""
    try:
        from PIL import Image
    except ImportError:
        Image = None
    try:
        if Image is not None:
            with Image.open(file) as im:
                im = im.convert("L" if im.mode in ("1", "L", "LA", "I", "I;16", "F") else "RGB")
                pixels = torch.frombuffer(bytearray(im.tobytes()), dtype=torch.uint8)
                return pixels.reshape(im.height, im.width, -1).permute(2, 0, 1).float().div_(255.0)
        from torchvision.io import ImageReadMode, decode_image
    except ImportError:
        raise DataError("--data folder: needs Pillow or torchvision to read images (pip install Pillow)") from None
    except Exception as e:  # the decoders raise many types for a damaged file
        raise DataError(f"{file}: not a readable image ({e})") from None
    try:
        img = decode_image(torch.frombuffer(bytearray(file.read_bytes()), dtype=torch.uint8), ImageReadMode.UNCHANGED)
    except Exception as e:
        raise DataError(f"{file}: not a readable image ({e})") from None
    return img[:3 if img.shape[0] >= 3 else 1].float().div_(255.0)


def fit_to_network(x, shape):
    """Images as the network takes them: channels repeated (grey -> colour) or averaged, then resized.
    Returns the images and a notice (None when nothing changed)."""
    c, h, w = x.shape[1:]
    if (c, h, w) == tuple(shape):
        return x, None
    done = []
    if c != shape[0]:
        if c == 1:
            x = x.expand(-1, shape[0], -1, -1)
            done.append("channels repeated")
        elif shape[0] == 1:
            x = x.mean(dim=1, keepdim=True)
            done.append("channels averaged to grey")
        else:
            raise DataError(f"the data has {c} channels and the network takes {shape[0]}; no sensible mapping")
    if (h, w) != tuple(shape[1:]):
        x = F.interpolate(x, size=tuple(shape[1:]), mode="bilinear", antialias=True, align_corners=False)
        done.append(f"resized {h}×{w} -> {shape[1]}×{shape[2]}")
    return x.contiguous(), (f"the data's images are {c}×{h}×{w} and the network takes "
                            f"{'×'.join(map(str, shape))}: {', '.join(done)} (the network is unchanged)")


def normalize(x_train, x_val):
    """Per-channel mean 0 and standard deviation 1, from the training images."""
    mean = x_train.mean(dim=(0, 2, 3), keepdim=True)
    std = x_train.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)
    return (x_train - mean) / std, (x_val - mean) / std


def augment(x, crop, flip):
    """Random crop after zero padding by ``crop`` pixels and random horizontal flips, on the batch."""
    if crop:
        n, _, h, w = x.shape
        padded = F.pad(x, (crop,) * 4)
        i, j = torch.randint(0, 2 * crop + 1, (2,)).tolist()  # one offset per batch: cheap and enough
        x = padded[:, :, i:i + h, j:j + w]
    if flip:
        mirror = torch.rand(x.shape[0], device=x.device) < 0.5
        x = torch.where(mirror[:, None, None, None], x.flip(3), x)
    return x


# == training ==============================================================================================
def parse_args(argv=None):
    s = SETTINGS
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data", default=s["data"], metavar="SPEC",
                   help="digits (needs scikit-learn), cifar10:PATH, mnist:PATH, fashion-mnist:PATH or folder:PATH")
    p.add_argument("--val-fraction", type=float, default=0.2, help="held out where the data has no test split")
    p.add_argument("--epochs", type=int, default=s["epochs"])
    p.add_argument("--batch-size", type=int, default=s["batch_size"], help="per process")
    p.add_argument("--lr", type=float, default=s["lr"], help="peak learning rate")
    p.add_argument("--optimizer", choices=("sgd", "adam", "adamw"), default=s["optimizer"])
    p.add_argument("--momentum", type=float, default=s["momentum"], help="SGD")
    p.add_argument("--nesterov", action=argparse.BooleanOptionalAction, default=s["nesterov"], help="SGD")
    p.add_argument("--weight-decay", type=float, default=s["weight_decay"], help="not on biases and BatchNorm")
    p.add_argument("--schedule", choices=("constant", "step", "cosine", "onecycle", "linear", "warmup"),
                   default=s["schedule"])
    p.add_argument("--warmup", dest="warmup_epochs", type=float, default=s["warmup_epochs"], metavar="EPOCHS")
    p.add_argument("--step-epochs", type=int, default=s["step_epochs"], help="'step': decay every N epochs "
                                                                            "(0: at 50%% and 75%%)")
    p.add_argument("--step-gamma", type=float, default=s["step_gamma"])
    p.add_argument("--label-smoothing", type=float, default=s["label_smoothing"])
    p.add_argument("--grad-clip", type=float, default=s["grad_clip"], metavar="NORM", help="0 = off")
    p.add_argument("--crop", type=int, default=s["crop_padding"], metavar="PIXELS", help="random-crop padding")
    p.add_argument("--flip", action=argparse.BooleanOptionalAction, default=s["flip"])
    p.add_argument("--max-steps", type=int, default=s["max_steps"], metavar="N", help="stop after N steps")
    p.add_argument("--device", default=s["device"], help="auto, cpu, cuda, cuda:N or mps; under torchrun auto "
                                                         "gives each process cuda:LOCAL_RANK")
    p.add_argument("--seed", type=int, default=s["seed"])
    p.add_argument("--log-every", type=int, default=s["log_every"], metavar="STEPS")
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--out", default="run", metavar="DIR", help="where rank 0 writes logs and checkpoints")
    p.add_argument("--resume", metavar="CHECKPOINT", help="continue from a checkpoint.pt this script wrote")
    args = p.parse_args(argv)
    for name in ("epochs", "batch_size", "log_every"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.max_steps is not None and args.max_steps < 1:
        p.error("--max-steps must be at least 1")
    return args


def pick_device(name, local_rank):
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank)
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available() and local_rank == 0:
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", local_rank)
    return device


def param_groups(model, weight_decay):
    """Weight decay on conv/linear weights only, as Residual Explorer trains."""
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim > 1]
    rest = [p for p in model.parameters() if p.requires_grad and p.ndim <= 1]
    return [g for g in ({"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0})
            if g["params"]]


def make_optimizer(model, args):
    groups = param_groups(model, args.weight_decay)
    if args.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=args.lr, momentum=args.momentum,
                               nesterov=args.nesterov and args.momentum > 0)
    cls = torch.optim.Adam if args.optimizer == "adam" else torch.optim.AdamW
    return cls(groups, lr=args.lr, betas=tuple(SETTINGS["betas"]))


class Rank0Log:
    """Prints and CSV files, on rank 0 only."""

    def __init__(self, out, rank):
        self.on = rank == 0
        self.out = Path(out)
        if self.on:
            self.out.mkdir(parents=True, exist_ok=True)

    def print(self, *text):
        if self.on:
            print(*text, flush=True)

    def row(self, name, fields):
        if not self.on:
            return
        file = self.out / name
        new = not file.exists()
        with open(file, "a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(fields))
            if new:
                w.writeheader()
            w.writerow(fields)

    def save(self, name, obj):
        """Written to a temporary file first, so an interrupted save keeps the previous one."""
        if self.on:
            tmp = self.out / f".{name}.tmp"
            torch.save(obj, tmp)
            os.replace(tmp, self.out / name)


def same_buffers(model, distributed):
    """BatchNorm's running statistics come from each process's own batches: take rank 0's, so every replica
    (and final.pt) holds the same network."""
    if distributed:
        for b in model.buffers():
            dist.broadcast(b, 0)


@torch.no_grad()
def evaluate(model, x, y, batch_size, device, distributed, world, rank):
    """Loss and accuracy over the validation images, each process taking every world-th image."""
    model.eval()
    sums = torch.zeros(3, device=device, dtype=torch.float64)  # loss sum, correct, count
    xs, ys = x[rank::world], y[rank::world]
    for i in range(0, len(ys), batch_size):
        xb, yb = xs[i:i + batch_size].to(device), ys[i:i + batch_size].to(device)
        logits = model(xb)
        sums += torch.stack([F.cross_entropy(logits, yb, reduction="sum").double(),
                             (logits.argmax(1) == yb).sum().double(), torch.tensor(len(yb), device=device).double()])
    if distributed:
        dist.all_reduce(sums)
    model.train()
    loss, correct, count = sums.tolist()
    return (loss / count, correct / count) if count else (float("nan"), float("nan"))


def main(argv=None):
    """Train; returns the trained network (the unwrapped module) on every rank."""
    args = parse_args(argv)
    distributed = "LOCAL_RANK" in os.environ  # torchrun sets WORLD_SIZE, RANK and LOCAL_RANK (also for 1 process)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(args.device, local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if distributed:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    log = Rank0Log(args.out, rank)
    try:
        model = _train(args, device, distributed, world, rank, log)
    finally:
        if distributed:
            dist.destroy_process_group()
    return model


def _train(args, device, distributed, world, rank, log):
    try:
        x_train, y_train, x_val, y_val, classes = load_data(args.data, args.seed, args.val_fraction)
        x_train, notice = fit_to_network(x_train, INPUT_SHAPE)
        x_val, _ = fit_to_network(x_val, INPUT_SHAPE)
    except (DataError, OSError) as e:
        sys.exit(f"error: {e}")
    if notice:
        log.print(f"notice: {notice}")
    x_train, x_val = normalize(x_train, x_val)

    torch.manual_seed(args.seed)  # the same initial weights everywhere (DDP also copies rank 0's)
    try:
        model = build(num_classes=classes)
    except ValueError as e:
        sys.exit(f"error: the data has {classes} classes: {e}")
    if classes != SETTINGS["num_classes"]:
        log.print(f"notice: the data has {classes} classes, so the classifier has {classes} outputs; "
                  f"final.pt loads into build(num_classes={classes})")
    model = model.to(device)
    net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None) \
        if distributed else model
    optimizer = make_optimizer(model, args)
    start_epoch, step = 0, 0
    if args.resume:
        state = torch.load(args.resume, map_location=device, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start_epoch, step = state["epoch"], state["step"]

    train_set = TensorDataset(x_train, y_train)
    sampler = DistributedSampler(train_set, world, rank, shuffle=True, seed=args.seed) if distributed else None
    loader = DataLoader(train_set, args.batch_size, shuffle=sampler is None, sampler=sampler, drop_last=False,
                        num_workers=args.workers, generator=torch.Generator().manual_seed(args.seed),
                        pin_memory=device.type == "cuda")
    total = args.epochs * len(loader)
    if args.max_steps:
        total = min(total, args.max_steps)
    params = sum(p.numel() for p in model.parameters())
    log.print(f"training {params:,} parameters on {len(y_train):,} images ({len(y_val):,} for validation) with "
              f"{world} × {device.type}: {args.epochs} epochs × {len(loader)} steps"
              + (f", stopping after {total}" if args.max_steps else ""))
    criterion = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    net.train()
    started = time.perf_counter()
    for epoch in range(start_epoch, args.epochs):
        if step >= total:
            break
        if sampler is not None:
            sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every process
        sums = torch.zeros(3, device=device, dtype=torch.float64)  # loss sum, correct, count since the last log
        epoch_sums = torch.zeros(3, device=device, dtype=torch.float64)
        epoch_start = time.perf_counter()
        for xb, yb in loader:
            xb = augment(xb.to(device, non_blocking=True), args.crop, args.flip)
            yb = yb.to(device, non_blocking=True)
            lr = args.lr * lr_factor(step, total, len(loader), args)
            for g in optimizer.param_groups:
                g["lr"] = lr
            logits = net(xb)
            loss = criterion(logits, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if args.grad_clip:
                nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
            optimizer.step()
            step += 1
            with torch.no_grad():
                batch = torch.stack([loss.detach().double() * len(yb), (logits.argmax(1) == yb).sum().double(),
                                     torch.tensor(float(len(yb)), device=device, dtype=torch.float64)])
                sums += batch
                epoch_sums += batch
            if step % args.log_every == 0 or step == total:
                if distributed:
                    dist.all_reduce(sums)
                loss_sum, correct, count = sums.tolist()  # the one host sync per log interval
                log.print(f"epoch {epoch + 1}/{args.epochs} step {step}/{total}  loss {loss_sum / count:.4f}  "
                          f"acc {correct / count:.2%}  lr {lr:.4g}")
                log.row("steps.csv", {"step": step, "epoch": epoch + 1, "loss": loss_sum / count,
                                      "acc": correct / count, "lr": lr})
                sums.zero_()
            if step >= total:
                break
        seconds = time.perf_counter() - epoch_start
        if distributed:
            dist.all_reduce(epoch_sums)
        loss_sum, correct, count = epoch_sums.tolist()
        same_buffers(model, distributed)
        val_loss, val_acc = evaluate(model, x_val, y_val, args.batch_size, device, distributed, world, rank)
        log.print(f"epoch {epoch + 1}/{args.epochs}  train loss {loss_sum / count:.4f} acc {correct / count:.2%}  "
                  f"val loss {val_loss:.4f} acc {val_acc:.2%}  {count / seconds:,.0f} samples/s")
        log.row("metrics.csv", {"epoch": epoch + 1, "step": step, "train_loss": loss_sum / count,
                                "train_acc": correct / count, "val_loss": val_loss, "val_acc": val_acc, "lr": lr,
                                "seconds": round(seconds, 3)})
        if len(loader) * (epoch + 1) <= step:  # a whole epoch (--max-steps may stop one midway: not resumable)
            log.save("checkpoint.pt", {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                       "epoch": epoch + 1, "step": step})
    same_buffers(model, distributed)
    log.save("final.pt", model.state_dict())
    log.print(f"done: {step} steps in {time.perf_counter() - started:.1f}s; wrote {Path(args.out) / 'final.pt'}")
    return model


if __name__ == "__main__":
    main()
