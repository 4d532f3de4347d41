"""Phenotype tables: read CSV/TSV/Parquet with types and units, and join them onto a cohort.

Headers may carry units, ``"LVEDV [mL]"`` or ``"age (years)"``: the column is named
``LVEDV`` / ``age`` and the unit kept in its :class:`~napari_latent.cohort.ColumnInfo`.
Every value column is given the narrowest type that fits all its values: boolean
(yes/no, true/false, y/n, 0/1), numeric, date, categorical (few distinct strings) or text.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..cohort.cohort import ColumnInfo
from ..cohort.errors import CohortError

__all__ = ["MAX_TABLE_BYTES", "JoinReport", "join_phenotypes", "parse_header", "read_table", "read_text_table"]

MAX_TABLE_BYTES = 2 * 1024**3  # a phenotype table or manifest larger than this is refused unread
_SNIFF_BYTES = 8192
_TRUE = {"yes", "true", "y", "t", "1"}
_FALSE = {"no", "false", "n", "f", "0"}
_MAX_CATEGORIES = 50
_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?$|^\d{1,2}[/.]\d{1,2}[/.]\d{4}$")
_UNIT = re.compile(r"^(?P<name>.*?\S)\s*(?:\[(?P<b>[^\[\]]*)\]|\((?P<p>[^()]*)\))\s*$")
_DEMOGRAPHIC = {"age", "sex", "gender", "bmi", "height", "weight", "ethnicity", "race", "smoking", "smoker"}


def parse_header(header: str) -> tuple[str, str]:
    """``"LVEDV [mL]"`` -> ``("LVEDV", "mL")``; ``"age (years)"`` -> ``("age", "years")``; else no unit."""
    text = str(header).strip()
    match = _UNIT.match(text)
    if match is None:
        return text, ""
    unit = (match.group("b") if match.group("b") is not None else match.group("p")).strip()
    return match.group("name").strip(), unit


def _decode(raw: bytes, path: Path, *, allow_nul: bool = False) -> str:
    """Text of a table file: UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    else:
        if not allow_nul and b"\x00" in raw[:_SNIFF_BYTES]:
            raise CohortError("this is a binary file, not a CSV/TSV text table", path=path)
        encodings = ["utf-8-sig", "cp1252"]
    for encoding in encodings:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text and not allow_nul:
            raise CohortError("the table contains NUL characters: not a text table", path=path)
        return text
    raise CohortError(f"cannot decode the table as {' or '.join(encodings)} text; save it as UTF-8", path=path)


def _check_file(path: Path) -> None:
    if not path.exists():
        raise CohortError("no such file", path=path)
    if path.is_dir():
        raise CohortError("is a directory, not a table file", path=path)


def _read_bytes(path: Path) -> bytes:
    _check_file(path)
    try:
        size = path.stat().st_size
        if size > MAX_TABLE_BYTES:
            raise CohortError(
                f"the table is {size / 1024**3:.1f} GiB; at most {MAX_TABLE_BYTES / 1024**3:.0f} GiB is read", path=path
            )
        return path.read_bytes()
    except OSError as exc:
        raise CohortError(f"cannot read the file: {exc.strerror or exc}", path=path) from exc


def read_text_table(path: str | os.PathLike, *, sep: str | None = None, allow_nul: bool = False) -> pd.DataFrame:
    """A CSV/TSV file as a DataFrame of strings (empty cells NaN), header names stripped.

    NUL characters mark a binary file unless ``allow_nul`` (then they stay in the cells).

    Any problem (missing file, binary content, encoding, ragged rows, no header) is a
    :class:`CohortError` naming the file.
    """
    path = Path(path)
    text = _decode(_read_bytes(path), path, allow_nul=allow_nul)
    if not text.strip():
        raise CohortError("the table is empty", path=path)
    if sep is None:
        sep = "\t" if path.suffix.lower() in (".tsv", ".tab") else _sniff_separator(text)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skipinitialspace=True,
            engine="python" if len(sep) > 1 else "c",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as exc:
        raise CohortError(f"cannot parse the table: {_first_line(exc)}", path=path) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    unnamed = [c for c in frame.columns if re.fullmatch(r"Unnamed: \d+", c) and frame[c].isna().all()]
    return frame.drop(columns=unnamed)  # trailing separators, as spreadsheets write them


def _sniff_separator(text: str) -> str:
    """Comma unless the header line clearly uses tabs or semicolons instead."""
    header = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    counts = {s: header.count(s) for s in (",", "\t", ";")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] > counts[","] else ","


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    _check_file(path)
    try:
        return pq.read_table(path).to_pandas()
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for broken files
        raise CohortError(f"cannot read the Parquet table: {_first_line(exc)}", path=path) from exc


def _id_strings(values: pd.Series) -> pd.Series:
    """Ids as stripped strings; integral floats (1001.0 from Parquet) lose the ``.0``."""
    if pd.api.types.is_float_dtype(values) and values.dropna().apply(float.is_integer).all():
        values = values.astype("Int64")
    out = values.astype(object).where(values.notna(), None)
    return pd.Series([None if v is None else str(v).strip() for v in out], index=values.index, dtype=object)


def _infer(values: pd.Series) -> pd.Series:
    """The narrowest type of a column read as strings (or typed already, from Parquet)."""
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return values
    present = values.dropna().astype(str).str.strip()
    present = present[present != ""]
    if present.empty:
        return pd.Series(np.nan, index=values.index, dtype=float)
    lower = present.str.lower()
    if lower.isin(_TRUE | _FALSE).all() and lower.nunique() <= 2:
        mapped = lower.isin(_TRUE).reindex(values.index)
        if len(present) == len(values):
            return mapped.astype(bool)
        return pd.Series(mapped.where(values.index.isin(present.index)), index=values.index).astype("boolean")
    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.notna().all():
        full = pd.Series(np.nan, index=values.index, dtype=float)
        full[present.index] = numbers.astype(float)
        if (full.dropna() % 1 == 0).all() and len(present) == len(values) and np.abs(full).max() < 2**53:
            return full.astype(np.int64)
        return full
    if present.str.match(_DATE).all():
        try:
            dates = pd.to_datetime(present, format="mixed", dayfirst=not present.str.contains("-").any())
        except (ValueError, OverflowError, TypeError):
            dates = None
        if dates is not None:
            full = pd.Series(pd.NaT, index=values.index, dtype=dates.dtype)
            full[present.index] = dates
            return full
    text = pd.Series(None, index=values.index, dtype=object)
    text[present.index] = present
    if present.nunique() <= min(_MAX_CATEGORIES, max(2, len(present) // 2)):
        return text.astype("category")
    return text


def _role(name: str, values: pd.Series) -> str:
    if name.lower() in _DEMOGRAPHIC:
        return "demographic"
    if pd.api.types.is_bool_dtype(values):
        return "condition"
    return "phenotype"


def read_table(path: str | os.PathLike, *, id_column: str = "subject_id") -> tuple[pd.DataFrame, dict[str, ColumnInfo]]:
    """Read a CSV, TSV or Parquet phenotype table: typed columns, units from the headers.

    Returns the table (``id_column`` first, as str) and a ``ColumnInfo`` per column.
    Raises :class:`CohortError` naming the file for an unreadable table, a missing id
    column, empty or duplicate ids, or two headers that name the same column.
    """
    path = Path(path).expanduser()
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        raw = _read_parquet(path)
    else:
        raw = read_text_table(path)
    names, units = {}, {}
    for header in raw.columns:
        name, unit = parse_header(str(header))
        if name in names.values():
            first = next(h for h, n in names.items() if n == name)
            raise CohortError(f"columns {first!r} and {header!r} both name column {name!r}", path=path)
        names[header], units[name] = name, unit
    raw = raw.rename(columns=names)
    if id_column not in raw.columns:
        raise CohortError(
            f"no {id_column!r} column; the columns are {list(raw.columns)[:20]}: name the subject id column "
            "in the import dialog's 'id column' field (--id-column on the command line, id_column= in Python)",
            path=path,
        )
    ids = _id_strings(raw[id_column])
    empty = ids.isna() | (ids == "")
    if empty.any():
        rows = [int(i) + 2 for i in np.flatnonzero(empty.to_numpy())[:5]]
        raise CohortError(f"empty {id_column!r} on line(s) {rows}", path=path)
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        shown = list(dict.fromkeys(dup))
        raise CohortError(
            f"duplicate ids in {id_column!r}: {', '.join(shown[:10])}"
            + (f" and {len(shown) - 10} more" if len(shown) > 10 else ""),
            path=path,
            subject=shown[0],
        )
    table = pd.DataFrame({id_column: ids.astype(object)})
    columns = {id_column: ColumnInfo(units.get(id_column, ""), "Subject identifier", "id")}
    for name in raw.columns:
        if name == id_column:
            continue
        values = _infer(raw[name])
        table[name] = values.reset_index(drop=True)
        columns[name] = ColumnInfo(units[name], "", _role(name, values))
    return table, columns


@dataclass
class JoinReport:
    """How a phenotype table matched the cohort's subjects."""

    n_subjects: int
    n_matched: int
    only_in_table: list[str] = field(default_factory=list)
    without_phenotypes: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [f"phenotypes matched {self.n_matched} of {self.n_subjects} subjects"]
        for label, ids in (
            ("in the table but not in the cohort", self.only_in_table),
            ("cohort subjects without phenotypes", self.without_phenotypes),
        ):
            if ids:
                shown = ", ".join(ids[:10]) + (f" ... ({len(ids) - 10} more)" if len(ids) > 10 else "")
                lines.append(f"  {len(ids)} {label}: {shown}")
        for old, new in self.renamed.items():
            lines.append(f"  phenotype column {old!r} renamed {new!r} (the cohort already has {old!r})")
        return "\n".join(lines)


def join_phenotypes(
    subjects: pd.DataFrame | Iterable[str], table: pd.DataFrame, *, id_column: str = "subject_id"
) -> tuple[pd.DataFrame, JoinReport]:
    """Left-join ``table`` (keyed by ``id_column``) onto the cohort's ``subjects``.

    ``subjects`` is the cohort table (with ``subject_id``) or its ids. The result keeps the
    cohort's rows and order; a phenotype column whose name the cohort already uses gets a
    ``_phenotype`` suffix. Ids are compared as stripped strings.
    """
    if isinstance(subjects, pd.DataFrame):
        if "subject_id" not in subjects.columns:
            raise CohortError("the cohort table has no 'subject_id' column")
        base = subjects.reset_index(drop=True).copy()
    else:
        base = pd.DataFrame({"subject_id": list(subjects)})
    base["subject_id"] = [str(s) for s in base["subject_id"]]
    if id_column not in table.columns:
        raise CohortError(f"the phenotype table has no {id_column!r} column; it has {list(table.columns)[:20]}")
    pheno = table.reset_index(drop=True).copy()
    pheno[id_column] = _id_strings(pheno[id_column])
    if pheno[id_column].duplicated().any():
        dup = list(dict.fromkeys(pheno[id_column][pheno[id_column].duplicated()]))
        raise CohortError(f"duplicate ids in the phenotype table: {', '.join(map(str, dup[:10]))}", subject=dup[0])
    renamed = {}
    for col in pheno.columns:
        if col != id_column and col in base.columns:
            new = f"{col}_phenotype"
            while new in base.columns or new in pheno.columns:
                new += "_"
            renamed[col] = new
    pheno = pheno.rename(columns=renamed).rename(columns={id_column: "subject_id"})
    cohort_ids, table_ids = set(base["subject_id"]), set(pheno["subject_id"])
    joined = base.merge(pheno, on="subject_id", how="left", sort=False, validate="one_to_one")
    for col in pheno.columns:  # subjects without phenotypes: keep booleans boolean (nullable)
        if pd.api.types.is_bool_dtype(pheno[col]) and not pd.api.types.is_bool_dtype(joined[col]):
            joined[col] = joined[col].astype("boolean")
    report = JoinReport(
        n_subjects=len(base),
        n_matched=int(base["subject_id"].isin(table_ids).sum()),
        only_in_table=[s for s in pheno["subject_id"] if s not in cohort_ids],
        without_phenotypes=[s for s in base["subject_id"] if s not in table_ids],
        renamed=renamed,
    )
    return joined, report
