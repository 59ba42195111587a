"""What a run folder holds, and writing a new run where one may already be: a folder that holds a run is
never overwritten file by file (that once left a new last.pt beside the old best.pt and metrics.csv, a
folder that no longer agreed with itself). It is refused, or, when the caller says so, replaced whole: the
new run is written into a fresh folder beside it and put in its place with renames, so a failure part way
leaves the old run as it was.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from explorer.train.fine_tuning import PROVENANCE
from explorer.train.run_lock import LOCK_NAME, RunLock

RUN_FILES = ("graph.json", "config.json", "last.pt", "best.pt", "metrics.csv", "steps.csv", "layer_stats.csv",
             PROVENANCE)


# Folders another command owns, by the file that marks them: a run written among their files makes that
# command refuse its own folder (`study status`: "not a file a study writes").
OTHER_OWNERS = {"study.json": "a study's", "lesson.json": "a lesson's"}


class RunDirError(ValueError):
    """The folder cannot take the new run; the message names the folder, what is in the way and the fix."""


def run_files(folder: str | os.PathLike) -> list[str]:
    """The names of a run's files that ``folder`` holds (none when it is no folder)."""
    folder = Path(folder)
    return [name for name in RUN_FILES if (folder / name).exists()] if folder.is_dir() else []


def owned_elsewhere(folder: str | os.PathLike) -> str | None:
    """Why ``folder`` may take no run (a study's or a lesson's folder), else None."""
    for name, whose in OTHER_OWNERS.items():
        if (Path(folder) / name).is_file():
            return f"{folder} is {whose} folder ({name}), not a run's: choose another folder"
    return None


def check_target(folder: str | os.PathLike, replace: bool = False) -> bool:
    """Whether ``folder`` holds a run (then ``replace`` must be given); raises RunDirError when it may not
    take one. Cheap: callers ask before slow work."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise RunDirError(f"{folder} is a file, not a run folder: choose a folder")
    if owned_elsewhere(folder):
        raise RunDirError(owned_elsewhere(folder))
    held = run_files(folder)
    if held and not replace:
        raise RunDirError(f"{folder} already holds a run ({', '.join(held)}): add --force to replace it whole, "
                          "or choose another folder")
    return bool(held)


def write_run(folder: str | os.PathLike, write: Callable[[Path], None], replace: bool = False) -> Path:
    """Call ``write(dir)`` to put a run's files into ``folder``. A folder that already holds a run is refused
    unless ``replace``, and then replaced whole (it may hold nothing but a run's files). The folder is
    locked meanwhile, so a training into it is never mixed with this. Raises RunDirError, RunFolderInUse
    or OSError."""
    folder = Path(folder)
    if not check_target(folder, replace):
        with RunLock(folder):
            write(folder)
        return folder
    others = sorted(p.name for p in folder.iterdir() if p.name not in RUN_FILES and not _ours(p.name))
    if others:
        raise RunDirError(f"{folder} holds files that are not part of a run ({', '.join(others[:3])}"
                          f"{', …' if len(others) > 3 else ''}): move them, or choose another folder")
    with RunLock(folder):
        _swap(folder, write)
    return folder


def _ours(name: str) -> bool:
    """The lock and the atomic writes' temporaries (``.NAME.PID-XXXX.tmp``) belong to a run as well."""
    return name == LOCK_NAME or (name.startswith(".") and name.endswith(".tmp"))


def _swap(folder: Path, write: Callable[[Path], None]) -> None:
    fresh = Path(tempfile.mkdtemp(prefix=f".{folder.name}.new-", dir=folder.parent))
    old = folder.parent / f".{folder.name}.old-{os.getpid()}"
    try:
        os.chmod(fresh, folder.stat().st_mode & 0o7777)
        write(fresh)
        os.rename(folder, old)
        try:
            os.rename(fresh, folder)
        except OSError:
            os.rename(old, folder)  # put the old run back before reporting
            raise
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
