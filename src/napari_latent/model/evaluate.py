"""Evaluation on held-out subjects: reconstruction, cross-modal translation against the unimodal
ceiling and a linear PLS baseline, ECG<->MRI retrieval, and linear probes of true factors.

Everything streams batches from the cohort and returns plain dicts of floats/lists.
scikit-learn is imported inside the functions that need it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from ..cohort import Cohort
from .base import MultimodalModel
from .config import ARRAY_OF
from .data import iterate_batches

__all__ = [
    "ssim",
    "SSIMReference",
    "pearson_per_lead",
    "ecg_metrics",
    "mri_metrics",
    "StreamingPCA",
    "PLSBaseline",
    "retrieval",
    "probe_r2",
    "evaluate",
]


# ---------------------------------------------------------------------------------------------- metrics
def _blur_matrix(n: int, size: int = 11, sigma: float = 1.5) -> np.ndarray:
    """(n, n - size + 1) matrix applying a normalised 1-D Gaussian over the valid region."""
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    g /= g.sum()
    m = np.zeros((n, n - size + 1))
    for j in range(n - size + 1):
        m[j : j + size, j] = g
    return m


class SSIMReference:
    """SSIM against fixed reference frames (..., H, W); the reference's local statistics are computed once.

    11x11 Gaussian window (sigma 1.5), valid region, as in Wang et al. 2004; the separable
    blur runs as two float32 matrix products.
    """

    def __init__(self, true: np.ndarray, data_range: float = 1.0):
        t = np.asarray(true, dtype=np.float32)
        self.lead, (h, w) = t.shape[:-2], t.shape[-2:]
        self._bh = _blur_matrix(h).astype(np.float32)
        self._bw = _blur_matrix(w).astype(np.float32)
        self.c1, self.c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
        self.t = t.reshape(-1, h, w)
        self.mu_t = self._blur(self.t)
        self.var_t = self._blur(self.t * self.t) - self.mu_t**2

    def _blur(self, x: np.ndarray) -> np.ndarray:
        n, h, w = x.shape
        y = (x.reshape(n * h, w) @ self._bw).reshape(n, h, -1).transpose(0, 2, 1)  # (n, W', H)
        y = np.ascontiguousarray(y).reshape(-1, h) @ self._bh  # (n W', H')
        return y.reshape(n, -1, self._bh.shape[1]).transpose(0, 2, 1)

    def __call__(self, pred: np.ndarray) -> np.ndarray:
        p = np.asarray(pred, dtype=np.float32).reshape(self.t.shape)
        mu_p = self._blur(p)
        var_p = self._blur(p * p) - mu_p**2
        cov = self._blur(p * self.t) - mu_p * self.mu_t
        num = (2 * mu_p * self.mu_t + self.c1) * (2 * cov + self.c2)
        den = (mu_p**2 + self.mu_t**2 + self.c1) * (var_p + self.var_t + self.c2)
        return (num / den).mean(axis=(1, 2), dtype=np.float64).reshape(self.lead)


def ssim(pred: np.ndarray, true: np.ndarray, data_range: float = 1.0) -> np.ndarray:
    """Structural similarity per frame: ``pred``/``true`` (..., H, W) -> (...) float64."""
    return SSIMReference(true, data_range)(pred)


def pearson_per_lead(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Pearson r over time per subject and lead: (B, 12, T) x2 -> (B, 12); NaN for flat signals."""
    p = pred - pred.mean(-1, keepdims=True)
    t = true - true.mean(-1, keepdims=True)
    den = np.sqrt((p * p).sum(-1) * (t * t).sum(-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (p * t).sum(-1) / den, np.nan)


def ecg_metrics(pred: np.ndarray, true: np.ndarray) -> dict[str, np.ndarray]:
    """Per-subject ECG errors in mV: MSE, log-cosh, and per-lead Pearson r (B, 12)."""
    d = (pred - true).astype(np.float64)
    a = np.abs(d)
    logcosh = a + np.log1p(np.exp(-2 * a)) - math.log(2.0)
    return {"mse": (d * d).mean((1, 2)), "log_cosh": logcosh.mean((1, 2)), "pearson_r": pearson_per_lead(pred, true)}


def mri_metrics(pred: np.ndarray, true: np.ndarray, reference: SSIMReference | None = None) -> dict[str, np.ndarray]:
    """Per-subject cine errors: MSE and SSIM per frame (B, T)."""
    d = pred.astype(np.float32) - true.astype(np.float32)
    ref = reference if reference is not None else SSIMReference(true)
    return {"mse": (d * d).mean((1, 2, 3), dtype=np.float64), "ssim": ref(pred)}


class _Acc:
    """Collects per-subject metric arrays and summarises them."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {}

    def add(self, metrics: Mapping[str, np.ndarray]) -> None:
        for k, v in metrics.items():
            self.parts.setdefault(k, []).append(np.asarray(v))

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, parts in self.parts.items():
            v = np.concatenate(parts)
            if k == "pearson_r":
                if np.isnan(v).all():  # flat predictions (e.g. a constant template): r undefined
                    out["pearson_r"], out["pearson_r_per_lead"] = float("nan"), [float("nan")] * v.shape[1]
                    continue
                per_lead = np.nanmean(v, axis=0)
                out["pearson_r"] = float(np.nanmean(v))
                out["pearson_r_per_lead"] = [round(float(x), 4) for x in per_lead]
            elif k == "ssim":
                out["ssim"] = float(v.mean())
                out["ssim_per_frame"] = [round(float(x), 4) for x in v.mean(0)]
            else:
                out[k] = float(v.mean())
        return out


def _metrics(
    modality: str, pred: np.ndarray, true: np.ndarray, ref: SSIMReference | None = None
) -> dict[str, np.ndarray]:
    return ecg_metrics(pred, true) if modality == "ecg" else mri_metrics(pred, true, ref)


# ---------------------------------------------------------------------------------------------- PCA + PLS
class StreamingPCA:
    """Randomised PCA (Halko et al.) fitted in a few passes over blocks, for arrays too big for memory.

    ``fit(blocks)`` takes a callable returning a fresh iterator of (b, d) float blocks.
    """

    def __init__(self, n_components: int = 64, *, oversample: int = 10, n_iter: int = 1, seed: int = 0):
        self.n_components = n_components
        self.oversample = oversample
        self.n_iter = n_iter
        self.seed = seed

    def fit(self, blocks: Callable[[], Iterator[np.ndarray]]) -> StreamingPCA:
        rng = np.random.default_rng(self.seed)
        first = next(iter(blocks()))
        d = first.reshape(len(first), -1).shape[1]
        omega = rng.standard_normal((d, self.n_components + self.oversample), dtype=np.float32)
        # pass 1: mean and sketch Y = X omega
        total, ys = np.zeros(d, np.float64), []
        for x in blocks():
            x = x.reshape(len(x), -1).astype(np.float32)
            total += x.sum(0, dtype=np.float64)
            ys.append(x @ omega)
        n = sum(len(y) for y in ys)
        self.mean_ = (total / n).astype(np.float32)
        y = np.concatenate(ys) - (self.mean_ @ omega)[None]
        rank = min(y.shape[1], n)
        for _ in range(self.n_iter):  # power iteration: Y = Xc Xc^T Q
            q = np.linalg.qr(y)[0][:, :rank]
            z = self._xt_q(blocks, q)
            y = np.concatenate([self._center(x) @ z for x in blocks()])
        q = np.linalg.qr(y)[0][:, :rank]
        b = self._xt_q(blocks, q).T  # (l, d) = Q^T Xc
        _, s, vt = np.linalg.svd(b, full_matrices=False)
        k = min(self.n_components, len(s))
        self.components_ = vt[:k].astype(np.float32)
        self.explained_variance_ = (s[:k] ** 2 / max(n - 1, 1)).astype(np.float64)
        self.n_samples_ = n
        return self

    def _center(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(len(x), -1).astype(np.float32) - self.mean_

    def _xt_q(self, blocks: Callable[[], Iterator[np.ndarray]], q: np.ndarray) -> np.ndarray:
        z, row = None, 0
        for x in blocks():
            xc = self._center(x)
            part = xc.T @ q[row : row + len(xc)]
            z = part if z is None else z + part
            row += len(xc)
        return z

    def transform(self, x: np.ndarray) -> np.ndarray:
        return self._center(x) @ self.components_.T

    def inverse_transform(self, scores: np.ndarray) -> np.ndarray:
        return scores @ self.components_ + self.mean_


class PLSBaseline:
    """Linear translation baseline: PCA scores of the source -> PLS -> PCA scores of the target.

    The number of PLS components is chosen by 3-fold cross-validation on the training set.
    """

    def __init__(
        self,
        source: str,
        target: str,
        *,
        n_input: int = 64,
        n_output: int = 64,
        candidates: Sequence[int] = (2, 4, 8, 16, 32),
        seed: int = 0,
    ):
        self.source, self.target = source, target
        self.n_input, self.n_output, self.candidates, self.seed = n_input, n_output, tuple(candidates), seed

    def fit(
        self, cohort: Cohort, indices: np.ndarray, *, batch_size: int = 64, pcas: dict[str, StreamingPCA] | None = None
    ) -> PLSBaseline:
        from sklearn.cross_decomposition import PLSRegression
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.model_selection import KFold

        pcas = {} if pcas is None else pcas
        for mod, k in ((self.source, self.n_input), (self.target, self.n_output)):
            if mod not in pcas:
                pcas[mod] = StreamingPCA(k, seed=self.seed).fit(
                    lambda m=mod: (
                        b[ARRAY_OF[m]] for _, b in iterate_batches(cohort, indices, [ARRAY_OF[m]], batch_size)
                    )
                )
        self.pca_in, self.pca_out = pcas[self.source], pcas[self.target]
        x, y = [], []
        names = [ARRAY_OF[self.source], ARRAY_OF[self.target]]
        for _, b in iterate_batches(cohort, indices, names, batch_size):
            x.append(self.pca_in.transform(b[names[0]]))
            y.append(self.pca_out.transform(b[names[1]]))
        x, y = np.concatenate(x), np.concatenate(y)
        cands = [c for c in self.candidates if c <= min(x.shape[1], len(x) - len(x) // 3 - 1)] or [1]
        cv_err = {}
        with warnings.catch_warnings():  # NIPALS on near-degenerate components of tiny sets
            warnings.simplefilter("ignore", ConvergenceWarning)
            for c in cands:
                err = 0.0
                for tr, te in KFold(3, shuffle=True, random_state=self.seed).split(x):
                    p = PLSRegression(c, scale=False).fit(x[tr], y[tr]).predict(x[te])
                    err += float(((p - y[te]) ** 2).sum())
                cv_err[c] = err
            self.n_components_ = min(cv_err, key=cv_err.get)
            # PCA scores are in data units already: no per-score standardisation (it would inflate noise components)
            self.pls_ = PLSRegression(self.n_components_, scale=False).fit(x, y)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Target arrays (data units) predicted from a batch of source arrays."""
        y = self.pca_out.inverse_transform(self.pls_.predict(self.pca_in.transform(x)))
        from .base import SHAPES

        y = y.reshape(len(x), *SHAPES[self.target])
        return np.clip(y, 0.0, 1.0) if self.target == "mri" else y


# ---------------------------------------------------------------------------------------------- latents
def retrieval(query: np.ndarray, gallery: np.ndarray, ks: Sequence[int] = (1, 5)) -> dict[str, float]:
    """Top-k accuracy of finding row i of ``gallery`` from row i of ``query`` by cosine similarity."""
    q = query / np.linalg.norm(query, axis=1, keepdims=True).clip(1e-12)
    g = gallery / np.linalg.norm(gallery, axis=1, keepdims=True).clip(1e-12)
    sim = q @ g.T
    rank = (sim > np.diag(sim)[:, None]).sum(1)  # how many gallery items beat the true partner
    out = {f"top{k}": float((rank < k).mean()) for k in ks}
    out["median_rank"] = float(np.median(rank) + 1)
    return out


def probe_r2(z: np.ndarray, targets: Mapping[str, np.ndarray], *, n_splits: int = 5, seed: int = 0) -> dict[str, float]:
    """Cross-validated R^2 of RidgeCV probes from latents to each target column."""
    from sklearn.linear_model import RidgeCV
    from sklearn.metrics import r2_score
    from sklearn.model_selection import KFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    out = {}
    cv = KFold(min(n_splits, len(z)), shuffle=True, random_state=seed)
    for name, y in targets.items():
        y = np.asarray(y, dtype=np.float64)
        ok = np.isfinite(y)
        if ok.sum() < n_splits * 2 or np.nanstd(y) == 0:
            continue
        probe = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 4, 15)))
        pred = cross_val_predict(probe, z[ok], y[ok], cv=cv)
        out[name] = float(r2_score(y[ok], pred))
    return out


def _probe_targets(cohort: Cohort, indices: np.ndarray, columns: Sequence[str] | None) -> dict[str, np.ndarray]:
    table = cohort.subjects
    if columns is None:
        columns = [c for c in table.columns if c != "subject_id" and table[c].dtype.kind in "fiu"]
    return {c: table[c].to_numpy()[indices] for c in columns if c in table.columns}


# ---------------------------------------------------------------------------------------------- evaluate
@torch.inference_mode()
def evaluate(
    model: MultimodalModel,
    cohort: Cohort,
    indices: Sequence[int] | np.ndarray | None = None,
    *,
    train_indices: Sequence[int] | np.ndarray | None = None,
    ceiling: Mapping[str, MultimodalModel] | None = None,
    baseline: bool = True,
    probe_columns: Sequence[str] | None = None,
    batch_size: int = 32,
    max_baseline_subjects: int = 2000,
    seed: int = 0,
    progress: Callable[[str, int, int], Any] | None = None,
) -> dict[str, Any]:
    """Evaluate ``model`` on held-out subjects ``indices`` (default: its stored validation split).

    Returns a dict with "reconstruction" (from both modalities), "self" (each modality
    from its own encoder), "translation" (ecg->mri, mri->ecg), "ceiling" (unimodal models
    given in ``ceiling={"ecg": m1, "mri": m2}``, else the model's own self-reconstruction),
    "baseline_pls" (PLS fitted on ``train_indices``, default: the model's training split
    or all other subjects), "vs_baseline" (relative MSE reduction), "mean_template"
    (predicting the training mean), "retrieval" (top-1/5 by cosine of modality means,
    with chance levels), and "probes" (k-fold RidgeCV R^2 per table column, per latent).
    """
    info_data = (model.info or {}).get("data", {})
    n = len(cohort)
    if indices is None:
        indices = info_data.get("val_indices") or np.arange(n)
    test = np.asarray(indices, dtype=np.int64)
    if train_indices is None:
        train_indices = info_data.get("train_indices")
    if train_indices is None:
        train_indices = np.setdiff1d(np.arange(n), test)
    train = np.asarray(train_indices, dtype=np.int64)
    mods = model.modalities
    both = len(mods) == 2
    report = progress or (lambda stage, done, total: None)
    result: dict[str, Any] = {"n_test": int(len(test)), "n_train": int(len(train)), "architecture": model.architecture}

    pls: dict[str, PLSBaseline] = {}
    if baseline and both and len(train) >= 8:
        rng = np.random.default_rng(seed)
        fit_idx = np.sort(rng.choice(train, min(len(train), max_baseline_subjects), replace=False))
        pcas: dict[str, StreamingPCA] = {}
        for src, tgt in (("ecg", "mri"), ("mri", "ecg")):
            report(f"baseline {src}->{tgt}", 0, 1)
            pls[f"{src}->{tgt}"] = PLSBaseline(src, tgt, seed=seed).fit(
                cohort, fit_idx, batch_size=batch_size, pcas=pcas
            )

    acc: dict[str, _Acc] = {}

    refs: dict[str, SSIMReference] = {}

    def add(key: str, modality: str, pred: np.ndarray, true: np.ndarray) -> None:
        acc.setdefault(key, _Acc()).add(_metrics(modality, pred, true, refs.get(modality)))

    latents: dict[str, list[np.ndarray]] = {}
    done = 0
    names = [ARRAY_OF[m] for m in mods]
    for block, arrays in iterate_batches(cohort, test, names, batch_size):
        data = {m: arrays[ARRAY_OF[m]].astype(np.float32) for m in mods}
        refs.clear()
        if "mri" in data:
            refs["mri"] = SSIMReference(data["mri"])
        post = model.encode(data)
        for key, p in post.items():
            latents.setdefault(key, []).append(p.mu.float().cpu().numpy())
        rec = {m: y.cpu().numpy() for m, y in model.decode(post["fused"].mu).items()}
        for m in mods:
            add(f"reconstruction/{m}", m, rec[m], data[m])
            own = model.decode(post[m].mu, (m,))[m].cpu().numpy()
            add(f"self/{m}->{m}", m, own, data[m])
            template = np.broadcast_to(model.normalizers[m].mean.cpu().numpy(), data[m].shape)
            err = {"mse": ((template - data[m]) ** 2).mean(tuple(range(1, data[m].ndim)), dtype=np.float64)}
            acc.setdefault(f"mean_template/{m}", _Acc()).add(err)
            if ceiling and m in ceiling:
                ceil = ceiling[m].reconstruct({m: data[m]})[m].cpu().numpy()
                add(f"ceiling/{m}", m, ceil, data[m])
        if both:
            for src, tgt in (("ecg", "mri"), ("mri", "ecg")):
                pred = model.decode(post[src].mu, (tgt,))[tgt].cpu().numpy()
                add(f"translation/{src}->{tgt}", tgt, pred, data[tgt])
                if f"{src}->{tgt}" in pls:
                    add(f"baseline_pls/{src}->{tgt}", tgt, pls[f"{src}->{tgt}"].predict(data[src]), data[tgt])
        done += len(block)
        report("evaluate", done, len(test))

    for key, a in acc.items():
        group, name = key.split("/", 1)
        result.setdefault(group, {})[name] = a.summary()
    if not ceiling:
        result["ceiling"] = {m: result["self"][f"{m}->{m}"] for m in mods}
        result["ceiling_source"] = "self-reconstruction of this model"
    else:
        result["ceiling_source"] = {m: ceiling[m].architecture for m in ceiling}
    if pls:
        for key, b in pls.items():
            result["baseline_pls"][key]["pls_components"] = int(b.n_components_)
        result["vs_baseline"] = {
            key: {"mse_reduction": 1.0 - result["translation"][key]["mse"] / result["baseline_pls"][key]["mse"]}
            for key in pls
        }
    if both:
        result["vs_ceiling"] = {
            f"{src}->{tgt}": {
                "mse_ratio": result["translation"][f"{src}->{tgt}"]["mse"] / result["ceiling"][tgt]["mse"]
            }
            for src, tgt in (("ecg", "mri"), ("mri", "ecg"))
        }

    z = {k: np.concatenate(v) for k, v in latents.items()}
    if both and len(test) >= 2:
        m = len(test)
        result["retrieval"] = {
            "ecg->mri": retrieval(z["ecg"], z["mri"]),
            "mri->ecg": retrieval(z["mri"], z["ecg"]),
            "chance_top1": 1.0 / m,
            "chance_top5": min(1.0, 5.0 / m),
        }
    targets = _probe_targets(cohort, test, probe_columns)
    if targets and len(test) >= 10:
        report("probes", 0, 1)
        result["probes"] = {k: probe_r2(v, targets, seed=seed) for k, v in z.items()}
    return result
