#!/usr/bin/env python
"""Train the small demo model shipped in ``src/napari_latent/_data/demo_model/``.

Deterministic from the demo cohort's seed: generates (or opens the cached) demo cohort,
trains the default CrossModalVAE on CPU, evaluates it on the held-out split, and writes
``weights.safetensors`` (float16) + ``config.json`` + ``metrics.json``.

    python scripts/train_demo_model.py                   # the shipped model (~25-30 min on 2 free cores)
    python scripts/train_demo_model.py --n 64 --epochs 1 --out /tmp/demo-smoke   # smoke run
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from napari_latent.cohort.synthetic import DEMO_SEED, demo_cohort  # noqa: E402
from napari_latent.model import (  # noqa: E402
    DEFAULT_MODEL_CONFIG,
    TrainConfig,
    benchmark_decode,
    evaluate_model,
    read_config,
    save_checkpoint,
    train,
)

DEFAULT_OUT = REPO / "src" / "napari_latent" / "_data" / "demo_model"

#: The demo model: N=2000 subjects, up to 40 epochs (early stopping): ~30-40 s an epoch on 2 CPU cores.
DEMO_CONFIG = {
    "model": {
        "architecture": "cross_modal_vae",
        "latent_dim": 64,
        "beta": 1e-3,
        "contrastive_weight": 0.1,
        "modality_dropout": 0.25,
    },
    "train": {
        "epochs": 40,
        "batch_size": 32,
        "lr": 2e-3,
        "weight_decay": 1e-4,
        "scheduler": "cosine",
        "warmup_steps": 50,
        "val_fraction": 0.2,
        "patience": 8,
        "kl_warmup_epochs": 5,
        "device": "cpu",
    },
}


def _printer(every_s: float = 10.0):
    last = [0.0]

    def callback(event: dict) -> None:
        kind = event["event"]
        now = time.perf_counter()
        if kind == "step" and now - last[0] < every_s:
            return
        last[0] = now
        if kind == "start":
            print(
                f"training {event['architecture']} on {event['n_train']} subjects ({event['n_val']} validation), "
                f"{event['total_steps']} steps on {event['device']}",
                flush=True,
            )
        elif kind == "step":
            print(
                f"  step {event['step']:5d}  loss {event['loss']:.4f}  ecg {event.get('ecg_recon', 0):.4f}  "
                f"mri {event.get('mri_recon', 0):.4f}  eta {event['eta_s'] / 60:.1f} min",
                flush=True,
            )
        elif kind == "epoch":
            print(
                f"epoch {event['epoch']:3d}  train {event.get('train_loss', float('nan')):.4f}  "
                f"val {event.get('val_loss', float('nan')):.4f}  "
                f"val mri {event.get('val_mri_recon', float('nan')):.4f}  "
                f"val ecg {event.get('val_ecg_recon', float('nan')):.4f}  {'*' if event['improved'] else ''}  "
                f"({event['elapsed_s'] / 60:.1f} min)",
                flush=True,
            )
        elif kind == "end":
            print(f"finished: {event['status']} after {event['step']} steps", flush=True)

    return callback


def headline(metrics: dict) -> dict:
    """The numbers worth reading first."""
    out = {
        "ecg->mri mse": metrics["translation"]["ecg->mri"]["mse"],
        "ecg->mri mse (PLS)": metrics.get("baseline_pls", {}).get("ecg->mri", {}).get("mse"),
        "ecg->mri mse reduction vs PLS": metrics.get("vs_baseline", {}).get("ecg->mri", {}).get("mse_reduction"),
        "mri->ecg mse": metrics["translation"]["mri->ecg"]["mse"],
        "mri->ecg mse (PLS)": metrics.get("baseline_pls", {}).get("mri->ecg", {}).get("mse"),
        "mri->ecg mse reduction vs PLS": metrics.get("vs_baseline", {}).get("mri->ecg", {}).get("mse_reduction"),
        "mri reconstruction ssim": metrics["reconstruction"]["mri"]["ssim"],
        "ecg reconstruction pearson r": metrics["reconstruction"]["ecg"]["pearson_r"],
        "ecg->mri ssim": metrics["translation"]["ecg->mri"]["ssim"],
        "mri->ecg pearson r": metrics["translation"]["mri->ecg"]["pearson_r"],
    }
    if "retrieval" in metrics:
        r = metrics["retrieval"]
        out.update(
            {
                "retrieval ecg->mri top1": r["ecg->mri"]["top1"],
                "retrieval ecg->mri top5": r["ecg->mri"]["top5"],
                "retrieval mri->ecg top1": r["mri->ecg"]["top1"],
                "retrieval chance top1": r["chance_top1"],
            }
        )
    fused = metrics.get("probes", {}).get("fused", {})
    for col in ("heart_rate", "lvedv", "ef", "lv_mass", "qrs_duration", "qtc", "age"):
        if col in fused:
            out[f"probe R2 {col} (fused)"] = fused[col]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=2000, help="demo cohort size (default 2000)")
    p.add_argument("--seed", type=int, default=DEMO_SEED, help="demo cohort seed (the model seed follows it)")
    p.add_argument("--epochs", type=int, default=DEMO_CONFIG["train"]["epochs"])
    p.add_argument("--latent-dim", type=int, default=DEMO_CONFIG["model"]["latent_dim"])
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"checkpoint directory (default {DEFAULT_OUT})")
    p.add_argument("--cache-dir", type=Path, default=None, help="where the demo cohort is cached")
    p.add_argument("--workers", type=int, default=None, help="processes generating the cohort")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="override config keys (JSON values)")
    p.add_argument("--no-baseline", action="store_true", help="skip the PLS baseline (faster)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing checkpoint at --out")
    args = p.parse_args(argv)
    if args.out.exists() and not args.overwrite:
        p.error(f"{args.out} already exists; pass --overwrite to replace it")

    torch.set_num_threads(args.threads)
    config = json.loads(json.dumps(DEMO_CONFIG))
    config["model"]["latent_dim"] = args.latent_dim
    config["train"].update(epochs=args.epochs, seed=args.seed, num_threads=args.threads)
    for item in args.set:
        key, _, value = item.partition("=")
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            pass
        if key in DEFAULT_MODEL_CONFIG:
            config["model"][key] = value
        elif key in TrainConfig.__dataclass_fields__:
            config["train"][key] = value
        else:
            p.error(f"unknown config key {key!r}")

    t0 = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done % 100 == 0 or done == total:
            print(f"\rcohort {done}/{total}", end="", flush=True)

    cohort = demo_cohort(args.n, args.seed, cache_dir=args.cache_dir, workers=args.workers, progress=progress)
    print(f"\ncohort ready: {cohort} ({time.perf_counter() - t0:.0f} s)", flush=True)

    with tempfile.TemporaryDirectory(prefix="napari-latent-demo-") as tmp:
        run_dir = Path(tmp) / "run"
        t1 = time.perf_counter()
        result = train(cohort, config, run_dir, callbacks=_printer())
        train_s = time.perf_counter() - t1
        model = result.model
        print(
            f"trained in {train_s / 60:.1f} min; evaluating on {len(result.val_indices)} held-out subjects", flush=True
        )
        t2 = time.perf_counter()
        metrics = evaluate_model(
            model,
            cohort,
            result.val_indices,
            train_indices=result.train_indices,
            baseline=not args.no_baseline,
            seed=args.seed,
        )
        metrics["evaluate_s"] = time.perf_counter() - t2
        metrics["train_s"] = train_s
        metrics["decode_benchmark"] = benchmark_decode(model, num_threads=args.threads)
        metrics["headline"] = headline(metrics)
        saved = read_config(run_dir)
        training = {k: v for k, v in saved["training"].items() if k not in ("optimizer_groups",)}
        meta = {"training": training, "data": saved["data"], "evaluation": metrics["headline"]}
        out = save_checkpoint(model, args.out, metadata=meta, dtype="float16", overwrite=args.overwrite)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    size = sum(f.stat().st_size for f in out.iterdir()) / 1e6
    print(json.dumps(metrics["headline"], indent=1))
    print(f"decode one latent: {metrics['decode_benchmark']['median_ms']:.1f} ms median")
    print(f"wrote {out} ({size:.1f} MB) in {(time.perf_counter() - t0) / 60:.1f} min total")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
