"""Manual check (not a test): peak memory of loading each hostile data file, in a fresh process.

    python tests/measure_hostile_data.py [--limit-mb 1024]

For every case it builds the files in a temporary folder, loads the spec in a subprocess and prints
the outcome (the DatasetError line, or what loaded) with the child's peak RSS
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) next to a baseline process that only imports the
data layer.  Exit status 1 when any case exceeds the limit or does not end in a DatasetError.
Building the full 30000² gzip takes a few seconds of CPU.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
import hostile_data as h  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, threading
sys.path.insert(0, sys.argv[1])
from explorer.data import DatasetError, load_dataset
spec = sys.argv[2]
outcome = "baseline"
if spec != "-":
    # A reader that blocks (a FIFO) must never happen: a watchdog turns it into a failure.
    threading.Timer(60, lambda: (print(json.dumps({"outcome": "HUNG", "rss_mb": 0})), sys.stdout.flush(),
                                 __import__("os")._exit(3))).start()
    try:
        ds = load_dataset(spec)
        outcome = "LOADED " + str(ds)
    except DatasetError as exc:
        outcome = "error: " + str(exc)
    except BaseException as exc:
        outcome = f"CRASH {type(exc).__name__}: {exc}"
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"outcome": outcome, "rss_mb": rss}))
sys.stdout.flush()
__import__("os")._exit(0)
"""


def run(spec: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), spec], capture_output=True, text=True,
                          timeout=300)
    lines = proc.stdout.strip().splitlines()
    if not lines:
        return {"outcome": f"CRASH rc={proc.returncode} {proc.stderr.strip()[-200:]}", "rss_mb": 0}
    return json.loads(lines[-1])


def cases(tmp: Path):
    def folder(name: str) -> Path:
        path = tmp / name
        path.mkdir()
        return path

    yield "CIFAR: 'safe' pickle declaring 300k images via bytes(n)", h.cifar_folder(
        folder("c1"), h.tiny_bomb_batch(300_000))
    yield "CIFAR: pickle calling numpy.ndarray((300000, 3072))", h.cifar_folder(
        folder("c2"), h.batch_pickle(h.array_by_calling_ndarray((300_000, 3072)), b"]"))
    yield "CIFAR: object array with a short state (crashes numpy)", h.cifar_folder(
        folder("c3"), h.object_array_with_short_state())
    yield "CIFAR: 10000 labels sharing one list of 10000 ints", h.cifar_folder(
        folder("c4"), h.shared_nested_labels(10_000))
    yield "CIFAR: one 20 MB string turned into bytes 1000 times", h.cifar_folder(
        folder("c5"), h.repeated_encode(1000, 20 << 20))
    yield "CIFAR: 1.5M opcodes of empty lists (3 MB)", h.cifar_folder(folder("c6"), h.many_opcodes(1_500_000))
    c7 = folder("c7")
    spec = h.cifar_folder(c7, b"")
    h.sparse_file(c7 / "cifar-10-batches-py" / "data_batch_1", 6 << 30)
    yield "CIFAR: 6 GB sparse data_batch_1", spec
    c8 = folder("c8")
    spec = h.cifar_folder(c8, b"")
    (c8 / "cifar-10-batches-py" / "data_batch_1").unlink()
    (c8 / "cifar-10-batches-py" / "data_batch_1").symlink_to("/dev/zero")
    yield "CIFAR: data_batch_1 -> /dev/zero", spec
    c9 = folder("c9")
    spec = h.cifar_folder(c9, b"")
    (c9 / "cifar-10-batches-py" / "data_batch_1").unlink()
    h.fifo(c9 / "cifar-10-batches-py" / "data_batch_1")
    yield "CIFAR: data_batch_1 is a FIFO", spec

    m1 = folder("m1")
    h.write_idx_folder(m1, images=b"", gz_images=True)
    h.gz_idx_bomb(m1 / "train-images-idx3-ubyte.gz", side=30_000, count=2, full=True)
    size = (m1 / "train-images-idx3-ubyte.gz").stat().st_size
    yield f"IDX: {size / 2**20:.1f} MB gzip of 2 images 30000×30000", f"mnist:{m1}"
    m2 = folder("m2")
    h.write_idx_folder(m2, images=b"", gz_images=True)
    h.gz_idx_bomb(m2 / "train-images-idx3-ubyte.gz", side=64, count=60_000, full=True)
    size = (m2 / "train-images-idx3-ubyte.gz").stat().st_size
    yield f"IDX: {size / 2**10:.0f} kB gzip of 60000 blank 64×64 images (inside the budget)", f"mnist:{m2}"
    m3 = folder("m3")
    h.write_idx_folder(m3)
    h.sparse_file(m3 / "train-images-idx3-ubyte", 6 << 30, b"\x12\x34\x08\x03")
    yield "IDX: 6 GB sparse file with bad magic", f"mnist:{m3}"
    m4 = folder("m4")
    h.write_idx_folder(m4)
    header = h.idx_header((60_000, 200, 200))
    h.sparse_file(m4 / "train-images-idx3-ubyte", len(header) + 60_000 * 200 * 200, header)
    yield "IDX: 2.4 GB sparse file whose header matches its size", f"mnist:{m4}"
    m5 = folder("m5")
    h.write_idx_folder(m5)
    (m5 / "train-images-idx3-ubyte").unlink()
    (m5 / "train-images-idx3-ubyte").symlink_to("/dev/zero")
    yield "IDX: train-images -> /dev/zero", f"mnist:{m5}"
    m6 = folder("m6")
    h.write_idx_folder(m6)
    (m6 / "train-images-idx3-ubyte").unlink()
    h.fifo(m6 / "train-images-idx3-ubyte")
    yield "IDX: train-images is a FIFO", f"mnist:{m6}"

    yield "folder: PNG declaring 100000×100000", h.image_folder(
        folder("f1"), {"big.png": h.png_declaring(100_000, 100_000)})
    yield "folder: PNG declaring 6000×6000", h.image_folder(folder("f2"), {"big.png": h.png_declaring(6000, 6000)})
    yield "folder: JPEG declaring 65000×65000", h.image_folder(
        folder("f3"), {"big.jpg": h.jpeg_declaring(65_000, 65_000)})
    yield "folder: JPEG declaring 6000×6000", h.image_folder(folder("f4"), {"big.jpg": h.jpeg_declaring(6000, 6000)})
    f5 = folder("f5")
    spec = h.image_folder(f5, {})
    (f5 / "a" / "zero.png").symlink_to("/dev/zero")
    yield "folder: image -> /dev/zero", spec
    f6 = folder("f6")
    spec = h.image_folder(f6, {})
    h.sparse_file(f6 / "a" / "huge.png", 6 << 30, b"\x89PNG\r\n\x1a\n")
    yield "folder: 6 GB sparse .png", spec
    f7 = folder("f7")
    spec = h.image_folder(f7, {})
    h.fifo(f7 / "a" / "pipe.png")
    yield "folder: image is a FIFO", spec


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit-mb", type=float, default=1024)
    args = parser.parse_args()
    base = run("-")["rss_mb"]
    print(f"baseline (import explorer.data): {base:.0f} MB peak RSS\n")
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in cases(Path(tmp)):
            result = run(spec)
            ok = result["outcome"].startswith("error: ") and result["rss_mb"] < args.limit_mb
            bad += not ok
            print(f"{'ok ' if ok else 'BAD'} {result['rss_mb']:6.0f} MB  {name}\n      {result['outcome'][:230]}")
    print(f"\n{bad} case(s) over {args.limit_mb:.0f} MB or not refused")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
