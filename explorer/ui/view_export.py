"""Save what a view shows: its picture (a PNG grab as shown, legend, colour bar and notes included) and its
data (CSV), with one error for both. The analysis tools and the training plots export through here."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from PySide6.QtWidgets import QWidget

from explorer.runs.csv_io import write_table_csv


class ExportError(OSError):
    pass


def suffixed(path: str | Path, suffix: str) -> Path:
    path = Path(path)
    return path if path.suffix.lower() == suffix else path.with_suffix(suffix)


def flush(view: QWidget) -> None:
    """A plot's pending redraw belongs in its picture and its data."""
    if hasattr(view, "throttle"):
        view.throttle.flush()


@contextmanager
def writing(path: Path):
    """Say what could not be written, in one line, instead of the OS's exception."""
    try:
        yield
    except OSError as e:
        raise ExportError(f"could not write {path} ({e.strerror or e}); choose another folder") from None


def export_png(view: QWidget, path: str | Path) -> Path:
    path = suffixed(path, ".png")
    flush(view)
    if not view.grab().save(str(path), "PNG"):
        raise ExportError(f"could not write {path}; check the folder exists and is writable")
    return path


def export_csv(header: list[str], rows: list[list], path: str | Path) -> int:
    """Write the table; NaN cells stay empty. Returns the number of data rows."""
    path = suffixed(path, ".csv")
    with writing(path):
        return write_table_csv(path, header, rows)
