"""Translation group: ECG -> cine and cine -> ECG on held-out subjects, against PLS and the ceiling.

Held-out subjects are the demo model's own validation split (demo seed 0), regenerated in
memory; the PLS baseline (``model.evaluate.PLSBaseline``) is fitted on subjects from the
model's training split. The ceiling is each modality's self-reconstruction by the same
model (``evaluate``'s default when no unimodal models are given; none ships).
"""

from __future__ import annotations

import numpy as np

from ._fixtures import demo_model
from .runner import BenchContext


def held_out_cohort(model, n_test: int, n_train: int):
    """(cohort, test rows, train rows): the first validation and training subjects of ``model``."""
    from ..cohort import Cohort
    from ..cohort.synthetic import DEMO_SEED, generate_subject
    from ..cohort.synthetic.generate import _columns, _table

    data = (model.info or {}).get("data", {})
    val, train = data.get("val_indices"), data.get("train_indices")
    if not val or not train:
        raise ValueError("the model's checkpoint records no train/validation split")
    subjects = list(val[:n_test]) + list(train[:n_train])
    rows, arrays = [], {"ecg_median": [], "mri": []}
    for i in subjects:
        row, a = generate_subject(DEMO_SEED, int(i))
        rows.append(row)
        for k, parts in arrays.items():
            parts.append(a[k])
    cohort = Cohort.from_arrays(_table(rows), columns=_columns(), **{k: np.stack(v) for k, v in arrays.items()})
    n_test = min(n_test, len(val))
    return cohort, np.arange(n_test), np.arange(n_test, len(subjects))


def run(ctx: BenchContext) -> None:
    from ..model.evaluate import evaluate

    model = demo_model()
    n_test, n_train = ctx.pick((16, 32), (100, 300))
    cohort, test, train = held_out_cohort(model, n_test, n_train)
    res = evaluate(model, cohort, test, train_indices=train, probe_columns=[], max_baseline_subjects=len(train))
    pls = res["baseline_pls"]
    where = f"{len(test)} held-out subjects; PLS fitted on {len(train)} training subjects"
    for src, tgt, unit, label in (("ecg", "mri", "", "ECG -> cine"), ("mri", "ecg", "mV^2", "cine -> ECG")):
        key = f"{src}->{tgt}"
        ours, base = res["translation"][key], pls[key]
        ceiling = res["ceiling"][tgt]
        mean = res["mean_template"][tgt]["mse"]
        ctx.add(
            f"{label} translation MSE",
            ours["mse"],
            unit,
            baseline=f"PLS ({base['pls_components']} components)",
            baseline_value=base["mse"],
            notes=f"{where}; predicting the mean: {mean:.4g}",
        )
        ctx.add(
            f"{label} translation MSE vs the ceiling",
            ours["mse"],
            unit,
            baseline=f"{tgt} -> {tgt} self-reconstruction (ceiling)",
            baseline_value=ceiling["mse"],
            notes="ceiling: this model's own encoder of the target; no unimodal model ships",
        )
        score = "ssim" if tgt == "mri" else "pearson_r"
        ctx.add(
            f"{label} translation {'SSIM' if tgt == 'mri' else 'Pearson r (mean over leads)'}",
            ours[score],
            "",
            baseline="PLS",
            baseline_value=base[score],
            notes=f"ceiling {ceiling[score]:.3f}",
        )
    if "retrieval" in res:
        r = res["retrieval"]
        ctx.add(
            "retrieval ECG -> cine, top-1",
            r["ecg->mri"]["top1"],
            "fraction",
            baseline="chance",
            baseline_value=r["chance_top1"],
            notes=f"among {len(test)} held-out subjects",
        )
