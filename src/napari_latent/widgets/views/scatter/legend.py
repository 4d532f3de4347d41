"""What the legend and the hover label say, computed from the subjects table (no drawing)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ...plots.colouring import ColumnColours
from .overlays import LegendEntry

__all__ = ["KEY_COLUMNS", "column_title", "legend_entries", "map_title", "subject_summary", "subtitle"]

#: Columns the hover label shows besides the colour-by column, when the table has them.
KEY_COLUMNS = ("age", "sex", "bmi", "ef")


def legend_entries(
    table: pd.DataFrame, column: str | None, colours: ColumnColours, mask: np.ndarray | None
) -> tuple[list[LegendEntry], np.ndarray | None]:
    """Legend rows of a categorical colouring and each subject's row (-1: missing).

    Counts are subjects per category; ``selected`` counts those in ``mask`` (None: no selection).
    """
    if column is None or colours.kind != "categorical":
        return [], None
    series = table[column]
    text = series.astype("object").where(series.notna(), None).map(lambda v: None if v is None else str(v))
    codes = np.full(len(table), -1, np.int64)
    labels = [label for label, _ in colours.categories]
    for i, label in enumerate(labels):
        if label == "other" and i == len(labels) - 1:
            codes[(codes == -1) & series.notna().to_numpy()] = i
        else:
            codes[(text == label).to_numpy()] = i
    counts = np.bincount(codes[codes >= 0], minlength=len(labels))
    selected = None
    if mask is not None and mask.any():
        selected = np.bincount(codes[mask & (codes >= 0)], minlength=len(labels))
    entries = [
        LegendEntry(label, tuple(colour), int(counts[i]), None if selected is None else int(selected[i]))
        for i, (label, colour) in enumerate(colours.categories)
    ]
    return entries, codes


def _format(value: object) -> str:
    if isinstance(value, float | np.floating):
        return "–" if not np.isfinite(value) else f"{value:.4g}"
    return str(value)


def subject_summary(table: pd.DataFrame, index: int | None, column: str | None) -> str:
    """Multi-line hover text: subject id, the colour-by column's value, then key columns."""
    if index is None or not 0 <= index < len(table):
        return ""
    row = table.iloc[int(index)]
    shown = [c for c in (column, *KEY_COLUMNS) if c is not None and c in table.columns and c != "subject_id"]
    lines = [f"{row['subject_id']}  (#{index})"]
    lines += [f"{c}: {_format(row[c])}" for c in dict.fromkeys(shown)]
    return "\n".join(lines)


def map_title(space: str, result: Any, streaming: tuple[int, int] | None) -> str:
    """``"fused latent · PCA · 31% + 12% of variance"``, or the t-SNE iteration while streaming."""
    from .compute import METHOD_LABELS

    method = "" if result is None else METHOD_LABELS.get(result.method, result.method)
    if streaming is not None:
        iteration, total = streaming
        method = f"t-SNE · iteration {iteration}" + (f" / {total}" if total else "")
    elif result is not None and result.method == "pca" and "explained_variance_ratio" in result.info:
        evr = result.info["explained_variance_ratio"]
        method += f" · {100 * evr[0]:.0f}% + {100 * evr[1]:.0f}% of variance"
    return f"{space} latent" + (f" · {method}" if method else "")


def subtitle(n: int, selected: int) -> str:
    """``"24 subjects · 5 selected"`` (empty when there are no points)."""
    if not n:
        return ""
    return f"{n:,} subjects" + (f" · {selected:,} selected" if selected else "")


def column_title(columns: dict[str, Any], column: str | None) -> str:
    """A column's name with its unit from the cohort's column metadata: ``"lvedv (mL)"``.

    A dimensionless column (unit ``"1"``, e.g. the ejection fraction) shows its description
    instead of a unit: ``"ef · LV ejection fraction"``.
    """
    if column is None:
        return ""
    info = columns.get(column)
    unit = str(getattr(info, "unit", "") or "").strip()
    if unit in {"", "1"}:
        description = str(getattr(info, "description", "") or "").strip()
        return f"{column} · {description}" if description and description != column else column
    return f"{column} ({unit})"
