"""Benchmark rows and the report: JSON and a Markdown table, written without overwriting anything."""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["STATUSES", "BenchReport", "BenchRow"]

#: What a row's ``status`` may be; every status but "ok" comes with ``value=None``.
STATUSES = ("ok", "error", "skipped", "not installed", "no GPU", "unknown GPU")


@dataclass
class BenchRow:
    """One measurement, optionally beside a baseline measured in the same run.

    ``ratio`` is ``value / baseline_value`` (so < 1 means less time, or less of whatever
    the unit counts, than the baseline).
    """

    group: str
    name: str
    value: float | None
    unit: str = ""
    baseline: str = ""
    baseline_value: float | None = None
    notes: str = ""
    status: str = "ok"

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown row status {self.status!r}; one of {STATUSES}")
        if self.value is not None:
            self.value = float(self.value)
        if self.baseline_value is not None:
            self.baseline_value = float(self.baseline_value)

    @property
    def ratio(self) -> float | None:
        """``value / baseline_value`` when both are finite and the baseline is not zero."""
        v, b = self.value, self.baseline_value
        if v is None or b is None or not (math.isfinite(v) and math.isfinite(b)) or b == 0:
            return None
        return v / b

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ratio"] = self.ratio
        return {k: _json_number(v) for k, v in d.items()}


def _json_number(v: Any) -> Any:
    """NaN and infinities are not JSON: write them as null."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def fmt(v: float | None) -> str:
    """A number for the Markdown table: three significant digits, thousands separated."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a == 0:
        return "0"
    return f"{v:.3g}"


@dataclass
class BenchReport:
    """The rows of one run and the machine they were measured on."""

    machine: dict[str, Any]
    rows: list[BenchRow] = field(default_factory=list)
    quick: bool = False
    groups: list[str] = field(default_factory=list)
    elapsed_s: float | None = None

    @property
    def failed(self) -> list[str]:
        """Groups that recorded an error row."""
        return sorted({r.group for r in self.rows if r.status == "error"})

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "napari-latent-bench",
            "format_version": 1,
            "quick": self.quick,
            "groups": list(self.groups),
            "elapsed_s": self.elapsed_s,
            "machine": self.machine,
            "rows": [r.to_dict() for r in self.rows],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, default=str)

    def to_markdown(self) -> str:
        """A heading, the machine as a list, and one table of every row."""
        m = self.machine
        mode = "quick" if self.quick else "full"
        lines = [f"# napari-latent benchmarks, {m.get('date', '')} ({mode} run)", ""]
        for key, value in m.items():
            if isinstance(value, (list, tuple)):
                value = ", ".join(str(x) for x in value)
            lines.append(f"- **{key}**: {value}")
        if self.elapsed_s is not None:
            lines.append(f"- **elapsed**: {self.elapsed_s:.0f} s")
        lines += [
            "",
            "ratio = value / baseline value (< 1: less time or less error than the baseline; > 1 for rates: faster).",
            "",
            "| group | name | value | unit | baseline | baseline value | ratio | notes |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in self.rows:
            value = fmt(r.value) if r.status == "ok" else r.status
            ratio = "" if r.ratio is None else f"{r.ratio:.3g}"
            cells = [r.group, r.name, value, r.unit, r.baseline, fmt(r.baseline_value), ratio, r.notes]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        return "\n".join(lines) + "\n"

    def write(self, out_dir: str | os.PathLike) -> tuple[Path, Path]:
        """Write ``bench-<date>.json`` and ``.md`` into ``out_dir``; never replaces a file.

        A second run on the same day gets ``bench-<date>-2.*`` and so on.
        """
        out = Path(out_dir).expanduser()
        out.mkdir(parents=True, exist_ok=True)
        date = str(self.machine.get("date", ""))[:10] or "undated"
        for k in range(1, 10_000):
            stem = f"bench-{date}" if k == 1 else f"bench-{date}-{k}"
            paths = out / f"{stem}.json", out / f"{stem}.md"
            if not any(p.exists() for p in paths):
                break
        else:  # pragma: no cover - ten thousand runs a day
            raise FileExistsError(f"no free bench-{date}-N name left in {out}")
        for path, text in zip(paths, (self.to_json() + "\n", self.to_markdown()), strict=True):
            with open(path, "x", encoding="utf-8") as f:  # "x": refuse to replace a file made meanwhile
                f.write(text)
        return paths


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
