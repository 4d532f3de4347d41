#!/usr/bin/env python
"""Closed-loop faithfulness of every phenotype direction of a model, on held-out subjects.

For each column with a measurement of the decoded output (docs/model-card.md): the probe
direction, the generative direction (E[z|y]) and the calibrated one (step set on 16
training subjects), each moved ±1 SD of the column from held-out subjects; the decoded
change per labelled unit divided by the cohort's relation between the label and the same
measurement on reconstructions. Binary conditions: the decoded measurements' change per
log-odds along the generative direction.

    python scripts/direction_faithfulness.py              # demo model, 200-subject demo cohort
    python scripts/direction_faithfulness.py --n 2000 --check 100
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from napari_latent import Explorer  # noqa: E402
from napari_latent.analysis import semantics  # noqa: E402
from napari_latent.analysis.calibration import MEASURE_OF, faithfulness, measure_decoded, pick  # noqa: E402
from napari_latent.cohort.synthetic import demo_cohort  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=200, help="demo cohort size (a prefix of the training cohort)")
    p.add_argument("--check", type=int, default=40, help="held-out subjects to check on")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    ex = Explorer.open(demo_cohort(args.n), "demo")
    semantics.CHECK_SUBJECTS = args.check
    train, held = semantics.split_for(ex)
    check = pick(held, args.check, seed=5)
    territory = semantics.territory_for(ex)
    decode = semantics._decode(ex)
    z = ex.latents("fused")
    print(f"{len(check)} held-out subjects checked, calibration on {semantics.CALIBRATION_SUBJECTS} training subjects\n")
    print("| column | measurement | relation (per unit) | r | probe | generative | calibrated (IQR) |")
    print("|---|---|---|---|---|---|---|")
    for column in MEASURE_OF:
        cal = ex.direction(column, method="calibrated")
        rel = semantics.relation_for(ex, column, train, territory)
        sd = float(ex.table[column].std())
        ratios = []
        for method in ("probe", "generative"):
            d = ex.direction(column, method=method)
            ratios.append(faithfulness(decode, z[check], d.offset, rel, delta=sd, territory=territory)["ratio"])
        c = cal.check
        print(
            f"| {column} | {rel.measure} | {rel.slope:.3g} | {rel.r:.2f} | {ratios[0]:.2f} | {ratios[1]:.2f} | "
            f"**{c['ratio']:.2f}** ({c['ratio_q25']:.2f}-{c['ratio_q75']:.2f}) |",
            flush=True,
        )
    print("\nBinary conditions (generative direction, +2 log-odds from held-out subjects):\n")
    print("| condition | ΔEDV (mL) | ΔEF | ΔQRS (ms) | ΔQT (ms) |")
    print("|---|---|---|---|---|")
    for column in ("prior_mi", "lbbb", "hypertension"):
        d = ex.direction(column)
        base = ex.model.decode_numpy(z[check])
        moved = ex.model.decode_numpy(z[check] + d.offset(2.0)[None].astype(np.float32))
        cells = []
        for key in ("edv", "ef", "qrs_duration", "qt"):
            diff = measure_decoded(moved, key, territory) - measure_decoded(base, key, territory)
            cells.append(f"{np.median(diff):+.3g}")
        print(f"| {column} | " + " | ".join(cells) + " |", flush=True)
    print(f"\n({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
