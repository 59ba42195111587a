"""The study folder on disk: study.json (settings, trials, states; rewritten atomically after every change),
trials/<id>/ (each an ordinary run folder), results.csv (one row per finished trial), depth.png and
report.html.

Opening checks the whole folder before anything is written: a damaged or foreign study.json, a file a study
does not write, or a trial folder the study does not list is one ``StudyError`` naming it, and nothing is
touched.
"""
from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

from explorer.studies.study import Study, StudyError
from explorer.studies.trial import DONE, FIELDS
from explorer.util.atomic import write_atomic
from explorer.util.untrusted import UntrustedInputError, read_regular_file

STUDY_FILE = "study.json"
RESULTS_FILE = "results.csv"
FIGURE_FILE = "depth.png"
REPORT_FILE = "report.html"
TRIALS_DIR = "trials"
KNOWN = {STUDY_FILE, RESULTS_FILE, FIGURE_FILE, REPORT_FILE, TRIALS_DIR}
MAX_STUDY_BYTES = 16 * 1024**2


class StudyFolder:
    def __init__(self, path) -> None:
        self.path = Path(path)

    @property
    def study_file(self) -> Path:
        return self.path / STUDY_FILE

    def trial_dir(self, tid: str) -> Path:
        return self.path / TRIALS_DIR / tid

    def exists(self) -> bool:
        """The folder holds a study (a study.json)."""
        return self.study_file.exists()

    def check_empty_or_new(self) -> None:
        """Refuse a folder that has files but no study: it is someone else's."""
        if self.path.exists() and not self.path.is_dir():
            raise StudyError(f"{self.path} is a file, not a folder; name a new or empty folder for the study")
        if self.path.is_dir() and not self.exists() and any(self.path.iterdir()):
            raise StudyError(f"{self.path} has files but no {STUDY_FILE}: it is not a study folder; name a new or "
                             "empty folder")

    def load(self) -> Study:
        """The study in this folder, after checking the folder; raises StudyError."""
        if not self.exists():
            raise StudyError(f"{self.path} holds no study (no {STUDY_FILE}); start one with `study depth` or "
                             "`study grid`")
        try:
            raw = read_regular_file(self.study_file, MAX_STUDY_BYTES, STUDY_FILE)
            data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
        except UntrustedInputError as e:
            raise StudyError(f"{self.study_file}: {e}") from None
        except (UnicodeDecodeError, ValueError, RecursionError) as e:
            raise StudyError(f"{self.study_file} is damaged (not valid JSON: {e}); the folder was left as it is") \
                from None
        study = Study.from_dict(data, str(self.study_file))
        self._check_contents(study)
        return study

    def _check_contents(self, study: Study) -> None:
        for entry in self.path.iterdir():
            # Reports (-o D/other.html) and dotfiles (the lock) may sit beside the study's own files.
            if entry.name not in KNOWN and not entry.name.startswith(".") and not entry.name.endswith(".html"):
                raise StudyError(f"{entry} is not a file a study writes; move it out of the study folder "
                                 "(nothing was changed)")
        trials = self.path / TRIALS_DIR
        if trials.exists():
            if not trials.is_dir():
                raise StudyError(f"{trials} should be the folder of trial runs; nothing was changed")
            ids = {t.id for t in study.trials}
            for entry in trials.iterdir():
                if entry.name not in ids or not entry.is_dir() or entry.is_symlink():
                    raise StudyError(f"{entry} is not a trial of this study; move it out (nothing was changed)")
        results = self.path / RESULTS_FILE
        if results.exists():
            try:
                head = read_regular_file(results, MAX_STUDY_BYTES, RESULTS_FILE).decode("utf-8").split("\n", 1)[0]
            except (UntrustedInputError, UnicodeDecodeError):
                head = None
            if head != ",".join(FIELDS):
                raise StudyError(f"{results} is not a study's results table; move it out (nothing was changed)")

    def save(self, study: Study) -> None:
        """Write study.json and results.csv atomically (a kill mid-write leaves the previous ones)."""
        self.path.mkdir(parents=True, exist_ok=True)
        write_atomic(self.study_file, json.dumps(study.to_dict(), indent=1, allow_nan=False) + "\n")
        write_atomic(self.path / RESULTS_FILE, results_csv(study))

    def clear_trial(self, tid: str) -> None:
        """Remove a trial's run folder before a fresh retry (only a folder the study made, checked by load)."""
        shutil.rmtree(self.trial_dir(tid), ignore_errors=True)


def results_csv(study: Study) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(FIELDS)
    for t in study.trials:
        if t.state == DONE:
            row = t.row()
            w.writerow(["" if row[k] is None else row[k] for k in FIELDS])
    return out.getvalue()


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")
