#!/usr/bin/env python
"""How much better than a linear baseline can any ECG -> cine translation be on the demo cohort?

Generates ``--n`` demo subjects, keeps the last 20 % as a held-out split and reports the cine
pixel MSE on it of: the mean training cine; the PLS baseline (PCA-64 of the ECG median beat ->
PLS -> PCA-64 of the cine, the baseline of ``napari_latent.model.evaluate``); and an *oracle*
that knows each subject's true shared cardiac factors (heart rate, LVEDV, EF, wall thickness,
RV and atrial scale) and predicts the mean cine of the 30 training subjects nearest in them.
Pixel variance the oracle cannot explain is modality-private (noise, contrast, bias field,
view rotation, the thorax around the heart): no ECG-driven model can remove it.

    python scripts/translation_ceiling.py --n 1000
"""

from __future__ import annotations

import argparse

import numpy as np

SHARED = ["heart_rate", "lvedv", "ef", "wall_thickness", "rv_scale", "atrial_scale"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    import pandas as pd
    from sklearn.cross_decomposition import PLSRegression
    from sklearn.decomposition import PCA
    from sklearn.neighbors import NearestNeighbors

    from napari_latent.cohort.synthetic import GENERATOR_VERSION, generate_subject

    rows, ecg, mri = [], [], []
    for i in range(args.n):
        row, arrays = generate_subject(args.seed, i)
        rows.append(row)
        ecg.append(arrays["ecg_median"].ravel())
        mri.append(arrays["mri"].astype(np.float32).ravel())
    ecg, mri = np.asarray(ecg), np.asarray(mri)
    factors = pd.DataFrame(rows)[SHARED].to_numpy(float)
    factors = (factors - factors.mean(0)) / factors.std(0)
    train, test = np.arange(int(0.8 * args.n)), np.arange(int(0.8 * args.n), args.n)

    def mse(pred: np.ndarray) -> float:
        return float(np.mean((pred - mri[test]) ** 2))

    mean = mse(np.broadcast_to(mri[train].mean(0), mri[test].shape))
    pca_e = PCA(64, random_state=0).fit(ecg[train])
    pca_m = PCA(64, random_state=0).fit(mri[train])
    pls = min(
        mse(
            pca_m.inverse_transform(
                PLSRegression(k)
                .fit(pca_e.transform(ecg[train]), pca_m.transform(mri[train]))
                .predict(pca_e.transform(ecg[test]))
            )
        )
        for k in (8, 16, 32)
    )
    _, nearest = NearestNeighbors(n_neighbors=30).fit(factors[train]).kneighbors(factors[test])
    oracle = mse(mri[train][nearest].mean(axis=1))
    print(
        f"demo generator v{GENERATOR_VERSION}, seed {args.seed}, {len(train)} training / {len(test)} held-out subjects"
    )
    print(f"cine MSE: mean cine {mean:.5f} | PLS from the ECG {pls:.5f} | oracle (true shared factors) {oracle:.5f}")
    print(f"oracle vs PLS: {1 - oracle / pls:+.1%} (the most an ECG-driven model could gain, roughly)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
