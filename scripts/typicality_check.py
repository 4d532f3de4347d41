#!/usr/bin/env python
"""Share of held-out and out-of-distribution inputs the demo model calls atypical (docs/model-card.md).

Held-out: the half of the demo model's held-out subjects NOT used as typicality reference
(reference.json's ``split.unseen``). Out-of-distribution sets are built from them: ECGs
with a wrong lead order, 50 Hz mains, amplitude x3; cines rotated 90 degrees, mirrored;
a non-cardiac image; and 12-lead ECGs from another simulator (neurokit2's ECGSYN-based
multi-lead simulation, when neurokit2 is installed).

    python scripts/typicality_check.py [--n-unseen 200]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from napari_latent import Explorer  # noqa: E402
from napari_latent.analysis import typicality as ty  # noqa: E402
from napari_latent.analysis.reference import reference_of  # noqa: E402
from napari_latent.cohort.ecg_processing import median_beat  # noqa: E402
from napari_latent.cohort.synthetic import demo_cohort  # noqa: E402


def other_simulator(n: int) -> np.ndarray | None:
    try:
        import neurokit2 as nk
    except ImportError:
        return None
    beats = []
    for k in range(n):
        sig = nk.ecg_simulate(duration=10, sampling_rate=500, method="multileads", heart_rate=55 + 3 * k, random_state=k)
        beats.append(median_beat(sig.to_numpy().T.astype(np.float32)))
    return np.stack(beats)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n-unseen", type=int, default=200)
    p.add_argument("--n-ood", type=int, default=40)
    args = p.parse_args(argv)
    torch.set_num_threads(2)
    cohort = demo_cohort(2000)
    ex = Explorer.open(cohort, "demo", embed=False)
    ref = reference_of(ex.model)
    unseen = np.asarray(ref["split"]["unseen"])[: args.n_unseen]
    ecg = cohort.read("ecg_median", unseen).astype(np.float32)
    mri = cohort.read("mri", unseen).astype(np.float32)
    o = slice(0, args.n_ood)
    rows = [
        ("held-out subjects, ECG + cine", dict(ecg=ecg, mri=mri)),
        ("held-out subjects, ECG alone", dict(ecg=ecg)),
        ("held-out subjects, cine alone", dict(mri=mri)),
        ("ECG, wrong lead order", dict(ecg=ty.wrong_lead_order(ecg[o]))),
        ("ECG, 50 Hz mains 0.15 mV", dict(ecg=ty.mains_hum(ecg[o]))),
        ("ECG, amplitude x3", dict(ecg=3 * ecg[o])),
        ("cine, rotated 90°", dict(mri=ty.rotate_cine(mri[o]))),
        ("cine, mirrored", dict(mri=ty.flip_cine(mri[o]))),
        ("non-cardiac image", dict(mri=np.stack([ty.non_cardiac_cine(k) for k in range(args.n_ood)]))),
    ]
    sim = other_simulator(min(args.n_ood, 20))
    if sim is not None:
        rows.append(("12-lead ECG from another simulator (neurokit2)", dict(ecg=sim)))
    print("| input | n | flagged atypical | median percentile |")
    print("|---|---|---|---|")
    for name, kwargs in rows:
        t = ex.assess(**kwargs)
        flagged = 100.0 * np.mean(~np.asarray(t.typical))
        print(f"| {name} | {np.size(t.percentile)} | {flagged:.0f} % | {np.median(t.percentile):.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
