"""The import manifest: one CSV row a subject naming its cine, ECG and optional label files.

Columns: ``subject_id, mri, ecg`` (required) and ``labels, ecg_lead_order, ecg_fs,
ecg_unit, offset_row_mm, offset_col_mm`` (optional). Relative paths are relative to the
manifest's folder; every path is resolved (symlinks followed) and kept as its real path.

What stops the whole manifest (:class:`CohortError`): a file that is not a readable CSV
table, a missing required column, no rows or absurdly many, and any problem with the ids
(empty, duplicated, with path separators or control characters): ids key the phenotype
join and the resumable import, so a bad id means the table itself is wrong.
What is reported per subject (``Manifest.problems``) while the other rows go on: a
missing, unsafe or unreadable path (URL, control characters, ``..`` escape with
``allow_outside=False``, symlink loop) and a bad per-row option (lead order, fs, unit,
offset).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..cohort.errors import CohortError
from ..cohort.schema import LEADS
from .tables import MAX_TABLE_BYTES, read_text_table

__all__ = ["MAX_ROWS", "OPTIONAL_COLUMNS", "REQUIRED_COLUMNS", "Manifest", "ManifestEntry", "read_manifest"]

REQUIRED_COLUMNS = ("subject_id", "mri", "ecg")
OPTIONAL_COLUMNS = ("labels", "ecg_lead_order", "ecg_fs", "ecg_unit", "offset_row_mm", "offset_col_mm")
MAX_ROWS = 1_000_000  # UK Biobank images ~100,000 subjects; more rows than this is a wrong file
MAX_ID_LENGTH = 128
ECG_UNITS = ("mV", "uV", "µV", "V")
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://|(file|https?|ftp|s3|gs|data|smb):)", re.IGNORECASE)  # not C:\
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LEAD_SPLIT = re.compile(r"[\s,;|]+")


@dataclass(frozen=True)
class ManifestEntry:
    """One usable manifest row: real paths of the subject's files and its reading options."""

    subject_id: str
    line: int  # line of the row in the manifest file (the header is line 1)
    mri: Path
    ecg: Path
    labels: Path | None = None
    ecg_lead_order: tuple[str, ...] | None = None
    ecg_fs: float | None = None
    ecg_unit: str = "mV"
    offset_mm: tuple[float, float] = (0.0, 0.0)

    def key(self) -> str:
        """A fingerprint of the row and its files' sizes and modification times (for resuming)."""
        h = hashlib.sha256()
        for value in (
            self.subject_id,
            self.mri,
            self.ecg,
            self.labels,
            self.ecg_lead_order,
            self.ecg_fs,
            self.ecg_unit,
            self.offset_mm,
        ):
            h.update(repr(value).encode() + b"\x00")
        for path in (self.mri, self.ecg, self.labels):
            if path is not None:
                h.update(_stat_signature(path).encode())
        return h.hexdigest()[:32]


def _stat_signature(path: Path) -> str:
    """Sizes and mtimes of a file, or of the files directly inside a directory (a DICOM series)."""
    try:
        if path.is_dir():
            items = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in path.iterdir() if p.is_file())
            return repr(items)
        st = path.stat()
        return repr((st.st_size, st.st_mtime_ns))
    except OSError as exc:
        return f"unreadable {exc.errno}"


@dataclass
class Manifest:
    """The parsed manifest: usable entries and the rows reported as problems.

    ``problems`` maps subject id -> (file, reason) for rows that cannot be imported;
    ``subject_ids`` lists every row's id in file order, usable or not.
    """

    path: Path
    entries: list[ManifestEntry]
    problems: dict[str, tuple[str, str]] = field(default_factory=dict)
    subject_ids: list[str] = field(default_factory=list)
    sha256: str = ""

    def __len__(self) -> int:
        return len(self.subject_ids)

    @property
    def folder(self) -> Path:
        return self.path.parent


def _count_lines(path: Path, limit: int) -> int:
    """Newlines in the file, stopping early once ``limit`` is passed (cheap for huge files)."""
    count = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            count += chunk.count(b"\n")
            if count > limit:
                break
    return count


def _check_size(path: Path) -> None:
    if not path.exists():
        raise CohortError("no such manifest file", path=path)
    if not path.is_file():
        raise CohortError("the manifest is not a regular file", path=path)
    size = path.stat().st_size
    if size > MAX_TABLE_BYTES:
        raise CohortError(f"the manifest is {size / 1024**3:.1f} GiB: not a manifest", path=path)
    if _count_lines(path, MAX_ROWS + 1) > MAX_ROWS + 1:
        raise CohortError(f"the manifest has more than {MAX_ROWS:,} rows", path=path)


def _check_ids(ids: list[str | None], path: Path) -> None:
    seen: dict[str, int] = {}
    for i, sid in enumerate(ids):
        line = i + 2
        if sid is None or sid == "":
            raise CohortError(f"line {line}: empty subject_id", path=path)
        if _CONTROL.search(sid):
            raise CohortError(
                f"line {line}: subject_id {sid!r} contains control characters", path=path, subject=repr(sid)
            )
        if "/" in sid or "\\" in sid or sid in (".", ".."):
            raise CohortError(
                f"line {line}: subject_id {sid!r} contains a path separator or is a path", path=path, subject=sid
            )
        if len(sid) > MAX_ID_LENGTH:
            raise CohortError(
                f"line {line}: subject_id is {len(sid)} characters long (at most {MAX_ID_LENGTH})",
                path=path,
                subject=sid[:40] + "...",
            )
        if sid in seen:
            raise CohortError(
                f"line {line}: duplicate subject_id {sid!r} (first on line {seen[sid]})", path=path, subject=sid
            )
        seen[sid] = line


class _RowProblem(Exception):
    def __init__(self, file: str, reason: str):
        super().__init__(reason)
        self.file, self.reason = file, reason


def _resolve(value: object, column: str, folder: Path, real_folder: Path, allow_outside: bool) -> Path:
    """The real path a manifest cell names, or _RowProblem saying why it is unusable."""
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).strip()
    if not text:
        raise _RowProblem("", f"no {column} path given")
    if _CONTROL.search(text):
        raise _RowProblem(repr(text), f"the {column} path contains control characters")
    if _URL.match(text):
        raise _RowProblem(text, f"the {column} path is a URL; only local files can be imported (download it first)")
    given = Path(text).expanduser()
    path = given if given.is_absolute() else folder / given
    try:
        real = path.resolve(strict=True)
    except FileNotFoundError:
        header = path.with_name(path.name + ".hea")
        if column == "ecg" and header.is_file():  # a WFDB record name
            real = header.resolve(strict=True)
        else:
            raise _RowProblem(str(path), f"{column} file does not exist") from None
    except RuntimeError as exc:  # Python < 3.13 reports symlink loops so
        raise _RowProblem(str(path), f"{column} path cannot be resolved: {exc}") from None
    except OSError as exc:  # ELOOP, ENAMETOOLONG, EACCES, ...
        raise _RowProblem(str(path), f"{column} path cannot be resolved: {exc.strerror or exc}") from None
    if not allow_outside and not real.is_relative_to(real_folder):
        raise _RowProblem(str(real), f"the {column} path leads outside the manifest folder {real_folder}")
    if not (real.is_file() or real.is_dir()):
        raise _RowProblem(str(real), f"{column} path is not a file or directory")
    return real


def _option(row: pd.Series, column: str) -> str | None:
    value = row.get(column)
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def _entry(row: pd.Series, sid: str, line: int, folder: Path, real_folder: Path, allow_outside: bool) -> ManifestEntry:
    mri = _resolve(row.get("mri"), "mri", folder, real_folder, allow_outside)
    ecg = _resolve(row.get("ecg"), "ecg", folder, real_folder, allow_outside)
    labels = None
    if _option(row, "labels") is not None:
        labels = _resolve(row.get("labels"), "labels", folder, real_folder, allow_outside)
    leads = _option(row, "ecg_lead_order")
    lead_order = None
    if leads is not None:
        lead_order = tuple(x for x in _LEAD_SPLIT.split(leads) if x)
        unknown = [x for x in lead_order if x not in LEADS]
        if unknown or len(set(lead_order)) != len(lead_order):
            raise _RowProblem(
                str(ecg),
                f"ecg_lead_order {leads!r}: "
                + (f"unknown lead names {unknown}; use {list(LEADS)}" if unknown else "a lead is named twice"),
            )
    fs = _option(row, "ecg_fs")
    fs_value = None
    if fs is not None:
        try:
            fs_value = float(fs)
        except ValueError:
            raise _RowProblem(str(ecg), f"ecg_fs {fs!r} is not a number") from None
        if not 50.0 <= fs_value <= 20000.0:
            raise _RowProblem(str(ecg), f"ecg_fs {fs!r} Hz is not a plausible ECG sampling rate (50..20000)")
    unit = _option(row, "ecg_unit") or "mV"
    if unit not in ECG_UNITS:
        raise _RowProblem(str(ecg), f"ecg_unit {unit!r} is not one of {list(ECG_UNITS)}")
    offsets = []
    for column in ("offset_row_mm", "offset_col_mm"):
        text = _option(row, column)
        try:
            value = 0.0 if text is None else float(text)
        except ValueError:
            raise _RowProblem(str(mri), f"{column} {text!r} is not a number") from None
        if not abs(value) <= 500.0:
            raise _RowProblem(str(mri), f"{column} {text!r} mm is not a plausible offset (|offset| <= 500)")
        offsets.append(value)
    return ManifestEntry(sid, line, mri, ecg, labels, lead_order, fs_value, unit, (offsets[0], offsets[1]))


def read_manifest(path: str | os.PathLike, *, allow_outside: bool = True) -> Manifest:
    """Read and check an import manifest (see the module docstring for what is fatal).

    ``allow_outside=False`` refuses (per subject) paths whose real location is outside
    the manifest's folder, through ``..``, absolute paths or symlinks.
    """
    path = Path(path).expanduser().absolute()
    _check_size(path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    frame = read_text_table(path, allow_nul=True)  # a NUL inside a path is reported for its subject
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise CohortError(
            f"missing required column(s) {missing}; a manifest has columns {list(REQUIRED_COLUMNS)} "
            f"and optionally {list(OPTIONAL_COLUMNS)}; found {list(frame.columns)[:20]}",
            path=path,
        )
    if len(frame) == 0:
        raise CohortError("the manifest lists no subjects", path=path)
    if len(frame) > MAX_ROWS:
        raise CohortError(f"the manifest has {len(frame):,} rows, more than {MAX_ROWS:,}", path=path)
    ids = [None if pd.isna(v) else str(v).strip() for v in frame["subject_id"]]
    _check_ids(ids, path)
    folder = path.parent
    real_folder = folder.resolve()
    entries, problems = [], {}
    for i, (sid, (_, row)) in enumerate(zip(ids, frame.iterrows())):
        try:
            entries.append(_entry(row, sid, i + 2, folder, real_folder, allow_outside))
        except _RowProblem as problem:
            problems[sid] = (problem.file, f"line {i + 2}: {problem.reason}")
    return Manifest(path=path, entries=entries, problems=problems, subject_ids=list(ids), sha256=sha)
