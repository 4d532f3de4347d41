"""Import users' files into a cohort store: manifest in, store out, a report of what failed.

Each subject's cine, labels and ECG are read and preprocessed in worker processes and
staged as one compressed ``.npz`` in a hidden folder beside the store
(``.NAME.zarr.import/``). A cancelled or crashed import keeps what it staged; a rerun
with ``resume=True`` skips every staged subject whose manifest row and files are
unchanged. Once all subjects are tried, the store is written from the staged subjects
(atomic rename; an existing store is replaced only with ``overwrite=True``), the
staging folder removed, and an :class:`ImportReport` returned. A subject whose files
cannot be read is reported with the file and the reason, and the others go on.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import math
import os
import shutil
import zipfile
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._atomic import replace_file
from ..cohort.cohort import Cohort, ColumnInfo
from ..cohort.errors import CohortError, StoreExistsError
from ..cohort.schema import ARRAYS
from ..cohort.store import is_cohort_store
from .manifest import Manifest, ManifestEntry, read_manifest
from .tables import JoinReport, join_phenotypes, read_table

__all__ = ["ImportReport", "import_cohort", "staging_path"]

Progress = Callable[[int, int], Any]  # (subjects done, total)
STATE_FILE = "import-state.json"
_STATE_FORMAT = "napari-latent-import"
_STATE_VERSION = 1

#: Per-subject columns measured during import: name -> (unit, description, role).
DERIVED_COLUMNS: dict[str, tuple[str, str, str]] = {
    "ecg_heart_rate": ("1/min", "Heart rate from the median RR interval of the imported rhythm strip", "derived"),
    "ecg_qrs_duration": ("ms", "QRS duration measured on the imported median beat", "derived"),
    "ecg_qt": ("ms", "QT interval measured on the imported median beat", "derived"),
    "ecg_fs": ("Hz", "Sampling rate of the original ECG file", "acquisition"),
    "ecg_seconds": ("s", "Duration of the original ECG recording", "acquisition"),
    "mri_frames": ("", "Frames in the original cine", "acquisition"),
    "mri_pixel_spacing_row_mm": ("mm", "Original pixel spacing between rows", "acquisition"),
    "mri_pixel_spacing_col_mm": ("mm", "Original pixel spacing between columns", "acquisition"),
    "mri_frame_interval_ms": ("ms", "Mean interval between original cine frames", "acquisition"),
    "mri_file": ("", "Real path of the imported cine", "source"),
    "ecg_file": ("", "Real path of the imported ECG", "source"),
    "labels_file": ("", "Real path of the imported labels", "source"),
}


def staging_path(out: str | os.PathLike) -> Path:
    """The hidden staging folder of an import into ``out``."""
    out = Path(out).expanduser().absolute()
    return out.parent / f".{out.name}.import"


# --------------------------------------------------------------------------- report
@dataclass
class ImportReport:
    """What an import did: the store, the imported ids and every failure with file and reason."""

    store: Path | None
    imported: list[str] = field(default_factory=list)
    failed: dict[str, tuple[str, str]] = field(default_factory=dict)
    skipped: int = 0  # subjects taken from the staging folder of an earlier, interrupted run
    join: JoinReport | None = None
    manifest: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.imported)

    def rows(self) -> list[dict[str, str]]:
        """One row a subject: subject_id, status (imported / failed), file, reason."""
        out = [{"subject_id": s, "status": "imported", "file": "", "reason": ""} for s in self.imported]
        out += [{"subject_id": s, "status": "failed", "file": f, "reason": r} for s, (f, r) in self.failed.items()]
        return out

    def __str__(self) -> str:
        total = len(self.imported) + len(self.failed)
        lines = [
            f"imported {len(self.imported)} of {total} subjects"
            + (f" ({self.skipped} resumed from an earlier run)" if self.skipped else "")
            + (f" into {self.store}" if self.store else ""),
        ]
        if self.failed:
            limit = 50
            items = list(self.failed.items())[:limit]
            width = [
                max(len("subject"), *(len(s) for s, _ in items)),
                max(len("file"), *(len(f) for _, (f, _) in items)),
            ]
            lines.append(f"{len(self.failed)} failed:")
            lines.append(f"  {'subject':<{width[0]}}  {'file':<{width[1]}}  reason")
            lines += [f"  {s:<{width[0]}}  {f:<{width[1]}}  {r}" for s, (f, r) in items]
            if len(self.failed) > limit:
                lines.append(f"  ... and {len(self.failed) - limit} more (write the full report with to_csv)")
        if self.join is not None:
            lines.append(str(self.join))
        lines += self.notes
        return "\n".join(lines)

    def to_csv(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write one row a subject (subject_id, status, file, reason); never replaces a file unless asked."""
        path = Path(path).expanduser()
        if path.exists() and not overwrite:
            raise CohortError("the report file already exists; pass overwrite=True to replace it", path=path)
        rows = self.rows()

        def write(tmp: Path) -> None:
            with open(tmp, "w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, fieldnames=["subject_id", "status", "file", "reason"])
                writer.writeheader()
                writer.writerows(rows)

        return replace_file(path, write)


# --------------------------------------------------------------------------- worker side
def _stage_file(staging: Path, subject_id: str) -> Path:
    return staging / f"{hashlib.sha256(subject_id.encode()).hexdigest()[:24]}.npz"


def _nan(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _measure(fn: Callable[[], float]) -> float:
    try:
        return float(fn())
    except (ValueError, FloatingPointError, IndexError):
        return float("nan")


def _read_subject(entry: ManifestEntry) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read and preprocess one subject; CohortError on anything wrong with its files."""
    from ..cohort.ecg_processing import heart_rate, qrs_duration, qt_interval
    from ..cohort.schema import ECG_FS
    from .cine_preprocess import preprocess_cine
    from .cine_readers import read_cine
    from .ecg_preprocess import standardise_ecg
    from .ecg_readers import read_ecg

    sid = entry.subject_id
    file = entry.mri
    try:
        cine = read_cine(entry.mri, subject=sid, labels=entry.labels)
        prepared = preprocess_cine(cine, subject=sid, offset=entry.offset_mm)
        file = entry.ecg
        record = read_ecg(entry.ecg, lead_order=entry.ecg_lead_order, fs=entry.ecg_fs, unit=entry.ecg_unit, subject=sid)
        ecg = standardise_ecg(record, subject=sid)
    except CohortError:
        raise
    except Exception as exc:  # a reader's library failed in a way it did not anticipate
        raise CohortError(f"{type(exc).__name__}: {exc}", path=file, subject=sid) from exc
    arrays = {"mri": prepared.mri, "ecg_median": ecg.median}
    if getattr(ecg, "rhythm", None) is not None:
        arrays["ecg_rhythm"] = ecg.rhythm
    if getattr(prepared, "labels", None) is not None:
        arrays["labels"] = prepared.labels
    for name, value in arrays.items():
        shape, dtype, _unit, _desc = ARRAYS[name]
        value = np.asarray(value)
        where = entry.ecg if name.startswith("ecg") else (entry.labels if name == "labels" else entry.mri)
        if value.shape != shape:
            raise CohortError(f"preprocessed {name} has shape {value.shape}, expected {shape}", path=where, subject=sid)
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise CohortError(f"preprocessed {name} contains NaN or infinite values", path=where, subject=sid)
        arrays[name] = value.astype(dtype, copy=False)
    spacing = cine.pixel_spacing_mm or (None, None)
    times = None if cine.frame_times_ms is None else np.asarray(cine.frame_times_ms, dtype=float)
    rhythm = arrays.get("ecg_rhythm")
    meta = {
        "ecg_heart_rate": _measure(lambda: heart_rate(rhythm, ECG_FS)) if rhythm is not None else math.nan,
        "ecg_qrs_duration": _measure(lambda: qrs_duration(arrays["ecg_median"])),
        "ecg_qt": _measure(lambda: qt_interval(arrays["ecg_median"])),
        "ecg_fs": float(record.fs),
        "ecg_seconds": float(record.duration_s),
        "mri_frames": int(cine.n_frames),
        "mri_pixel_spacing_row_mm": _nan(spacing[0]),
        "mri_pixel_spacing_col_mm": _nan(spacing[1]),
        "mri_frame_interval_ms": float(np.mean(np.diff(times))) if times is not None and times.size > 1 else math.nan,
        "mri_file": str(entry.mri),
        "ecg_file": str(entry.ecg),
        "labels_file": "" if entry.labels is None else str(entry.labels),
    }
    return arrays, meta


def _import_one(entry: ManifestEntry, staging: str) -> tuple[str, str | None, str]:
    """Read, preprocess and stage one subject: ``(subject, None, "")`` or ``(subject, file, reason)``."""
    sid = entry.subject_id
    try:
        arrays, meta = _read_subject(entry)
    except CohortError as exc:
        return sid, exc.path or str(entry.mri), exc.reason
    except MemoryError:
        return sid, str(entry.mri), "out of memory reading this subject's files"
    target = _stage_file(Path(staging), sid)
    replace_file(  # atomic: a staged file is always complete
        target,
        lambda tmp: np.savez_compressed(
            tmp, **arrays, _meta=np.array(json.dumps(meta)), _key=np.array(entry.key()), _id=np.array(sid)
        ),
    )
    return sid, None, ""


def _staged_key(path: Path) -> str | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            return str(data["_key"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # absent, truncated or not ours
        return None


def _load_staged(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files if k in ARRAYS}
        meta = json.loads(str(data["_meta"]))
    return arrays, meta


def _write_block(store_path: str, items: list[tuple[int, str]]) -> None:
    from ..cohort.store import write_subject_arrays

    for index, staged in items:
        arrays, _ = _load_staged(Path(staged))
        write_subject_arrays(store_path, index, arrays)


# --------------------------------------------------------------------------- staging folder
class _Staging:
    """The hidden folder of staged subjects and its state file."""

    def __init__(self, out: Path, manifest: Manifest, *, resume: bool):
        self.path = staging_path(out)
        state_file = self.path / STATE_FILE
        if self.path.exists():
            state = self._read_state(state_file)
            if state is None:
                raise CohortError(
                    "exists but is not a napari-latent import staging folder; move it away to import here",
                    path=self.path,
                )
            if not resume:
                shutil.rmtree(self.path)
        self.path.mkdir(parents=True, exist_ok=True)
        state = {
            "format": _STATE_FORMAT,
            "version": _STATE_VERSION,
            "manifest": str(manifest.path),
            "manifest_sha256": manifest.sha256,
            "store": str(out),
        }
        replace_file(state_file, lambda tmp: tmp.write_text(json.dumps(state, indent=1)))

    @staticmethod
    def _read_state(state_file: Path) -> dict | None:
        try:
            state = json.loads(state_file.read_text())
        except (OSError, ValueError):
            return None
        if (
            not isinstance(state, dict)
            or state.get("format") != _STATE_FORMAT
            or state.get("version") != _STATE_VERSION
        ):
            return None
        return state

    def file(self, entry: ManifestEntry) -> Path:
        return _stage_file(self.path, entry.subject_id)

    def is_done(self, entry: ManifestEntry) -> bool:
        return _staged_key(self.file(entry)) == entry.key()

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


# --------------------------------------------------------------------------- main
def _check_out(out: Path, overwrite: bool) -> None:
    if out.exists() or out.is_symlink():
        if not overwrite:
            raise StoreExistsError(
                "a store or file already exists here; pass overwrite=True (--overwrite) to replace a store", path=out
            )
        if not is_cohort_store(out):
            raise CohortError("exists and is not a cohort store; it is never replaced", path=out)


def _check_stop(should_stop: Callable[[], bool] | None, staging: _Staging) -> None:
    if should_stop is not None and should_stop():
        raise InterruptedError(f"import cancelled; finished subjects are kept in {staging.path}: rerun to resume")


def _pool(workers: int) -> contextlib.AbstractContextManager[ProcessPoolExecutor | None]:
    """A spawn-context process pool shared by both phases, or None to work in this process."""
    if workers <= 1:
        return contextlib.nullcontext(None)
    import multiprocessing as mp

    return ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"))


def _worker_died(staging: _Staging, exc: BaseException) -> CohortError:
    return CohortError(
        "a worker process died (a reader crashed or ran out of memory, or a script calling import_cohort "
        "lacks an 'if __name__ == \"__main__\":' guard, so each worker re-ran it); finished subjects are kept "
        f"in {staging.path}: rerun to resume, with workers=1 to see which subject's files crash it"
    )


def _run_subjects(
    todo: list[ManifestEntry],
    staging: _Staging,
    pool: ProcessPoolExecutor | None,
    on_result: Callable[[tuple[str, str | None, str]], None],
    should_stop: Callable[[], bool] | None,
) -> None:
    if pool is None or len(todo) <= 1:
        for entry in todo:
            _check_stop(should_stop, staging)
            on_result(_import_one(entry, str(staging.path)))
        return
    pending = {pool.submit(_import_one, entry, str(staging.path)) for entry in todo}
    try:
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for fut in done:
                on_result(fut.result())
            _check_stop(should_stop, staging)
    except BrokenProcessPool as exc:
        raise _worker_died(staging, exc) from exc
    finally:
        for fut in pending:  # cancelled or failed: queued subjects are not started
            fut.cancel()


def _write_store(
    out: Path,
    staged: list[Path],
    table: pd.DataFrame,
    columns: dict[str, ColumnInfo],
    attrs: dict[str, Any],
    arrays: tuple[str, ...],
    *,
    pool: ProcessPoolExecutor | None,
    overwrite: bool,
    staging: _Staging,
    should_stop: Callable[[], bool] | None,
) -> Cohort:
    """Write the staged subjects into a new store (in parallel when there are many) and commit it."""
    from ..cohort.store import CohortWriter

    items = [(i, str(p)) for i, p in enumerate(staged)]
    block = 32
    blocks = [items[s : s + block] for s in range(0, len(items), block)]
    with CohortWriter(out, len(staged), arrays=arrays, overwrite=overwrite) as writer:
        if pool is None or len(blocks) <= 2:
            for chunk in blocks:
                _check_stop(should_stop, staging)
                _write_block(str(writer.temp_path), chunk)
        else:
            futures = [pool.submit(_write_block, str(writer.temp_path), chunk) for chunk in blocks]
            try:
                for fut in futures:
                    _check_stop(should_stop, staging)
                    fut.result()
            except BrokenProcessPool as exc:
                raise _worker_died(staging, exc) from exc
            finally:
                for fut in futures:
                    fut.cancel()
        return writer.commit(table, columns=columns, attrs=attrs, overwrite=overwrite)


def _phenotypes(phenotypes: Any, id_column: str) -> tuple[pd.DataFrame, dict[str, ColumnInfo]] | None:
    if phenotypes is None:
        return None
    if isinstance(phenotypes, pd.DataFrame):
        if id_column not in phenotypes.columns:
            raise CohortError(f"the phenotype table has no {id_column!r} column")
        return phenotypes, {}
    return read_table(phenotypes, id_column=id_column)


def _table(
    man: Manifest,
    ok: list[ManifestEntry],
    staging: _Staging,
    pheno: tuple[pd.DataFrame, dict[str, ColumnInfo]] | None,
    id_column: str,
) -> tuple[pd.DataFrame, dict[str, ColumnInfo], JoinReport | None, tuple[str, ...], list[str]]:
    """The store's table (ids, measured metadata, joined phenotypes), its column info and arrays."""
    metas, names = [], None
    for entry in ok:
        arrays, meta = _load_staged(staging.file(entry))
        metas.append({"subject_id": entry.subject_id, **meta})
        names = set(arrays) if names is None else names & set(arrays)
    names = names or set()
    notes = []
    if "labels" not in names and any(e.labels is not None for e in ok):
        notes.append("labels were not stored: only some imported subjects have label files")
    table = pd.DataFrame(metas)
    columns = {"subject_id": ColumnInfo("", "Subject identifier", "id")}
    columns.update({k: ColumnInfo(*v) for k, v in DERIVED_COLUMNS.items()})
    join = None
    if pheno is not None:
        pheno_table, pheno_columns = pheno
        table, join = join_phenotypes(table, pheno_table, id_column=id_column)
        for old, info in pheno_columns.items():
            if old != id_column:
                columns[join.renamed.get(old, old)] = info
    return table, columns, join, tuple(n for n in ARRAYS if n in names), notes


def import_cohort(
    manifest: str | os.PathLike | Manifest,
    out: str | os.PathLike,
    *,
    phenotypes: str | os.PathLike | pd.DataFrame | None = None,
    id_column: str = "subject_id",
    workers: int | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    resume: bool = True,
    overwrite: bool = False,
) -> ImportReport:
    """Import the subjects a manifest lists into a new cohort store at ``out``.

    ``phenotypes`` (CSV/TSV/Parquet keyed by ``id_column``) is left-joined onto the
    imported subjects. ``workers`` processes read the files (default: all cores).
    ``progress(done, total)`` is called as subjects finish; ``should_stop()`` returning
    True cancels with :class:`InterruptedError`, leaving no store and a staging folder
    that a rerun resumes from (``resume=False`` starts over). Raises
    :class:`CohortError` for a bad manifest or phenotype table and when no subject can
    be imported; per-subject failures are in the returned :class:`ImportReport`.
    """
    out = Path(out).expanduser().absolute()
    _check_out(out, overwrite)
    man = manifest if isinstance(manifest, Manifest) else read_manifest(manifest)
    pheno = _phenotypes(phenotypes, id_column)  # a bad table fails before any work
    staging = _Staging(out, man, resume=resume)
    total = len(man)
    failed: dict[str, tuple[str, str]] = dict(man.problems)
    done_before = [e for e in man.entries if e.subject_id not in failed and staging.is_done(e)]
    skipped_ids = {e.subject_id for e in done_before}
    todo = [e for e in man.entries if e.subject_id not in skipped_ids]
    count = len(failed) + len(done_before)
    if progress is not None:
        progress(count, total)

    def on_result(result: tuple[str, str | None, str]) -> None:
        nonlocal count
        sid, file, reason = result
        if file is not None:
            failed[sid] = (file, reason)
        count += 1
        if progress is not None:
            progress(count, total)

    n_workers = max(1, min(workers or os.cpu_count() or 1, max(len(todo), 1)))
    with _pool(n_workers) as pool:
        _run_subjects(todo, staging, pool, on_result, should_stop)
        ok = [e for e in man.entries if e.subject_id not in failed]
        if not ok:
            staging.remove()
            shown = "; ".join(f"{s}: {f}: {r}" for s, (f, r) in list(failed.items())[:5])
            raise CohortError(f"no subject could be imported ({len(failed)} failed): {shown}", path=man.path)
        table, columns, join, present, notes = _table(man, ok, staging, pheno, id_column)
        attrs = {
            "source": {
                "importer": "napari_latent.io.import_cohort",
                "manifest": str(man.path),
                "manifest_sha256": man.sha256,
                "phenotypes": None if phenotypes is None or isinstance(phenotypes, pd.DataFrame) else str(phenotypes),
            }
        }
        staged = [staging.file(e) for e in ok]
        _write_store(
            out,
            staged,
            table,
            columns,
            attrs,
            present,
            pool=pool,
            overwrite=overwrite,
            staging=staging,
            should_stop=should_stop,
        )
    staging.remove()
    failed = {s: failed[s] for s in man.subject_ids if s in failed}  # manifest order
    return ImportReport(
        store=out,
        imported=[e.subject_id for e in ok],
        failed=failed,
        skipped=len(done_before),
        join=join,
        manifest=man.path,
        notes=notes,
    )
