"""The cohort store: one Zarr v3 group (chunk = one subject) with the table as Parquet inside.

Layout of ``NAME.zarr/``::

    zarr.json          group attributes: {"napari_latent": {schema_version, n_subjects, leads, ...}}
    ecg_median/        (N, 12, 600)     float32 mV
    mri/               (N, 50, 96, 96)  float16 0..1
    ecg_rhythm/        (N, 12, 5000)    float32 mV   (optional)
    labels/            (N, 50, 96, 96)  uint8        (optional)
    subjects.parquet   one row a subject; column units/descriptions in the schema metadata

Opening reads the table and array metadata only. Writing goes to a hidden temporary
directory beside the target that is renamed into place on :meth:`CohortWriter.commit`;
an existing store is never replaced unless ``overwrite=True``.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._atomic import replace_dir
from .cohort import Cohort, ColumnInfo
from .errors import CohortError, StoreExistsError
from .schema import ARRAYS, ECG_FS, ECG_UNIT, LEADS, MRI_PIXEL_SPACING_MM, REQUIRED_ARRAYS, SCHEMA_VERSION

__all__ = ["open_cohort", "write_cohort", "CohortWriter", "is_cohort_store", "TABLE_FILE", "ATTRS_KEY"]

TABLE_FILE = "subjects.parquet"
ATTRS_KEY = "napari_latent"
_COLUMNS_META = b"napari_latent.columns"


def is_cohort_store(path: str | os.PathLike) -> bool:
    """True if ``path`` looks like a cohort store (a directory with zarr.json and the table)."""
    p = Path(path)
    return p.is_dir() and (p / "zarr.json").is_file() and (p / TABLE_FILE).is_file()


def open_cohort(path: str | os.PathLike, *, validate: bool = True) -> Cohort:
    """Open a store lazily: the table is read, arrays stay on disk until indexed."""
    import zarr

    p = Path(path).expanduser()
    if not p.exists():
        raise CohortError("no such cohort store", path=p)
    if not is_cohort_store(p):
        raise CohortError(f"not a cohort store (expected a directory with zarr.json and {TABLE_FILE})", path=p)
    try:
        group = zarr.open_group(p, mode="r")
    except Exception as exc:  # zarr raises several types for broken metadata
        raise CohortError(f"cannot read the Zarr group: {exc}", path=p) from exc
    attrs = dict(group.attrs.get(ATTRS_KEY, {}))
    version = attrs.get("schema_version")
    if version is None:
        raise CohortError(f"the Zarr group has no '{ATTRS_KEY}' attributes: not written by napari-latent", path=p)
    if int(version) > SCHEMA_VERSION:
        raise CohortError(
            f"schema version {version} is newer than this napari-latent reads ({SCHEMA_VERSION}); upgrade napari-latent",
            path=p,
        )
    table, columns = _read_table(p / TABLE_FILE)
    arrays: dict[str, Any] = {}
    for name in ARRAYS:
        if (p / name / "zarr.json").is_file():
            try:
                arrays[name] = zarr.open_array(p / name, mode="r")
            except Exception as exc:
                raise CohortError(f"cannot read array {name!r}: {exc}", path=p / name) from exc
        elif name in REQUIRED_ARRAYS:
            raise CohortError(f"the store has no {name!r} array", path=p)
    n = attrs.get("n_subjects")
    if n is not None and int(n) != len(table):
        raise CohortError(f"the table has {len(table)} rows but the store holds {n} subjects", path=p / TABLE_FILE)
    cohort = Cohort.__new__(Cohort)  # set path before validation so errors name the file
    cohort.subjects, cohort.columns, cohort.attrs, cohort.path = table, columns, attrs, p
    for name in ARRAYS:
        setattr(cohort, name, arrays.get(name))
    cohort._index = None
    if validate:
        cohort.validate()
    return cohort


def _read_table(path: Path) -> tuple[pd.DataFrame, dict[str, ColumnInfo]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise CohortError(f"cannot read the subjects table: {exc}", path=path) from exc
    meta = table.schema.metadata or {}
    columns = {}
    if _COLUMNS_META in meta:
        columns = {k: ColumnInfo(**v) for k, v in json.loads(meta[_COLUMNS_META]).items()}
    return table.to_pandas(), columns


def _write_table(path: Path, table: pd.DataFrame, columns: Mapping[str, ColumnInfo]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    tab = pa.Table.from_pandas(table.reset_index(drop=True), preserve_index=False)
    meta = dict(tab.schema.metadata or {})
    meta[_COLUMNS_META] = json.dumps({k: v.to_dict() for k, v in columns.items()}).encode()
    pq.write_table(tab.replace_schema_metadata(meta), path)


class CohortWriter:
    """Write a store subject by subject, then :meth:`commit` it atomically into place.

    Subjects can be written in any order and from several processes (each subject is
    its own chunk): pass ``writer.temp_path`` to workers and call
    :func:`write_subject_arrays` there. Use as a context manager: an exception aborts
    and removes the temporary directory, leaving any existing store untouched. With a
    ``partial_path`` the temporary store has a fixed place, is kept when writing stops
    (an error, Ctrl+C) and is reopened by the next writer given the same path.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        n_subjects: int,
        *,
        arrays: Iterable[str] = ("ecg_median", "mri", "ecg_rhythm", "labels"),
        overwrite: bool = False,
        partial_path: str | os.PathLike | None = None,
    ):
        import zarr
        from zarr.codecs import BloscCodec

        self.path = Path(path).expanduser().absolute()
        if self.path.exists() and not overwrite:
            raise StoreExistsError("a store already exists here; pass overwrite=True to replace it", path=self.path)
        if n_subjects < 1:
            raise CohortError(f"a cohort needs at least one subject, got {n_subjects}", path=self.path)
        self.arrays = tuple(arrays)
        unknown = set(self.arrays) - set(ARRAYS)
        if unknown or not set(REQUIRED_ARRAYS) <= set(self.arrays):
            raise CohortError(f"arrays {self.arrays} must include {REQUIRED_ARRAYS} and only names of {tuple(ARRAYS)}")
        self.n_subjects = int(n_subjects)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.resumable = partial_path is not None  # kept on errors and interrupts, to be resumed
        if self.resumable and Path(partial_path).exists():
            self.temp_path = Path(partial_path)
            self._done = False
            return
        self.temp_path = Path(partial_path) if self.resumable else self.path.parent / f".{self.path.name}.tmp-{uuid.uuid4().hex[:8]}"
        group = zarr.open_group(self.temp_path, mode="w-")
        for name in self.arrays:
            shape, dtype, unit, desc = ARRAYS[name]
            fill = np.nan if np.dtype(dtype).kind == "f" else 0
            group.create_array(
                name,
                shape=(self.n_subjects, *shape),
                chunks=(1, *shape),
                dtype=dtype,
                fill_value=fill,
                compressors=BloscCodec(cname="zstd", clevel=3, shuffle="shuffle"),
                attributes={"unit": unit, "description": desc},
            )
        self._done = False

    def write(self, index: int, **arrays: np.ndarray) -> None:
        """Write one subject's arrays (validated) at row ``index``."""
        write_subject_arrays(self.temp_path, index, arrays)

    def commit(
        self,
        subjects: pd.DataFrame,
        *,
        columns: Mapping[str, ColumnInfo] | None = None,
        attrs: Mapping[str, Any] | None = None,
        overwrite: bool = False,
        validate: bool = True,
    ) -> Cohort:
        """Write the table and attributes, check every subject, and rename the store into place.

        ``validate=False`` skips reading every subject back (and so the stored content hash).
        """
        import zarr

        if self._done:
            raise RuntimeError("this writer has already been committed or aborted")
        if len(subjects) != self.n_subjects:
            raise CohortError(f"the table has {len(subjects)} rows, the store {self.n_subjects} subjects", path=self.path)
        _write_table(self.temp_path / TABLE_FILE, subjects, dict(columns or {}))
        group = zarr.open_group(self.temp_path, mode="r+")
        meta = {
            "schema_version": SCHEMA_VERSION,
            "n_subjects": self.n_subjects,
            "leads": list(LEADS),
            "ecg_fs": ECG_FS,
            "ecg_unit": ECG_UNIT,
            "mri_pixel_spacing_mm": MRI_PIXEL_SPACING_MM,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            **dict(attrs or {}),
        }
        group.attrs[ATTRS_KEY] = meta
        cohort = open_cohort(self.temp_path, validate=True)
        if validate:  # every subject written and finite; then the content hash checkpoints refer to
            cohort.validate(deep=True)
            meta["data_hash"] = cohort.fingerprint()
            group.attrs[ATTRS_KEY] = meta
        replace_dir(
            self.temp_path,
            self.path,
            overwrite=overwrite,
            exists_error=lambda p: StoreExistsError("a store already exists here; pass overwrite=True to replace it", path=p),
        )
        self._done = True
        return open_cohort(self.path)

    def abort(self) -> None:
        """Remove the temporary directory; the target path is untouched."""
        if not self._done:
            shutil.rmtree(self.temp_path, ignore_errors=True)
            self._done = True

    def __enter__(self) -> CohortWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.resumable and exc_type is not None:
            return  # a resumable write keeps what it has written
        if exc_type is not None or not self._done:
            self.abort()


def write_subject_arrays(store_path: str | os.PathLike, index: int, arrays: Mapping[str, np.ndarray]) -> None:
    """Validate and write one subject's arrays into an open (temporary) store."""
    import zarr

    group = zarr.open_group(store_path, mode="r+")
    for name, value in arrays.items():
        if name not in ARRAYS:
            raise CohortError(f"unknown array {name!r}; expected one of {tuple(ARRAYS)}", path=store_path)
        shape, dtype, _unit, _desc = ARRAYS[name]
        value = np.asarray(value)
        if value.shape != shape:
            raise CohortError(f"{name} has shape {value.shape}, expected {shape}", path=store_path, subject=index)
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise CohortError(f"{name} contains NaN or infinite values", path=store_path, subject=index)
        group[name][index] = value.astype(dtype, copy=False)


def write_cohort(cohort: Cohort, path: str | os.PathLike, *, overwrite: bool = False, batch: int = 32) -> Cohort:
    """Write a cohort (in memory or another store) to a new store at ``path``."""
    with CohortWriter(path, len(cohort), arrays=cohort.array_names, overwrite=overwrite) as writer:
        for start in range(0, len(cohort), batch):
            stop = min(start + batch, len(cohort))
            block = {n: cohort.read(n, slice(start, stop)) for n in cohort.array_names}
            for i in range(start, stop):
                writer.write(i, **{n: a[i - start] for n, a in block.items()})
        attrs = {k: v for k, v in cohort.attrs.items() if k not in ("data_hash", "created", "n_subjects")}
        return writer.commit(cohort.subjects, columns=cohort.columns, attrs=attrs, overwrite=overwrite)
