"""Command line: ``napari-latent demo | generate | train | embed``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def _tqdm_progress(desc: str):
    from tqdm import tqdm

    bar = tqdm(total=0, desc=desc, unit="subject")

    def report(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return bar, report


def cmd_demo(args: argparse.Namespace) -> int:
    """Open napari with the demo cohort in the subject browser."""
    import napari

    from .widgets.subject_browser import SubjectBrowser

    viewer = napari.Viewer(title="napari-latent demo")
    browser = SubjectBrowser(viewer)
    viewer.window.add_dock_widget(browser, name="Cohort subject browser", area="right")
    browser.open_demo(args.subjects)
    if args.screenshot:
        _screenshot_when_ready(viewer, browser, Path(args.screenshot))
    napari.run()
    return 0


def _screenshot_when_ready(viewer, browser, path: Path) -> None:
    """Save a screenshot of the whole window once the first subject is shown, then quit."""
    from qtpy.QtCore import QTimer

    viewer.window.resize(1600, 1000)

    def shoot(_subject) -> None:
        def save() -> None:
            viewer.screenshot(str(path), canvas_only=False)
            viewer.close()

        QTimer.singleShot(1500, save)

    browser.subject_changed.connect(shoot)


def cmd_generate(args: argparse.Namespace) -> int:
    """Generate a synthetic cohort store."""
    from .cohort.synthetic import generate_cohort

    bar, report = _tqdm_progress("generating")
    with bar:
        cohort = generate_cohort(
            args.subjects, args.seed, args.out, workers=args.workers, overwrite=args.overwrite, progress=report
        )
    print(f"{cohort!r}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="napari-latent", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="open napari with the demo cohort")
    demo.add_argument("--subjects", type=int, default=None, help="demo cohort size (default 1000)")
    demo.add_argument("--screenshot", metavar="PNG", help="save a window screenshot once loaded, then quit")
    demo.set_defaults(func=cmd_demo)

    gen = sub.add_parser("generate", help="generate a synthetic cohort store")
    gen.add_argument("out", type=Path, help="store path to create (NAME.zarr)")
    gen.add_argument("-n", "--subjects", type=int, default=1000)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    gen.add_argument("--overwrite", action="store_true", help="replace an existing store at OUT")
    gen.set_defaults(func=cmd_generate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``napari-latent`` command."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, OSError) as exc:  # CohortError is a ValueError: a clear message, no traceback
        print(f"napari-latent: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
