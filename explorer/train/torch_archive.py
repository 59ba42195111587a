"""A ``torch.save`` file is a zip archive; its directory declares every record's size. This checks those
declared sizes against what the file may hold *before* ``torch.load`` inflates anything, so a 3 MB file
with one deflated 3 GiB record (or a 1 MB deflated pickle that inflates to gigabytes) is refused in
milliseconds with one line, instead of filling memory and failing on a shape a minute later.

torch reads each record into a buffer of its declared size and fails when the data is longer, so the
declared sizes bound what a load allocates. Files in the old pre-zip format declare their storages inside
the pickle, where nothing can be checked first; they are refused with the fix (re-save them).
"""
from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

# data.pkl of a state_dict is about 200 bytes per tensor (resnet18: 20 KB for 47 MB of weights); a checkpoint
# adds its history and graph. A pickle builds objects a few times its size, so its cap is kept small.
PICKLE_BASE_BYTES = 256 << 10
PICKLE_SHARE = 32
MAX_PICKLE_BYTES = 64 << 20
_SMALL_RECORD_BYTES = 4096
_PICKLE_2 = b"\x80\x02"  # a protocol-2 pickle: the first bytes of every pre-1.6 torch.save file  # version, byteorder, .format_version, serialization id


class ArchiveRefused(ValueError):
    """The archive declares more than it may hold; the message says which record and the figures."""


@dataclass(frozen=True)
class TensorBudget:
    """What a file of weights for one network may declare: all its tensor records together, the largest
    one, and its pickle."""
    total_bytes: int
    record_bytes: int
    pickle_bytes: int
    what: str = "the network"

    @classmethod
    def of(cls, total_bytes: int, largest_bytes: int, factor: float, what: str) -> "TensorBudget":
        """``factor`` times a network's tensor bytes (2: a float64 copy of its float32 weights; more where a
        checkpoint also holds optimiser state), with room for bookkeeping tensors; its pickle in proportion."""
        pickle = min(MAX_PICKLE_BYTES, PICKLE_BASE_BYTES + total_bytes // PICKLE_SHARE)
        return cls(int(factor * total_bytes) + (1 << 20), int(factor * largest_bytes) + _SMALL_RECORD_BYTES,
                   pickle, what)

    @classmethod
    def for_tensors(cls, tensors, factor: float, what: str) -> "TensorBudget":
        sizes = [t.numel() * t.element_size() for t in tensors]
        return cls.of(sum(sizes), max(sizes, default=0), factor, what)


def check_archive(path: str | os.PathLike, budget: TensorBudget | None, what: str = "file") -> None:
    """Refuse ``path`` (ArchiveRefused) when it is no torch zip archive or its directory declares more than
    ``budget`` allows. Without a budget a record may declare at most the archive's own size (what an
    uncompressed record, the only kind torch.save writes, can be) and the pickle at most MAX_PICKLE_BYTES."""
    path = Path(path)
    size = path.stat().st_size
    try:
        if not zipfile.is_zipfile(path):
            with open(path, "rb") as f:
                legacy = f.read(2) == _PICKLE_2  # what torch.save wrote before PyTorch 1.6
            raise ArchiveRefused(f"{path}: a {what} from PyTorch before 1.6, whose sizes cannot be checked before "
                                 "it is read; load and save it again with a current PyTorch" if legacy else
                                 f"{path}: not a readable {what}: not a PyTorch file (torch.save writes a zip archive)")
        with zipfile.ZipFile(path) as z:
            records = z.infolist()
    except ArchiveRefused:
        raise
    except (OSError, zipfile.BadZipFile, ValueError) as e:
        raise ArchiveRefused(f"{path}: not a readable {what} (damaged zip archive: {e})") from None
    pickle_cap = budget.pickle_bytes if budget else MAX_PICKLE_BYTES
    record_cap = budget.record_bytes if budget else size
    total_cap = budget.total_bytes if budget else size  # uncompressed records all lie within the file
    whose = f"{budget.what}'s" if budget else "the file's own"
    total = 0
    for r in records:
        name = r.filename.rsplit("/", 1)[-1]
        if name == "data.pkl":
            if r.file_size > pickle_cap:
                raise ArchiveRefused(f"{path}: its pickle declares {_mb(r.file_size)}, more than a {what} holds "
                                     f"(at most {_mb(pickle_cap)}); refused before reading it")
        elif "/data/" in r.filename:
            total += r.file_size
            if r.file_size > record_cap:
                raise ArchiveRefused(f"{path}: record {r.filename} declares {_mb(r.file_size)}, more than the "
                                     f"largest tensor it could hold ({_mb(record_cap)}, from {whose} size); "
                                     "refused before inflating it")
        elif r.file_size > max(_SMALL_RECORD_BYTES, record_cap if budget is None else 0):
            raise ArchiveRefused(f"{path}: record {r.filename} declares {_mb(r.file_size)}, more than torch.save "
                                 "writes there; refused before inflating it")
    if total > total_cap:
        raise ArchiveRefused(f"{path}: its tensors declare {_mb(total)} together, more than {budget.what} "
                             f"could fill ({_mb(total_cap)}); save model.state_dict() alone, without "
                             "optimiser state")


def _mb(n: int) -> str:
    return f"{n / 2**20:,.1f} MiB" if n >= 2**20 else f"{n:,} bytes"
