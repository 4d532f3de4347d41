#!/usr/bin/env python
"""Write a model's reference statistics (``reference.json`` beside its weights); no training.

From the model's own cohort and split (in its config.json): the LV territory from training
subjects' labels; the cohort's relation between each checked phenotype and the same
measurement on reconstructions of training subjects; typicality statistics from training
subjects, with the reference scores from the first half of the held-out subjects (the
second half stays unseen, for the model card's figure).

    python scripts/model_reference.py                      # the shipped demo model
    python scripts/model_reference.py --model path/to/checkpoint --n-relation 300
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from napari_latent.analysis.calibration import MEASURE_OF, fit_relation, measure_decoded, pick  # noqa: E402
from napari_latent.analysis.measure import lv_territory  # noqa: E402
from napari_latent.analysis.reference import pack_mask, write_reference  # noqa: E402
from napari_latent.analysis.typicality import encode_errors, fit_typicality  # noqa: E402
from napari_latent.cohort.synthetic import DEMO_SEED, demo_cohort  # noqa: E402
from napari_latent.model import demo_model_path, load_model  # noqa: E402


def split_of(config: dict) -> tuple[np.ndarray, np.ndarray, int]:
    data = config["data"]
    train = np.asarray(json.loads(data["train_indices"]) if isinstance(data["train_indices"], str) else data["train_indices"])
    val = np.asarray(json.loads(data["val_indices"]) if isinstance(data["val_indices"], str) else data["val_indices"])
    return train.astype(np.int64), val.astype(np.int64), int(data["n_subjects"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=demo_model_path())
    p.add_argument("--n-relation", type=int, default=400, help="training subjects reconstructed for the relations")
    p.add_argument("--n-typical", type=int, default=800, help="training subjects for the typicality statistics")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    config = json.loads((args.model / "config.json").read_text())
    train, val, n = split_of(config)
    cohort = demo_cohort(n, DEMO_SEED)
    model = load_model(args.model, cohort)
    table = cohort.subjects

    # the LV territory, from training labels only
    lab_idx = pick(train, 300, seed=1)
    territory = lv_territory(cohort.read("labels", lab_idx))

    # relations on reconstructions of training subjects
    rel_idx = pick(train, args.n_relation, seed=2)
    batch = {"ecg": cohort.read("ecg_median", rel_idx).astype(np.float32), "mri": cohort.read("mri", rel_idx).astype(np.float32)}
    z = model.encode_numpy(batch)["fused"]
    decoded = model.decode_numpy(z)
    relations = {}
    for column, key in MEASURE_OF.items():
        measured = measure_decoded(decoded, key, territory)
        rel = fit_relation(measured, table[column].to_numpy()[rel_idx], key)
        relations[column] = {"measure": key, "slope": rel.slope, "intercept": rel.intercept, "r": rel.r, "n": rel.n}
        print(f"relation {column:>13} -> {key:<13} slope {rel.slope:9.4f}  r {rel.r:.3f}", flush=True)

    # typicality: training statistics, reference scores from the first half of the held-out subjects
    typ_idx = pick(train, args.n_typical, seed=3)
    ref_idx, unseen_idx = val[: len(val) // 2], val[len(val) // 2 :]

    def errors(idx):
        return encode_errors(model, {"ecg": cohort.read("ecg_median", idx).astype(np.float32),
                                     "mri": cohort.read("mri", idx).astype(np.float32)})

    typicality = fit_typicality(errors(typ_idx), errors(ref_idx))
    write_reference(
        args.model,
        {
            "model_fingerprint": config["weights"].get("model_fingerprint"),
            "created_by": "scripts/model_reference.py",
            "lv_territory": pack_mask(territory),
            "relations": relations,
            "typicality": typicality,
            "split": {"reference": ref_idx.tolist(), "unseen": unseen_idx.tolist()},
        },
    )
    print(f"wrote {args.model / 'reference.json'} in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
