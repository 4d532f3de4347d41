"""The Cohort: a subjects table plus per-subject ECG and cine arrays, validated."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import CohortError
from .schema import ARRAYS, ECG_UNIT, LEADS, REQUIRED_ARRAYS

__all__ = ["Cohort", "ColumnInfo", "Subject"]

_UNIT_SCALE = {"mV": 1.0, "uV": 1e-3, "µV": 1e-3, "V": 1e3}


@dataclass(frozen=True)
class ColumnInfo:
    """Metadata of one table column."""

    unit: str = ""
    description: str = ""
    role: str = ""  # "demographic", "condition", "shared", "ecg", "mri", "derived", ...

    def to_dict(self) -> dict[str, str]:
        return {"unit": self.unit, "description": self.description, "role": self.role}


@dataclass
class Subject:
    """One subject's table row and arrays, loaded into memory."""

    subject_id: str
    index: int
    row: dict[str, Any]
    ecg_median: np.ndarray
    mri: np.ndarray
    ecg_rhythm: np.ndarray | None = None
    labels: np.ndarray | None = None


@dataclass
class Cohort:
    """N subjects: a table (one row a subject) and arrays indexed by row.

    Arrays are NumPy arrays in memory or Zarr arrays read lazily from a store; either
    way ``cohort.read(name, indices)`` returns a NumPy batch. Shapes per subject are
    fixed by :mod:`napari_latent.cohort.schema`; ECG in mV, leads in ``LEADS`` order.
    """

    subjects: pd.DataFrame
    ecg_median: Any
    mri: Any
    ecg_rhythm: Any = None
    labels: Any = None
    columns: dict[str, ColumnInfo] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def __post_init__(self) -> None:
        self.subjects = self.subjects.reset_index(drop=True)
        self._index: dict[str, int] | None = None
        self.validate()
        if self.subjects["subject_id"].dtype != object or not all(isinstance(s, str) for s in self.subjects["subject_id"]):
            self.subjects["subject_id"] = self.subjects["subject_id"].astype(str)

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_arrays(
        cls,
        subjects: pd.DataFrame,
        *,
        ecg_median: np.ndarray,
        mri: np.ndarray,
        ecg_rhythm: np.ndarray | None = None,
        labels: np.ndarray | None = None,
        leads: Iterable[str] = LEADS,
        ecg_unit: str = ECG_UNIT,
        columns: Mapping[str, ColumnInfo] | None = None,
        attrs: Mapping[str, Any] | None = None,
    ) -> Cohort:
        """An in-memory cohort; ECG leads are reordered to ``LEADS`` and scaled to mV, dtypes as the schema."""
        leads = tuple(leads)
        if sorted(leads) != sorted(LEADS) or len(leads) != len(LEADS):
            unknown = sorted(set(leads) - set(LEADS))
            missing = sorted(set(LEADS) - set(leads))
            raise CohortError(
                f"unknown lead order {list(leads)}: expected the 12 leads {list(LEADS)}"
                + (f"; unknown {unknown}" if unknown else "")
                + (f"; missing {missing}" if missing else "")
            )
        if ecg_unit not in _UNIT_SCALE:
            raise CohortError(f"ECG unit {ecg_unit!r} is not one of {sorted(_UNIT_SCALE)}")
        order = [leads.index(name) for name in LEADS]
        scale = _UNIT_SCALE[ecg_unit]

        def ecg(a: np.ndarray | None) -> np.ndarray | None:
            if a is None:
                return None
            a = np.asarray(a)
            if a.ndim == 3 and a.shape[1] == len(LEADS):
                a = a[:, order]
            return a * scale if scale != 1.0 else a

        def cast(name: str, a: np.ndarray | None) -> np.ndarray | None:
            """The schema's dtype, so in-memory and stored cohorts hold the same bytes."""
            return None if a is None else np.asarray(a).astype(ARRAYS[name][1], copy=False)

        info = {k: (v if isinstance(v, ColumnInfo) else ColumnInfo(**v)) for k, v in (columns or {}).items()}
        return cls(
            subjects=subjects,
            ecg_median=cast("ecg_median", ecg(ecg_median)),
            mri=cast("mri", mri),
            ecg_rhythm=cast("ecg_rhythm", ecg(ecg_rhythm)),
            labels=cast("labels", labels),
            columns=info,
            attrs=dict(attrs or {}),
        )

    # ----------------------------------------------------------------- validation
    def validate(self, *, deep: bool = False) -> None:
        """Check the table and array shapes; ``deep`` also scans arrays for NaN/inf.

        Raises :class:`CohortError` naming the file, the subject and what is wrong.
        """
        where = self.path
        table = self.subjects
        if "subject_id" not in table.columns:
            raise CohortError("the subjects table has no 'subject_id' column", path=where)
        ids = table["subject_id"]
        if ids.isna().any():
            row = int(np.flatnonzero(ids.isna().to_numpy())[0])
            raise CohortError(f"row {row} has an empty subject_id", path=where)
        ids = ids.astype(str)
        dup = ids[ids.duplicated()]
        if len(dup):
            raise CohortError(
                f"duplicate subject ids: {', '.join(map(str, dup.unique()[:5]))}", path=where, subject=dup.iloc[0]
            )
        n = len(table)
        for name, (shape, _dtype, _unit, _desc) in ARRAYS.items():
            arr = getattr(self, name)
            if arr is None:
                if name in REQUIRED_ARRAYS:
                    raise CohortError(f"the cohort has no {name} array", path=where)
                continue
            expected = (n, *shape)
            if tuple(arr.shape) != expected:
                raise CohortError(
                    f"{name} has shape {tuple(arr.shape)}, expected {expected} "
                    f"({n} subjects x {' x '.join(map(str, shape))})",
                    path=where,
                )
        leads = self.attrs.get("leads")
        if leads is not None and tuple(leads) != LEADS:
            raise CohortError(f"unknown lead order {list(leads)}: expected {list(LEADS)}", path=where)
        unit = self.attrs.get("ecg_unit", ECG_UNIT)
        if unit != ECG_UNIT:
            raise CohortError(f"ECG unit is {unit!r}, expected {ECG_UNIT!r}", path=where)
        if deep:
            self._validate_values()

    def _validate_values(self, batch: int = 64) -> None:
        for name in ARRAYS:
            if getattr(self, name) is None:
                continue
            for start in range(0, len(self), batch):
                block = self.read(name, slice(start, min(start + batch, len(self))))
                flat = block.reshape(len(block), -1)
                bad = ~np.isfinite(flat).all(axis=1) if flat.dtype.kind == "f" else np.zeros(len(flat), bool)
                if bad.any():
                    i = start + int(np.flatnonzero(bad)[0])
                    raise CohortError(f"{name} contains NaN or infinite values", path=self.path, subject=self.ids[i])
                if name.startswith("ecg"):
                    peak = np.abs(flat).max(axis=1)
                    if (peak > 50).any():
                        i = start + int(np.flatnonzero(peak > 50)[0])
                        raise CohortError(
                            f"{name} peaks at {float(peak[i - start]):.0f} mV: values look like microvolts, "
                            "give ecg_unit='uV'",
                            path=self.path,
                            subject=self.ids[i],
                        )

    # ----------------------------------------------------------------- access
    def __len__(self) -> int:
        return len(self.subjects)

    def __repr__(self) -> str:
        arrays = [n for n in ARRAYS if getattr(self, n) is not None]
        where = f", path={str(self.path)!r}" if self.path else ""
        return f"Cohort({len(self)} subjects, arrays={arrays}{where})"

    @property
    def ids(self) -> np.ndarray:
        """Subject ids as an object array of str."""
        return self.subjects["subject_id"].astype(str).to_numpy(dtype=object)

    @property
    def array_names(self) -> tuple[str, ...]:
        """Names of the arrays this cohort holds."""
        return tuple(n for n in ARRAYS if getattr(self, n) is not None)

    def index_of(self, subject_id: object) -> int:
        """Row index of a subject id; raises KeyError with the id if unknown."""
        if self._index is None:
            self._index = {sid: i for i, sid in enumerate(self.ids)}
        try:
            return self._index[str(subject_id)]
        except KeyError:
            raise KeyError(f"no subject {subject_id!r} in {self!r}") from None

    def read(self, name: str, indices: slice | int | Iterable[int]) -> np.ndarray:
        """Read array ``name`` for a slice, one index or a list of indices (any order)."""
        arr = getattr(self, name, None)
        if arr is None or name not in ARRAYS:
            raise KeyError(f"{self!r} has no array {name!r}")
        if isinstance(indices, slice | int | np.integer):
            return np.asarray(arr[indices])
        idx = np.asarray(list(indices) if not isinstance(indices, np.ndarray) else indices, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            raise IndexError(f"subject index out of range 0..{len(self) - 1}")
        if isinstance(arr, np.ndarray):
            return arr[idx]
        uniq, inverse = np.unique(idx, return_inverse=True)
        return np.asarray(arr.oindex[uniq])[inverse]

    def subject(self, key: int | str) -> Subject:
        """One subject, by row index (int) or subject id (str)."""
        i = key if isinstance(key, int | np.integer) else self.index_of(key)
        i = int(i)
        if not 0 <= i < len(self):
            raise IndexError(f"subject index {i} out of range 0..{len(self) - 1}")
        arrays = {n: self.read(n, i) for n in self.array_names}
        row = self.subjects.iloc[i].to_dict()
        return Subject(subject_id=str(row["subject_id"]), index=i, row=row, **arrays)

    def fingerprint(self, batch: int = 64) -> str:
        """A 16-hex-digit SHA-256 over the table and every array (the store keeps it as ``data_hash``)."""
        if "data_hash" in self.attrs:
            return str(self.attrs["data_hash"])
        h = hashlib.sha256()
        h.update(pd.util.hash_pandas_object(self.subjects, index=False).to_numpy().tobytes())
        for name in self.array_names:
            h.update(name.encode())
            for start in range(0, len(self), batch):
                h.update(np.ascontiguousarray(self.read(name, slice(start, min(start + batch, len(self))))).tobytes())
        return h.hexdigest()[:16]
