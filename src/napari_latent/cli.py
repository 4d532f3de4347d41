"""Command line of napari-latent: demo, generate, train, embed, import, example-files and bench."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def _tqdm_progress(desc: str, **kwargs):
    from tqdm import tqdm

    bar = tqdm(total=0, desc=desc, unit="subject", **kwargs)

    def report(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return bar, report


def cmd_demo(args: argparse.Namespace) -> int:
    """Open napari with the demo cohort, the shipped demo model and every view docked.

    The window opens at once. The cohort is generated there on the first run (in a worker,
    with its progress on the canvas, in napari's progress bar and here; closing the window
    stops it and the next run resumes) or opened from the cache; then every view is docked,
    and the model loads and the cohort is embedded in a worker, with its progress in the window.
    """
    import napari

    from .widgets.standalone.demo_start import start_demo

    model = args.model or "demo"
    if args.scale:
        return _demo_at_scale(args, model)
    viewer = napari.Viewer(title="napari-latent demo", show_welcome_screen=False)  # the canvas shows progress
    # position 0: napari's own bar for the same work draws in the window, not on this line
    bar, report = _tqdm_progress("demo cohort", position=0)

    def ready(_explorer) -> None:
        if args.screenshot:
            _screenshot_when_ready(viewer, Path(args.screenshot))

    start = start_demo(viewer, args.subjects, model, progress=report)
    start.generated.connect(lambda _cohort: bar.close())
    start.stopped.connect(lambda _exc: bar.close())
    start.ready.connect(ready)
    napari.run()
    bar.close()
    if start.error is not None and not isinstance(start.error, InterruptedError):
        print(f"napari-latent: error: could not prepare the demo cohort: {start.error}", file=sys.stderr)
        return 1
    if start.cohort is None:  # the window was closed first: the user's choice, not an error
        print("stopped: the subjects generated so far are kept; run the same command again to resume",
              file=sys.stderr)  # fmt: skip
    return 0


def _demo_at_scale(args: argparse.Namespace, model: str) -> int:
    """``demo --scale N``: N subjects with synthetic latents, decoded by the model."""
    import napari

    from .scale import scale_explorer

    print(f"building a scale sample of {args.scale:,} subjects (synthetic latents, decoded by the model)...")
    explorer = scale_explorer(args.scale, model=model)
    viewer = explorer.show()
    viewer.title = "napari-latent demo"
    explorer.focus(0)
    if args.screenshot:
        _screenshot_when_ready(viewer, Path(args.screenshot))
    napari.run()
    return 0


def _screenshot_when_ready(viewer, path: Path, delay_ms: int = 3000) -> None:
    """Save a screenshot of the whole window once the views have settled, then quit.

    The window is 1800 × 1100, or the screen's available size where that is smaller."""
    from qtpy.QtCore import QTimer
    from qtpy.QtGui import QGuiApplication

    screen = QGuiApplication.primaryScreen()
    width, height = (1800, 1100) if screen is None else screen.availableGeometry().getRect()[2:]
    viewer.window.resize(min(1800, width), min(1100, height))

    def save() -> None:
        viewer.screenshot(str(path), canvas_only=False)
        viewer.close()

    QTimer.singleShot(delay_ms, save)


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


def _train_config(args: argparse.Namespace) -> dict:
    """The training config from ``--config`` and the flags (flags win), checked before anything runs.

    ``--config`` may be nested (``{"model": {...}, "train": {...}}``) or flat (``{"epochs": 1,
    "latent_dim": 8, "size": "tiny"}``): flat keys go to their section by name. Unknown or
    misplaced keys are refused by name.
    """
    import json

    from .model import resolve_config

    config: dict = {}
    if args.config:
        try:
            config = json.loads(Path(args.config).read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"--config {args.config}: not valid JSON ({exc})") from exc
        if not isinstance(config, dict):
            raise ValueError(f"--config {args.config}: expected a JSON object of settings, got {type(config).__name__}")
    flags = {
        "architecture": args.architecture,
        "latent_dim": args.latent_dim,
        "size": args.size,
        "modality": args.modality,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "device": args.device,
        "seed": args.seed,
    }
    model_part, train_part = dict(config.pop("model", {}) or {}), dict(config.pop("train", {}) or {})
    merged = {"model": model_part, "train": train_part, **config}
    for key, value in flags.items():
        if value is None:
            continue
        for part in (model_part, train_part):  # a flag replaces the same key wherever the file put it
            part.pop(key, None)
        merged[key] = value
    arch = merged.get("architecture", model_part.get("architecture"))
    if arch in ("unimodal_vae", "unimodal_ae") and merged.get("modality", model_part.get("modality")) is None:
        raise ValueError(f"--architecture {arch} trains one modality: add --modality ecg or --modality mri")
    try:
        resolve_config(merged)
    except ValueError as exc:
        where = f"--config {args.config} or the flags" if args.config else "the flags"
        raise ValueError(f"{exc} (in {where})") from exc
    return merged


def _fmt_metric(value: float) -> str:
    """A metric for the terminal: 4 decimals, or 3 significant digits for small values (learning rates)."""
    return f"{value:.3g}" if value and abs(value) < 0.01 else f"{value:.4f}"


def _train_progress(bar):
    """A ``train`` callback that keeps a tqdm bar true: steps, epochs, early stop and the end."""

    def progress(event: dict) -> None:
        kind = event.get("event")
        if kind == "start":
            bar.total = event.get("total_steps")
            bar.n = event.get("step", 0)
            bar.refresh()
        elif kind == "step":
            bar.n = event["step"]
            bar.set_postfix(loss=_fmt_metric(event["loss"]), lr=_fmt_metric(event["lr"]), refresh=False)
            bar.refresh()
        elif kind == "epoch":
            bar.n = event["step"]
            bar.refresh()
            skip = {"epoch", "step", "elapsed_s", "best_val_loss", "epochs"}
            values = ", ".join(f"{k} {_fmt_metric(v)}" for k, v in event.items() if isinstance(v, float) and k not in skip)
            bar.write(f"epoch {event['epoch']}/{event.get('epochs', '?')}: {values}")
        elif kind == "end":
            bar.n = event["step"]
            if event.get("status") in ("early_stopped", "max_steps", "cancelled"):
                bar.total = event["step"]  # the run is over: the bar ends full, the status line says why
            bar.refresh()

    return progress


def cmd_train(args: argparse.Namespace) -> int:
    """Train a model on a store and write its checkpoint."""
    from .cohort import open_cohort
    from .model import train
    from .model.checkpoint import CheckpointExistsError

    if args.resume and args.overwrite:
        raise ValueError("--resume continues the checkpoint at OUT and --overwrite replaces it: give one of them")
    if args.out.exists() and not (args.resume or args.overwrite):
        raise FileExistsError(
            f"{args.out} already exists; pass --overwrite to replace it or --resume to continue training it"
        )
    config = _train_config(args)
    cohort = open_cohort(args.store)
    from tqdm import tqdm

    bar = tqdm(desc="training", unit="step")
    with bar:
        try:
            result = train(
                cohort, config, args.out, callbacks=_train_progress(bar), resume=args.resume, overwrite=args.overwrite
            )
        except CheckpointExistsError as exc:
            raise FileExistsError(
                f"{args.out} already exists; pass --overwrite to replace it or --resume to continue training it"
            ) from exc
    status = {"early_stopped": "stopped early (no validation improvement)", "max_steps": "reached max_steps"}
    print(
        f"{status.get(result.status, result.status)} after {result.step} steps; best validation loss "
        f"{result.best_val_loss:.4f}; checkpoint {result.checkpoint}"
    )
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Run the benchmark suite; write bench-<date>.json and .md (see napari_latent.bench)."""
    from .bench.runner import run_from_args

    return run_from_args(args)


def cmd_embed(args: argparse.Namespace) -> int:
    """Embed every subject of a store with a model; write the latents as .npz (no pickle)."""
    import numpy as np

    from .analysis.embedding import embed_cohort
    from .cohort import open_cohort
    from .model.checkpoint import resolve_model

    out = args.out
    if out is not None:
        out = out if out.name.endswith(".npz") else out.with_name(out.name + ".npz")  # np.savez adds .npz
        if out.exists() and not args.overwrite:
            raise FileExistsError(f"{out} exists; pass --overwrite to replace it")
    cohort = open_cohort(args.store)
    model = resolve_model(args.model, cohort)
    bar, report = _tqdm_progress("embedding")
    with bar:
        latents = embed_cohort(cohort, model, batch_size=args.batch_size, progress=report)
    if out is not None:
        args.out = out
        np.savez(args.out, subject_id=np.asarray(cohort.ids, dtype=str), **latents)
        print(f"wrote {', '.join(f'{k} {v.shape}' for k, v in latents.items())} to {args.out}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Import users' files listed in a manifest into a new cohort store; print the report."""
    from .io.importer import NoSubjectImportedError, import_cohort

    if args.report and args.report.exists():
        raise FileExistsError(f"{args.report} exists; the report never replaces a file")
    bar, report = _tqdm_progress("importing")
    try:
        with bar:
            result = import_cohort(
                args.manifest,
                args.out,
                phenotypes=args.phenotypes,
                id_column=args.id_column,
                workers=args.workers,
                progress=report,
                resume=not args.no_resume,
                overwrite=args.overwrite,
            )
    except NoSubjectImportedError as exc:  # no store; the per-subject reasons still go to --report
        result = exc.report
        print(result)
        if args.report:
            result.to_csv(args.report)
            print(f"report written to {args.report}")
        print(f"napari-latent: error: no subject could be imported; no store was written at {args.out}", file=sys.stderr)
        return 1
    print(result)
    if args.report:
        result.to_csv(args.report)
        print(f"report written to {args.report}")
    return 0 if result.imported else 1


def cmd_example_files(args: argparse.Namespace) -> int:
    """Write a folder of example cine/ECG files, phenotypes and a manifest to try the import on."""
    from .io.example_files import write_example_folder

    manifest = write_example_folder(args.directory, args.subjects, seed=args.seed)
    print(
        f"wrote {args.subjects} example subjects; import them with:\n  napari-latent import {manifest} --out STORE.zarr "
        f"--phenotypes {manifest.parent / 'phenotypes.csv'}"
    )
    return 0


ARCHITECTURE_CHOICES = ("cross_modal_vae", "mvae", "mopoe", "unimodal_vae", "unimodal_ae")

_EPILOG = """\
examples:
  napari-latent demo                                  open napari with the demo cohort and model
  napari-latent generate demo.zarr -n 1000            write a synthetic cohort store
  napari-latent train demo.zarr ckpt --size small     train a model; writes the checkpoint folder ckpt
  napari-latent embed demo.zarr --model ckpt --out latents.npz
  napari-latent example-files examples                example cine/ECG files and a manifest
  napari-latent import examples/manifest.csv --out mine.zarr
  napari-latent bench --quick                         time the steps; writes bench-<date>.md

'napari-latent COMMAND --help' describes each command."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="napari-latent",
        description="Explore a cross-modal VAE of paired cine MRI and 12-lead ECG in napari, or run its steps "
        "from the shell.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")

    demo = sub.add_parser("demo", help="open napari with the demo cohort, demo model and all views")
    demo.add_argument("--subjects", "-n", "--n", type=int, default=None,
                      help="demo cohort size (default 1000); generated once, resumable after Ctrl+C")
    demo.add_argument("--scale", type=int, default=None, metavar="N",
                      help="instead: N subjects with synthetic latents (e.g. 100000), to feel the Explorer at scale")
    demo.add_argument("--model", default=None, help="checkpoint directory (default: the shipped demo model)")
    demo.add_argument("--screenshot", metavar="PNG", help="save a window screenshot once loaded, then quit")
    demo.set_defaults(func=cmd_demo)

    gen = sub.add_parser("generate", help="generate a synthetic cohort store")
    gen.add_argument("out", type=Path, help="store path to create (NAME.zarr)")
    gen.add_argument("-n", "--subjects", type=int, default=1000, help="number of subjects (default 1000)")
    gen.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same cohort (default 0)")
    gen.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    gen.add_argument("--overwrite", action="store_true", help="replace an existing store at OUT")
    gen.set_defaults(func=cmd_generate)

    tr = sub.add_parser("train", help="train a model on a cohort store (torchrun for several GPUs)")
    tr.add_argument("store", type=Path, help="cohort store to train on (NAME.zarr, from 'generate' or 'import')")
    tr.add_argument("out", type=Path, help="checkpoint directory to create")
    tr.add_argument(
        "--config",
        type=Path,
        help='JSON settings, flat {"epochs": 5, "latent_dim": 64, "size": "tiny"} or nested '
        '{"model": {...}, "train": {...}}; the flags below win; unknown keys are refused',
    )
    tr.add_argument("--architecture", default=None, choices=ARCHITECTURE_CHOICES, metavar="NAME",
                    help="cross_modal_vae (default), mvae, mopoe, unimodal_vae or unimodal_ae")  # fmt: skip
    tr.add_argument("--modality", default=None, choices=("ecg", "mri"),
                    help="the one modality a unimodal_vae or unimodal_ae learns")  # fmt: skip
    tr.add_argument("--size", default=None, choices=("tiny", "small", "full"),
                    help="network size: tiny (quick trials), small (a laptop) or full (default)")  # fmt: skip
    tr.add_argument("--latent-dim", type=int, default=None, help="latent dimensions per modality (default 256)")
    tr.add_argument("--epochs", type=int, default=None, help="training epochs (default 40; early stopping may end sooner)")
    tr.add_argument("--batch-size", type=int, default=None, help="subjects per step (default 32)")
    tr.add_argument("--seed", type=int, default=None, help="seed of the split and initialisation (default 0)")
    tr.add_argument("--device", default=None, help="cpu, cuda or auto (default)")
    tr.add_argument("--resume", action="store_true", help="continue the checkpoint at OUT")
    tr.add_argument("--overwrite", action="store_true", help="replace an existing checkpoint at OUT")
    tr.set_defaults(func=cmd_train)

    em = sub.add_parser("embed", help="embed every subject of a store (cached in the store)")
    em.add_argument("store", type=Path, help="cohort store to embed (NAME.zarr)")
    em.add_argument("--model", default="demo", help="checkpoint directory or 'demo' (default)")
    em.add_argument("--out", type=Path, default=None, help="also write the latents to this .npz")
    em.add_argument("--batch-size", type=int, default=64, help="subjects per batch (default 64)")
    em.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    em.set_defaults(func=cmd_embed)

    imp = sub.add_parser("import", help="import cine MRI + ECG files listed in a manifest CSV into a cohort store")
    imp.add_argument("manifest", type=Path, help="CSV with columns subject_id, mri, ecg (and optional labels, ...)")
    imp.add_argument("--out", type=Path, required=True, help="store path to create (NAME.zarr)")
    imp.add_argument("--phenotypes", type=Path, default=None, help="CSV/TSV/Parquet table joined onto the subjects")
    imp.add_argument("--id-column", default="subject_id", help="id column of the phenotype table")
    imp.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    imp.add_argument("--no-resume", action="store_true", help="start over instead of resuming an interrupted import")
    imp.add_argument("--overwrite", action="store_true", help="replace an existing store at OUT")
    imp.add_argument("--report", type=Path, default=None, help="also write the per-subject report to this CSV")
    imp.set_defaults(func=cmd_import)

    ex = sub.add_parser("example-files", help="write example cine/ECG files and a manifest to try 'import' on")
    ex.add_argument("directory", type=Path, help="new (or empty) folder to write")
    ex.add_argument("-n", "--subjects", type=int, default=12, help="number of example subjects (default 12)")
    ex.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    ex.set_defaults(func=cmd_example_files)

    from .bench.runner import add_arguments as add_bench_arguments

    bench = sub.add_parser("bench", help="run the benchmarks, each beside its baseline; write JSON + Markdown")
    add_bench_arguments(bench)
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``napari-latent`` command."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, OSError) as exc:  # CohortError is a ValueError: a clear message, no traceback
        print(f"napari-latent: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("napari-latent: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
