"""Where an export may write: nothing it was read from, no checkpoint or other file of a run folder, no file it
writes twice, nothing read-only, and no existing file unless the user said ``--force``.

Every output of one export is planned before anything is written (the ``.py`` and its weights are two files),
so a refusal leaves every file as it was.
"""
from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

from explorer.export.python_code import ExportError
from explorer.train.run_dir import RUN_FILES, run_files

CHECKPOINT_MARK = b"residual-explorer-checkpoint"  # explorer.train.checkpoint.FORMAT, as the pickle stores it
CHECKPOINT_FILES = ("last.pt", "best.pt")  # a folder holding one of these holds a run
PICKLE_LIMIT = 64 << 20  # a checkpoint's pickle (tensors live in other records) is far smaller


def check_outputs(outputs: list[Path], force: bool = False, sources: tuple[Path, ...] = ()) -> None:
    """Raise ExportError for the first output that must not be written; ``sources`` are the files the export
    reads (a run's checkpoint, a graph file)."""
    seen: dict[str, Path] = {}
    read = {os.path.realpath(s) for s in sources}
    for path in outputs:
        real = os.path.realpath(path)
        if real in seen:
            raise ExportError(f"{path} would be written twice (as {seen[real].name} and {path.name}); "
                              f"name the output with its own suffix, e.g. {path.with_suffix('.py').name}")
        seen[real] = path
        if real in read:
            raise ExportError(f"{path} is the file being exported; choose another output path")
        if is_run_file(real) and not is_checkpoint(real):  # a checkpoint gets its own words below
            raise ExportError(f"{path} is the name of a file of the run in {Path(real).parent}; an export "
                              "never writes a run's own files (choose another output path)")
        if not os.path.lexists(real):
            continue
        if not os.path.isfile(real):
            raise ExportError(f"{path} exists and is not a regular file; choose another output path")
        if is_checkpoint(real):
            raise ExportError(f"{path} is a Residual Explorer checkpoint; an export never replaces one "
                              "(choose another output path)")
        if not os.stat(real).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
            raise ExportError(f"{path} is read-only; choose another output path")
        if not force:
            raise ExportError(f"{path} exists; add --force to replace it, or choose another output path")


def is_run_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is one of a run folder's own files (graph.json, metrics.csv, ...) beside its checkpoint:
    replacing it (with --force) would leave a run that info, analyze and the window no longer open."""
    path = Path(path)
    return path.name in RUN_FILES and any(n in CHECKPOINT_FILES for n in run_files(path.parent))


def is_checkpoint(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a checkpoint written by ``train`` (a torch zip whose pickle names the format);
    reads only the pickle record, never the tensors."""
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if info.filename.endswith("/data.pkl") and info.file_size <= PICKLE_LIMIT:
                    return CHECKPOINT_MARK in z.read(info)
    except (OSError, zipfile.BadZipFile, ValueError, RuntimeError, NotImplementedError):
        return False
    return False
