"""Run benchmark groups, each independent: a failure becomes an error row, never a crash of the run."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .results import BenchReport, BenchRow

__all__ = ["GROUPS", "BenchContext", "Group", "add_arguments", "has_display", "main", "run_bench"]


@dataclass(frozen=True)
class Group:
    """A benchmark group: ``napari_latent.bench.<module>.run(ctx)`` adds its rows to ``ctx``."""

    name: str
    module: str
    description: str
    needs_display: bool = False


#: Every group, cheapest first (the order ``napari-latent bench`` runs them in).
GROUPS: dict[str, Group] = {
    g.name: g
    for g in (
        Group("store", "store", "open a 100,000-subject store; generate subjects; Explorer selection on 100,000"),
        Group("decode", "decode", "one latent -> cine + median beat with the demo model, 1 and all threads"),
        Group("encode", "encode", "subjects/s through the demo model from a store vs a linear PCA encoder"),
        Group("translation", "translation", "ECG <-> cine translation vs the PLS baseline and the ceiling"),
        Group("analysis", "analysis", "placing edited latents, probes, neighbours, retrieval, queries"),
        Group("semantics", "semantics", "measuring a decoded cine and median beat; posterior uncertainty, 16 samples"),
        Group("projection", "projection", "PCA, openTSNE, PaCMAP, UMAP vs scikit-learn t-SNE, trustworthiness"),
        Group("training", "training", "training subjects/s per network preset; CUDA bf16 and fraction of peak"),
        Group("scatter", "scatter", "scatter frame rate and lasso -> linked views vs matplotlib", True),
        Group("startup", "startup", "the first waits: training to its first step, Open in Explorer (fresh processes)"),
        Group("session", "session", "an Explorer of 100,000 subjects, every view docked: memory, brush, focus", True),
        Group("slider", "slider", "latent slider drag -> edited cine layer updated and drawn (napari)", True),
    )
}


def has_display() -> bool:
    """Whether Qt can open windows here (on Linux: an X11 or Wayland display is set)."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class BenchContext:
    """What a group's ``run(ctx)`` gets: the mode, a scratch folder, the machine record, ``add``."""

    def __init__(
        self,
        group: str,
        *,
        quick: bool,
        tmp: Path,
        machine: dict[str, Any],
        rows: list[BenchRow],
        log: Callable[[str], Any] = _stderr,
    ):
        self.group = group
        self.quick = quick
        self.tmp = tmp
        self.machine = machine
        self._rows = rows
        self._log = log

    def pick(self, quick: Any, full: Any) -> Any:
        """``quick`` in a quick run, else ``full``."""
        return quick if self.quick else full

    def log(self, message: str) -> None:
        self._log(f"[bench {self.group}] {message}")

    def add(
        self,
        name: str,
        value: float | None,
        unit: str = "",
        *,
        baseline: str = "",
        baseline_value: float | None = None,
        notes: str = "",
        status: str = "ok",
    ) -> BenchRow:
        """Record one row of this group."""
        row = BenchRow(self.group, name, value, unit, baseline, baseline_value, notes, status)
        self._rows.append(row)
        self.log(f"{name}: {value if status == 'ok' else status} {unit}".rstrip())
        return row


def _parse_only(only: str | Iterable[str] | None) -> list[str]:
    if only is None:
        return list(GROUPS)
    names = [s.strip() for s in only.split(",")] if isinstance(only, str) else [str(s).strip() for s in only]
    names = [n for n in names if n]
    unknown = [n for n in names if n not in GROUPS]
    if unknown or not names:
        raise ValueError(f"unknown benchmark group(s) {unknown or names}; known: {', '.join(GROUPS)}")
    return [n for n in GROUPS if n in names]  # run order is fixed, duplicates dropped


def _restore_torch_threads() -> Callable[[], None]:
    torch = sys.modules.get("torch")
    if torch is None:
        return lambda: None
    n = torch.get_num_threads()
    return lambda: torch.set_num_threads(n)


def run_bench(
    only: str | Iterable[str] | None = None,
    *,
    quick: bool = False,
    log: Callable[[str], Any] = _stderr,
) -> BenchReport:
    """Run the benchmark groups named in ``only`` (default: all) and return the report.

    ``only`` is a comma-separated string or a list of names from :data:`GROUPS`. GUI
    groups without a display are recorded as skipped. Nothing is written; see
    :meth:`BenchReport.write`.
    """
    from .machine import load_average, machine_info

    names = _parse_only(only)
    t_start = time.perf_counter()
    machine = machine_info()
    rows: list[BenchRow] = []
    with tempfile.TemporaryDirectory(prefix="napari-latent-bench-") as tmp:
        for name in names:
            group = GROUPS[name]
            ctx = BenchContext(name, quick=quick, tmp=Path(tmp) / name, machine=machine, rows=rows, log=log)
            ctx.tmp.mkdir()
            if group.needs_display and not has_display():
                ctx.add(
                    group.description,
                    None,
                    status="skipped",
                    notes='skipped: no display (run under xvfb-run -a -s "-screen 0 1920x1080x24")',
                )
                continue
            ctx.log(f"start ({group.description})")
            t0 = time.perf_counter()
            restore = _restore_torch_threads()
            try:
                importlib.import_module(f"{__package__}.{group.module}").run(ctx)
            except Exception as exc:  # noqa: BLE001 - one group's failure must not end the run
                log("".join(traceback.format_exception(exc)))
                message = " ".join(f"{type(exc).__name__}: {exc}".split())
                ctx.add(group.description, None, status="error", notes=message[:400])
            finally:
                restore()
            ctx.log(f"done in {time.perf_counter() - t0:.1f} s")
    machine["load_avg_end"] = load_average()
    return BenchReport(machine, rows, quick=quick, groups=names, elapsed_s=round(time.perf_counter() - t_start, 1))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``napari-latent bench`` (shared with ``benchmarks/run.py``)."""
    parser.add_argument("--quick", action="store_true", help="small sizes and few repeats (~3 min on 2 cores)")
    parser.add_argument(
        "--only", default=None, metavar="NAME,...", help=f"groups to run (default: all): {', '.join(GROUPS)}"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("."), help="directory for bench-<date>.json and .md (default: here)"
    )


def run_from_args(args: argparse.Namespace) -> int:
    """Run, write the reports, print the table; 1 when a group failed, else 0."""
    report = run_bench(args.only, quick=args.quick)
    json_path, md_path = report.write(args.out)
    print(report.to_markdown())
    print(f"wrote {json_path} and {md_path}")
    if report.failed:
        _stderr(f"napari-latent bench: {len(report.failed)} group(s) failed: {', '.join(report.failed)}")
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m napari_latent.bench.runner [--quick] [--only ...] [--out DIR]``."""
    parser = argparse.ArgumentParser(prog="napari-latent bench", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run_from_args(args)
    except (ValueError, OSError) as exc:
        print(f"napari-latent bench: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
