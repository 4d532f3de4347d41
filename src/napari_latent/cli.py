"""Command line: ``napari-latent demo | generate | train | embed | import | example-files``."""

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
    """Open napari with the demo cohort, the shipped demo model and every view docked."""
    import napari

    from .cohort.synthetic import DEMO_SIZE, demo_cohort
    from .explorer import Explorer

    model = args.model or "demo"
    if args.scale:
        from .scale import scale_explorer

        print(f"building a scale sample of {args.scale:,} subjects (synthetic latents, decoded by the model)...")
        explorer = scale_explorer(args.scale, model=model)
    else:
        bar, report = _tqdm_progress("demo cohort")
        try:
            with bar:
                cohort = demo_cohort(args.subjects or DEMO_SIZE, progress=report)
        except KeyboardInterrupt:
            print("interrupted: the subjects generated so far are kept; run the same command again to resume",
                  file=sys.stderr)  # fmt: skip
            return 130
        explorer = Explorer.open(cohort, model)
    viewer = explorer.show()
    viewer.title = "napari-latent demo"
    explorer.focus(0)
    if args.screenshot:
        _screenshot_when_ready(viewer, Path(args.screenshot))
    napari.run()
    return 0


def _screenshot_when_ready(viewer, path: Path, delay_ms: int = 4000) -> None:
    """Save a screenshot of the whole window once the views have settled, then quit."""
    from qtpy.QtCore import QTimer

    viewer.window.resize(1800, 1100)

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


def cmd_train(args: argparse.Namespace) -> int:
    """Train a model on a store and write its checkpoint."""
    import json

    from .cohort import open_cohort
    from .model import train

    cohort = open_cohort(args.store)
    config = json.loads(args.config.read_text()) if args.config else {}
    flat = {k: v for k, v in (("latent_dim", args.latent_dim), ("architecture", args.architecture)) if v is not None}
    train_keys = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size), ("device", args.device)) if v is not None}
    config = {"model": {**config.get("model", {}), **flat}, "train": {**config.get("train", {}), **train_keys}}
    from tqdm import tqdm

    bar = tqdm(desc="training", unit="step")

    def progress(event: dict) -> None:
        if event.get("event") == "start":
            bar.total = event.get("total_steps")
        elif event.get("event") == "step":
            bar.n = event["step"]
            bar.set_postfix(loss=f"{event['loss']:.4f}", refresh=False)
            bar.refresh()
        elif event.get("event") == "epoch":
            bar.write(f"epoch {event['epoch']}: " + ", ".join(f"{k} {v:.4f}" for k, v in event.items() if isinstance(v, float)))

    with bar:
        result = train(cohort, config, args.out, callbacks=progress, resume=args.resume, overwrite=args.overwrite)
    print(f"{result.status} after {result.step} steps; best validation loss {result.best_val_loss:.4f}; checkpoint {result.checkpoint}")
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

    cohort = open_cohort(args.store)
    model = resolve_model(args.model, cohort)
    bar, report = _tqdm_progress("embedding")
    with bar:
        latents = embed_cohort(cohort, model, batch_size=args.batch_size, progress=report)
    if args.out:
        if args.out.exists() and not args.overwrite:
            raise FileExistsError(f"{args.out} exists; pass --overwrite to replace it")
        np.savez(args.out, subject_id=np.asarray(cohort.ids, dtype=str), **latents)
        print(f"wrote {', '.join(f'{k} {v.shape}' for k, v in latents.items())} to {args.out}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Import users' files listed in a manifest into a new cohort store; print the report."""
    from .io.importer import import_cohort

    if args.report and args.report.exists():
        raise FileExistsError(f"{args.report} exists; the report never replaces a file")
    bar, report = _tqdm_progress("importing")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="napari-latent", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

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
    gen.add_argument("-n", "--subjects", type=int, default=1000)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    gen.add_argument("--overwrite", action="store_true", help="replace an existing store at OUT")
    gen.set_defaults(func=cmd_generate)

    tr = sub.add_parser("train", help="train a model on a cohort store (torchrun for several GPUs)")
    tr.add_argument("store", type=Path)
    tr.add_argument("out", type=Path, help="checkpoint directory to create")
    tr.add_argument("--config", type=Path, help='JSON {"model": {...}, "train": {...}}')
    tr.add_argument("--architecture", default=None, help="cross_modal_vae (default), mvae, mopoe, unimodal_vae or unimodal_ae")
    tr.add_argument("--latent-dim", type=int, default=None)
    tr.add_argument("--epochs", type=int, default=None)
    tr.add_argument("--batch-size", type=int, default=None)
    tr.add_argument("--device", default=None, help="cpu, cuda or auto (default)")
    tr.add_argument("--resume", action="store_true", help="continue the checkpoint at OUT")
    tr.add_argument("--overwrite", action="store_true", help="replace an existing checkpoint at OUT")
    tr.set_defaults(func=cmd_train)

    em = sub.add_parser("embed", help="embed every subject of a store (cached in the store)")
    em.add_argument("store", type=Path)
    em.add_argument("--model", default="demo", help="checkpoint directory or 'demo'")
    em.add_argument("--out", type=Path, default=None, help="also write the latents to this .npz")
    em.add_argument("--batch-size", type=int, default=64)
    em.add_argument("--overwrite", action="store_true")
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
    ex.add_argument("-n", "--subjects", type=int, default=12)
    ex.add_argument("--seed", type=int, default=0)
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
